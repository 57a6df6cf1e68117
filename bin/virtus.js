#!/usr/bin/env node
// The `virtus` command. It runs, in this order of preference:
//  - the bundle (dist/node/, scripts/bundle.ts: a few JavaScript files, less memory and a faster
//    start), in a source checkout only while every file it was built from is unchanged
//    (bin/bundle.js), so that an edit to src/ is never hidden by an old bundle;
//  - in a source checkout, the TypeScript sources themselves (Node >= 22.18 strips the types);
//  - in an installed package without a bundle, the JavaScript tsc compiled into dist/ (Node
//    refuses to strip types under node_modules).
// VIRTUS_BUNDLE=0 runs the sources even when the bundle is current (stack traces name .ts lines).
import { existsSync } from "node:fs";
import module from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { currentBundle } from "./bundle.js";
import { checkNode } from "./check-node.js";
import { reexecWithOneArena } from "./malloc-arena.js";

checkNode("virtus");
reexecWithOneArena();
// V8's code cache on disk (NODE_COMPILE_CACHE, else the OS temp dir): later starts skip type
// stripping and compiling, which halves the CPU time of a start and saves ~25 MB of RSS. Worker
// threads (a VM's) take the directory from the environment.
const compileCache = module.enableCompileCache?.();
if (compileCache?.directory !== undefined) process.env.NODE_COMPILE_CACHE ??= compileCache.directory;
const root = fileURLToPath(new URL("..", import.meta.url));
const source = new URL("../src/cli/main.ts", import.meta.url);
const inSourceCheckout = existsSync(source) && !source.pathname.includes("/node_modules/");
const bundle =
  process.env.VIRTUS_BUNDLE === "0" ? { stale: "VIRTUS_BUNDLE=0" } : currentBundle(root, inSourceCheckout);
const entry =
  "main" in bundle ? pathToFileURL(bundle.main).href : inSourceCheckout ? source.href : "../dist/cli/main.js";
if (process.env.VIRTUS_TRACE_STARTUP === "1") {
  const from =
    "main" in bundle ? "the bundle" : `${inSourceCheckout ? "the sources" : "dist/"} (${bundle.stale})`;
  process.stderr.write(
    `virtus-trace: ${(performance.timeOrigin + performance.now()).toFixed(1)} main code from ${from}\n`,
  );
}
await import(entry);

#!/usr/bin/env node
// The `virtus` command. In a source checkout Node (>= 22.18) runs the TypeScript sources directly
// (type stripping); an installed package runs the JavaScript compiled into dist/ (Node refuses to
// strip types under node_modules).
import { existsSync } from "node:fs";
import module from "node:module";
import { checkNode } from "./check-node.js";

checkNode("virtus");
// V8's code cache on disk (NODE_COMPILE_CACHE, else the OS temp dir): later starts skip type
// stripping and compiling, which halves the CPU time of a start and saves ~25 MB of RSS. Worker
// threads (a VM's) take the directory from the environment.
const compileCache = module.enableCompileCache?.();
if (compileCache?.directory !== undefined) process.env.NODE_COMPILE_CACHE ??= compileCache.directory;
const source = new URL("../src/cli/main.ts", import.meta.url);
const inSourceCheckout = existsSync(source) && !source.pathname.includes("/node_modules/");
await import(inSourceCheckout ? source.href : "../dist/cli/main.js");

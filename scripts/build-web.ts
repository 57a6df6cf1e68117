/**
 * Writes the page of `virtus web` (web/ and its Web Worker, bundled by
 * esbuild) to dist/web/ for the npm package, which ships no TypeScript
 * sources to bundle at run time. Run by `npm run build` (and so `npm pack`).
 */
import { fileURLToPath } from "node:url";
import { buildWebAssets, writeWebAssets } from "../src/host/node/web-server.ts";

const out = process.argv[2] ?? fileURLToPath(new URL("../dist/web/", import.meta.url));
writeWebAssets(await buildWebAssets(), out);
// stderr: `npm pack --json` prints JSON on stdout.
process.stderr.write(`page of virtus web written to ${out}\n`);

/**
 * The package's root folder (the one with package.json), found from this
 * module's own location, which differs by how Virtus runs: src/host/node/
 * in a checkout, dist/host/node/ compiled by tsc, dist/node/ in the bundle
 * (bundle.ts). Files that ship beside the code (package.json, guest/, web/,
 * docs/) are found from here rather than by a fixed number of `../`.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The root folder, without a trailing slash. */
export const PROJECT_ROOT: string = findRoot(dirname(fileURLToPath(import.meta.url)));

/** A path under the root; a trailing "/" in `relative` is kept (callers append file names). */
export const fromRoot = (relative: string): string => `${PROJECT_ROOT}/${relative}`;

/** The package's version, from its package.json. */
export const PACKAGE_VERSION: string = (
  JSON.parse(readFileSync(fromRoot("package.json"), "utf8")) as { version: string }
).version;

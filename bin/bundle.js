// The bundled build of the Node CLI and its VM worker (scripts/bundle.ts writes it): where it is,
// and whether it was built from the sources as they are now. Plain JavaScript because bin/virtus.js
// asks before any TypeScript loads, on every start, so the check must cost little: ~180 sources
// hashed and ~400 installed files stat'ed take a few milliseconds.
//
// Layout under the package root: dist/node/<digest>/ holds one build (main.js, vm-worker-start.js,
// switch-service-main.js and their shared chunks; a worker or service loads from its own build's
// folder, so one process never mixes builds), and dist/node/current.json names the newest build
// and every file it was made from with a stamp of that file.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** Bundles' folder under the package root. */
export const BUNDLE_DIR = "dist/node";
/** The newest build: `{ dir, inputs: { [pathFromRoot]: stamp } }`. */
export const CURRENT_FILE = "current.json";

/**
 * True for files recorded by size and modification time (what npm installs: rewritten whole,
 * never edited in place); every other input is recorded by its content, so that an edit is seen
 * whatever the file system's timestamps say.
 * @param {string} path relative to the root, "/"-separated
 */
export const stampedByStat = (path) => path.includes("node_modules/");

/**
 * An input's stamp from its bytes (sources) or its stat (installed packages).
 * @param {string} path relative to the root
 * @param {Uint8Array} [content] the bytes, when the caller has read them
 * @param {import("node:fs").Stats} [stat] the stat, when the caller has it
 */
export function inputStamp(path, content, stat) {
  if (stampedByStat(path)) {
    if (stat === undefined) throw new Error(`inputStamp: ${path} needs its stat`);
    return `stat:${stat.size}:${stat.mtimeMs}`;
  }
  if (content === undefined) throw new Error(`inputStamp: ${path} needs its content`);
  return `sha1:${createHash("sha1").update(content).digest("hex")}`;
}

/**
 * The stamp of `path` as it is on disk now (undefined when it cannot be read).
 * @param {string} root
 * @param {string} path relative to root
 */
export function stampOnDisk(root, path) {
  const file = join(root, path);
  try {
    return stampedByStat(path)
      ? inputStamp(path, undefined, statSync(file))
      : inputStamp(path, readFileSync(file));
  } catch {
    return undefined;
  }
}

/**
 * The entry of the current bundle, if there is one and (when `verify`) every input it was built
 * from is unchanged; otherwise why not.
 * @param {string} root the package root
 * @param {boolean} verify compare the inputs (a source checkout); an installed package has no sources
 * @returns {{ main: string } | { stale: string }}
 */
export function currentBundle(root, verify) {
  /** @type {{ dir: string, inputs: Record<string, string> }} */
  let current;
  try {
    current = JSON.parse(readFileSync(join(root, BUNDLE_DIR, CURRENT_FILE), "utf8"));
  } catch {
    return { stale: "no bundle" };
  }
  const main = join(root, BUNDLE_DIR, current.dir, "main.js");
  if (!existsSync(main)) return { stale: `${main} is missing` };
  if (verify) {
    for (const [path, stamp] of Object.entries(current.inputs))
      if (stampOnDisk(root, path) !== stamp) return { stale: `${path} changed since the bundle was built` };
  }
  return { main };
}

/**
 * Bundles the Node CLI, the VM's worker and the switch service with
 * esbuild into dist/node/<digest>/ and names it in dist/node/current.json
 * with a stamp of every file it was built from (bin/bundle.js). A start
 * from the bundle loads a few dozen JavaScript files instead of ~300
 * TypeScript modules to strip: less memory and a faster start
 * (docs/PERFORMANCE.md). bin/virtus.js runs it only while every input is
 * unchanged, the sources otherwise, so an edit is never hidden by an old
 * bundle. Run by `npm ci`/`npm install` (prepare), `npm test` (pretest) and
 * `npm run build`; `npm run bundle` by hand.
 *
 *   node scripts/bundle.ts [ROOT]     ROOT defaults to this checkout
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Loader, Plugin } from "esbuild";
import { BUNDLE_DIR, CURRENT_FILE, inputStamp, stampedByStat } from "../bin/bundle.js";

/** The bundle's entries: `virtus`, the VM's worker thread, the switch service's process. */
const ENTRIES = {
  main: "src/cli/main.ts",
  "vm-worker-start": "src/host/node/vm-worker-start.ts",
  "switch-service-main": "src/host/node/switch-service-main.ts",
};
/** Files that shape the output without being imported: a change to them is a change to the bundle. */
const BUILD_FILES = ["scripts/bundle.ts", "tsconfig.json", "package.json"];
/** Builds kept besides the current one, for processes still running from them (a daemon's new workers). */
const KEEP_OLD_BUILDS = 3;
const LOADERS: Record<string, Loader> = {
  ".ts": "ts",
  ".js": "js",
  ".mjs": "js",
  ".cjs": "js",
  ".json": "json",
};
// Bundled CommonJS packages call require(); ES modules have none of their own.
const REQUIRE_BANNER =
  'import { createRequire as virtusCreateRequire } from "node:module"; const require = virtusCreateRequire(import.meta.url);';

const toRootPath = (root: string, file: string) => relative(root, file).split(sep).join("/");

/**
 * Records each file esbuild loads with its stamp. Sources are read here and handed to esbuild, so the
 * stamp is of exactly the bytes bundled; installed files are stat'ed before esbuild reads them, so a
 * file that changes meanwhile leaves a stamp that no longer matches (stale, never wrongly current).
 */
function recordInputs(root: string, inputs: Map<string, string>): Plugin {
  return {
    name: "record-inputs",
    setup(build) {
      build.onLoad({ filter: /.*/ }, (args) => {
        if (args.namespace !== "file") return undefined;
        const path = toRootPath(root, args.path);
        if (stampedByStat(path)) {
          inputs.set(path, inputStamp(path, undefined, statSync(args.path)));
          return undefined;
        }
        const loader = LOADERS[extname(args.path)];
        if (loader === undefined) throw new Error(`bundle: no loader for ${path}`);
        const contents = readFileSync(args.path);
        inputs.set(path, inputStamp(path, contents));
        return { contents, loader, resolveDir: dirname(args.path) };
      });
    },
  };
}

/** What a build made: its folder under dist/node/ and whether this call wrote it (false: it was there). */
export interface BundleResult {
  dir: string;
  written: boolean;
  inputs: number;
}

/** Bundles the checkout at `root` and makes the build current. */
export async function buildBundle(root: string): Promise<BundleResult> {
  const esbuild = await import("esbuild");
  const inputs = new Map<string, string>();
  const outdir = join(root, BUNDLE_DIR, "out");
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ENTRIES,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node22",
    outdir,
    write: false,
    banner: { js: REQUIRE_BANNER },
    // Only a checkout has them (esbuild, which bundles the web page at run time, cannot be bundled itself).
    external: Object.keys(devDependencies(root)),
    plugins: [recordInputs(root, inputs)],
    logLevel: "error",
  });
  for (const f of BUILD_FILES) inputs.set(f, inputStamp(f, readFileSync(join(root, f))));
  const sorted = Object.fromEntries([...inputs].sort(([a], [b]) => (a < b ? -1 : 1)));
  const digest = inputStamp("", Buffer.from(JSON.stringify({ esbuild: esbuild.version, sorted })));
  const dir = digest.slice("sha1:".length, "sha1:".length + 16);
  const bundles = join(root, BUNDLE_DIR);
  const final = join(bundles, dir);
  let written = false;
  if (!existsDir(final)) {
    // Written aside and renamed: a concurrent start never sees half a build.
    const tmp = join(bundles, `.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
    for (const f of result.outputFiles) {
      const to = join(tmp, relative(outdir, f.path));
      mkdirSync(dirname(to), { recursive: true });
      writeFileSync(to, f.contents);
    }
    try {
      renameSync(tmp, final);
      written = true;
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another build of the same inputs got there first
    }
  }
  const currentTmp = join(bundles, `.current-${process.pid}.json`);
  writeFileSync(currentTmp, `${JSON.stringify({ dir, inputs: sorted }, null, 1)}\n`);
  renameSync(currentTmp, join(bundles, CURRENT_FILE));
  removeOldBuilds(bundles, dir);
  return { dir, written, inputs: inputs.size };
}

async function haveEsbuild(): Promise<boolean> {
  try {
    await import("esbuild");
    return true;
  } catch {
    return false;
  }
}

function devDependencies(root: string): Record<string, string> {
  return (
    (
      JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
        devDependencies?: Record<string, string>;
      }
    ).devDependencies ?? {}
  );
}

function existsDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Drops all but the newest KEEP_OLD_BUILDS builds besides `current`, and leftovers of interrupted builds. */
function removeOldBuilds(bundles: string, current: string): void {
  const entries = readdirSync(bundles).map((name) => ({
    name,
    mtime: statSync(join(bundles, name)).mtimeMs,
  }));
  const builds = entries
    .filter((e) => /^[0-9a-f]{16}$/.test(e.name) && e.name !== current)
    .sort((a, b) => b.mtime - a.mtime);
  const abandoned = entries.filter((e) => e.name.startsWith(".") && Date.now() - e.mtime > 10 * 60_000);
  for (const { name } of [...builds.slice(KEEP_OLD_BUILDS), ...abandoned])
    rmSync(join(bundles, name), { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? fileURLToPath(new URL("..", import.meta.url));
  const t0 = performance.now();
  if (!(await haveEsbuild())) {
    process.stderr.write(
      "virtus bundle: esbuild is not installed (a production install); virtus runs dist/\n",
    );
    process.exit(0);
  }
  const r = await buildBundle(root);
  // stderr: `npm pack --json` prints JSON on stdout.
  process.stderr.write(
    `virtus bundle ${BUNDLE_DIR}/${r.dir} (${r.inputs} inputs, ${r.written ? "built" : "unchanged"}) in ${Math.round(performance.now() - t0)} ms\n`,
  );
}

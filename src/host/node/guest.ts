// The default guest image (riscv64 Linux Image + busybox initramfs with sqlite speedtest1),
// built by guest/build.sh and cached by a hash of the recipe files in guest/.
//
// Cache layout: <cache root>/guest/<recipe hash>/{Image,initramfs.cpio.gz,DONE,...}
// A build (or the extraction of the prebuilt guest that ships in guest/prebuilt/) writes into
// <hash>.tmp-<pid>, writes DONE last, then renames the directory into place, so a directory named
// after the hash is always complete. When the recipe matches the prebuilt guest, nothing is built.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { createInterface } from "node:readline";
import { VirtusError } from "../../machine/errors.ts";
import { buildPlan, guestBuildEnv } from "./guest-build.ts";
import {
  cacheWriteError,
  extractPrebuiltGuest,
  GUEST_PREBUILT_DIR,
  readPrebuiltManifest,
} from "./guest-prebuilt.ts";
import { fromRoot } from "./project-root.ts";

export interface GuestFiles {
  /** The cache directory holding this build. */
  dir: string;
  /** riscv64 Linux `Image` (uncompressed, loaded at RAM base + 2 MiB by the firmware). */
  kernel: string;
  /** `initramfs.cpio.gz` with busybox, /init and /bin/speedtest1. */
  initrd: string;
  /**
   * Static riscv64 sqlite `speedtest1` (also in the initramfs as /bin/speedtest1); only in a guest
   * built here, not in the prebuilt one.
   */
  speedtest1?: string;
}

/** Kernel command line the default guest is meant to boot with. */
export const GUEST_KERNEL_CMDLINE = "console=ttyS0 earlycon=sbi panic=-1";

/** The line /init prints right before it starts the shell. */
export const GUEST_READY_LINE = "GUEST-READY";

/** The repository's guest/ folder, found relative to this file (not the working directory). */
export const GUEST_RECIPE_DIR: string = fromRoot("guest/");

/** Written last into a finished build directory. */
const DONE_MARKER = "DONE";

/** Top-level entries of guest/ that are not part of the recipe (scratch and output dirs, the prebuilt guest). */
const NOT_RECIPE = new Set(["build", "out", "prebuilt"]);

/**
 * The files whose contents define the guest build: every file under `dir`, except documentation
 * (`*.md`), hidden entries, the `build/` and `out/` scratch folders and the prebuilt guest. Paths
 * are relative, with `/` separators, sorted.
 */
export function guestRecipeFiles(dir: string = GUEST_RECIPE_DIR): string[] {
  const files: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.name.startsWith(".") || (rel === "" && NOT_RECIPE.has(entry.name))) continue;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && !entry.name.endsWith(".md")) files.push(path);
    }
  };
  walk("");
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** sha256 over the recipe files' paths and contents; the first 16 hex digits. */
export function guestRecipeHash(dir: string = GUEST_RECIPE_DIR): string {
  const files = guestRecipeFiles(dir);
  if (!files.includes("build.sh")) throw new Error(`no guest recipe in ${dir} (build.sh missing)`);
  const hash = createHash("sha256");
  for (const file of files) {
    const content = readFileSync(join(dir, file));
    hash.update(`${file}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest("hex").slice(0, 16);
}

/** `$VIRTUS_CACHE_DIR`, else `$XDG_CACHE_HOME/virtus`, else `~/.cache/virtus`. */
export function virtusCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VIRTUS_CACHE_DIR) return env.VIRTUS_CACHE_DIR;
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), ".cache"), "virtus");
}

/**
 * Where build.sh keeps the kernel, busybox and speedtest1 it built, each by a hash of its own part
 * of the recipe: `<cache root>/guest-parts`.
 */
export function guestPartsCacheDir(): string {
  return join(virtusCacheRoot(), "guest-parts");
}

/** Where the guest built from the recipe with hash `hash` lives: `<cache root>/guest/<hash>`. */
export function guestCacheDir(hash: string = guestRecipeHash()): string {
  return join(virtusCacheRoot(), "guest", hash);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function guestFilesIn(dir: string): GuestFiles {
  const speedtest1 = join(dir, "bench", "speedtest1");
  return {
    dir,
    kernel: join(dir, "Image"),
    initrd: join(dir, "initramfs.cpio.gz"),
    ...(isFile(speedtest1) ? { speedtest1 } : {}),
  };
}

/** The files of a complete guest in `dir`, or undefined. */
function completeGuest(dir: string): GuestFiles | undefined {
  const files = guestFilesIn(dir);
  const complete = [join(dir, DONE_MARKER), files.kernel, files.initrd].every(isFile);
  return complete ? files : undefined;
}

/** True when `dir` holds the guest recipe (a source checkout), not only the prebuilt guest (a package). */
export function haveGuestRecipe(dir: string = GUEST_RECIPE_DIR): boolean {
  return isFile(join(dir, "build.sh"));
}

/**
 * The recipe hash the default guest must have: the recipe's in a source checkout, else (an
 * installed package, which ships no recipe) the prebuilt guest's.
 */
export function defaultGuestHash(): string | undefined {
  if (haveGuestRecipe()) return guestRecipeHash();
  return readPrebuiltManifest()?.recipe;
}

/** Extracts the prebuilt guest into `dir` when it was built from recipe `hash`; true if it did. */
function installPrebuilt(hash: string, dir: string, prebuiltDir: string): boolean {
  const manifest = readPrebuiltManifest(prebuiltDir);
  if (manifest?.recipe !== hash) return false;
  try {
    mkdirSync(join(dir, ".."), { recursive: true });
  } catch (e) {
    throw cacheWriteError(join(dir, ".."), e);
  }
  removeStaleBuilds(join(dir, ".."));
  extractPrebuiltGuest(manifest, dir, DONE_MARKER, prebuiltDir);
  return completeGuest(dir) !== undefined;
}

/**
 * The files of a complete guest in `dir`; without `dir`, the default guest for the current recipe,
 * extracted from the prebuilt guest into the cache first if it is not there yet. Undefined when
 * the guest would have to be built (`ensureGuest` builds it).
 */
export function findGuest(dir?: string): GuestFiles | undefined {
  if (dir !== undefined) return completeGuest(dir);
  const hash = defaultGuestHash();
  if (hash === undefined) return undefined;
  const cacheDir = guestCacheDir(hash);
  const cached = completeGuest(cacheDir);
  if (cached) return cached;
  return installPrebuilt(hash, cacheDir, GUEST_PREBUILT_DIR) ? completeGuest(cacheDir) : undefined;
}

export interface EnsureGuestOptions {
  /** Receives progress lines, including build.sh's output (default: written to stderr). */
  log?: (line: string) => void;
  /** Recipe folder (default: the repository's guest/). */
  recipeDir?: string;
  /** Build from the recipe even if the cache or the prebuilt guest has it (`npm run guest -- --rebuild`). */
  rebuild?: boolean;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes `<hash>.tmp-<pid>` folders left by builds whose process is gone. */
function removeStaleBuilds(parent: string): void {
  for (const name of readdirSync(parent)) {
    const m = /\.tmp-(\d+)$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) {
      rmSync(join(parent, name), { recursive: true, force: true });
    }
  }
}

/** Exit status 2 of build.sh: the machine cannot build the guest as it is; its `error:` line says why. */
const BUILD_ENV_EXIT = 2;

/**
 * Runs `bash build.sh outDir`, passing its lines to `log` except `error:` lines, which become the
 * message of the error it rejects with (a VirtusError, exit 2, when build.sh exits 2).
 */
export function runBuildScript(
  script: string,
  outDir: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script, outDir], { stdio: ["ignore", "pipe", "pipe"], env });
    const errors: string[] = [];
    const onLine = (line: string) => {
      if (line.startsWith("error: ")) errors.push(line.slice("error: ".length));
      else log(line);
    };
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", onLine);
    }
    child.on("error", (e) =>
      reject(new VirtusError("guest-build", `cannot run bash ${script}: ${e.message}`)),
    );
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else if (code === BUILD_ENV_EXIT && errors.length > 0)
        reject(new VirtusError("guest-build", `cannot build the guest: ${errors.at(-1)}`));
      else {
        for (const e of errors) log(`error: ${e}`);
        const how = signal ? `killed by ${signal}` : `exit ${code}`;
        reject(
          new VirtusError("guest-build", `the guest build failed (build.sh ${how}); see the lines above`, 1),
        );
      }
    });
  });
}

/**
 * Returns the guest for the current recipe: from the cache, else extracted from the prebuilt guest
 * when the recipe matches it, else built (`bash guest/build.sh <tmp dir>`, 5 to 25 minutes; needs
 * the Debian packages, and root to install them). Throws VirtusError (exit 2) with what to do when
 * this machine cannot build it.
 */
export async function ensureGuest(opts: EnsureGuestOptions = {}): Promise<GuestFiles> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const recipeDir = opts.recipeDir ?? GUEST_RECIPE_DIR;
  if (opts.recipeDir === undefined && !haveGuestRecipe(recipeDir)) {
    const g = findGuest();
    if (g) return g;
    throw new VirtusError(
      "no-guest",
      `this copy of Virtus has neither the prebuilt guest nor its recipe (${GUEST_PREBUILT_DIR}); reinstall it`,
    );
  }
  const hash = guestRecipeHash(recipeDir);
  const dir = guestCacheDir(hash);
  if (!opts.rebuild) {
    const cached = completeGuest(dir);
    if (cached) return cached;
    if (installPrebuilt(hash, dir, join(recipeDir, "prebuilt"))) {
      log(`the prebuilt guest (recipe ${hash}) is in ${dir}`);
      return completeGuest(dir)!;
    }
  }

  const parent = join(dir, "..");
  try {
    mkdirSync(parent, { recursive: true });
  } catch (e) {
    throw cacheWriteError(parent, e);
  }
  const partsCache = guestPartsCacheDir();
  const plan = buildPlan({ cacheDir: parent });
  if (plan.problem)
    throw new VirtusError("guest-build", `cannot build the guest for recipe ${hash}: ${plan.problem}`);
  removeStaleBuilds(parent);
  const tmp = `${dir}.tmp-${process.pid}`;
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
  } catch (e) {
    throw cacheWriteError(parent, e);
  }
  log(
    `building the guest for recipe ${hash} into ${tmp} (5 to 25 minutes; its parts are kept in ${partsCache})`,
  );
  const started = Date.now();
  try {
    await runBuildScript(
      join(recipeDir, "build.sh"),
      tmp,
      guestBuildEnv(plan, { PARTS_CACHE: partsCache }),
      log,
    );
    const built = guestFilesIn(tmp);
    const missing = [built.kernel, built.initrd].filter((path) => !isFile(path));
    if (missing.length > 0) throw new Error(`guest build finished without ${missing.join(", ")}`);
    writeFileSync(join(tmp, DONE_MARKER), `recipe ${hash}\nbuilt ${new Date().toISOString()}\n`);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }

  // Another process may have finished the same recipe meanwhile; an incomplete or replaced dir goes.
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!completeGuest(dir)) throw cacheWriteError(dir, e);
  }
  log(`guest built in ${Math.round((Date.now() - started) / 1000)} s: ${dir}`);
  return completeGuest(dir)!;
}

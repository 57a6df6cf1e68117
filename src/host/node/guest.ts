// The default guest image (riscv64 Linux Image + busybox initramfs + sqlite speedtest1),
// built by guest/build.sh and cached by a hash of the recipe files in guest/.
//
// Cache layout: <cache root>/guest/<recipe hash>/{Image,initramfs.cpio.gz,bench/speedtest1,DONE,...}
// A build writes into <hash>.tmp-<pid>, writes DONE last, then renames the directory into place,
// so a directory named after the hash is always complete.

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
import { fileURLToPath } from "node:url";

export interface GuestFiles {
  /** The cache directory holding this build. */
  dir: string;
  /** riscv64 Linux `Image` (uncompressed, loaded at RAM base + 2 MiB by the firmware). */
  kernel: string;
  /** `initramfs.cpio.gz` with busybox, /init and /bin/speedtest1. */
  initrd: string;
  /** Static riscv64 sqlite `speedtest1` (also in the initramfs as /bin/speedtest1). */
  speedtest1: string;
}

/** Kernel command line the default guest is meant to boot with. */
export const GUEST_KERNEL_CMDLINE = "console=ttyS0 earlycon=sbi panic=-1";

/** The line /init prints right before it starts the shell. */
export const GUEST_READY_LINE = "GUEST-READY";

/** The repository's guest/ folder, found relative to this file (not the working directory). */
export const GUEST_RECIPE_DIR: string = fileURLToPath(new URL("../../../guest/", import.meta.url));

/** Written last into a finished build directory. */
const DONE_MARKER = "DONE";

/** Top-level entries of guest/ that are not part of the recipe (scratch and output dirs). */
const NOT_RECIPE = new Set(["build", "out"]);

/**
 * The files whose contents define the guest build: every file under `dir`, except documentation
 * (`*.md`), hidden entries and the `build/` and `out/` scratch folders. Paths are relative, with `/`
 * separators, sorted.
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
  return {
    dir,
    kernel: join(dir, "Image"),
    initrd: join(dir, "initramfs.cpio.gz"),
    speedtest1: join(dir, "bench", "speedtest1"),
  };
}

/** The files of a complete build in `dir` (default: the current recipe's cache dir), or undefined. */
export function findGuest(dir: string = guestCacheDir()): GuestFiles | undefined {
  const files = guestFilesIn(dir);
  const complete = [join(dir, DONE_MARKER), files.kernel, files.initrd, files.speedtest1].every(isFile);
  return complete ? files : undefined;
}

export interface EnsureGuestOptions {
  /** Receives progress lines, including build.sh's output (default: written to stderr). */
  log?: (line: string) => void;
  /** Recipe folder (default: the repository's guest/). */
  recipeDir?: string;
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

function runBuild(script: string, outDir: string, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script, outDir], { stdio: ["ignore", "pipe", "pipe"] });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", log);
    }
    child.on("error", (e) => reject(new Error(`cannot run bash ${script}: ${e.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else
        reject(new Error(`guest build failed (build.sh ${signal ? `killed by ${signal}` : `exit ${code}`})`));
    });
  });
}

/**
 * Returns the cached guest for the current recipe, building it first if needed
 * (`bash guest/build.sh <tmp dir>`, about 10 minutes on 2 cores; needs root for apt unless SKIP_APT=1).
 */
export async function ensureGuest(opts: EnsureGuestOptions = {}): Promise<GuestFiles> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const recipeDir = opts.recipeDir ?? GUEST_RECIPE_DIR;
  const hash = guestRecipeHash(recipeDir);
  const dir = guestCacheDir(hash);
  const cached = findGuest(dir);
  if (cached) {
    log(`guest image for recipe ${hash} is cached: ${dir}`);
    return cached;
  }

  const parent = join(dir, "..");
  mkdirSync(parent, { recursive: true });
  removeStaleBuilds(parent);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  log(`building guest image for recipe ${hash} (about 10 minutes) into ${tmp}`);
  const started = Date.now();
  try {
    await runBuild(join(recipeDir, "build.sh"), tmp, log);
    const built = guestFilesIn(tmp);
    const missing = [built.kernel, built.initrd, built.speedtest1].filter((path) => !isFile(path));
    if (missing.length > 0) throw new Error(`guest build finished without ${missing.join(", ")}`);
    writeFileSync(join(tmp, DONE_MARKER), `recipe ${hash}\nbuilt ${new Date().toISOString()}\n`);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }

  // Another process may have finished the same recipe meanwhile; an incomplete dir is replaced.
  if (existsSync(dir) && !findGuest(dir)) rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!findGuest(dir)) throw e;
  }
  log(`guest image built in ${Math.round((Date.now() - started) / 1000)} s: ${dir}`);
  return findGuest(dir)!;
}

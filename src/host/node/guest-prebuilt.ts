// The prebuilt default guest that ships with Virtus (guest/prebuilt/): the kernel Image compressed
// with zstd, the initramfs as built (already gzip), their SHA-256 sums and sizes, and the hash of
// the recipe they were built from. `virtus run` extracts it into the guest cache, so a fresh
// machine boots without root, apt or a compiler.
//
// manifest.json: { "format": 1, "recipe": "<16 hex>", "files": [{ "name", "stored", "size", "sha256" }] }
// `name` is the file in the cache directory, `stored` the file in guest/prebuilt/ (a `.zst` suffix
// means zstd-compressed).

import { createHash } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { VirtusError } from "../../machine/errors.ts";
import { fromRoot } from "./project-root.ts";

/** guest/prebuilt/ of this checkout or installed package, found relative to this file. */
export const GUEST_PREBUILT_DIR: string = fromRoot("guest/prebuilt/");

const MANIFEST = "manifest.json";
const FORMAT = 1;

export interface PrebuiltFile {
  /** File name in the cache directory, e.g. `Image`. */
  name: string;
  /** File name in guest/prebuilt/, e.g. `Image.zst`. */
  stored: string;
  /** Size of the extracted file in bytes. */
  size: number;
  /** SHA-256 of the extracted file, lowercase hex. */
  sha256: string;
}

export interface PrebuiltManifest {
  format: number;
  /** The guest recipe hash (guestRecipeHash) these files were built from. */
  recipe: string;
  files: PrebuiltFile[];
}

/** The files a prebuilt guest holds, in the order they are written. */
export const PREBUILT_FILES: readonly { name: string; compress: boolean }[] = [
  { name: "Image", compress: true },
  // Already gzip-compressed; the guest's kernel only unpacks gzip.
  { name: "initramfs.cpio.gz", compress: false },
  { name: "versions.txt", compress: false },
];

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function invalid(dir: string, why: string): VirtusError {
  return new VirtusError(
    "bad-prebuilt-guest",
    `the prebuilt guest in ${dir} is damaged (${why}); reinstall Virtus or run \`npm run guest\` in a checkout`,
  );
}

/** Reads and checks guest/prebuilt/manifest.json; undefined when there is no prebuilt guest. */
export function readPrebuiltManifest(dir: string = GUEST_PREBUILT_DIR): PrebuiltManifest | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, MANIFEST), "utf8");
  } catch {
    return undefined;
  }
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    throw invalid(dir, `${MANIFEST} is not JSON`);
  }
  const o = m as Partial<PrebuiltManifest>;
  if (o.format !== FORMAT) throw invalid(dir, `${MANIFEST} has format ${String(o.format)}, not ${FORMAT}`);
  if (typeof o.recipe !== "string" || !/^[0-9a-f]{16}$/.test(o.recipe))
    throw invalid(dir, `${MANIFEST} has no recipe hash`);
  if (!Array.isArray(o.files)) throw invalid(dir, `${MANIFEST} lists no files`);
  for (const f of o.files as unknown[]) {
    const p = f as Partial<PrebuiltFile>;
    const plain = (s: unknown) => typeof s === "string" && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(s);
    if (
      !plain(p.name) ||
      !plain(p.stored) ||
      !Number.isSafeInteger(p.size) ||
      typeof p.sha256 !== "string" ||
      !/^[0-9a-f]{64}$/.test(p.sha256)
    )
      throw invalid(dir, `${MANIFEST} has a malformed file entry`);
  }
  return { format: FORMAT, recipe: o.recipe, files: o.files as PrebuiltFile[] };
}

/** Writes `data` to `path` and forces it to disk. */
function writeDurably(path: string, data: Uint8Array): void {
  const fd = openSync(path, "w");
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** What to tell a user whose cache directory cannot be written. */
export function cacheWriteError(dir: string, e: unknown): VirtusError {
  const code = (e as NodeJS.ErrnoException).code;
  const reason =
    code === "ENOSPC" || code === "EDQUOT"
      ? "no space left on the device; free some space, or"
      : code === "EACCES" || code === "EPERM"
        ? "permission denied;"
        : code === "EROFS"
          ? "the file system is read-only;"
          : code === "ENOTDIR" || code === "EEXIST"
            ? "a part of the path is not a directory;"
            : `${code ?? String(e)};`;
  return new VirtusError(
    "guest-cache",
    `cannot write the guest cache ${dir}: ${reason} set VIRTUS_CACHE_DIR to a writable directory`,
  );
}

/**
 * Extracts the prebuilt guest into `target` (a cache directory named after the recipe hash): the
 * files go into `<target>.tmp-<pid>`, are checked against the manifest's sizes and sums, forced to
 * disk, and the directory is renamed into place with `doneMarker` written last.
 * Throws VirtusError when the cache cannot be written or the prebuilt files are damaged.
 */
export function extractPrebuiltGuest(
  manifest: PrebuiltManifest,
  target: string,
  doneMarker: string,
  dir: string = GUEST_PREBUILT_DIR,
): void {
  const tmp = `${target}.tmp-${process.pid}`;
  const files = manifest.files.map((f) => {
    let stored: Buffer;
    try {
      stored = readFileSync(join(dir, f.stored));
    } catch {
      throw invalid(dir, `${f.stored} is missing`);
    }
    let data: Uint8Array;
    try {
      data = f.stored.endsWith(".zst") ? zstdDecompressSync(stored) : stored;
    } catch {
      throw invalid(dir, `${f.stored} does not decompress`);
    }
    if (data.length !== f.size || sha256(data) !== f.sha256)
      throw invalid(dir, `${f.name} has the wrong sum`);
    return { name: f.name, data };
  });
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    for (const f of files) writeDurably(join(tmp, f.name), f.data);
    writeDurably(join(tmp, doneMarker), Buffer.from(`recipe ${manifest.recipe}\nfrom the prebuilt guest\n`));
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    // Another process may have put the same guest into place meanwhile.
    if ((e as NodeJS.ErrnoException).code === "ENOTEMPTY" || (e as NodeJS.ErrnoException).code === "EEXIST")
      return;
    throw cacheWriteError(target, e);
  }
}

/**
 * Writes guest/prebuilt/ (or another prebuilt directory `dir` holding `fileList`) from a finished
 * build in `buildDir` (recipe `recipe`): each file, then
 * manifest.json last, each through a temporary file and a rename.
 */
export function writePrebuiltGuest(
  buildDir: string,
  recipe: string,
  dir: string = GUEST_PREBUILT_DIR,
  fileList: readonly { name: string; compress: boolean }[] = PREBUILT_FILES,
): void {
  mkdirSync(dir, { recursive: true });
  const files: PrebuiltFile[] = [];
  for (const { name, compress } of fileList) {
    const data = readFileSync(join(buildDir, name));
    const stored = compress ? `${name}.zst` : name;
    const bytes = compress
      ? zstdCompressSync(data, { params: { [constants.ZSTD_c_compressionLevel]: 19 } })
      : data;
    writeDurably(join(dir, `${stored}.tmp`), bytes);
    renameSync(join(dir, `${stored}.tmp`), join(dir, stored));
    files.push({ name, stored, size: data.length, sha256: sha256(data) });
  }
  const manifest: PrebuiltManifest = { format: FORMAT, recipe, files };
  writeDurably(join(dir, `${MANIFEST}.tmp`), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  renameSync(join(dir, `${MANIFEST}.tmp`), join(dir, MANIFEST));
}

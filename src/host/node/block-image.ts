/**
 * Opening disk images on Node: probe the format by content, open a qcow2
 * image's backing chain (names relative to the image's directory, loops
 * and runaway depth refused), create images atomically, and make the
 * throwaway overlays of `--disk FILE,snapshot`.
 */
import {
  closeSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { type ImageFormat, PROBE_BYTES, probeFormat } from "../../formats/detect.ts";
import { type DiskImage, RawImage } from "../../formats/image-file.ts";
import { Qcow2Image } from "../../formats/qcow2.ts";
import { ImageCorruptError } from "../../formats/qcow2-cache.ts";
import { qcow2Layout } from "../../formats/qcow2-create.ts";
import { parseQcow2Header } from "../../formats/qcow2-header.ts";
import { VirtusError } from "../../machine/errors.ts";
import { NodeImageFile, nodeDecompress } from "./block-file.ts";

/** Longest backing chain followed (QEMU has no fixed limit; a deeper chain is almost surely a loop or an attack). */
export const MAX_BACKING_DEPTH = 32;

export interface OpenImageOptions {
  readOnly: boolean;
  /** Skip the probe and take the file as this format (`,format=`). */
  format?: ImageFormat;
  /** Prefix for error messages, e.g. "--disk a.img" (default: the path). */
  what?: string;
}

/** Opens an image and, for qcow2, its backing chain. Bad or unsupported images are a one-line VirtusError. */
export function openImage(path: string, opts: OpenImageOptions): DiskImage {
  return openChain(path, opts, [], opts.what ?? path);
}

function openChain(path: string, opts: OpenImageOptions, seen: string[], what: string): DiskImage {
  const file = NodeImageFile.open(path, { readOnly: opts.readOnly, what });
  try {
    const real = realpathSync(path);
    if (seen.includes(real))
      throw new VirtusError(
        "bad-image",
        `${what}: the backing chain loops (${[...seen, real].map((p) => basename(p)).join(" → ")})`,
      );
    if (seen.length > MAX_BACKING_DEPTH)
      throw new VirtusError(
        "bad-image",
        `${what}: the backing chain is deeper than ${MAX_BACKING_DEPTH} images`,
      );
    const first = new Uint8Array(2 * 1024 * 1024);
    const n = file.read(0, first);
    const probe = probeFormat(first.subarray(0, Math.min(n, PROBE_BYTES)));
    let format: ImageFormat;
    if (opts.format !== undefined) format = opts.format;
    else if ("unsupported" in probe)
      throw new VirtusError(
        "bad-image",
        `${what}: a ${probe.unsupported} image; Virtus reads raw and qcow2 (convert it with qemu-img convert -O qcow2, or add ,format=raw to use the bytes as they are)`,
      );
    else format = probe.format;
    if (format === "raw") return new RawImage(file);
    if (!("format" in probe) || probe.format !== "qcow2")
      throw new VirtusError("bad-image", `${what}: not a qcow2 image`);
    const header = parseQcow2Header(first.subarray(0, n), what, file.length());
    let backing: DiskImage | undefined;
    if (header.backingFile !== undefined) {
      const name = header.backingFile;
      if (/^json:|^[a-z][a-z0-9+.-]*:\/\//i.test(name))
        throw new VirtusError(
          "bad-image",
          `${what}: backing file "${name}" is not a file name (protocols are not supported)`,
        );
      const backingPath = isAbsolute(name) ? name : resolve(dirname(real), name);
      const bf = header.backingFormat;
      if (bf !== undefined && bf !== "raw" && bf !== "qcow2")
        throw new VirtusError(
          "bad-image",
          `${what}: backing file ${name} has format ${bf}; Virtus reads raw and qcow2`,
        );
      backing = openChain(
        backingPath,
        { readOnly: true, format: bf },
        [...seen, real],
        `${what}: backing file ${name}`,
      );
    }
    try {
      return new Qcow2Image(file, header, { readOnly: opts.readOnly, backing, decompress: nodeDecompress });
    } catch (e) {
      backing?.close();
      throw e;
    }
  } catch (e) {
    file.close();
    if (e instanceof ImageCorruptError)
      throw new VirtusError("bad-image", `${what}: ${e.message.replace(/^[^:]*: /, "")}`);
    throw e;
  }
}

/** Writes `bytes` as a new file at `path` atomically: a temporary file beside it, fsync, rename. */
export function writeFileAtomic(path: string, bytes: Uint8Array, what = path): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  let fd: number;
  try {
    fd = openSync(tmp, "wx", 0o644);
  } catch (e) {
    throw new VirtusError(
      "bad-image",
      `${what}: cannot create it (${(e as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  try {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {}
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * A new empty qcow2 image at `path`. `backing` is stored as given (a
 * relative name resolves against the new image's directory) and must open;
 * SIZE defaults to the backing image's size.
 */
export function createQcow2Image(
  path: string,
  opts: { size?: number; backing?: string; clusterBits?: number },
): void {
  let size = opts.size;
  let backingFormat: string | undefined;
  if (opts.backing !== undefined) {
    const at = isAbsolute(opts.backing) ? opts.backing : resolve(dirname(resolve(path)), opts.backing);
    const base = openImage(at, { readOnly: true, what: `--backing ${opts.backing}` });
    backingFormat = base.format;
    size ??= base.size;
    base.close();
  }
  if (size === undefined) throw new VirtusError("bad-size", `give the image a size, e.g. 10G`);
  writeFileAtomic(
    path,
    qcow2Layout({ size, clusterBits: opts.clusterBits, backingFile: opts.backing, backingFormat }),
  );
}

/**
 * `--disk FILE,snapshot`: a qcow2 overlay over FILE in a private temporary
 * directory, opened and unlinked at once, so the base is never written and
 * nothing is left behind even if the process is killed.
 */
export function openSnapshotOverlay(path: string, opts: { format?: ImageFormat; what: string }): DiskImage {
  const base = openImage(path, { readOnly: true, format: opts.format, what: opts.what });
  const backingFile = realpathSync(path);
  const size = base.size;
  const format = base.format;
  base.close();
  const dir = mkdtempSync(join(tmpdir(), "virtus-snapshot-"));
  const overlay = join(dir, "overlay.qcow2");
  try {
    writeFileAtomic(overlay, qcow2Layout({ size, backingFile, backingFormat: format }));
    const img = openImage(overlay, { readOnly: false, what: opts.what });
    unlinkSync(overlay);
    return img;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

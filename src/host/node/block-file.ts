import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";
import * as zlib from "node:zlib";
import { type Decompressor, type ImageFile, RawImage } from "../../formats/image-file.ts";
import { VirtusError } from "../../machine/errors.ts";

/**
 * An image file on one file descriptor: positional reads and writes
 * straight into and out of guest RAM (no bounce buffer); flush = fsync.
 */
export class NodeImageFile implements ImageFile {
  readonly name: string;
  readonly readOnly: boolean;
  private fd: number;

  private constructor(name: string, fd: number, readOnly: boolean) {
    this.name = name;
    this.fd = fd;
    this.readOnly = readOnly;
  }

  /**
   * Opens `path` (read-only when asked); a missing, unreadable or special
   * file is a VirtusError whose message starts with `what` (e.g. "--disk a.img").
   */
  static open(path: string, opts: { readOnly: boolean; what?: string }): NodeImageFile {
    const what = opts.what ?? path;
    let fd: number;
    try {
      fd = openSync(path, opts.readOnly ? "r" : "r+");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === "ENOENT"
          ? "no such file"
          : code === "EISDIR"
            ? "is a directory"
            : code === "EACCES" || code === "EPERM" || code === "EROFS"
              ? `cannot open it for ${opts.readOnly ? "reading" : "writing (add ,readonly?)"}`
              : `cannot open it (${code ?? "error"})`;
      throw new VirtusError("bad-disk", `${what}: ${why}`);
    }
    const st = fstatSync(fd);
    if (!st.isFile() && !st.isBlockDevice()) {
      closeSync(fd);
      throw new VirtusError("bad-disk", `${what}: not a regular file`);
    }
    return new NodeImageFile(path, fd, opts.readOnly);
  }

  length(): number {
    return fstatSync(this.fd).size;
  }

  /** Bytes the file takes on disk (holes excluded). */
  allocatedBytes(): number {
    return fstatSync(this.fd).blocks * 512;
  }

  read(pos: number, dst: Uint8Array): number {
    let done = 0;
    while (done < dst.length) {
      const n = readSync(this.fd, dst, done, dst.length - done, pos + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  write(pos: number, src: Uint8Array): void {
    if (this.readOnly) throw new Error(`${this.name} is read-only`);
    let done = 0;
    while (done < src.length) done += writeSync(this.fd, src, done, src.length - done, pos + done);
  }

  flush(): void {
    if (!this.readOnly) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/** A raw disk image file as a BlockBackend (the size is fixed at open: the guest cannot grow it). */
export class FileBlockBackend extends RawImage {
  readonly path: string;
  constructor(path: string, opts: { readOnly?: boolean } = {}) {
    super(NodeImageFile.open(path, { readOnly: opts.readOnly ?? false, what: `--disk ${path}` }));
    this.path = path;
  }
}

/** node:zlib inflates qcow2's compressed clusters (raw deflate; zstd where this Node has it). */
export const nodeDecompress: Decompressor = (kind, src, size) => {
  if (kind === "deflate")
    return zlib.inflateRawSync(src, { maxOutputLength: size, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const zstd = (zlib as { zstdDecompressSync?: (b: Uint8Array, o: object) => Uint8Array }).zstdDecompressSync;
  if (zstd === undefined) throw new Error("zstd-compressed clusters need Node 22.15 or later");
  return zstd(src, { maxOutputLength: size });
};

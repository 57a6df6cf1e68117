import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";
import type { BlockBackend } from "../../machine/devices/backends.ts";
import { VirtusError } from "../../machine/errors.ts";

/**
 * A raw disk image file as a BlockBackend: positional reads and writes on
 * one file descriptor, straight into and out of guest RAM; flush = fsync.
 * The size is fixed when the file is opened (the guest cannot grow it).
 */
export class FileBlockBackend implements BlockBackend {
  readonly path: string;
  readonly size: number;
  readonly readOnly: boolean;
  private fd: number;

  /** Opens `path` (read-only when asked); a missing or unreadable file is a VirtusError. */
  constructor(path: string, opts: { readOnly?: boolean } = {}) {
    this.path = path;
    this.readOnly = opts.readOnly ?? false;
    let fd: number;
    try {
      fd = openSync(path, this.readOnly ? "r" : "r+");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === "ENOENT"
          ? "no such file"
          : code === "EISDIR"
            ? "is a directory"
            : code === "EACCES" || code === "EPERM" || code === "EROFS"
              ? `cannot open it for ${this.readOnly ? "reading" : "writing (add ,readonly?)"}`
              : `cannot open it (${code ?? "error"})`;
      throw new VirtusError("bad-disk", `--disk ${path}: ${why}`);
    }
    const st = fstatSync(fd);
    if (!st.isFile() && !st.isBlockDevice()) {
      closeSync(fd);
      throw new VirtusError("bad-disk", `--disk ${path}: not a regular file`);
    }
    this.fd = fd;
    this.size = st.size;
  }

  read(offset: number, dst: Uint8Array): void {
    let done = 0;
    while (done < dst.length) {
      const n = readSync(this.fd, dst, done, dst.length - done, offset + done);
      if (n === 0) {
        // The file shrank under us: what is missing reads as zeros.
        dst.fill(0, done);
        return;
      }
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new Error(`${this.path} is read-only`);
    let done = 0;
    while (done < src.length) done += writeSync(this.fd, src, done, src.length - done, offset + done);
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

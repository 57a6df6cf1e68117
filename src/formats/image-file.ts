/**
 * What the disk-image formats need from a host (design 2.2): a file to
 * read and write at offsets, and a decompressor. The formats themselves
 * (raw, qcow2) are platform-neutral; the Node host gives them a file
 * descriptor (`host/node/block-file.ts`), a browser host could give them
 * OPFS or memory.
 */
import type { BlockBackend } from "../machine/devices/backends.ts";

/** A random-access file holding an image. Methods throw on a host I/O error. */
export interface ImageFile {
  /** For messages: the path the user gave. */
  readonly name: string;
  readonly readOnly: boolean;
  /** Current length in bytes. */
  length(): number;
  /** Reads up to dst.length bytes at `pos`; returns how many (fewer only at the end of the file). */
  read(pos: number, dst: Uint8Array): number;
  /** Writes all of `src` at `pos`, growing the file if needed. */
  write(pos: number, src: Uint8Array): void;
  /** Makes completed writes durable (fsync). */
  flush(): void;
  close(): void;
}

/**
 * Inflates one compressed qcow2 cluster: `kind` is the image's compression
 * type ("deflate": raw deflate, no zlib header; "zstd"), `src` the stored
 * bytes (possibly followed by padding), `size` the cluster size. Returns
 * exactly `size` bytes or throws (corrupt data, output of another size,
 * unsupported kind).
 */
export type Decompressor = (kind: "deflate" | "zstd", src: Uint8Array, size: number) => Uint8Array;

/** A block device image opened for a VM or a tool: a BlockBackend that knows its format and can be closed. */
export interface DiskImage extends BlockBackend {
  /** "raw" or "qcow2". */
  readonly format: string;
  /** The file's name as given (for messages). */
  readonly name: string;
  /** The image this one reads unallocated ranges from (qcow2 backing file), if any. */
  readonly backing: DiskImage | undefined;
  /** Bytes the image's file takes (its length; sparse regions are not subtracted). */
  fileLength(): number;
  /**
   * Whether [offset, offset+len) is allocated in this image (not read
   * from a backing file or zero by absence): for convert, which skips the
   * rest. Returns how many bytes from `offset` share the answer.
   */
  allocation(offset: number, len: number): { allocated: boolean; zero: boolean; len: number };
  close(): void;
}

/** A raw image: the file is the disk. */
export class RawImage implements DiskImage {
  readonly format = "raw";
  readonly backing = undefined;
  readonly name: string;
  readonly readOnly: boolean;
  readonly size: number;
  private readonly file: ImageFile;

  constructor(file: ImageFile) {
    this.file = file;
    this.name = file.name;
    this.readOnly = file.readOnly;
    this.size = file.length();
  }

  read(offset: number, dst: Uint8Array): void {
    const n = this.file.read(offset, dst);
    // The file shrank under us: what is missing reads as zeros.
    if (n < dst.length) dst.fill(0, n);
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new Error(`${this.name} is read-only`);
    this.file.write(offset, src);
  }

  flush(): void {
    if (!this.readOnly) this.file.flush();
  }

  fileLength(): number {
    return this.file.length();
  }

  allocation(_offset: number, len: number): { allocated: boolean; zero: boolean; len: number } {
    return { allocated: true, zero: false, len };
  }

  close(): void {
    this.file.close();
  }
}

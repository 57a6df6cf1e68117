/**
 * A cache of metadata clusters (L2 tables, refcount blocks) read from a
 * qcow2 file, with dirty byte ranges. The image writes dirty ranges back at
 * the end of every request, in the order the format needs (refcounts before
 * the tables that point at new clusters), so between requests every entry
 * is clean and may be evicted.
 */
import type { ImageFile } from "./image-file.ts";

/** Thrown for metadata that cannot be right (a guest sees an I/O error). */
export class ImageCorruptError extends Error {
  constructor(image: string, why: string) {
    super(`${image}: ${why}`);
    this.name = "ImageCorruptError";
  }
}

export class ClusterCache {
  private readonly file: ImageFile;
  private readonly clusterSize: number;
  private readonly capacity: number;
  private readonly what: string;
  /** Insertion order is recency: a hit moves the entry to the end. */
  private readonly entries = new Map<number, Uint8Array>();
  /** Dirty [lo, hi) byte range per cluster offset. */
  private readonly dirty = new Map<number, [number, number]>();

  constructor(file: ImageFile, clusterSize: number, capacity: number, what: string) {
    this.file = file;
    this.clusterSize = clusterSize;
    this.capacity = Math.max(4, capacity);
    this.what = what;
  }

  /** The cluster at `offset` (cluster-aligned), read from the file if not cached. */
  get(offset: number): Uint8Array {
    const hit = this.entries.get(offset);
    if (hit !== undefined) {
      this.entries.delete(offset);
      this.entries.set(offset, hit);
      return hit;
    }
    const data = new Uint8Array(this.clusterSize);
    const n = this.file.read(offset, data);
    if (n < data.length)
      throw new ImageCorruptError(
        this.file.name,
        `${this.what} at 0x${offset.toString(16)} is beyond the end of the file`,
      );
    this.insert(offset, data);
    return data;
  }

  /** A new all-zero cluster at `offset`, dirty as a whole. */
  create(offset: number): Uint8Array {
    const data = new Uint8Array(this.clusterSize);
    this.insert(offset, data);
    this.dirty.set(offset, [0, this.clusterSize]);
    return data;
  }

  /** Puts `data` in the cache as the cluster at `offset`, dirty as a whole. */
  put(offset: number, data: Uint8Array): void {
    this.insert(offset, data);
    this.dirty.set(offset, [0, this.clusterSize]);
  }

  markDirty(offset: number, lo: number, hi: number): void {
    const d = this.dirty.get(offset);
    if (d === undefined) this.dirty.set(offset, [lo, hi]);
    else {
      if (lo < d[0]) d[0] = lo;
      if (hi > d[1]) d[1] = hi;
    }
  }

  get hasDirty(): boolean {
    return this.dirty.size > 0;
  }

  /** Writes every dirty range to the file. */
  writeDirty(): void {
    for (const [offset, [lo, hi]] of this.dirty) {
      const data = this.entries.get(offset);
      if (data !== undefined) this.file.write(offset + lo, data.subarray(lo, hi));
    }
    this.dirty.clear();
    this.evict();
  }

  private insert(offset: number, data: Uint8Array): void {
    this.entries.delete(offset);
    this.entries.set(offset, data);
    this.evict();
  }

  /** Drops the least recently used clean entries while over capacity. */
  private evict(): void {
    if (this.entries.size <= this.capacity) return;
    for (const k of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      if (!this.dirty.has(k)) this.entries.delete(k);
    }
  }
}

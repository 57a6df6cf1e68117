/**
 * qcow2 reference counts (qcow2.txt, "Host cluster management"): a
 * refcount table (contiguous clusters of u64 offsets) points at refcount
 * blocks, each a cluster of `refcount_bits`-wide big-endian entries, one
 * per host cluster. A cluster is free when its refcount is 0; every
 * cluster the image uses (header, tables, data) has refcount >= 1.
 *
 * Allocation takes the first run of free clusters at or after a hint that
 * only moves forward while allocating, so nested allocations (a new
 * refcount block for the cluster being allocated, a larger table) never
 * hand out the same cluster twice. New refcount blocks cover themselves
 * where they can, as QEMU places them. When the table is full it is copied
 * to a larger one at the end of the file with blocks for its own clusters
 * (qcow2.txt: the table must stay contiguous), the header is pointed at it,
 * then the old table is freed.
 */

import type { ImageFile } from "./image-file.ts";
import { ClusterCache, ImageCorruptError } from "./qcow2-cache.ts";
import { MAX_REFTABLE_BYTES } from "./qcow2-header.ts";

export interface RefcountLayout {
  clusterBits: number;
  refcountOrder: number;
  tableOffset: number;
  tableClusters: number;
}

export class Refcounts {
  readonly clusterSize: number;
  readonly clusterBits: number;
  /** Entries per refcount block. */
  readonly perBlock: number;
  readonly bits: number;
  /** Largest refcount an entry holds. */
  readonly max: number;
  tableOffset: number;
  tableClusters: number;
  private table: Uint8Array;
  private readonly tableDirty = new Set<number>();
  /** Offsets of all refcount blocks, for overlap checks. */
  readonly blockSet = new Set<number>();
  private readonly file: ImageFile;
  private readonly blocks: ClusterCache;
  /** First cluster index the allocator looks at. */
  private hint = 0;
  /** One past the highest cluster allocated in this session. */
  private highWater = 0;
  /** Refuses clusters that hold known metadata (a hostile refcount of 0 on the L1 table, say). */
  overlapCheck: (offset: number, len: number) => string | undefined = () => undefined;

  constructor(file: ImageFile, l: RefcountLayout) {
    this.file = file;
    this.clusterBits = l.clusterBits;
    this.clusterSize = 2 ** l.clusterBits;
    this.bits = 2 ** l.refcountOrder;
    this.max = l.refcountOrder === 6 ? Number.MAX_SAFE_INTEGER : 2 ** this.bits - 1;
    this.perBlock = (this.clusterSize * 8) / this.bits;
    this.tableOffset = l.tableOffset;
    this.tableClusters = l.tableClusters;
    this.table = new Uint8Array(l.tableClusters * this.clusterSize);
    if (file.read(l.tableOffset, this.table) < this.table.length)
      throw new ImageCorruptError(file.name, "the refcount table is truncated");
    this.blocks = new ClusterCache(file, this.clusterSize, 64, "a refcount block");
    for (let i = 0; i < this.tableEntries; i++) {
      const o = this.blockOffset(i);
      if (o !== 0) this.blockSet.add(o);
    }
  }

  /** Number of refcount table entries. */
  get tableEntries(): number {
    return this.table.length / 8;
  }

  /** The offset of refcount block `i` (0 when none); a misaligned offset is corruption. */
  blockOffset(i: number): number {
    if (i >= this.tableEntries) return 0;
    const t = this.table;
    const at = i * 8;
    const hi = ((t[at] << 24) | (t[at + 1] << 16) | (t[at + 2] << 8) | t[at + 3]) >>> 0;
    const lo = ((t[at + 4] << 24) | (t[at + 5] << 16) | (t[at + 6] << 8) | t[at + 7]) >>> 0;
    if (hi === 0 && lo === 0) return 0;
    const offset = hi * 2 ** 32 + ((lo & ~0x1ff) >>> 0);
    if (hi >= 0x200000 || offset === 0 || offset % this.clusterSize !== 0)
      throw new ImageCorruptError(this.file.name, `refcount block ${i} has a bad offset`);
    return offset;
  }

  private setBlockOffset(i: number, offset: number): void {
    const t = this.table;
    const at = i * 8;
    const hi = Math.floor(offset / 2 ** 32);
    const lo = offset >>> 0;
    t[at] = hi >>> 24;
    t[at + 1] = hi >>> 16;
    t[at + 2] = hi >>> 8;
    t[at + 3] = hi;
    t[at + 4] = lo >>> 24;
    t[at + 5] = lo >>> 16;
    t[at + 6] = lo >>> 8;
    t[at + 7] = lo;
    this.tableDirty.add(i);
    this.blockSet.add(offset);
  }

  /** The refcount of host cluster `c` (0 when no block covers it). */
  get(c: number): number {
    const bo = this.blockOffset(Math.floor(c / this.perBlock));
    if (bo === 0) return 0;
    return this.entry(this.blocks.get(bo), c % this.perBlock);
  }

  private entry(b: Uint8Array, i: number): number {
    switch (this.bits) {
      case 8:
        return b[i];
      case 16:
        return (b[2 * i] << 8) | b[2 * i + 1];
      case 32:
        return ((b[4 * i] << 24) | (b[4 * i + 1] << 16) | (b[4 * i + 2] << 8) | b[4 * i + 3]) >>> 0;
      case 64: {
        const at = 8 * i;
        const hi = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
        const lo = ((b[at + 4] << 24) | (b[at + 5] << 16) | (b[at + 6] << 8) | b[at + 7]) >>> 0;
        return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 2 ** 32 + lo;
      }
      default: {
        // Sub-byte widths count from the least significant bit (qcow2.txt).
        const bit = i * this.bits;
        return (b[bit >>> 3] >>> (bit & 7)) & (2 ** this.bits - 1);
      }
    }
  }

  /** Byte range [lo, hi) of entry i in its block (for dirty tracking). */
  private entryBytes(i: number): [number, number] {
    if (this.bits >= 8) return [(i * this.bits) / 8, ((i + 1) * this.bits) / 8];
    const byte = (i * this.bits) >>> 3;
    return [byte, byte + 1];
  }

  private setEntry(b: Uint8Array, i: number, v: number): void {
    switch (this.bits) {
      case 8:
        b[i] = v;
        return;
      case 16:
        b[2 * i] = v >>> 8;
        b[2 * i + 1] = v;
        return;
      case 32:
        b[4 * i] = v >>> 24;
        b[4 * i + 1] = v >>> 16;
        b[4 * i + 2] = v >>> 8;
        b[4 * i + 3] = v;
        return;
      case 64: {
        const at = 8 * i;
        const hi = Math.floor(v / 2 ** 32);
        b[at] = hi >>> 24;
        b[at + 1] = hi >>> 16;
        b[at + 2] = hi >>> 8;
        b[at + 3] = hi;
        b[at + 4] = v >>> 24;
        b[at + 5] = v >>> 16;
        b[at + 6] = v >>> 8;
        b[at + 7] = v;
        return;
      }
      default: {
        const bit = i * this.bits;
        const mask = (2 ** this.bits - 1) << (bit & 7);
        b[bit >>> 3] = (b[bit >>> 3] & ~mask) | ((v << (bit & 7)) & mask);
      }
    }
  }

  /** Sets the refcount of cluster `c`, creating a refcount block (and growing the table) if needed. */
  set(c: number, v: number): void {
    if (v < 0 || v > this.max)
      throw new ImageCorruptError(
        this.file.name,
        `refcount of cluster ${c} would be ${v} (the range is 0..${this.max})`,
      );
    const ti = Math.floor(c / this.perBlock);
    if (ti >= this.tableEntries) this.grow(ti);
    let bo = this.blockOffset(ti);
    if (bo === 0) bo = this.newBlock(ti);
    const i = c % this.perBlock;
    this.setEntry(this.blocks.get(bo), i, v);
    const [lo, hi] = this.entryBytes(i);
    this.blocks.markDirty(bo, lo, hi);
    if (v === 0 && c < this.hint) this.hint = c;
  }

  /** Adds `delta` (±) to the refcount of every cluster in [first, first+count). */
  add(first: number, count: number, delta: number): void {
    for (let c = first; c < first + count; c++) this.set(c, this.get(c) + delta);
  }

  /** Allocates `n` contiguous free clusters with refcount 1; returns the byte offset of the first. */
  alloc(n: number): number {
    const first = this.findFree(n);
    for (let c = first; c < first + n; c++) this.set(c, 1);
    return first * this.clusterSize;
  }

  /** Finds a run of `n` free clusters at or after the hint and moves the hint past it (no refcounts change). */
  private findFree(n: number): number {
    let start = this.hint;
    let run = 0;
    // Past the file and everything allocated this session, clusters are free whatever a
    // (hostile) refcount says: the scan never walks a table that claims 2^40 used clusters.
    const end = Math.max(Math.ceil(this.file.length() / this.clusterSize), this.highWater);
    while (run < n) {
      const c = start + run;
      if (c * this.clusterSize >= 2 ** 53) throw new ImageCorruptError(this.file.name, "the image is full");
      if (c >= end || this.get(c) === 0) run++;
      else {
        start = c + 1;
        run = 0;
      }
    }
    const why = this.overlapCheck(start * this.clusterSize, n * this.clusterSize);
    if (why !== undefined)
      throw new ImageCorruptError(this.file.name, `a free cluster holds ${why} (refcounts are corrupt)`);
    this.hint = start + n;
    if (this.hint > this.highWater) this.highWater = this.hint;
    return start;
  }

  /** A refcount block for table entry `ti`, placed in its own range when it can be, so it covers itself. */
  private newBlock(ti: number): number {
    const b = this.findFree(1);
    const offset = b * this.clusterSize;
    const data = this.blocks.create(offset);
    this.setBlockOffset(ti, offset);
    if (Math.floor(b / this.perBlock) === ti) this.setEntry(data, b % this.perBlock, 1);
    else this.set(b, 1);
    return offset;
  }

  /**
   * Replaces the table with one that has at least `need + 1` entries: new
   * table and the refcount blocks its own clusters need go at the end of
   * everything in use; then the header points at it and the old one is freed.
   */
  private grow(need: number): void {
    this.writeDirty();
    const cs = this.clusterSize;
    const end = Math.max(this.highWater, this.hint, Math.ceil(this.file.length() / cs));
    const oldEntries = this.tableEntries;
    let t = 0;
    let extra = 0;
    for (let round = 0; round < 16; round++) {
      const total = end + t + extra;
      const entries = Math.ceil(Math.max(need + 1, Math.ceil(total / this.perBlock), oldEntries) * 1.5);
      const t2 = Math.ceil((entries * 8) / cs);
      let extra2 = 0;
      for (
        let ti = Math.floor(end / this.perBlock);
        ti <= Math.floor((end + t2 + extra - 1) / this.perBlock);
        ti++
      )
        if (ti >= oldEntries || this.blockOffset(ti) === 0) extra2++;
      if (t2 === t && extra2 === extra) break;
      t = t2;
      extra = extra2;
    }
    if (t * cs > MAX_REFTABLE_BYTES)
      throw new ImageCorruptError(this.file.name, "the refcount table would be too large");
    const oldOffset = this.tableOffset;
    const oldClusters = this.tableClusters;
    const table = new Uint8Array(t * cs);
    table.set(this.table);
    this.table = table;
    let nextBlock = end + t;
    for (
      let ti = Math.floor(end / this.perBlock);
      ti <= Math.floor((end + t + extra - 1) / this.perBlock);
      ti++
    ) {
      if (this.blockOffset(ti) !== 0) continue;
      this.blocks.create(nextBlock * cs);
      this.setBlockOffset(ti, nextBlock * cs);
      nextBlock++;
    }
    this.hint = end + t + extra;
    this.highWater = Math.max(this.highWater, this.hint);
    for (let c = end; c < end + t + extra; c++) this.set(c, 1);
    this.blocks.writeDirty();
    this.file.write(end * cs, table);
    this.tableDirty.clear();
    this.tableOffset = end * cs;
    this.tableClusters = t;
    // Header: refcount_table_offset (u64 at 48) and refcount_table_clusters (u32 at 56).
    const h = new Uint8Array(12);
    const hv = new DataView(h.buffer);
    hv.setUint32(0, Math.floor(this.tableOffset / 2 ** 32));
    hv.setUint32(4, this.tableOffset >>> 0);
    hv.setUint32(8, t);
    this.file.write(48, h);
    this.add(oldOffset / cs, oldClusters, -1);
  }

  /** Writes dirty refcount blocks, then dirty table entries. */
  writeDirty(): void {
    this.blocks.writeDirty();
    for (const i of this.tableDirty)
      this.file.write(this.tableOffset + i * 8, this.table.subarray(i * 8, i * 8 + 8));
    this.tableDirty.clear();
  }
}

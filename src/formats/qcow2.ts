/**
 * qcow2 images (QEMU docs/interop/qcow2.txt), versions 2 and 3, as a
 * BlockBackend: reads follow the two-level table (L1 → L2 → cluster) and
 * fall through to the backing image where nothing is allocated; writes
 * allocate clusters (copying the rest of a partly written cluster from the
 * backing image, a compressed cluster or zeros) and keep refcounts exact,
 * so `qemu-img check` finds no errors or leaks.
 *
 * An L1 entry: bits 9-55 the L2 table's offset, bit 63 COPIED (refcount 1).
 * A standard L2 entry: bit 0 reads-as-zero (v3), bits 9-55 the data
 * cluster's offset (0: unallocated), bit 62 compressed (0 here), bit 63
 * COPIED. A compressed L2 entry (bit 62 set), with x = 62 - (cluster_bits - 8):
 * bits 0..x-1 the byte offset of the compressed data, bits x..61 the number
 * of 512-byte sectors it takes beyond the first.
 *
 * Every offset read from the file is checked (alignment, within the file)
 * before use; a bad one fails the request with an I/O error, and a write
 * that would land on metadata marks the image broken (no further writes),
 * as QEMU's overlap checks do. Metadata is written through at the end of
 * each request, refcounts first, then L2 tables, then the L1 table, so a
 * crash can leak clusters but never leave a table pointing at a cluster
 * whose refcount is 0.
 */
import type { Decompressor, DiskImage, ImageFile } from "./image-file.ts";
import { ClusterCache, ImageCorruptError } from "./qcow2-cache.ts";
import { INCOMPAT_CORRUPT, INCOMPAT_DIRTY, type Qcow2Header } from "./qcow2-header.ts";
import { Refcounts } from "./qcow2-refcount.ts";
import { zstdFrameLength } from "./zstd-frame.ts";

const COPIED_HI = 0x80000000;
const COMPRESSED_HI = 0x40000000;
/** Bits 9..55 of an entry: the offset's high word keeps bits 32..55. */
const OFFSET_HI_MASK = 0x00ffffff;
const OFFSET_LO_MASK = 0xfffffe00;

const ZERO_BYTE = new Uint8Array(1);

/** What one guest cluster maps to (see lookup). */
const UNALLOCATED = 0;
const ZERO = 1;
const NORMAL = 2;
const COMPRESSED = 3;

export interface Qcow2Options {
  readOnly: boolean;
  /** The opened backing image (the header names it; the host resolves and opens it). */
  backing?: DiskImage;
  decompress: Decompressor;
  /** Bytes of L2 tables to cache (default 4 MiB). */
  l2CacheBytes?: number;
}

function be32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function setBe32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}

export class Qcow2Image implements DiskImage {
  readonly format = "qcow2";
  readonly name: string;
  readonly readOnly: boolean;
  readonly size: number;
  readonly header: Qcow2Header;
  readonly backing: DiskImage | undefined;
  readonly clusterSize: number;
  readonly clusterBits: number;
  /** Entries per L2 table. */
  readonly l2Entries: number;
  /** Set when a write found corrupt metadata: later writes fail, reads go on. */
  broken: string | undefined;
  private readonly file: ImageFile;
  private readonly decompress: Decompressor;
  private readonly l1: Uint8Array;
  private readonly l1Dirty = new Set<number>();
  private readonly l2: ClusterCache;
  /** Offsets of the active L2 tables (for overlap checks). */
  private readonly l2Set = new Set<number>();
  private refs: Refcounts | undefined;
  private readonly compressedBits: number;
  /** The last decompressed cluster (sequential reads of compressed images hit it often). */
  private zOffset = -1;
  private zData: Uint8Array | undefined;
  private scratch: Uint8Array | undefined;
  /** The file's length when last asked (it only grows while open). */
  private knownLength = 0;
  // lookup() results, fields instead of an object so the read path allocates nothing.
  private lkKind = 0;
  private lkOffset = 0;
  private lkCopied = false;
  private lkBytes = 0;

  constructor(file: ImageFile, header: Qcow2Header, opts: Qcow2Options) {
    this.file = file;
    this.name = file.name;
    this.header = header;
    this.readOnly = opts.readOnly;
    this.size = header.size;
    this.backing = opts.backing;
    this.decompress = opts.decompress;
    this.clusterBits = header.clusterBits;
    this.clusterSize = 2 ** header.clusterBits;
    this.l2Entries = this.clusterSize / 8;
    this.compressedBits = 62 - (header.clusterBits - 8);
    if (!this.readOnly) {
      if (header.incompatible & INCOMPAT_CORRUPT)
        throw new ImageCorruptError(
          this.name,
          "the image is marked corrupt; repair it (qemu-img check -r all) or open it read-only",
        );
      if (header.incompatible & INCOMPAT_DIRTY)
        throw new ImageCorruptError(
          this.name,
          "the image was not closed cleanly (lazy refcounts); repair it with qemu-img check -r all, or open it read-only",
        );
      if (header.nbSnapshots > 0)
        throw new ImageCorruptError(
          this.name,
          `the image has ${header.nbSnapshots} internal snapshots; Virtus opens such images read-only`,
        );
    }
    this.l1 = new Uint8Array(header.l1Size * 8);
    if (header.l1Size > 0 && file.read(header.l1TableOffset, this.l1) < this.l1.length)
      throw new ImageCorruptError(this.name, "the L1 table is truncated");
    for (let i = 0; i < header.l1Size; i++) {
      const o = this.l1Offset(i);
      if (o > 0) this.l2Set.add(o);
    }
    const l2Tables = Math.ceil((opts.l2CacheBytes ?? 4 * 1024 * 1024) / this.clusterSize);
    this.l2 = new ClusterCache(file, this.clusterSize, l2Tables, "an L2 table");
    if (!this.readOnly) {
      this.refs = new Refcounts(file, {
        clusterBits: header.clusterBits,
        refcountOrder: header.refcountOrder,
        tableOffset: header.refcountTableOffset,
        tableClusters: header.refcountTableClusters,
      });
      this.refs.overlapCheck = (o, n) => this.overlaps(o, n);
    }
  }

  /** The L2 table offset in L1 entry `i` (0 when unallocated); a bad one is corruption. */
  private l1Offset(i: number): number {
    const hi = be32(this.l1, i * 8);
    const lo = be32(this.l1, i * 8 + 4);
    const off = (hi & OFFSET_HI_MASK) * 2 ** 32 + ((lo & OFFSET_LO_MASK) >>> 0);
    if (off === 0) return 0;
    if (off % this.clusterSize !== 0 || off >= 2 ** 53)
      throw new ImageCorruptError(this.name, `L1 entry ${i} points at a misaligned L2 table`);
    return off;
  }

  /**
   * Maps guest offset `pos` to its cluster: sets lkKind (UNALLOCATED, ZERO,
   * NORMAL, COMPRESSED), lkOffset (the host offset of the cluster or of the
   * compressed bytes), lkBytes (compressed length), lkCopied.
   */
  private lookup(pos: number): void {
    const clusterIndex = Math.floor(pos / this.clusterSize);
    const l1i = Math.floor(clusterIndex / this.l2Entries);
    const l2Offset = this.l1Offset(l1i);
    this.lkCopied = false;
    this.lkOffset = 0;
    if (l2Offset === 0) {
      this.lkKind = UNALLOCATED;
      return;
    }
    const t = this.l2.get(l2Offset);
    const at = (clusterIndex % this.l2Entries) * 8;
    const hi = be32(t, at);
    const lo = be32(t, at + 4);
    this.lkCopied = (hi & COPIED_HI) !== 0;
    if (hi & COMPRESSED_HI) {
      const x = this.compressedBits - 32;
      const off = (hi & ((1 << x) - 1)) * 2 ** 32 + lo;
      const sectors = ((hi & 0x3fffffff) >>> x) + 1;
      this.lkKind = COMPRESSED;
      this.lkOffset = off;
      this.lkBytes = sectors * 512 - (off % 512);
      if (off === 0 || off >= 2 ** 53)
        throw new ImageCorruptError(this.name, `compressed cluster ${clusterIndex} has a bad offset`);
      return;
    }
    const off = (hi & OFFSET_HI_MASK) * 2 ** 32 + ((lo & OFFSET_LO_MASK) >>> 0);
    if (off % this.clusterSize !== 0 || off >= 2 ** 53)
      throw new ImageCorruptError(this.name, `cluster ${clusterIndex} points at a bad host offset`);
    this.lkOffset = off;
    // Bit 0 (reads as zero) exists from version 3 on; in version 2 it is reserved.
    if ((lo & 1) !== 0 && this.header.version === 3) this.lkKind = ZERO;
    else this.lkKind = off === 0 ? UNALLOCATED : NORMAL;
  }

  read(offset: number, dst: Uint8Array): void {
    const cs = this.clusterSize;
    let done = 0;
    // A run of reads that are contiguous in the file is one read call.
    let runHost = -1;
    let runDst = 0;
    let runLen = 0;
    while (done < dst.length) {
      const pos = offset + done;
      const inCluster = pos % cs;
      const n = Math.min(cs - inCluster, dst.length - done);
      this.lookup(pos);
      if (this.lkKind === NORMAL && runLen > 0 && runHost + runLen === this.lkOffset + inCluster) {
        runLen += n;
        done += n;
        continue;
      }
      if (runLen > 0) this.readData(runHost, dst.subarray(runDst, runDst + runLen));
      runLen = 0;
      const part = dst.subarray(done, done + n);
      switch (this.lkKind) {
        case NORMAL:
          runHost = this.lkOffset + inCluster;
          runDst = done;
          runLen = n;
          break;
        case COMPRESSED:
          part.set(this.compressedCluster(this.lkOffset, this.lkBytes).subarray(inCluster, inCluster + n));
          break;
        case ZERO:
          part.fill(0);
          break;
        default:
          this.readBacking(pos, part);
      }
      done += n;
    }
    if (runLen > 0) this.readData(runHost, dst.subarray(runDst, runDst + runLen));
  }

  /** Data clusters: a read that starts beyond the end of the file is corruption; a tail past it reads zeros (as QEMU). */
  private readData(host: number, dst: Uint8Array): void {
    const n = this.file.read(host, dst);
    if (n === 0 && dst.length > 0)
      throw new ImageCorruptError(this.name, `data at 0x${host.toString(16)} is beyond the end of the file`);
    if (n < dst.length) dst.fill(0, n);
  }

  /** Unallocated here: the backing image's bytes where it has them, zeros elsewhere. */
  private readBacking(pos: number, dst: Uint8Array): void {
    const b = this.backing;
    const have = b === undefined ? 0 : Math.max(0, Math.min(dst.length, b.size - pos));
    if (have > 0) b?.read(pos, dst.subarray(0, have));
    if (have < dst.length) dst.fill(0, have);
  }

  private compressedCluster(off: number, bytes: number): Uint8Array {
    if (off === this.zOffset && this.zData !== undefined) return this.zData;
    const src = new Uint8Array(bytes);
    const n = this.file.read(off, src);
    if (n === 0)
      throw new ImageCorruptError(
        this.name,
        `compressed data at 0x${off.toString(16)} is beyond the end of the file`,
      );
    let out: Uint8Array;
    try {
      const zstd = this.header.compressionType === 1;
      const len = zstd ? zstdFrameLength(src.subarray(0, n)) : n;
      if (len < 0) throw new Error("not a complete zstd frame");
      out = this.decompress(zstd ? "zstd" : "deflate", src.subarray(0, len), this.clusterSize);
    } catch (e) {
      throw new ImageCorruptError(
        this.name,
        `compressed cluster at 0x${off.toString(16)}: ${(e as Error).message}`,
      );
    }
    if (out.length !== this.clusterSize)
      throw new ImageCorruptError(
        this.name,
        `compressed cluster at 0x${off.toString(16)} inflates to ${out.length} bytes`,
      );
    this.zOffset = off;
    this.zData = out;
    return out;
  }

  /** What a metadata structure at [offset, offset+len) would overwrite, if anything (QEMU's overlap check). */
  overlaps(offset: number, len: number): string | undefined {
    const cs = this.clusterSize;
    const within = (start: number, size: number) => offset < start + size && start < offset + len;
    if (offset < cs) return "the header";
    if (within(this.header.l1TableOffset, this.l1.length)) return "the L1 table";
    const refs = this.refs;
    if (refs !== undefined) {
      if (within(refs.tableOffset, refs.tableClusters * cs)) return "the refcount table";
      for (let c = offset - (offset % cs); c < offset + len; c += cs) {
        if (refs.blockSet.has(c)) return "a refcount block";
        if (this.l2Set.has(c)) return "an L2 table";
      }
    }
    return undefined;
  }

  write(offset: number, src: Uint8Array): void {
    const refs = this.refs;
    if (this.readOnly || refs === undefined) throw new Error(`${this.name} is read-only`);
    if (this.broken !== undefined) throw new Error(`${this.name}: writes stopped: ${this.broken}`);
    try {
      if (this.header.autoclear !== 0) this.clearAutoclear();
      this.writeClusters(offset, src, refs);
      // Refcounts before the tables that point at new clusters (a crash leaks, never corrupts).
      refs.writeDirty();
      this.l2.writeDirty();
      for (const i of this.l1Dirty)
        this.file.write(this.header.l1TableOffset + i * 8, this.l1.subarray(i * 8, i * 8 + 8));
      this.l1Dirty.clear();
    } catch (e) {
      if (e instanceof ImageCorruptError) this.broken = e.message;
      else this.broken ??= `a write failed (${(e as Error).message})`;
      throw e;
    }
  }

  /**
   * qcow2.txt: a writer that does not maintain an auto-clear feature (dirty
   * bitmaps, a raw external data file) must clear its bit before the first
   * write, so QEMU knows the extension's data may be stale.
   */
  private clearAutoclear(): void {
    this.file.write(88, new Uint8Array(8));
    this.file.flush();
    this.header.autoclear = 0;
  }

  private writeClusters(offset: number, src: Uint8Array, refs: Refcounts): void {
    const cs = this.clusterSize;
    let done = 0;
    while (done < src.length) {
      const pos = offset + done;
      const inCluster = pos % cs;
      const n = Math.min(cs - inCluster, src.length - done);
      const part = src.subarray(done, done + n);
      const clusterIndex = Math.floor(pos / cs);
      const l2Offset = this.l2ForWrite(Math.floor(clusterIndex / this.l2Entries), refs);
      this.lookup(pos);
      if (this.lkKind === NORMAL && this.lkCopied) {
        // Clusters in use lie inside the file: a pointer past its end would grow it without bound.
        if (this.lkOffset >= this.knownLength && this.lkOffset >= (this.knownLength = this.file.length()))
          throw new ImageCorruptError(this.name, `cluster ${clusterIndex} points past the end of the file`);
        const why = this.overlaps(this.lkOffset, cs);
        if (why !== undefined) throw new ImageCorruptError(this.name, `a data cluster overlaps ${why}`);
        this.file.write(this.lkOffset + inCluster, part);
      } else {
        this.allocateAndWrite(pos - inCluster, inCluster, part, l2Offset, refs);
      }
      done += n;
    }
  }

  /** The L2 table for L1 entry `l1i`, allocated (zeroed) if there is none. */
  private l2ForWrite(l1i: number, refs: Refcounts): number {
    const at = l1i * 8;
    const existing = this.l1Offset(l1i);
    if (existing !== 0) {
      if ((be32(this.l1, at) & COPIED_HI) === 0) {
        // COPIED clear: shared with a snapshot, unless the flag is merely stale.
        if (refs.get(existing / this.clusterSize) !== 1)
          throw new ImageCorruptError(
            this.name,
            `L2 table at 0x${existing.toString(16)} is shared; cannot write through it`,
          );
        setBe32(this.l1, at, be32(this.l1, at) | COPIED_HI);
        this.l1Dirty.add(l1i);
      }
      return existing;
    }
    const off = refs.alloc(1);
    this.l2.create(off);
    this.l2Set.add(off);
    setBe32(this.l1, at, (Math.floor(off / 2 ** 32) | COPIED_HI) >>> 0);
    setBe32(this.l1, at + 4, off >>> 0);
    this.l1Dirty.add(l1i);
    return off;
  }

  /**
   * Writes `part` at `inCluster` of the guest cluster starting at `start`,
   * which is not a writable allocated cluster: allocates one, fills the
   * rest from what the guest saw there before, points the L2 entry at it
   * and drops the reference to what it replaced.
   */
  private allocateAndWrite(
    start: number,
    inCluster: number,
    part: Uint8Array,
    l2Offset: number,
    refs: Refcounts,
  ): void {
    const cs = this.clusterSize;
    const kind = this.lkKind;
    const oldOffset = this.lkOffset;
    const oldBytes = this.lkBytes;
    const oldCopied = this.lkCopied;
    // A zero cluster that keeps its preallocated cluster is written in place.
    const reuse = kind === ZERO && oldOffset !== 0 && oldCopied;
    const target = reuse ? oldOffset : refs.alloc(1);
    if (reuse) {
      if (target >= this.file.length())
        throw new ImageCorruptError(
          this.name,
          `cluster at 0x${target.toString(16)} is past the end of the file`,
        );
      const why = this.overlaps(target, cs);
      if (why !== undefined) throw new ImageCorruptError(this.name, `a data cluster overlaps ${why}`);
    }
    const zeroBase =
      kind === ZERO || (kind === UNALLOCATED && (this.backing === undefined || start >= this.backing.size));
    if (part.length === cs) this.file.write(target, part);
    else if (
      zeroBase &&
      !reuse &&
      target >= this.knownLength &&
      target >= (this.knownLength = this.file.length())
    ) {
      // A cluster past the end of the file reads as zeros already: write the part, and a last
      // byte so the file covers the whole cluster (a sparse hole, no 64 KiB of zeros written).
      this.file.write(target + inCluster, part);
      if (inCluster + part.length < cs) this.file.write(target + cs - 1, ZERO_BYTE);
      this.knownLength = target + cs;
    } else {
      const buf = (this.scratch ??= new Uint8Array(cs));
      if (kind === COMPRESSED) buf.set(this.compressedCluster(oldOffset, oldBytes));
      else if (kind === NORMAL) this.readData(oldOffset, buf);
      else if (kind === ZERO) buf.fill(0);
      else {
        // Unallocated: the backing image's bytes up to the virtual size, zeros after.
        const inDisk = Math.max(0, Math.min(cs, this.size - start));
        this.readBacking(start, buf.subarray(0, inDisk));
        buf.fill(0, inDisk);
      }
      buf.set(part, inCluster);
      this.file.write(target, buf);
    }
    const t = this.l2.get(l2Offset);
    const at = (Math.floor(start / cs) % this.l2Entries) * 8;
    setBe32(t, at, (Math.floor(target / 2 ** 32) | COPIED_HI) >>> 0);
    setBe32(t, at + 4, target >>> 0);
    this.l2.markDirty(l2Offset, at, at + 8);
    if (reuse) return;
    if (kind === COMPRESSED) {
      const first = Math.floor(oldOffset / cs);
      const last = Math.floor((oldOffset + oldBytes - 1) / cs);
      refs.add(first, last - first + 1, -1);
    } else if (oldOffset !== 0) {
      // A shared normal cluster, or a zero cluster whose preallocation was shared.
      refs.add(oldOffset / cs, 1, -1);
    }
  }

  flush(): void {
    if (!this.readOnly) this.file.flush();
  }

  fileLength(): number {
    return this.file.length();
  }

  allocation(offset: number, len: number): { allocated: boolean; zero: boolean; len: number } {
    const cs = this.clusterSize;
    this.lookup(offset);
    const kind = this.lkKind;
    let n = Math.min(len, cs - (offset % cs));
    while (n < len) {
      this.lookup(offset + n);
      if (this.lkKind !== kind) break;
      n += Math.min(cs, len - n);
    }
    if (kind === UNALLOCATED) {
      const b = this.backing;
      if (b === undefined || offset >= b.size) return { allocated: false, zero: true, len: n };
      const s = b.allocation(offset, Math.min(n, b.size - offset));
      return { allocated: false, zero: s.zero, len: s.len };
    }
    return { allocated: true, zero: kind === ZERO, len: n };
  }

  close(): void {
    this.file.close();
    this.backing?.close();
  }
}

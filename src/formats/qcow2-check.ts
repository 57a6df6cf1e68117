/**
 * A consistency check of a qcow2 image, the way `qemu-img check` does it:
 * count the references every structure makes to host clusters (header,
 * L1 and L2 tables, data and compressed clusters, the refcount table and
 * blocks, the snapshot table and each snapshot's tables), then compare
 * with the stored refcounts. A stored refcount below the count is an error
 * (a cluster could be handed out twice); above it a leak (space lost, data
 * safe). COPIED flags on the active tables must say refcount == 1.
 */
import type { ImageFile } from "./image-file.ts";
import { ImageCorruptError } from "./qcow2-cache.ts";
import { EXT_BITMAPS, type Qcow2Header, u64 } from "./qcow2-header.ts";
import { Refcounts } from "./qcow2-refcount.ts";

export interface CheckReport {
  /** One line per corruption (at most the first 100; `corruptions` counts them all). */
  errors: string[];
  corruptions: number;
  /** Clusters whose stored refcount is above their references. */
  leaks: number;
  /** Host clusters referenced as guest data (normal, compressed or preallocated zero). */
  dataClusters: number;
  /** Clusters in the file. */
  fileClusters: number;
}

const MAX_LINES = 100;

export function checkQcow2(file: ImageFile, h: Qcow2Header): CheckReport {
  const cs = 2 ** h.clusterBits;
  const fileLength = file.length();
  const fileClusters = Math.ceil(fileLength / cs);
  const counts = new Uint32Array(fileClusters);
  const report: CheckReport = { errors: [], corruptions: 0, leaks: 0, dataClusters: 0, fileClusters };
  const error = (line: string) => {
    report.corruptions++;
    if (report.errors.length < MAX_LINES) report.errors.push(line);
  };
  const hex = (n: number) => `0x${n.toString(16)}`;
  /** Counts a reference to every cluster of [offset, offset+len). */
  const ref = (offset: number, len: number, what: string): boolean => {
    const first = Math.floor(offset / cs);
    const last = Math.floor((offset + len - 1) / cs);
    if (last >= fileClusters) {
      error(`${what} at ${hex(offset)} is beyond the end of the file`);
      return false;
    }
    for (let c = first; c <= last; c++) counts[c]++;
    return true;
  };
  const read = (offset: number, len: number): Uint8Array | undefined => {
    const b = new Uint8Array(len);
    return file.read(offset, b) === len ? b : undefined;
  };
  /** Entries whose COPIED flag must match a stored refcount of 1: [host cluster, flag, what]. */
  const copied: [number, boolean, string][] = [];

  ref(0, cs, "the header");
  const compressedBits = 62 - (h.clusterBits - 8);
  const walkL1 = (l1Offset: number, l1Size: number, active: boolean, label: string) => {
    if (l1Size === 0) return;
    if (!ref(l1Offset, l1Size * 8, `${label} L1 table`)) return;
    const l1 = read(l1Offset, l1Size * 8);
    if (l1 === undefined) return;
    const v = new DataView(l1.buffer);
    for (let i = 0; i < l1Size; i++) {
      const hi = v.getUint32(i * 8);
      const l2 = (hi & 0x00ffffff) * 2 ** 32 + ((v.getUint32(i * 8 + 4) & 0xfffffe00) >>> 0);
      if (l2 === 0) continue;
      if (l2 % cs !== 0) {
        error(`${label} L1 entry ${i}: L2 table offset ${hex(l2)} is not cluster-aligned`);
        continue;
      }
      if (!ref(l2, cs, `${label} L2 table`)) continue;
      if (active) copied.push([l2 / cs, (hi & 0x80000000) !== 0, `L2 table at ${hex(l2)}`]);
      const t = read(l2, cs);
      if (t === undefined) continue;
      walkL2(new DataView(t.buffer), active, `${label} L2 table at ${hex(l2)}`);
    }
  };
  const walkL2 = (t: DataView, active: boolean, label: string) => {
    for (let j = 0; j < cs / 8; j++) {
      const hi = t.getUint32(j * 8);
      const lo = t.getUint32(j * 8 + 4);
      if (hi & 0x40000000) {
        const x = compressedBits - 32;
        const off = (hi & ((1 << x) - 1)) * 2 ** 32 + lo;
        const bytes = (((hi & 0x3fffffff) >>> x) + 1) * 512 - (off % 512);
        if (hi & 0x80000000) error(`${label} entry ${j}: a compressed cluster has COPIED set`);
        // The last sectors of compressed data may lie past the end of the file (QEMU does not pad).
        const end = Math.min(off + bytes, Math.max(fileLength, off + 1));
        if (ref(off, end - off, `${label} entry ${j}: compressed data`) && active) report.dataClusters++;
        continue;
      }
      const off = (hi & 0x00ffffff) * 2 ** 32 + ((lo & 0xfffffe00) >>> 0);
      if (off === 0) continue;
      if (off % cs !== 0) {
        error(`${label} entry ${j}: data offset ${hex(off)} is not cluster-aligned`);
        continue;
      }
      if (ref(off, cs, `${label} entry ${j}: data cluster`)) {
        if (active) {
          report.dataClusters++;
          copied.push([off / cs, (hi & 0x80000000) !== 0, `data cluster at ${hex(off)}`]);
        }
      }
    }
  };

  walkL1(h.l1TableOffset, h.l1Size, true, "the active");
  walkSnapshots(h, file, ref, read, walkL1, error);
  walkBitmaps(h, ref, read, error);

  let refs: Refcounts;
  try {
    refs = new Refcounts(file, {
      clusterBits: h.clusterBits,
      refcountOrder: h.refcountOrder,
      tableOffset: h.refcountTableOffset,
      tableClusters: h.refcountTableClusters,
    });
  } catch (e) {
    error((e as Error).message);
    return report;
  }
  ref(h.refcountTableOffset, h.refcountTableClusters * cs, "the refcount table");
  for (let i = 0; i < refs.tableEntries; i++) {
    const o = refs.blockOffset(i);
    if (o !== 0) ref(o, cs, `refcount block ${i}`);
  }

  const stored = (c: number): number | undefined => {
    try {
      return refs.get(c);
    } catch (e) {
      if (e instanceof ImageCorruptError) return undefined;
      throw e;
    }
  };
  for (let c = 0; c < fileClusters; c++) {
    const want = counts[c];
    const have = stored(c);
    if (have === undefined) {
      error(`cluster ${hex(c * cs)}: its refcount block cannot be read`);
      continue;
    }
    if (want > refs.max)
      error(`cluster ${hex(c * cs)}: ${want} references overflow ${refs.bits}-bit refcounts`);
    else if (have < want) error(`cluster ${hex(c * cs)}: refcount ${have} but ${want} references`);
    else if (have > want) report.leaks++;
  }
  for (const [c, flag, what] of copied) {
    const have = stored(c);
    if (have !== undefined && c < fileClusters && flag !== (have === 1))
      error(`${what}: COPIED flag is ${flag ? "set" : "clear"} but the refcount is ${have}`);
  }
  return report;
}

/** Snapshot table entries (qcow2.txt, "Snapshots"): each snapshot's L1 table and what it references. */
function walkSnapshots(
  h: Qcow2Header,
  file: ImageFile,
  ref: (offset: number, len: number, what: string) => boolean,
  read: (offset: number, len: number) => Uint8Array | undefined,
  walkL1: (offset: number, size: number, active: boolean, label: string) => void,
  error: (line: string) => void,
): void {
  if (h.nbSnapshots === 0) return;
  let at = h.snapshotsOffset;
  const start = at;
  for (let i = 0; i < h.nbSnapshots; i++) {
    const fixed = read(at, 40);
    if (fixed === undefined) {
      error(`snapshot ${i}: the snapshot table is truncated`);
      return;
    }
    const v = new DataView(fixed.buffer);
    const l1Offset = u64(v, 0);
    const l1Size = v.getUint32(8);
    const len = 40 + v.getUint32(36) + v.getUint16(12) + v.getUint16(14);
    const cs = 2 ** h.clusterBits;
    if (l1Size * 8 > 32 * 1024 * 1024 || l1Offset % cs !== 0 || !(l1Offset < file.length()))
      error(`snapshot ${i}: bad L1 table (offset 0x${l1Offset.toString(16)}, ${l1Size} entries)`);
    else walkL1(l1Offset, l1Size, false, `snapshot ${i}`);
    at += Math.ceil(len / 8) * 8;
  }
  ref(start, at - start, "the snapshot table");
}

/**
 * Persistent dirty bitmaps (qcow2.txt, "Bitmaps extension"): the bitmap
 * directory, each bitmap's table and its data clusters. Counted only while
 * autoclear bit 0 says the extension is consistent; otherwise QEMU ignores
 * the bitmaps and so does the check (their clusters are leaks).
 */
function walkBitmaps(
  h: Qcow2Header,
  ref: (offset: number, len: number, what: string) => boolean,
  read: (offset: number, len: number) => Uint8Array | undefined,
  error: (line: string) => void,
): void {
  const ext = h.extensions.find((e) => e.type === EXT_BITMAPS);
  if (ext === undefined || (h.autoclear & 1) === 0 || ext.data.length < 24) return;
  const e = new DataView(ext.data.buffer, ext.data.byteOffset, ext.data.length);
  const count = e.getUint32(0);
  const dirSize = u64(e, 8);
  const dirOffset = u64(e, 16);
  const cs = 2 ** h.clusterBits;
  if (
    dirSize > 64 * 1024 * 1024 ||
    dirOffset % cs !== 0 ||
    !ref(dirOffset, dirSize, "the bitmap directory")
  ) {
    error("the bitmap directory is out of range");
    return;
  }
  const dir = read(dirOffset, dirSize);
  if (dir === undefined) return;
  const v = new DataView(dir.buffer);
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 24 > dir.length) {
      error(`bitmap ${i}: the bitmap directory is truncated`);
      return;
    }
    const tableOffset = u64(v, at);
    const tableSize = v.getUint32(at + 8);
    const len = 24 + v.getUint32(at + 20) + v.getUint16(at + 18);
    at += Math.ceil(len / 8) * 8;
    if (tableSize * 8 > 64 * 1024 * 1024 || tableOffset % cs !== 0) {
      error(`bitmap ${i}: bad bitmap table (offset 0x${tableOffset.toString(16)}, ${tableSize} entries)`);
      continue;
    }
    if (tableSize === 0 || !ref(tableOffset, tableSize * 8, `bitmap ${i} table`)) continue;
    const t = read(tableOffset, tableSize * 8);
    if (t === undefined) continue;
    const tv = new DataView(t.buffer);
    for (let j = 0; j < tableSize; j++) {
      const off =
        (tv.getUint32(j * 8) & 0x00ffffff) * 2 ** 32 + ((tv.getUint32(j * 8 + 4) & 0xfffffe00) >>> 0);
      if (off === 0) continue;
      if (off % cs !== 0)
        error(`bitmap ${i} entry ${j}: data offset 0x${off.toString(16)} is not cluster-aligned`);
      else ref(off, cs, `bitmap ${i} data`);
    }
  }
}

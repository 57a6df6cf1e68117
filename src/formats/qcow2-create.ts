/**
 * Lays out a new, empty version-3 qcow2 image, as `qemu-img create` does:
 *
 *   cluster 0   header, extensions, backing file name
 *   cluster 1   refcount table (one cluster; entry 0 → cluster 2)
 *   cluster 2   refcount block 0 (16-bit refcounts; clusters 0..3+L1-1 are 1)
 *   cluster 3…  L1 table, all zero (nothing allocated)
 */
import { VirtusError } from "../machine/errors.ts";
import type { ImageFile } from "./image-file.ts";
import {
  encodeQcow2Header,
  MAX_CLUSTER_BITS,
  MAX_L1_BYTES,
  MAX_VIRTUAL_SIZE,
  MIN_CLUSTER_BITS,
} from "./qcow2-header.ts";

export interface CreateQcow2Options {
  /** Virtual size in bytes. */
  size: number;
  /** log2 of the cluster size (default 16: 64 KiB, QEMU's default). */
  clusterBits?: number;
  /** Backing file name as it is to be stored (relative names resolve against the new image's directory). */
  backingFile?: string;
  backingFormat?: string;
}

/** The initial contents of a new image (write it to an empty file). */
export function qcow2Layout(opts: CreateQcow2Options): Uint8Array {
  const bits = opts.clusterBits ?? 16;
  if (!Number.isInteger(bits) || bits < MIN_CLUSTER_BITS || bits > MAX_CLUSTER_BITS)
    throw new VirtusError("bad-image", `cluster size must be a power of two from 512 bytes to 2 MiB`);
  if (!Number.isSafeInteger(opts.size) || opts.size < 0 || opts.size > MAX_VIRTUAL_SIZE)
    throw new VirtusError("bad-image", `a virtual size of ${opts.size} bytes is not supported`);
  const cs = 2 ** bits;
  const l1Size = Math.ceil(opts.size / (cs * (cs / 8)));
  const l1Clusters = Math.max(1, Math.ceil((l1Size * 8) / cs));
  const refcountOrder = 4;
  const perBlock = (cs * 8) / 16;
  if (l1Size * 8 > MAX_L1_BYTES || 3 + l1Clusters > perBlock)
    throw new VirtusError("bad-image", "the virtual size is too large for this cluster size");
  const out = new Uint8Array((3 + l1Clusters) * cs);
  out.set(
    encodeQcow2Header({
      clusterBits: bits,
      size: opts.size,
      l1Size,
      l1TableOffset: 3 * cs,
      refcountTableOffset: cs,
      refcountTableClusters: 1,
      refcountOrder,
      backingFile: opts.backingFile,
      backingFormat: opts.backingFormat,
    }),
  );
  const v = new DataView(out.buffer);
  v.setUint32(cs + 4, 2 * cs); // refcount table entry 0 → cluster 2 (offset < 2^32 for every cluster size)
  for (let c = 0; c < 3 + l1Clusters; c++) v.setUint16(2 * cs + 2 * c, 1);
  return out;
}

/** Writes a new image into `file` (which should be empty) and flushes it. */
export function createQcow2(file: ImageFile, opts: CreateQcow2Options): void {
  file.write(0, qcow2Layout(opts));
  file.flush();
}

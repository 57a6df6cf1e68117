/**
 * The length of the first zstd frame in a buffer (RFC 8878, 3.1.1). qcow2
 * packs compressed clusters back to back and records their length in whole
 * sectors, so the bytes after a cluster's frame are the start of the next
 * one's; a one-shot decompressor would go on into them. QEMU stops when the
 * output is full; Virtus cuts the input at the end of the first frame.
 */
const ZSTD_MAGIC = 0xfd2fb528;

/** Bytes the first frame takes, or -1 if it is malformed or truncated. */
export function zstdFrameLength(b: Uint8Array): number {
  if (b.length < 6) return -1;
  const magic = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  if (magic !== ZSTD_MAGIC) return -1;
  const fhd = b[4];
  const fcsFlag = fhd >>> 6;
  const singleSegment = (fhd >>> 5) & 1;
  const checksum = (fhd >>> 2) & 1;
  const dictIdFlag = fhd & 3;
  let at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictIdFlag] + [singleSegment, 2, 4, 8][fcsFlag];
  for (;;) {
    if (at + 3 > b.length) return -1;
    const h = b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
    const last = h & 1;
    const type = (h >>> 1) & 3;
    const size = h >>> 3;
    if (type === 3) return -1; // reserved block type
    at += 3 + (type === 1 ? 1 : size);
    if (last) break;
  }
  at += checksum ? 4 : 0;
  return at <= b.length ? at : -1;
}

/**
 * The RAM section of a snapshot file: zero pages left out, the others
 * compressed in chunks, laid out so a restore decompresses chunk after
 * chunk straight into guest RAM.
 *
 *   0   u32 page size (4096)
 *   4   u32 page count (RAM size / page size)
 *   8   u32 pages per chunk
 *   12  u32 chunk count
 *   16  bitmap: ceil(page count / 8) bytes, bit i (LSB first) = page i is stored
 *   ..  chunk table: chunk count x u32 compressed length
 *   ..  the chunks, back to back
 *
 * The stored pages, in address order, are cut into chunks of `pages per
 * chunk`; each chunk is one unit of the codec (a zstd frame).
 */
import type { RamImage } from "../../machine/snapshot/machine-snapshot.ts";
import type { SnapshotCodec } from "./codec.ts";
import { snapshotError } from "./value.ts";

export const PAGE_SIZE = 4096;
/** 256 KiB per chunk: big enough to compress well, small enough to stream through the cache. */
export const CHUNK_PAGES = 64;
const HEADER = 16;

/** Eight words OR-ed per test: about three times faster than one compare per word (measured on 256 MiB). */
function isZeroPage(w: Int32Array, first: number): boolean {
  for (let i = first, end = first + PAGE_SIZE / 4; i < end; i += 8) {
    if ((w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7]) !== 0)
      return false;
  }
  return true;
}

/** Encodes RAM (a multiple of the page size) as the section's parts. */
export function encodeRam(ram: Uint8Array, codec: SnapshotCodec): Uint8Array[] {
  if (ram.length % PAGE_SIZE !== 0) throw new RangeError("RAM must be whole pages");
  const pageCount = ram.length / PAGE_SIZE;
  // An aligned word view for the zero scan (guest RAM is 64 KiB aligned in linear memory).
  const aligned = ram.byteOffset % 4 === 0;
  const words = aligned
    ? new Int32Array(ram.buffer, ram.byteOffset, ram.length / 4)
    : new Int32Array(ram.slice().buffer);
  const bitmap = new Uint8Array(Math.ceil(pageCount / 8));
  const stored: number[] = [];
  for (let p = 0; p < pageCount; p++) {
    if (!isZeroPage(words, (p * PAGE_SIZE) / 4)) {
      bitmap[p >> 3] |= 1 << (p & 7);
      stored.push(p);
    }
  }
  const chunkCount = Math.ceil(stored.length / CHUNK_PAGES);
  const chunks: Uint8Array[] = [];
  const scratch = new Uint8Array(CHUNK_PAGES * PAGE_SIZE);
  for (let c = 0; c < chunkCount; c++) {
    const first = c * CHUNK_PAGES;
    const n = Math.min(CHUNK_PAGES, stored.length - first);
    const start = stored[first];
    let input: Uint8Array;
    if (stored[first + n - 1] === start + n - 1) {
      // Contiguous pages: compress RAM in place.
      input = ram.subarray(start * PAGE_SIZE, (start + n) * PAGE_SIZE);
    } else {
      for (let i = 0; i < n; i++) {
        const p = stored[first + i];
        scratch.set(ram.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE), i * PAGE_SIZE);
      }
      input = scratch.subarray(0, n * PAGE_SIZE);
    }
    // The codec may return its input (no compression): copy then, RAM or scratch will change.
    const out = codec.compress(input);
    chunks.push(out === input || out.buffer === input.buffer ? out.slice() : out);
  }
  const head = new Uint8Array(HEADER + bitmap.length + 4 * chunkCount);
  const dv = new DataView(head.buffer);
  dv.setUint32(0, PAGE_SIZE, true);
  dv.setUint32(4, pageCount, true);
  dv.setUint32(8, CHUNK_PAGES, true);
  dv.setUint32(12, chunkCount, true);
  head.set(bitmap, HEADER);
  for (let c = 0; c < chunkCount; c++) dv.setUint32(HEADER + bitmap.length + 4 * c, chunks[c].length, true);
  return [head, ...chunks];
}

/**
 * Checks the section's layout against the RAM size the machine record
 * gives and returns an image that decompresses on restoreInto. Nothing is
 * decompressed here (the section's CRC was checked by the caller).
 */
/** A decoded RAM section. */
export interface RamSection extends RamImage {
  readonly storedPages: number;
  /**
   * Decompresses every chunk ahead of restoreInto with the codec's
   * decompressAsync, all at once: the work runs while the caller does
   * something else (loads modules, builds the machine), and restoreInto
   * then only copies. A chunk that fails here is decompressed again by
   * restoreInto, which reports it. Resolves when all are done.
   */
  prefetch(): Promise<void>;
}

export function decodeRam(section: Uint8Array, ramSize: number, codec: SnapshotCodec): RamSection {
  if (section.length < HEADER) throw snapshotError("the RAM section is truncated");
  const dv = new DataView(section.buffer, section.byteOffset, section.byteLength);
  const pageSize = dv.getUint32(0, true);
  const pageCount = dv.getUint32(4, true);
  const chunkPages = dv.getUint32(8, true);
  const chunkCount = dv.getUint32(12, true);
  if (pageSize !== PAGE_SIZE) throw snapshotError(`RAM page size ${pageSize}, expected ${PAGE_SIZE}`);
  if (pageCount * PAGE_SIZE !== ramSize)
    throw snapshotError(`the RAM section has ${pageCount} pages but the machine has ${ramSize} bytes of RAM`);
  if (chunkPages < 1 || chunkPages > 4096) throw snapshotError(`${chunkPages} pages per RAM chunk`);
  const bitmapLength = Math.ceil(pageCount / 8);
  const tableAt = HEADER + bitmapLength;
  if (section.length < tableAt + 4 * chunkCount) throw snapshotError("the RAM section is truncated");
  const bitmap = section.subarray(HEADER, tableAt);
  const stored: number[] = [];
  for (let p = 0; p < pageCount; p++) if (bitmap[p >> 3] & (1 << (p & 7))) stored.push(p);
  if (pageCount % 8 !== 0 && bitmap[bitmapLength - 1] >> (pageCount % 8) !== 0)
    throw snapshotError("the RAM bitmap marks pages beyond the end of RAM");
  if (chunkCount !== Math.ceil(stored.length / chunkPages))
    throw snapshotError(`${chunkCount} RAM chunks for ${stored.length} stored pages`);
  const offsets: number[] = [];
  let at = tableAt + 4 * chunkCount;
  for (let c = 0; c < chunkCount; c++) {
    offsets.push(at);
    at += dv.getUint32(tableAt + 4 * c, true);
  }
  offsets.push(at);
  if (at !== section.length)
    throw snapshotError(`the RAM chunks take ${at} bytes of a ${section.length}-byte section`);

  /** Chunks decompressed by prefetch, dropped once written into RAM. */
  let ready: (Uint8Array | undefined)[] = [];
  const chunkBytes = (c: number) => Math.min(chunkPages, stored.length - c * chunkPages) * PAGE_SIZE;
  const chunkData = (c: number) => section.subarray(offsets[c], offsets[c + 1]);

  return {
    size: ramSize,
    storedPages: stored.length,
    async prefetch(): Promise<void> {
      const decompress = codec.decompressAsync;
      if (decompress === undefined) return;
      await Promise.all(
        Array.from({ length: chunkCount }, async (_, c) => {
          const size = chunkBytes(c);
          const pages = await decompress(chunkData(c), size).catch(() => undefined);
          if (pages?.length === size) ready[c] = pages;
        }),
      );
    },
    restoreInto(dest: Uint8Array, destIsZero: boolean): void {
      if (dest.length !== ramSize) throw new RangeError(`RAM is ${dest.length} bytes, the image ${ramSize}`);
      if (!destIsZero) zeroUnstored(dest, bitmap, pageCount);
      for (let c = 0; c < chunkCount; c++) {
        const first = c * chunkPages;
        const n = Math.min(chunkPages, stored.length - first);
        let pages: Uint8Array;
        try {
          pages = ready[c] ?? codec.decompress(chunkData(c), n * PAGE_SIZE);
        } catch (e) {
          throw snapshotError(`RAM chunk ${c} does not decompress (${(e as Error).message})`);
        }
        if (pages.length !== n * PAGE_SIZE) throw snapshotError(`RAM chunk ${c} has the wrong size`);
        const start = stored[first];
        if (stored[first + n - 1] === start + n - 1) dest.set(pages, start * PAGE_SIZE);
        else
          for (let i = 0; i < n; i++)
            dest.set(pages.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), stored[first + i] * PAGE_SIZE);
      }
      ready = [];
    },
  };
}

function zeroUnstored(dest: Uint8Array, bitmap: Uint8Array, pageCount: number): void {
  let p = 0;
  while (p < pageCount) {
    if (bitmap[p >> 3] & (1 << (p & 7))) {
      p++;
      continue;
    }
    const from = p;
    while (p < pageCount && !(bitmap[p >> 3] & (1 << (p & 7)))) p++;
    dest.fill(0, from * PAGE_SIZE, p * PAGE_SIZE);
  }
}

/**
 * What the snapshot format needs from its host: a compressor made for the
 * job and a CRC-32. Node injects zstd and zlib's crc32 (host/node/
 * snapshot-file.ts); `plainCodec` (no compression, CRC-32 in JavaScript)
 * works anywhere, for tests and hosts without zstd.
 */
export interface SnapshotCodec {
  /** Stored in the file header: 0 none, 1 zstd. */
  readonly id: number;
  readonly name: string;
  compress(data: Uint8Array): Uint8Array;
  /** Decompresses `data`, which must give exactly `size` bytes; throws on anything else. */
  decompress(data: Uint8Array, size: number): Uint8Array;
  /** The same off the calling thread (Node: libuv's pool), for decompressing RAM ahead of a restore. */
  decompressAsync?(data: Uint8Array, size: number): Promise<Uint8Array>;
  /** CRC-32 (ISO-HDLC, as zlib) of `data`, continuing from the CRC of what came before (`previous`, default 0). */
  crc32(data: Uint8Array, previous?: number): number;
}

export const CODEC_NONE = 0;
export const CODEC_ZSTD = 1;

/** Codec names by id, for error messages. */
export const CODEC_NAMES: Record<number, string> = { [CODEC_NONE]: "none", [CODEC_ZSTD]: "zstd" };

let table: Int32Array | undefined;

/** CRC-32 in JavaScript, table-driven (about 0.5 GB/s; hosts with a native one inject it). */
export function crc32(data: Uint8Array, previous = 0): number {
  if (table === undefined) {
    table = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb8_8320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
  }
  const t = table;
  let c = ~previous;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** No compression: RAM pages are stored as they are (zero pages are still left out). */
export const plainCodec: SnapshotCodec = {
  id: CODEC_NONE,
  name: "none",
  compress: (data) => data,
  decompress(data, size) {
    if (data.length !== size) throw new Error(`${data.length} bytes where ${size} were expected`);
    return data;
  },
  crc32,
};

/**
 * The qcow2 header (QEMU docs/interop/qcow2.txt, "Header"), all fields big-endian:
 *
 *    0 u32 magic "QFI\xfb"           40 u64 l1_table_offset
 *    4 u32 version (2 or 3)          48 u64 refcount_table_offset
 *    8 u64 backing_file_offset       56 u32 refcount_table_clusters
 *   16 u32 backing_file_size         60 u32 nb_snapshots
 *   20 u32 cluster_bits              64 u64 snapshots_offset
 *   24 u64 size (virtual, bytes)     -- version 3 only: --
 *   32 u32 crypt_method              72 u64 incompatible_features   96 u32 refcount_order
 *   36 u32 l1_size (entries)         80 u64 compatible_features    100 u32 header_length
 *                                    88 u64 autoclear_features     104 u8  compression_type
 *
 * Header extensions follow the header (at header_length; 72 for version
 * 2) inside the first cluster: u32 type, u32 length, data padded to 8
 * bytes, ending with type 0. The backing file name (not NUL-terminated)
 * sits at backing_file_offset, also in the first cluster.
 *
 * Everything here is checked as hostile input: a bad field is a VirtusError
 * with one line naming the file and the field.
 */
import { VirtusError } from "../machine/errors.ts";

export const QCOW2_MAGIC = 0x514649fb;
/** Header length of version 2, and of version 3 without compression_type. */
export const QCOW2_V2_HEADER_LENGTH = 72;
export const QCOW2_V3_MIN_HEADER_LENGTH = 104;
/** What QEMU writes since 5.1 (compression_type and padding). */
export const QCOW2_V3_HEADER_LENGTH = 112;

/** Incompatible feature bits (v3). */
export const INCOMPAT_DIRTY = 1 << 0;
export const INCOMPAT_CORRUPT = 1 << 1;
export const INCOMPAT_DATA_FILE = 1 << 2;
export const INCOMPAT_COMPRESSION = 1 << 3;
export const INCOMPAT_EXTL2 = 1 << 4;
/** Compatible feature bits. */
export const COMPAT_LAZY_REFCOUNTS = 1 << 0;

/** Header extension types. */
export const EXT_END = 0;
export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_FEATURE_TABLE = 0x6803f857;
export const EXT_BITMAPS = 0x23852875;
export const EXT_CRYPTO = 0x0537be77;
export const EXT_DATA_FILE = 0x44415441;

/** Limits (QEMU's, block/qcow2.h): cluster sizes 512 B..2 MiB, an L1 table and a refcount table of at most 32 MiB / 8 MiB. */
export const MIN_CLUSTER_BITS = 9;
export const MAX_CLUSTER_BITS = 21;
export const MAX_L1_BYTES = 32 * 1024 * 1024;
export const MAX_REFTABLE_BYTES = 8 * 1024 * 1024;
/** Longest backing file name (QEMU's limit). */
export const MAX_BACKING_NAME = 1023;
/** Largest virtual size Virtus accepts: 2^53 keeps every byte offset exact in a JS number. */
export const MAX_VIRTUAL_SIZE = 2 ** 53 - 2 ** 21;

export interface Qcow2Extension {
  type: number;
  data: Uint8Array;
}

export interface Qcow2Header {
  version: 2 | 3;
  backingFileOffset: number;
  backingFileSize: number;
  clusterBits: number;
  size: number;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  /** The low 32 bits of each feature word (higher bits are refused when set). */
  incompatible: number;
  compatible: number;
  autoclear: number;
  refcountOrder: number;
  headerLength: number;
  /** 0 = deflate, 1 = zstd. */
  compressionType: number;
  backingFile: string | undefined;
  /** From the backing-format extension ("raw", "qcow2", …). */
  backingFormat: string | undefined;
  /** Every extension except the end marker, in file order. */
  extensions: Qcow2Extension[];
}

/** Reads a big-endian u64 as a number; a value at or above 2^53 is returned as Infinity (never a valid offset or size). */
export function u64(v: DataView, at: number): number {
  const hi = v.getUint32(at);
  if (hi >= 0x200000) return Number.POSITIVE_INFINITY;
  return hi * 2 ** 32 + v.getUint32(at + 4);
}

/** Writes a number < 2^53 as a big-endian u64. */
export function setU64(v: DataView, at: number, n: number): void {
  v.setUint32(at, Math.floor(n / 2 ** 32));
  v.setUint32(at + 4, n >>> 0);
}

/** True when the first bytes of a file are a qcow2 (or qcow1) header. */
export function hasQcowMagic(first: Uint8Array): boolean {
  return first.length >= 4 && new DataView(first.buffer, first.byteOffset, 4).getUint32(0) === QCOW2_MAGIC;
}

/**
 * Parses and validates the header and its extensions. `first` holds the
 * start of the file: at least the first cluster, or the whole file if it is
 * shorter; `fileLength` is the file's length. Throws a VirtusError naming
 * `name` for anything malformed or unsupported.
 */
export function parseQcow2Header(first: Uint8Array, name: string, fileLength: number): Qcow2Header {
  const bad = (why: string) => new VirtusError("bad-image", `${name}: ${why}`);
  if (first.length < QCOW2_V2_HEADER_LENGTH) throw bad("truncated qcow2 header");
  const v = new DataView(first.buffer, first.byteOffset, first.length);
  if (v.getUint32(0) !== QCOW2_MAGIC) throw bad("not a qcow2 image");
  const version = v.getUint32(4);
  if (version === 1) throw bad("qcow version 1 is not supported; convert it with qemu-img convert -O qcow2");
  if (version !== 2 && version !== 3) throw bad(`unsupported qcow2 version ${version}`);
  const clusterBits = v.getUint32(20);
  if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS)
    throw bad(`cluster_bits ${clusterBits} is outside ${MIN_CLUSTER_BITS}..${MAX_CLUSTER_BITS}`);
  const clusterSize = 2 ** clusterBits;
  const h: Qcow2Header = {
    version,
    backingFileOffset: u64(v, 8),
    backingFileSize: v.getUint32(16),
    clusterBits,
    size: u64(v, 24),
    cryptMethod: v.getUint32(32),
    l1Size: v.getUint32(36),
    l1TableOffset: u64(v, 40),
    refcountTableOffset: u64(v, 48),
    refcountTableClusters: v.getUint32(56),
    nbSnapshots: v.getUint32(60),
    snapshotsOffset: u64(v, 64),
    incompatible: 0,
    compatible: 0,
    autoclear: 0,
    refcountOrder: 4,
    headerLength: QCOW2_V2_HEADER_LENGTH,
    compressionType: 0,
    backingFile: undefined,
    backingFormat: undefined,
    extensions: [],
  };
  if (version === 3) {
    if (first.length < QCOW2_V3_MIN_HEADER_LENGTH) throw bad("truncated qcow2 header");
    if (v.getUint32(72) !== 0) throw bad("unknown incompatible features (bits 32-63); cannot open it");
    h.incompatible = v.getUint32(76);
    h.compatible = v.getUint32(84);
    h.autoclear = v.getUint32(92);
    h.refcountOrder = v.getUint32(96);
    h.headerLength = v.getUint32(100);
    if (
      h.headerLength < QCOW2_V3_MIN_HEADER_LENGTH ||
      h.headerLength % 8 !== 0 ||
      h.headerLength > clusterSize
    )
      throw bad(`bad header_length ${h.headerLength}`);
    if (h.headerLength > 104) {
      if (first.length < 105) throw bad("truncated qcow2 header");
      h.compressionType = first[104];
    }
  }
  if (h.refcountOrder > 6) throw bad(`refcount_order ${h.refcountOrder} is above 6 (64-bit refcounts)`);
  if (!(h.size <= MAX_VIRTUAL_SIZE)) throw bad("the virtual size is too large");
  if (h.cryptMethod !== 0) throw bad("encrypted qcow2 images are not supported");
  checkFeatures(h, bad);

  const aligned = (n: number) => n % clusterSize === 0;
  // The L1 table must cover the virtual size and stay within QEMU's limit (a huge l1_size is an allocation bomb).
  const l2Entries = clusterSize / 8;
  const needL1 = Math.ceil(h.size / (clusterSize * l2Entries));
  if (h.l1Size * 8 > MAX_L1_BYTES) throw bad(`the L1 table (${h.l1Size} entries) is too large`);
  if (h.l1Size < needL1) throw bad(`the L1 table (${h.l1Size} entries) is too small for the virtual size`);
  if (h.l1Size > 0 && (!aligned(h.l1TableOffset) || h.l1TableOffset === 0))
    throw bad("the L1 table offset is not cluster-aligned");
  if (h.l1Size > 0 && h.l1TableOffset + h.l1Size * 8 > fileLength)
    throw bad("the L1 table lies beyond the end of the file (truncated image?)");
  if (h.refcountTableClusters === 0) throw bad("no refcount table");
  if (h.refcountTableClusters * clusterSize > MAX_REFTABLE_BYTES)
    throw bad(`the refcount table (${h.refcountTableClusters} clusters) is too large`);
  if (!aligned(h.refcountTableOffset) || h.refcountTableOffset === 0)
    throw bad("the refcount table offset is not cluster-aligned");
  if (h.refcountTableOffset + h.refcountTableClusters * clusterSize > fileLength)
    throw bad("the refcount table lies beyond the end of the file (truncated image?)");
  if (h.nbSnapshots > 65536) throw bad(`${h.nbSnapshots} snapshots is too many`);
  if (h.nbSnapshots > 0 && (!aligned(h.snapshotsOffset) || h.snapshotsOffset === 0))
    throw bad("the snapshot table offset is not cluster-aligned");

  const headerEnd = Math.min(clusterSize, first.length);
  if (h.backingFileOffset !== 0) {
    if (h.backingFileSize > MAX_BACKING_NAME || h.backingFileSize === 0)
      throw bad(`bad backing file name length ${h.backingFileSize}`);
    if (h.backingFileOffset + h.backingFileSize > headerEnd)
      throw bad("the backing file name lies outside the first cluster");
    h.backingFile = new TextDecoder().decode(
      first.subarray(h.backingFileOffset, h.backingFileOffset + h.backingFileSize),
    );
    if (h.backingFile.includes("\0")) throw bad("the backing file name holds a NUL byte");
  }
  parseExtensions(h, first, headerEnd, bad);
  return h;
}

function checkFeatures(h: Qcow2Header, bad: (why: string) => VirtusError): void {
  const known =
    INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION | INCOMPAT_EXTL2;
  const unknown = h.incompatible & ~known;
  if (unknown !== 0) throw bad(`unknown incompatible feature bits 0x${(unknown >>> 0).toString(16)}`);
  if (h.incompatible & INCOMPAT_DATA_FILE) throw bad("images with an external data file are not supported");
  if (h.incompatible & INCOMPAT_EXTL2)
    throw bad("images with extended L2 entries (subclusters) are not supported");
  if ((h.incompatible & INCOMPAT_COMPRESSION) === 0 && h.compressionType !== 0)
    throw bad("compression_type is set without its incompatible feature bit");
  if (h.compressionType > 1) throw bad(`unknown compression type ${h.compressionType}`);
}

function parseExtensions(
  h: Qcow2Header,
  first: Uint8Array,
  end: number,
  bad: (why: string) => VirtusError,
): void {
  const v = new DataView(first.buffer, first.byteOffset, first.length);
  let at = h.headerLength;
  for (;;) {
    if (at + 8 > end) {
      // Version 2 images written by old tools may have no end marker at all.
      if (at >= end) return;
      throw bad("a header extension runs past the first cluster");
    }
    const type = v.getUint32(at);
    const len = v.getUint32(at + 4);
    if (type === EXT_END) return;
    if (at + 8 + len > end) throw bad("a header extension runs past the first cluster");
    const data = first.slice(at + 8, at + 8 + len);
    if (type === EXT_BACKING_FORMAT) h.backingFormat = new TextDecoder().decode(data);
    if (type === EXT_CRYPTO) throw bad("encrypted qcow2 images are not supported");
    h.extensions.push({ type, data });
    at += 8 + Math.ceil(len / 8) * 8;
  }
}

/** What `create` needs to lay out a new header. */
export interface NewHeader {
  clusterBits: number;
  size: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  refcountOrder: number;
  backingFile?: string;
  backingFormat?: string;
}

/**
 * The first cluster of a new version-3 image: header (112 bytes, deflate
 * compression), a backing-format extension when given, the feature name
 * table QEMU writes (so tools can name the bits), the end marker, then the
 * backing file name.
 */
export function encodeQcow2Header(n: NewHeader): Uint8Array {
  const clusterSize = 2 ** n.clusterBits;
  const out = new Uint8Array(clusterSize);
  const v = new DataView(out.buffer);
  v.setUint32(0, QCOW2_MAGIC);
  v.setUint32(4, 3);
  v.setUint32(20, n.clusterBits);
  setU64(v, 24, n.size);
  v.setUint32(36, n.l1Size);
  setU64(v, 40, n.l1TableOffset);
  setU64(v, 48, n.refcountTableOffset);
  v.setUint32(56, n.refcountTableClusters);
  v.setUint32(96, n.refcountOrder);
  v.setUint32(100, QCOW2_V3_HEADER_LENGTH);
  let at = QCOW2_V3_HEADER_LENGTH;
  const ext = (type: number, data: Uint8Array) => {
    v.setUint32(at, type);
    v.setUint32(at + 4, data.length);
    out.set(data, at + 8);
    at += 8 + Math.ceil(data.length / 8) * 8;
  };
  const enc = new TextEncoder();
  if (n.backingFormat !== undefined) ext(EXT_BACKING_FORMAT, enc.encode(n.backingFormat));
  ext(EXT_FEATURE_TABLE, featureNameTable());
  at += 8; // end marker (zeros)
  if (n.backingFile !== undefined) {
    const name = enc.encode(n.backingFile);
    if (name.length > MAX_BACKING_NAME || at + name.length > clusterSize)
      throw new VirtusError("bad-image", `backing file name too long: ${n.backingFile}`);
    out.set(name, at);
    setU64(v, 8, at);
    v.setUint32(16, name.length);
  }
  return out;
}

/** Feature name table entries: u8 type (0 incompatible, 1 compatible, 2 autoclear), u8 bit, 46 bytes of name. */
function featureNameTable(): Uint8Array {
  const names: [number, number, string][] = [
    [0, 0, "dirty bit"],
    [0, 1, "corrupt bit"],
    [0, 2, "external data file"],
    [0, 3, "compression type"],
    [0, 4, "extended L2 entries"],
    [1, 0, "lazy refcounts"],
    [2, 0, "bitmaps"],
    [2, 1, "raw external data"],
  ];
  const out = new Uint8Array(names.length * 48);
  const enc = new TextEncoder();
  names.forEach(([type, bit, name], i) => {
    out[i * 48] = type;
    out[i * 48 + 1] = bit;
    out.set(enc.encode(name), i * 48 + 2);
  });
  return out;
}

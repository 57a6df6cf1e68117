/**
 * 9P2000.L wire format: message types and a bounds-checked reader and
 * writer. Every message is size[4] type[1] tag[2] then its fields, all
 * little-endian; a string is len[2] followed by len bytes (no NUL); a qid
 * is type[1] version[4] path[8]. (Linux include/net/9p/9p.h and
 * net/9p/protocol.c; the diod protocol notes.)
 *
 * Strings are held as byte strings (one char per byte, latin1) so that any
 * Linux file name round-trips exactly; 9P2000.L does not require UTF-8.
 */
import { EPROTO, FsError } from "./backend.ts";

/** Message types (9P2000.L and the 9P2000 messages it keeps). */
export const P9_TLERROR = 6;
export const P9_RLERROR = 7;
export const P9_TSTATFS = 8;
export const P9_TLOPEN = 12;
export const P9_TLCREATE = 14;
export const P9_TSYMLINK = 16;
export const P9_TMKNOD = 18;
export const P9_TRENAME = 20;
export const P9_TREADLINK = 22;
export const P9_TGETATTR = 24;
export const P9_TSETATTR = 26;
export const P9_TXATTRWALK = 30;
export const P9_TXATTRCREATE = 32;
export const P9_TREADDIR = 40;
export const P9_TFSYNC = 50;
export const P9_TLOCK = 52;
export const P9_TGETLOCK = 54;
export const P9_TLINK = 70;
export const P9_TMKDIR = 72;
export const P9_TRENAMEAT = 74;
export const P9_TUNLINKAT = 76;
export const P9_TVERSION = 100;
export const P9_TAUTH = 102;
export const P9_TATTACH = 104;
export const P9_TFLUSH = 108;
export const P9_TWALK = 110;
export const P9_TREAD = 116;
export const P9_TWRITE = 118;
export const P9_TCLUNK = 120;
export const P9_TREMOVE = 122;

/** Header: size[4] type[1] tag[2]. */
export const P9_HDRSZ = 7;
export const P9_NOTAG = 0xffff;
export const P9_NOFID = 0xffffffff;
/** Most names in one Twalk. */
export const P9_MAXWELEM = 16;

/** Qid types. */
export const P9_QTDIR = 0x80;
export const P9_QTSYMLINK = 0x02;
export const P9_QTFILE = 0x00;

/** Tgetattr/Rgetattr valid mask: mode through blocks. */
export const P9_STATS_BASIC = 0x7ff;

/** Tsetattr valid bits (fs/9p/vfs_inode_dotl.c). */
export const P9_ATTR_MODE = 1 << 0;
export const P9_ATTR_UID = 1 << 1;
export const P9_ATTR_GID = 1 << 2;
export const P9_ATTR_SIZE = 1 << 3;
export const P9_ATTR_ATIME = 1 << 4;
export const P9_ATTR_MTIME = 1 << 5;
export const P9_ATTR_CTIME = 1 << 6;
export const P9_ATTR_ATIME_SET = 1 << 7;
export const P9_ATTR_MTIME_SET = 1 << 8;

/** Tunlinkat flag. */
export const P9_AT_REMOVEDIR = 0x200;

/** Tlock/Tgetlock. */
export const P9_LOCK_TYPE_UNLCK = 2;
export const P9_LOCK_SUCCESS = 0;

const TWO32 = 4294967296;

/**
 * Reads fields of one message; any read past the end throws FsError(EPROTO)
 * (a malformed message), which the server answers with Rlerror.
 */
export class Reader {
  private buf: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(new ArrayBuffer(0));
  pos = 0;
  end = 0;

  /** Reads `buf[0..end)`. */
  reset(buf: Uint8Array, end: number): void {
    if (buf !== this.buf) {
      this.buf = buf;
      this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    this.pos = 0;
    this.end = Math.min(end, buf.length);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): number {
    const at = this.pos;
    if (n > this.end - at) throw new FsError(EPROTO, "message too short");
    this.pos = at + n;
    return at;
  }

  u8(): number {
    return this.buf[this.need(1)];
  }

  u16(): number {
    return this.dv.getUint16(this.need(2), true);
  }

  u32(): number {
    return this.dv.getUint32(this.need(4), true);
  }

  /** A u64 as a number; values above 2^53 come back as Infinity (callers range-check). */
  u64(): number {
    const at = this.need(8);
    const lo = this.dv.getUint32(at, true);
    const hi = this.dv.getUint32(at + 4, true);
    return hi >= 0x200000 ? Number.POSITIVE_INFINITY : hi * TWO32 + lo;
  }

  /** A u64 as a signed 64-bit value in a number (times): exact within ±2^53, else ±Infinity. */
  s64(): number {
    const at = this.need(8);
    const lo = this.dv.getUint32(at, true);
    const hi = this.dv.getInt32(at + 4, true);
    if (hi >= 0x200000) return Number.POSITIVE_INFINITY;
    if (hi < -0x200000) return Number.NEGATIVE_INFINITY;
    return hi * TWO32 + lo;
  }

  /** A string as a byte string (one char per byte). */
  str(): string {
    const len = this.u16();
    const at = this.need(len);
    return bytesToString(this.buf, at, len);
  }

  /** `n` bytes as a view of the message (no copy). */
  bytes(n: number): Uint8Array {
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }
}

/** Bytes to a byte string (one char per byte). TextDecoder("latin1") is windows-1252, so not used. */
export function bytesToString(buf: Uint8Array, at: number, len: number): string {
  let s = "";
  for (let i = 0; i < len; i += 4096) {
    s += String.fromCharCode.apply(
      null,
      buf.subarray(at + i, at + Math.min(len, i + 4096)) as unknown as number[],
    );
  }
  return s;
}

/** Thrown by Writer when a reply does not fit; the server answers EMSGSIZE instead. */
export class ReplyOverflow extends Error {}

/**
 * Builds one reply in a fixed buffer. begin() reserves the header, end()
 * fills in the size; writes past `limit` throw ReplyOverflow.
 */
export class Writer {
  readonly buf: Uint8Array;
  private readonly dv: DataView;
  pos = 0;
  /** Bytes this reply may take (the negotiated msize and the chain's writable space). */
  limit = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
    this.dv = new DataView(this.buf.buffer);
  }

  begin(type: number, tag: number, limit: number): void {
    this.limit = Math.min(limit, this.buf.length);
    this.pos = 0;
    this.u32(0);
    this.u8(type);
    this.u16(tag);
  }

  /** Writes the size field; returns the reply's length. */
  end(): number {
    this.dv.setUint32(0, this.pos, true);
    return this.pos;
  }

  /** Bytes left before the limit. */
  get room(): number {
    return this.limit - this.pos;
  }

  private take(n: number): number {
    const at = this.pos;
    if (n > this.limit - at) throw new ReplyOverflow();
    this.pos = at + n;
    return at;
  }

  u8(v: number): void {
    this.buf[this.take(1)] = v;
  }

  u16(v: number): void {
    this.dv.setUint16(this.take(2), v, true);
  }

  u32(v: number): void {
    this.dv.setUint32(this.take(4), v >>> 0, true);
  }

  /** A non-negative integer up to 2^53, or a negative one down to -2^53 (as two's complement). */
  u64(v: number): void {
    const at = this.take(8);
    const hi = Math.floor(v / TWO32);
    this.dv.setUint32(at, v - hi * TWO32, true);
    this.dv.setUint32(at + 4, hi >>> 0, true);
  }

  u64n(v: bigint): void {
    this.dv.setBigUint64(this.take(8), BigInt.asUintN(64, v), true);
  }

  str(s: string): void {
    if (s.length > 0xffff) throw new ReplyOverflow();
    this.u16(s.length);
    const at = this.take(s.length);
    for (let i = 0; i < s.length; i++) this.buf[at + i] = s.charCodeAt(i);
  }

  qid(type: number, version: number, path: bigint): void {
    this.u8(type);
    this.u32(version);
    this.u64n(path);
  }

  /** Reserves `n` bytes and returns their offset (for data read straight into the reply). */
  reserve(n: number): number {
    return this.take(n);
  }

  /** Gives back the tail of a reservation that was not used. */
  shrink(to: number): void {
    if (to < this.pos) this.pos = to;
  }
}

/**
 * A minimal 9P2000.L client for tests: builds T-messages, hands them to a
 * P9Server (or any `handle` function), decodes the replies and throws
 * FsError for Rlerror, so tests read like `assert.throws(() => c.lopen(2, 0), { errno: ELOOP })`.
 */
import assert from "node:assert/strict";
import { FsError } from "../../src/machine/virtio/9p/backend.ts";
import {
  P9_NOFID,
  P9_NOTAG,
  P9_RLERROR,
  P9_TATTACH,
  P9_TCLUNK,
  P9_TFLUSH,
  P9_TFSYNC,
  P9_TGETATTR,
  P9_TGETLOCK,
  P9_TLCREATE,
  P9_TLINK,
  P9_TLOCK,
  P9_TLOPEN,
  P9_TMKDIR,
  P9_TMKNOD,
  P9_TREAD,
  P9_TREADDIR,
  P9_TREADLINK,
  P9_TREMOVE,
  P9_TRENAME,
  P9_TRENAMEAT,
  P9_TSETATTR,
  P9_TSTATFS,
  P9_TSYMLINK,
  P9_TUNLINKAT,
  P9_TVERSION,
  P9_TWALK,
  P9_TWRITE,
  P9_TXATTRCREATE,
  P9_TXATTRWALK,
  Reader,
} from "../../src/machine/virtio/9p/wire.ts";

export interface Qid {
  type: number;
  version: number;
  path: bigint;
}

export interface Attr {
  valid: bigint;
  qid: Qid;
  mode: number;
  uid: number;
  gid: number;
  nlink: bigint;
  rdev: bigint;
  size: bigint;
  blksize: bigint;
  blocks: bigint;
  atimeSec: bigint;
  mtimeSec: bigint;
  mtimeNsec: bigint;
}

export interface Dirent {
  qid: Qid;
  offset: bigint;
  type: number;
  name: string;
}

/** Builds one T-message: fields appended in order, size and header filled in by done(). */
export class MsgBuilder {
  private bytes: number[] = [];
  constructor(type: number, tag: number) {
    this.u32(0).u8(type).u16(tag);
  }
  u8(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }
  u64(v: bigint | number): this {
    const b = BigInt.asUintN(64, BigInt(v));
    return this.u32(Number(b & 0xffffffffn)).u32(Number(b >> 32n));
  }
  str(s: string): this {
    this.u16(s.length);
    for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i));
    return this;
  }
  raw(b: Uint8Array | number[]): this {
    for (const x of b) this.u8(x);
    return this;
  }
  done(): Uint8Array {
    const out = Uint8Array.from(this.bytes);
    new DataView(out.buffer).setUint32(0, out.length, true);
    return out;
  }
}

export type Handler = (req: Uint8Array, len: number, room: number) => Uint8Array;

export class P9TestClient {
  private tag = 1;
  /** Reply room offered to the server (the transport's writable bytes). */
  room: number;
  private readonly handle: Handler;

  constructor(handle: Handler, room = 1 << 20) {
    this.handle = handle;
    this.room = room;
  }

  /** Sends raw bytes; returns the raw reply. */
  raw(req: Uint8Array, room = this.room): Uint8Array {
    return this.handle(req, req.length, room).slice();
  }

  msg(type: number): MsgBuilder {
    return new MsgBuilder(type, type === P9_TVERSION ? P9_NOTAG : this.tag++ & 0x7fff);
  }

  /** Sends a message; checks the reply header; returns a reader at the reply body, or throws FsError for Rlerror. */
  call(b: MsgBuilder): Reader {
    const req = b.done();
    const reply = this.raw(req);
    const r = new Reader();
    r.reset(reply, reply.length);
    const size = r.u32();
    const type = r.u8();
    const tag = r.u16();
    assert.equal(size, reply.length, "reply size field");
    assert.equal(tag, req[5] | (req[6] << 8), "reply tag");
    if (type === P9_RLERROR) throw new FsError(r.u32(), `Rlerror ${reply[7] | (reply[8] << 8)}`);
    assert.equal(type, req[4] + 1, "reply type");
    return r;
  }

  /** Asserts that the reply body was consumed exactly. */
  private end(r: Reader): void {
    assert.equal(r.remaining, 0, "reply has trailing bytes");
  }

  version(msize: number, version = "9P2000.L"): { msize: number; version: string } {
    const r = this.call(this.msg(P9_TVERSION).u32(msize).str(version));
    const out = { msize: r.u32(), version: r.str() };
    this.end(r);
    return out;
  }

  attach(fid: number, afid = P9_NOFID): Qid {
    const r = this.call(this.msg(P9_TATTACH).u32(fid).u32(afid).str("root").str("").u32(0));
    const q = qid(r);
    this.end(r);
    return q;
  }

  walk(fid: number, newfid: number, names: string[]): Qid[] {
    const b = this.msg(P9_TWALK).u32(fid).u32(newfid).u16(names.length);
    for (const n of names) b.str(n);
    const r = this.call(b);
    const n = r.u16();
    const out: Qid[] = [];
    for (let i = 0; i < n; i++) out.push(qid(r));
    this.end(r);
    return out;
  }

  getattr(fid: number): Attr {
    const r = this.call(this.msg(P9_TGETATTR).u32(fid).u64(0x3fff));
    const a: Attr = {
      valid: u64(r),
      qid: qid(r),
      mode: r.u32(),
      uid: r.u32(),
      gid: r.u32(),
      nlink: u64(r),
      rdev: u64(r),
      size: u64(r),
      blksize: u64(r),
      blocks: u64(r),
      atimeSec: (u64(r), u64(r)),
      mtimeSec: u64(r),
      mtimeNsec: u64(r),
    };
    for (let i = 0; i < 6; i++) u64(r); // ctime, btime, gen, data_version
    this.end(r);
    return a;
  }

  setattr(
    fid: number,
    valid: number,
    v: { mode?: number; uid?: number; gid?: number; size?: number; atime?: number; mtime?: number } = {},
  ): void {
    const r = this.call(
      this.msg(P9_TSETATTR)
        .u32(fid)
        .u32(valid)
        .u32(v.mode ?? 0)
        .u32(v.uid ?? 0xffffffff)
        .u32(v.gid ?? 0xffffffff)
        .u64(v.size ?? 0)
        .u64(v.atime ?? 0)
        .u64(0)
        .u64(v.mtime ?? 0)
        .u64(0),
    );
    this.end(r);
  }

  lopen(fid: number, flags: number): { qid: Qid; iounit: number } {
    const r = this.call(this.msg(P9_TLOPEN).u32(fid).u32(flags));
    const out = { qid: qid(r), iounit: r.u32() };
    this.end(r);
    return out;
  }

  lcreate(fid: number, name: string, flags: number, mode: number, gid = 0): Qid {
    const r = this.call(this.msg(P9_TLCREATE).u32(fid).str(name).u32(flags).u32(mode).u32(gid));
    const q = qid(r);
    r.u32();
    this.end(r);
    return q;
  }

  read(fid: number, offset: number, count: number): Uint8Array {
    const r = this.call(this.msg(P9_TREAD).u32(fid).u64(offset).u32(count));
    const n = r.u32();
    const data = r.bytes(n).slice();
    this.end(r);
    return data;
  }

  write(fid: number, offset: number, data: Uint8Array | string): number {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const r = this.call(this.msg(P9_TWRITE).u32(fid).u64(offset).u32(bytes.length).raw(bytes));
    const n = r.u32();
    this.end(r);
    return n;
  }

  clunk(fid: number): void {
    this.end(this.call(this.msg(P9_TCLUNK).u32(fid)));
  }

  remove(fid: number): void {
    this.end(this.call(this.msg(P9_TREMOVE).u32(fid)));
  }

  readdir(fid: number, offset: number | bigint, count: number): Dirent[] {
    const r = this.call(this.msg(P9_TREADDIR).u32(fid).u64(offset).u32(count));
    const n = r.u32();
    const end = r.pos + n;
    const out: Dirent[] = [];
    while (r.pos < end) out.push({ qid: qid(r), offset: u64(r), type: r.u8(), name: r.str() });
    assert.equal(r.pos, end, "dirent data length");
    this.end(r);
    return out;
  }

  /** Every entry of an open directory, following offsets. */
  readdirAll(fid: number, count = 8192): Dirent[] {
    const all: Dirent[] = [];
    let off: bigint = 0n;
    for (;;) {
      const batch = this.readdir(fid, off, count);
      if (batch.length === 0) return all;
      all.push(...batch);
      off = batch[batch.length - 1].offset;
    }
  }

  mkdir(dfid: number, name: string, mode: number, gid = 0): Qid {
    const r = this.call(this.msg(P9_TMKDIR).u32(dfid).str(name).u32(mode).u32(gid));
    const q = qid(r);
    this.end(r);
    return q;
  }

  symlink(dfid: number, name: string, target: string, gid = 0): Qid {
    const r = this.call(this.msg(P9_TSYMLINK).u32(dfid).str(name).str(target).u32(gid));
    const q = qid(r);
    this.end(r);
    return q;
  }

  mknod(dfid: number, name: string, mode: number, major = 0, minor = 0): Qid {
    const r = this.call(this.msg(P9_TMKNOD).u32(dfid).str(name).u32(mode).u32(major).u32(minor).u32(0));
    const q = qid(r);
    this.end(r);
    return q;
  }

  readlink(fid: number): string {
    const r = this.call(this.msg(P9_TREADLINK).u32(fid));
    const s = r.str();
    this.end(r);
    return s;
  }

  link(dfid: number, fid: number, name: string): void {
    this.end(this.call(this.msg(P9_TLINK).u32(dfid).u32(fid).str(name)));
  }

  rename(fid: number, dfid: number, name: string): void {
    this.end(this.call(this.msg(P9_TRENAME).u32(fid).u32(dfid).str(name)));
  }

  renameat(olddir: number, oldname: string, newdir: number, newname: string): void {
    this.end(this.call(this.msg(P9_TRENAMEAT).u32(olddir).str(oldname).u32(newdir).str(newname)));
  }

  unlinkat(dfid: number, name: string, flags = 0): void {
    this.end(this.call(this.msg(P9_TUNLINKAT).u32(dfid).str(name).u32(flags)));
  }

  fsync(fid: number, datasync = 0): void {
    this.end(this.call(this.msg(P9_TFSYNC).u32(fid).u32(datasync)));
  }

  statfs(fid: number): { type: number; bsize: number; blocks: bigint; namelen: number } {
    const r = this.call(this.msg(P9_TSTATFS).u32(fid));
    const type = r.u32();
    const bsize = r.u32();
    const blocks = u64(r);
    for (let i = 0; i < 5; i++) u64(r);
    const namelen = r.u32();
    this.end(r);
    return { type, bsize, blocks, namelen };
  }

  lock(fid: number): number {
    const r = this.call(this.msg(P9_TLOCK).u32(fid).u8(1).u32(0).u64(0).u64(0).u32(42).str("guest"));
    const status = r.u8();
    this.end(r);
    return status;
  }

  getlock(fid: number): { type: number; start: bigint; length: bigint; procId: number; client: string } {
    const r = this.call(this.msg(P9_TGETLOCK).u32(fid).u8(1).u64(100).u64(200).u32(42).str("guest"));
    const out = { type: r.u8(), start: u64(r), length: u64(r), procId: r.u32(), client: r.str() };
    this.end(r);
    return out;
  }

  xattrwalk(fid: number, newfid: number, name: string): bigint {
    const r = this.call(this.msg(P9_TXATTRWALK).u32(fid).u32(newfid).str(name));
    return u64(r);
  }

  xattrcreate(fid: number, name: string): void {
    this.call(this.msg(P9_TXATTRCREATE).u32(fid).str(name).u64(0).u32(0));
  }

  flush(oldtag: number): void {
    this.end(this.call(this.msg(P9_TFLUSH).u16(oldtag)));
  }
}

function u64(r: Reader): bigint {
  const lo = r.u32();
  const hi = r.u32();
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function qid(r: Reader): Qid {
  return { type: r.u8(), version: r.u32(), path: u64(r) };
}

/** Decodes an Rlerror reply: [tag, errno], or undefined when the reply is something else. */
export function lerror(reply: Uint8Array): [number, number] | undefined {
  if (reply.length !== 11 || reply[4] !== P9_RLERROR) return undefined;
  const dv = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  return [dv.getUint16(5, true), dv.getUint32(7, true)];
}

/**
 * A 9P2000.L file server: decodes one request, runs it against an
 * FsBackend and encodes the reply. Transport-neutral (the virtio device in
 * ../p9.ts feeds it descriptor chains; tests feed it byte arrays).
 *
 * The operations are the ones Linux's v9fs client sends in 9P2000.L mode
 * (net/9p/client.c, fs/9p/vfs_*_dotl.c). Each fid holds a path of names
 * from the share root; ".." and "." in Twalk are resolved here, lexically,
 * with ".." at the root staying at the root, so the backend only ever sees
 * plain names. Nothing a guest sends can make handle() throw: a malformed
 * message is answered with Rlerror EPROTO, backend failures with their
 * errno, and anything unexpected with EIO.
 *
 *   const server = new P9Server({ backend });
 *   const reply = server.handle(request, request.length, writableBytes);
 */

import { expectNumber, expectVersion, StateError } from "../../snapshot/state.ts";
import {
  badName,
  EBADF,
  EBUSY,
  EFBIG,
  EINVAL,
  EIO,
  EISDIR,
  EMFILE,
  EMSGSIZE,
  ENFILE,
  ENOTDIR,
  EOPNOTSUPP,
  EPROTO,
  type FsBackend,
  type FsDirEntry,
  FsError,
  type FsFile,
  type FsSetattr,
  type FsStat,
  O_CREAT,
  O_EXCL,
  O_TRUNC,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  SYMLINK_MAX,
} from "./backend.ts";
import {
  P9_AT_REMOVEDIR,
  P9_ATTR_ATIME,
  P9_ATTR_ATIME_SET,
  P9_ATTR_GID,
  P9_ATTR_MODE,
  P9_ATTR_MTIME,
  P9_ATTR_MTIME_SET,
  P9_ATTR_SIZE,
  P9_ATTR_UID,
  P9_HDRSZ,
  P9_LOCK_SUCCESS,
  P9_LOCK_TYPE_UNLCK,
  P9_MAXWELEM,
  P9_NOFID,
  P9_NOTAG,
  P9_QTDIR,
  P9_QTFILE,
  P9_QTSYMLINK,
  P9_RLERROR,
  P9_STATS_BASIC,
  P9_TATTACH,
  P9_TAUTH,
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
  ReplyOverflow,
  Writer,
} from "./wire.ts";

/** The protocol version spoken. */
export const P9_VERSION_L = "9P2000.L";
/** Smallest msize accepted: every fixed-size reply and a PATH_MAX Rreadlink fit in it. */
export const P9_MIN_MSIZE = 8192;
/** Default largest msize (Linux 6.1 asks for 128 KiB; its virtio transport allows up to ~500 KB). */
export const P9_DEFAULT_MAX_MSIZE = 512 * 1024;
/** Rread/Rreaddir header: size[4] type[1] tag[2] count[4]. */
const IO_REPLY_HDR = 11;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export interface P9ServerOptions {
  backend: FsBackend;
  /** Largest msize the server agrees to (default 512 KiB, at least P9_MIN_MSIZE). */
  maxMsize?: number;
  /** Most fids a session may hold at once (default 65536); Twalk/Tattach beyond it fail with ENFILE. */
  maxFids?: number;
  /** Most fids open at once (default 1024); Tlopen/Tlcreate beyond it fail with EMFILE. */
  maxOpen?: number;
  /** Where unexpected backend failures are reported (default: nowhere). */
  log?: (line: string) => void;
}

/** A directory entry as Treaddir sends it. */
interface ListEntry {
  name: string;
  qidPath: bigint;
  mode: number;
}

interface Fid {
  /** Names from the share root. */
  path: string[];
  /** The open file, once Tlopen/Tlcreate succeeded (undefined after a restore that could not reopen it). */
  file: FsFile | undefined;
  /** Open flags, or -1 while not open. */
  openFlags: number;
  /** Opened as a directory. */
  dir: boolean;
  /** Treaddir's listing, taken at offset 0; entry i has offset i + 1. */
  listing: ListEntry[] | undefined;
}

/** The server's state as plain data (design 2.8): the session and each fid's path and open flags. */
export interface P9ServerState {
  version: 1;
  /** Negotiated msize, 0 before Tversion. */
  msize: number;
  fids: { fid: number; path: string[]; openFlags: number }[];
}

function qidType(mode: number): number {
  const t = mode & S_IFMT;
  return t === S_IFDIR ? P9_QTDIR : t === S_IFLNK ? P9_QTSYMLINK : P9_QTFILE;
}

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  if (path.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (path[i] !== prefix[i]) return false;
  return true;
}

function checkName(name: string): string {
  const e = badName(name);
  if (e !== undefined) throw new FsError(e, "bad name");
  return name;
}

export class P9Server {
  readonly backend: FsBackend;
  readonly maxMsize: number;
  readonly maxFids: number;
  readonly maxOpen: number;
  /** The negotiated msize; 0 until a Tversion for 9P2000.L. */
  msize = 0;
  private readonly fids = new Map<number, Fid>();
  private openCount = 0;
  private readonly r = new Reader();
  private readonly w: Writer;
  private readonly log: (line: string) => void;

  constructor(opts: P9ServerOptions) {
    this.backend = opts.backend;
    this.maxMsize = Math.max(P9_MIN_MSIZE, opts.maxMsize ?? P9_DEFAULT_MAX_MSIZE);
    this.maxFids = opts.maxFids ?? 65536;
    this.maxOpen = opts.maxOpen ?? 1024;
    this.log = opts.log ?? (() => {});
    this.w = new Writer(this.maxMsize);
  }

  /** Number of fids in use (tests, diagnostics). */
  get fidCount(): number {
    return this.fids.size;
  }

  /** Number of open fids. */
  get openFids(): number {
    return this.openCount;
  }

  /** Ends the session: clunks every fid (closing its file) and forgets the msize. */
  reset(): void {
    for (const f of this.fids.values()) this.closeFile(f);
    this.fids.clear();
    this.openCount = 0;
    this.msize = 0;
  }

  /**
   * Serves one request, `req[0..len)`, and returns the reply (a view of an
   * internal buffer, valid until the next call). `room` is how many bytes
   * the reply may take (the transport's writable space); the reply is empty
   * only when not even an Rlerror fits.
   */
  handle(req: Uint8Array, len: number, room: number): Uint8Array {
    const w = this.w;
    const limit = Math.min(room, this.msize || this.maxMsize);
    if (limit < IO_REPLY_HDR) return w.buf.subarray(0, 0);
    const r = this.r;
    r.reset(req, len);
    if (r.remaining < P9_HDRSZ) return this.error(P9_NOTAG, EPROTO, limit);
    const size = r.u32();
    const type = r.u8();
    const tag = r.u16();
    if (size < P9_HDRSZ || size > len) return this.error(tag, EPROTO, limit);
    if (size > (this.msize || this.maxMsize)) return this.error(tag, EMSGSIZE, limit);
    r.end = size;
    try {
      w.begin(type + 1, tag, limit);
      if (type !== P9_TVERSION && this.msize === 0) throw new FsError(EPROTO, "no Tversion yet");
      this.dispatch(type);
    } catch (e) {
      if (e instanceof FsError) return this.error(tag, e.errno, limit);
      if (e instanceof ReplyOverflow) return this.error(tag, EMSGSIZE, limit);
      this.log(`9p: request type ${type} failed: ${e instanceof Error ? e.message : String(e)}`);
      return this.error(tag, EIO, limit);
    }
    return w.buf.subarray(0, w.end());
  }

  private error(tag: number, errno: number, limit: number): Uint8Array {
    const w = this.w;
    w.begin(P9_RLERROR, tag, limit);
    w.u32(errno);
    return w.buf.subarray(0, w.end());
  }

  private dispatch(type: number): void {
    switch (type) {
      case P9_TVERSION:
        return this.version();
      case P9_TATTACH:
        return this.attach();
      case P9_TWALK:
        return this.walk();
      case P9_TGETATTR:
        return this.getattr();
      case P9_TSETATTR:
        return this.setattr();
      case P9_TLOPEN:
        return this.lopen();
      case P9_TLCREATE:
        return this.lcreate();
      case P9_TREAD:
        return this.read();
      case P9_TWRITE:
        return this.write();
      case P9_TCLUNK:
        return this.clunk();
      case P9_TREMOVE:
        return this.remove();
      case P9_TREADDIR:
        return this.readdir();
      case P9_TMKDIR:
        return this.mkdir();
      case P9_TSYMLINK:
        return this.symlink();
      case P9_TMKNOD:
        return this.mknod();
      case P9_TREADLINK:
        return this.readlink();
      case P9_TLINK:
        return this.link();
      case P9_TRENAME:
        return this.rename();
      case P9_TRENAMEAT:
        return this.renameat();
      case P9_TUNLINKAT:
        return this.unlinkat();
      case P9_TFSYNC:
        return this.fsync();
      case P9_TSTATFS:
        return this.statfs();
      case P9_TLOCK:
        return this.lock();
      case P9_TGETLOCK:
        return this.getlock();
      case P9_TXATTRWALK:
        this.fid(this.r.u32());
        this.r.u32();
        this.r.str();
        throw new FsError(EOPNOTSUPP, "no xattrs");
      case P9_TXATTRCREATE:
        this.fid(this.r.u32());
        throw new FsError(EOPNOTSUPP, "no xattrs");
      case P9_TFLUSH:
        // Requests complete before the next one is read, so there is never one to cancel.
        this.r.u16();
        return;
      case P9_TAUTH:
        throw new FsError(EOPNOTSUPP, "no authentication");
      default:
        // 9P2000 and 9P2000.u messages (Topen, Tcreate, Tstat, Twstat), replies, unknown types.
        throw new FsError(EOPNOTSUPP, `message type ${type}`);
    }
  }

  // --- fids ------------------------------------------------------------

  private fid(n: number): Fid {
    const f = this.fids.get(n);
    if (f === undefined) throw new FsError(EBADF, `unknown fid ${n}`);
    return f;
  }

  /** A fid that was opened (Tlopen/Tlcreate) and whose file is usable. */
  private openFid(n: number): FsFile {
    const f = this.fid(n);
    if (f.openFlags < 0) throw new FsError(EBADF, `fid ${n} is not open`);
    if (f.file === undefined) throw new FsError(EIO, `fid ${n} lost its file on restore`);
    return f.file;
  }

  /** Checks that `n` may become a new fid. */
  private checkNewFid(n: number): void {
    if (n === P9_NOFID) throw new FsError(EBADF, "NOFID");
    if (this.fids.has(n)) throw new FsError(EINVAL, `fid ${n} is in use`);
    if (this.fids.size >= this.maxFids) throw new FsError(ENFILE, "too many fids");
  }

  private newFid(path: string[]): Fid {
    return { path, file: undefined, openFlags: -1, dir: false, listing: undefined };
  }

  private closeFile(f: Fid): void {
    if (f.openFlags >= 0) {
      f.file?.close();
      f.file = undefined;
      f.openFlags = -1;
      f.listing = undefined;
      this.openCount--;
    }
  }

  private checkOpenable(f: Fid): void {
    if (f.openFlags >= 0) throw new FsError(EINVAL, "fid already open");
    if (this.openCount >= this.maxOpen) throw new FsError(EMFILE, "too many open fids");
  }

  private setOpen(f: Fid, file: FsFile, flags: number, dir: boolean): void {
    f.file = file;
    f.openFlags = flags;
    f.dir = dir;
    f.listing = undefined;
    this.openCount++;
  }

  /** After a rename: fids at or under `from` now name the same objects under `to`. */
  private retarget(from: readonly string[], to: readonly string[]): void {
    for (const f of this.fids.values()) {
      if (startsWith(f.path, from)) f.path = [...to, ...f.path.slice(from.length)];
    }
  }

  private qid(st: FsStat): void {
    this.w.qid(qidType(st.mode), 0, st.qidPath);
  }

  // --- messages ----------------------------------------------------------

  /** Tversion msize[4] version[s] → Rversion msize[4] version[s]. Starts a new session. */
  private version(): void {
    const msize = this.r.u32();
    const version = this.r.str();
    this.reset();
    if (msize < P9_MIN_MSIZE) throw new FsError(EINVAL, `msize ${msize} is below ${P9_MIN_MSIZE}`);
    const agreed = Math.min(msize, this.maxMsize);
    const ok = version === P9_VERSION_L || version.startsWith(`${P9_VERSION_L}.`);
    this.w.u32(agreed);
    this.w.str(ok ? P9_VERSION_L : "unknown");
    if (ok) this.msize = agreed;
  }

  /** Tattach fid[4] afid[4] uname[s] aname[s] n_uname[4] → Rattach qid. */
  private attach(): void {
    const r = this.r;
    const fid = r.u32();
    r.u32(); // afid: no authentication, so anything but a real auth fid is fine
    r.str();
    r.str(); // aname: the share is the whole export
    if (r.remaining >= 4) r.u32();
    this.checkNewFid(fid);
    const st = this.backend.stat([]);
    if ((st.mode & S_IFMT) !== S_IFDIR) throw new FsError(ENOTDIR, "share root is not a directory");
    this.fids.set(fid, this.newFid([]));
    this.qid(st);
  }

  /** Twalk fid[4] newfid[4] nwname[2] nwname*(wname[s]) → Rwalk nwqid[2] nwqid*(qid). */
  private walk(): void {
    const r = this.r;
    const from = this.fid(r.u32());
    const newfid = r.u32();
    const n = r.u16();
    if (n > P9_MAXWELEM) throw new FsError(EINVAL, `${n} names in one walk`);
    const names: string[] = [];
    for (let i = 0; i < n; i++) names.push(r.str());
    const same = this.fids.get(newfid) === from;
    if (!same) this.checkNewFid(newfid);
    else if (from.openFlags >= 0 && n > 0) throw new FsError(EBUSY, "walking an open fid in place");
    const path = from.path.slice();
    const w = this.w;
    w.u16(0);
    let done = 0;
    for (const name of names) {
      let st: FsStat;
      try {
        if (name === "..") {
          if (path.length > 0) path.pop(); // ".." at the root is the root (9P: the server's root is its own parent)
        } else if (name !== ".") {
          path.push(checkName(name));
        }
        st = this.backend.stat(path);
      } catch (e) {
        if (done === 0) throw e;
        break; // a partial walk: the qids so far, and newfid is not made
      }
      this.qid(st);
      done++;
    }
    w.buf[P9_HDRSZ] = done & 0xff;
    w.buf[P9_HDRSZ + 1] = done >> 8;
    if (done < n) return;
    if (same) {
      from.path = path;
    } else {
      this.fids.set(newfid, this.newFid(path));
    }
  }

  /** Tgetattr fid[4] request_mask[8] → Rgetattr valid[8] qid mode uid gid nlink rdev size blksize blocks times… */
  private getattr(): void {
    const f = this.fid(this.r.u32());
    const st = f.file !== undefined ? f.file.stat() : this.backend.stat(f.path);
    const w = this.w;
    w.u64(P9_STATS_BASIC);
    this.qid(st);
    w.u32(st.mode);
    w.u32(st.uid);
    w.u32(st.gid);
    w.u64(st.nlink);
    w.u64n(st.rdev);
    w.u64n(st.size);
    w.u64(st.blksize);
    w.u64n(st.blocks);
    w.u64(st.atimeSec);
    w.u64(st.atimeNsec);
    w.u64(st.mtimeSec);
    w.u64(st.mtimeNsec);
    w.u64(st.ctimeSec);
    w.u64(st.ctimeNsec);
    w.u64(0); // btime
    w.u64(0);
    w.u64(0); // gen
    w.u64(0); // data_version
  }

  /** Tsetattr fid[4] valid[4] mode[4] uid[4] gid[4] size[8] atime[8+8] mtime[8+8] → Rsetattr. */
  private setattr(): void {
    const r = this.r;
    const f = this.fid(r.u32());
    const valid = r.u32();
    const mode = r.u32();
    const uid = r.u32();
    const gid = r.u32();
    const size = r.u64();
    const atimeSec = r.s64();
    const atimeNsec = r.u64();
    const mtimeSec = r.s64();
    const mtimeNsec = r.u64();
    const a: FsSetattr = {};
    if (valid & P9_ATTR_MODE) a.mode = mode & 0o7777;
    if (valid & P9_ATTR_UID) a.uid = uid;
    if (valid & P9_ATTR_GID) a.gid = gid;
    if (valid & P9_ATTR_SIZE) {
      if (size > MAX_SAFE) throw new FsError(EFBIG, "size");
      a.size = size;
    }
    if (valid & P9_ATTR_ATIME) a.atime = valid & P9_ATTR_ATIME_SET ? time(atimeSec, atimeNsec) : "now";
    if (valid & P9_ATTR_MTIME) a.mtime = valid & P9_ATTR_MTIME_SET ? time(mtimeSec, mtimeNsec) : "now";
    // ATTR_CTIME alone asks for nothing the host does not do by itself.
    if (f.file !== undefined) f.file.setattr(a);
    else this.backend.setattr(f.path, a);
  }

  /** Tlopen fid[4] flags[4] → Rlopen qid iounit[4]. */
  private lopen(): void {
    const r = this.r;
    const f = this.fid(r.u32());
    const flags = r.u32();
    this.checkOpenable(f);
    const file = this.backend.open(f.path, flags & ~(O_CREAT | O_EXCL));
    let st: FsStat;
    try {
      st = file.stat();
    } catch (e) {
      file.close();
      throw e;
    }
    this.setOpen(f, file, flags & ~(O_CREAT | O_EXCL), (st.mode & S_IFMT) === S_IFDIR);
    this.qid(st);
    this.w.u32(0); // iounit 0: the client uses msize - 24
  }

  /** Tlcreate fid[4] name[s] flags[4] mode[4] gid[4] → Rlcreate qid iounit[4]; fid becomes the new open file. */
  private lcreate(): void {
    const r = this.r;
    const f = this.fid(r.u32());
    const name = r.str();
    const flags = r.u32();
    const mode = r.u32();
    const gid = r.u32();
    checkName(name);
    this.checkOpenable(f);
    const file = this.backend.create(f.path, name, flags | O_CREAT, mode & 0o7777, gid);
    let st: FsStat;
    try {
      st = file.stat();
    } catch (e) {
      file.close();
      throw e;
    }
    f.path = [...f.path, name];
    this.setOpen(f, file, flags | O_CREAT, false);
    this.qid(st);
    this.w.u32(0);
  }

  /** Tread fid[4] offset[8] count[4] → Rread count[4] data[count]. */
  private read(): void {
    const r = this.r;
    const fid = r.u32();
    const offset = r.u64();
    const count = r.u32();
    const f = this.fid(fid);
    const file = this.openFid(fid);
    if (f.dir) throw new FsError(EISDIR, "read of a directory");
    const w = this.w;
    const n = Math.max(0, Math.min(count, w.room - 4));
    const countAt = w.reserve(4);
    let got = 0;
    if (n > 0 && offset <= MAX_SAFE) {
      const at = w.reserve(n);
      got = file.read(offset, w.buf.subarray(at, at + n));
      if (!(got >= 0 && got <= n)) throw new FsError(EIO, "backend read count");
      w.shrink(at + got);
    }
    w.buf[countAt] = got & 0xff;
    w.buf[countAt + 1] = (got >>> 8) & 0xff;
    w.buf[countAt + 2] = (got >>> 16) & 0xff;
    w.buf[countAt + 3] = got >>> 24;
  }

  /** Twrite fid[4] offset[8] count[4] data[count] → Rwrite count[4]. */
  private write(): void {
    const r = this.r;
    const fid = r.u32();
    const offset = r.u64();
    const count = r.u32();
    const data = r.bytes(count);
    const file = this.openFid(fid);
    if (offset + count > MAX_SAFE) throw new FsError(EFBIG, "offset");
    const n = count === 0 ? 0 : file.write(offset, data);
    if (!(n >= 0 && n <= count)) throw new FsError(EIO, "backend write count");
    this.w.u32(n);
  }

  /** Tclunk fid[4] → Rclunk. */
  private clunk(): void {
    const n = this.r.u32();
    const f = this.fid(n);
    this.fids.delete(n);
    this.closeFile(f);
  }

  /** Tremove fid[4] → Rremove; the fid is clunked whether or not the remove worked. */
  private remove(): void {
    const n = this.r.u32();
    const f = this.fid(n);
    this.fids.delete(n);
    this.closeFile(f);
    if (f.path.length === 0) throw new FsError(EBUSY, "the share root");
    const st = this.backend.stat(f.path);
    this.backend.unlink(f.path.slice(0, -1), f.path[f.path.length - 1], (st.mode & S_IFMT) === S_IFDIR);
  }

  /** Treaddir fid[4] offset[8] count[4] → Rreaddir count[4] entries (qid offset[8] type[1] name[s]). */
  private readdir(): void {
    const r = this.r;
    const fid = r.u32();
    const offset = r.u64();
    const count = r.u32();
    const f = this.fid(fid);
    const file = this.openFid(fid);
    if (!f.dir) throw new FsError(ENOTDIR, "readdir of a file");
    if (offset === 0 || f.listing === undefined) f.listing = this.list(f, file);
    const list = f.listing;
    const w = this.w;
    const countAt = w.reserve(4);
    const start = w.pos;
    const max = Math.min(count, w.room);
    for (let i = offset; i < list.length; i++) {
      const e = list[i];
      if (w.pos - start + 24 + e.name.length > max) break;
      w.qid(qidType(e.mode), 0, e.qidPath);
      w.u64(i + 1);
      w.u8((e.mode & S_IFMT) >>> 12); // DT_* is the S_IFMT type shifted down
      w.str(e.name);
    }
    const n = w.pos - start;
    w.buf[countAt] = n & 0xff;
    w.buf[countAt + 1] = (n >>> 8) & 0xff;
    w.buf[countAt + 2] = (n >>> 16) & 0xff;
    w.buf[countAt + 3] = n >>> 24;
  }

  /** The listing of an open directory: ".", "..", then the backend's entries. */
  private list(f: Fid, file: FsFile): ListEntry[] {
    const self = file.stat();
    let parent = self;
    if (f.path.length > 0) {
      try {
        parent = this.backend.stat(f.path.slice(0, -1));
      } catch {
        // the parent went away; "." will do
      }
    }
    const out: ListEntry[] = [
      { name: ".", qidPath: self.qidPath, mode: self.mode },
      { name: "..", qidPath: parent.qidPath, mode: parent.mode },
    ];
    const entries: FsDirEntry[] = file.readdir();
    for (const e of entries) if (badName(e.name) === undefined) out.push(e);
    return out;
  }

  /** Tmkdir dfid[4] name[s] mode[4] gid[4] → Rmkdir qid. */
  private mkdir(): void {
    const r = this.r;
    const d = this.fid(r.u32());
    const name = checkName(r.str());
    const mode = r.u32();
    const gid = r.u32();
    this.qid(this.backend.mkdir(d.path, name, mode & 0o7777, gid));
  }

  /** Tsymlink fid[4] name[s] symtgt[s] gid[4] → Rsymlink qid. */
  private symlink(): void {
    const r = this.r;
    const d = this.fid(r.u32());
    const name = checkName(r.str());
    const target = r.str();
    const gid = r.u32();
    if (target.length === 0 || target.length > SYMLINK_MAX || target.includes("\0"))
      throw new FsError(EINVAL, "symlink target");
    this.qid(this.backend.symlink(d.path, name, target, gid));
  }

  /** Tmknod dfid[4] name[s] mode[4] major[4] minor[4] gid[4] → Rmknod qid. */
  private mknod(): void {
    const r = this.r;
    const d = this.fid(r.u32());
    const name = checkName(r.str());
    const mode = r.u32();
    const major = r.u32();
    const minor = r.u32();
    const gid = r.u32();
    this.qid(this.backend.mknod(d.path, name, mode, major, minor, gid));
  }

  /** Treadlink fid[4] → Rreadlink target[s]. */
  private readlink(): void {
    const f = this.fid(this.r.u32());
    this.w.str(this.backend.readlink(f.path));
  }

  /** Tlink dfid[4] fid[4] name[s] → Rlink. */
  private link(): void {
    const r = this.r;
    const d = this.fid(r.u32());
    const f = this.fid(r.u32());
    const name = checkName(r.str());
    if (f.path.length === 0) throw new FsError(EINVAL, "linking the root");
    this.backend.link(f.path, d.path, name);
  }

  /** Trename fid[4] dfid[4] name[s] → Rrename. */
  private rename(): void {
    const r = this.r;
    const f = this.fid(r.u32());
    const d = this.fid(r.u32());
    const name = checkName(r.str());
    if (f.path.length === 0) throw new FsError(EBUSY, "renaming the root");
    const from = f.path;
    this.backend.rename(from.slice(0, -1), from[from.length - 1], d.path, name);
    this.retarget(from.slice(), [...d.path, name]);
  }

  /** Trenameat olddirfid[4] oldname[s] newdirfid[4] newname[s] → Rrenameat. */
  private renameat(): void {
    const r = this.r;
    const od = this.fid(r.u32());
    const oldName = checkName(r.str());
    const nd = this.fid(r.u32());
    const newName = checkName(r.str());
    const oldDir = od.path.slice();
    const newDir = nd.path.slice();
    this.backend.rename(oldDir, oldName, newDir, newName);
    this.retarget([...oldDir, oldName], [...newDir, newName]);
  }

  /** Tunlinkat dirfd[4] name[s] flags[4] → Runlinkat. */
  private unlinkat(): void {
    const r = this.r;
    const d = this.fid(r.u32());
    const name = checkName(r.str());
    const flags = r.u32();
    if (flags & ~P9_AT_REMOVEDIR) throw new FsError(EINVAL, "unlinkat flags");
    this.backend.unlink(d.path, name, (flags & P9_AT_REMOVEDIR) !== 0);
  }

  /** Tfsync fid[4] datasync[4] → Rfsync. */
  private fsync(): void {
    const r = this.r;
    const fid = r.u32();
    const datasync = r.u32();
    this.openFid(fid).fsync(datasync !== 0);
  }

  /** Tstatfs fid[4] → Rstatfs type[4] bsize[4] blocks bfree bavail files ffree fsid [8 each] namelen[4]. */
  private statfs(): void {
    const f = this.fid(this.r.u32());
    const s = this.backend.statfs(f.path);
    const w = this.w;
    w.u32(s.type);
    w.u32(s.bsize);
    w.u64n(s.blocks);
    w.u64n(s.bfree);
    w.u64n(s.bavail);
    w.u64n(s.files);
    w.u64n(s.ffree);
    w.u64n(s.fsid);
    w.u32(s.namelen);
  }

  /**
   * Tlock fid[4] type[1] flags[4] start[8] length[8] proc_id[4] client_id[s] → Rlock status[1].
   * Locks are granted: the guest is the only client of the share, and its
   * kernel already arbitrates between its own processes.
   */
  private lock(): void {
    const r = this.r;
    this.fid(r.u32());
    r.u8();
    r.u32();
    r.bytes(16);
    r.u32();
    r.str();
    this.w.u8(P9_LOCK_SUCCESS);
  }

  /** Tgetlock fid[4] type[1] start[8] length[8] proc_id[4] client_id[s] → Rgetlock: never a conflicting lock. */
  private getlock(): void {
    const r = this.r;
    this.fid(r.u32());
    r.u8();
    const range = r.bytes(16);
    const procId = r.u32();
    const client = r.str();
    const w = this.w;
    w.u8(P9_LOCK_TYPE_UNLCK);
    const at = w.reserve(16);
    w.buf.set(range, at);
    w.u32(procId);
    w.str(client);
  }

  // --- state ---------------------------------------------------------------

  saveState(): P9ServerState {
    const fids: P9ServerState["fids"] = [];
    for (const [fid, f] of this.fids) fids.push({ fid, path: f.path.slice(), openFlags: f.openFlags });
    return { version: 1, msize: this.msize, fids };
  }

  /**
   * Loads a saved session: the fids come back with their paths, and open
   * ones are reopened (without O_CREAT, O_EXCL or O_TRUNC). A file that
   * cannot be reopened leaves its fid answering EIO. The record is checked
   * as untrusted input (design 2.8).
   */
  restoreState(s: P9ServerState): void {
    const who = "virtio-9p server";
    expectVersion(who, s, 1);
    const msize = expectNumber(who, "msize", s.msize, 0, this.maxMsize);
    if (msize !== 0 && msize < P9_MIN_MSIZE) throw new StateError(who, "msize below the minimum");
    if (!Array.isArray(s.fids) || s.fids.length > this.maxFids) throw new StateError(who, "fids");
    const seen = new Set<number>();
    for (const e of s.fids) {
      if (typeof e !== "object" || e === null) throw new StateError(who, "fid record");
      const fid = expectNumber(who, "fid", e.fid, 0, P9_NOFID - 1);
      if (seen.has(fid)) throw new StateError(who, `fid ${fid} twice`);
      seen.add(fid);
      expectNumber(who, "openFlags", e.openFlags, -1, 0xffffffff);
      if (!Array.isArray(e.path) || e.path.some((n) => typeof n !== "string" || badName(n) !== undefined))
        throw new StateError(who, `fid ${fid} path`);
    }
    this.reset();
    this.msize = msize;
    for (const e of s.fids) {
      const f = this.newFid(e.path.slice());
      this.fids.set(e.fid, f);
      if (e.openFlags < 0) continue;
      f.openFlags = e.openFlags;
      this.openCount++;
      try {
        const file = this.backend.open(f.path, e.openFlags & ~(O_CREAT | O_EXCL | O_TRUNC));
        f.file = file;
        f.dir = (file.stat().mode & S_IFMT) === S_IFDIR;
      } catch (err) {
        this.log(`9p: fid ${e.fid} (${f.path.join("/")}) could not be reopened: ${String(err)}`);
      }
    }
  }
}

function time(sec: number, nsec: number): { sec: number; nsec: number } {
  if (!Number.isFinite(sec) || nsec > 999_999_999) throw new FsError(EINVAL, "time");
  return { sec, nsec };
}

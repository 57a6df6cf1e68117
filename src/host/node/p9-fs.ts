/**
 * The Node host backend of virtio-9p: serves one host directory (the share)
 * to the 9P server in src/machine/virtio/9p/.
 *
 * Confinement (the contract: the guest reaches nothing outside the share).
 * Node has no openat(), so every path is walked here one name at a time
 * from a descriptor of the share root, the way openat(dirfd, name,
 * O_NOFOLLOW) would: the next directory is opened through
 * `/proc/self/fd/<dirfd>/<name>` with O_PATH | O_DIRECTORY | O_NOFOLLOW.
 * The /proc magic link pins the directory already reached (a later rename
 * or a symlink swapped in for it changes nothing), and the single name after
 * it is never followed if it is a symlink (ENOTDIR). The final name of an
 * operation is likewise used only with calls that do not follow it (lstat,
 * open with O_NOFOLLOW, mkdir, unlink, rename, symlink, link, readlink,
 * lchown, lutimes); calls that would follow (chmod, truncate, utimes) act
 * on an O_PATH | O_NOFOLLOW descriptor of the object through its own
 * magic link, after fstat showed it is not a symlink. ".." never reaches
 * this file: the server resolves it lexically, and names with '/' or NUL
 * are refused. So neither "..", nor symlinks (absolute or relative), nor a
 * component replaced by a symlink between two operations leads outside.
 *
 * Also refused: opening devices, FIFOs and sockets found in the share
 * (EPERM), making device nodes (Tmknod: EPERM), and set-user/group-ID bits
 * (stripped from modes the guest sets). A read-only share answers EROFS to
 * every modifying operation and opens files for reading only.
 *
 * Linux only: the walk needs /proc/self/fd and O_PATH.
 */
import {
  type BigIntStats,
  chmodSync,
  chownSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  renameSync,
  rmdirSync,
  statfsSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from "node:fs";
import { VirtusError } from "../../machine/errors.ts";
import {
  badName,
  EINVAL,
  EIO,
  EISDIR,
  ELOOP,
  ENOTDIR,
  EOPNOTSUPP,
  EPERM,
  EROFS,
  type FsBackend,
  type FsDirEntry,
  FsError,
  type FsFile,
  type FsPath,
  type FsSetattr,
  type FsStat,
  type FsStatfs,
  type FsTime,
  O_ACCMODE,
  O_DSYNC,
  O_EXCL,
  O_RDONLY,
  O_SYNC,
  O_TRUNC,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
} from "../../machine/virtio/9p/backend.ts";

/** Linux O_PATH (asm-generic; the same on x86-64 and arm64); Node does not export it. */
const O_PATH = 0o10000000;
const C = constants;
/** Flags for walking to a directory: a handle that cannot be a symlink and needs no read permission (libuv adds O_CLOEXEC to every open). */
const WALK = O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW;
/** Modes the guest may set: no set-user-ID or set-group-ID files on the host. */
const MODE_MASK = 0o1777;

/** Node's error codes to Linux errno numbers (the guest's), independent of the host's own numbering. */
const ERRNO: Record<string, number> = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENODATA: 61,
  EOVERFLOW: 75,
  ENOTSUP: 95,
  EOPNOTSUPP: 95,
  ESTALE: 116,
  EDQUOT: 122,
};

/** Runs a host call, turning Node's errors into FsError with the guest's errno. */
function host<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof FsError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new FsError((code !== undefined && ERRNO[code]) || EIO, code ?? String(e));
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // nothing to do
  }
}

/** Host open(2) flags for the guest's Linux flags: access mode, O_TRUNC and the sync flags; never O_APPEND (writes carry offsets). */
function hostOpenFlags(flags: number): number {
  const acc = flags & O_ACCMODE;
  let h = acc === 1 ? C.O_WRONLY : acc === 2 ? C.O_RDWR : C.O_RDONLY;
  if (flags & O_TRUNC) h |= C.O_TRUNC;
  if ((flags & O_SYNC) === O_SYNC) h |= C.O_SYNC;
  else if (flags & O_DSYNC) h |= C.O_DSYNC;
  return h;
}

function splitNs(ns: bigint): [number, number] {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  return [Number(sec), Number(nsec)];
}

function toSeconds(t: FsTime | "now" | undefined, current: bigint): number {
  if (t === undefined) return Number(current) / 1e9;
  if (t === "now") return Date.now() / 1000;
  return t.sec + t.nsec / 1e9;
}

export interface NodeFsOptions {
  readonly?: boolean;
}

/**
 * Serves the directory `root`. Throws VirtusError when it is not a
 * directory or the host lacks what confinement needs (/proc/self/fd).
 */
export class NodeFsBackend implements FsBackend {
  readonly readonly: boolean;
  readonly root: string;
  /** O_PATH descriptor of the share root: every walk starts here. */
  private rootFd: number;
  /** Device numbers seen, for qid paths unique across file systems mounted inside the share. */
  private readonly devs = new Map<bigint, bigint>();

  constructor(root: string, opts: NodeFsOptions = {}) {
    this.root = root;
    this.readonly = opts.readonly === true;
    if (process.platform !== "linux")
      throw new VirtusError("share-unsupported", "--share needs a Linux host (it relies on /proc/self/fd)");
    let fd: number;
    try {
      fd = openSync(root, WALK & ~C.O_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new VirtusError(
        "no-share-dir",
        `${root}: ${code === "ENOENT" ? "no such directory" : code === "ENOTDIR" ? "not a directory" : `cannot open it (${code})`}`,
      );
    }
    this.rootFd = fd;
    try {
      const a = fstatSync(fd, { bigint: true });
      const b = lstatSync(`/proc/self/fd/${fd}/.`, { bigint: true });
      if (a.dev !== b.dev || a.ino !== b.ino) throw new Error("mismatch");
      this.devs.set(a.dev, 0n);
    } catch {
      closeQuietly(fd);
      throw new VirtusError("share-unsupported", "--share needs /proc/self/fd (is /proc mounted?)");
    }
  }

  /** Releases the share root. */
  close(): void {
    if (this.rootFd >= 0) closeQuietly(this.rootFd);
    this.rootFd = -1;
  }

  // --- walking -------------------------------------------------------------

  /** `/proc/self/fd/<fd>/<name>` as a byte path. */
  private at(fd: number, name: string): Buffer {
    return Buffer.concat([Buffer.from(`/proc/self/fd/${fd}/`), Buffer.from(name, "latin1")]);
  }

  private self(fd: number): string {
    return `/proc/self/fd/${fd}`;
  }

  /** Runs `f` with an O_PATH descriptor of the directory at `path` (never through a symlink). */
  private inDir<T>(path: FsPath, f: (fd: number) => T): T {
    if (this.rootFd < 0) throw new FsError(EIO, "share closed");
    let fd = this.rootFd;
    try {
      for (const name of path) {
        const bad = badName(name);
        if (bad !== undefined) throw new FsError(bad, "bad name");
        const next = host(() => openSync(this.at(fd, name), WALK));
        if (fd !== this.rootFd) closeSync(fd);
        fd = next;
      }
      return f(fd);
    } finally {
      if (fd !== this.rootFd) closeQuietly(fd);
    }
  }

  /** Runs `f` with the descriptor of the parent of `path` and the final name (path must not be the root). */
  private inParent<T>(path: FsPath, f: (dirFd: number, name: string) => T): T {
    const name = path[path.length - 1];
    const bad = badName(name ?? "");
    if (bad !== undefined) throw new FsError(bad, "bad name");
    return this.inDir(path.slice(0, -1), (fd) => f(fd, name));
  }

  private writable(): void {
    if (this.readonly) throw new FsError(EROFS, "read-only share");
  }

  private toStat(s: BigIntStats): FsStat {
    const [as, an] = splitNs(s.atimeNs);
    const [ms, mn] = splitNs(s.mtimeNs);
    const [cs, cn] = splitNs(s.ctimeNs);
    return {
      mode: Number(s.mode),
      uid: Number(s.uid),
      gid: Number(s.gid),
      nlink: Number(s.nlink),
      rdev: s.rdev,
      size: s.size,
      blksize: Number(s.blksize),
      blocks: s.blocks,
      atimeSec: as,
      atimeNsec: an,
      mtimeSec: ms,
      mtimeNsec: mn,
      ctimeSec: cs,
      ctimeNsec: cn,
      qidPath: this.qidPath(s.dev, s.ino),
    };
  }

  /** The inode number, tagged in the top byte with the file system's index when it is not the share root's. */
  private qidPath(dev: bigint, ino: bigint): bigint {
    let idx = this.devs.get(dev);
    if (idx === undefined) {
      idx = BigInt(this.devs.size);
      this.devs.set(dev, idx);
    }
    return idx === 0n ? ino : (idx << 56n) | (ino & 0xff_ffff_ffff_ffffn);
  }

  private lstatAt(fd: number, name: string): FsStat {
    return this.toStat(host(() => lstatSync(this.at(fd, name), { bigint: true })));
  }

  // --- FsBackend -------------------------------------------------------------

  stat(path: FsPath): FsStat {
    if (path.length === 0)
      return this.inDir(path, (fd) => this.toStat(host(() => fstatSync(fd, { bigint: true }))));
    return this.inParent(path, (fd, name) => this.lstatAt(fd, name));
  }

  open(path: FsPath, flags: number): FsFile {
    if (this.readonly && ((flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0))
      throw new FsError(EROFS, "read-only share");
    return this.inDir(path.slice(0, -1), (dirFd) => {
      // The object itself: the root through its own descriptor, anything else by name, not followed.
      // ("/proc/self/fd/N" itself is a symlink to lstat; "N/." is the directory.)
      const target = path.length === 0 ? `${this.self(dirFd)}/.` : this.at(dirFd, path[path.length - 1]);
      if (path.length > 0) {
        const bad = badName(path[path.length - 1]);
        if (bad !== undefined) throw new FsError(bad, "bad name");
      }
      const pre = host(() => lstatSync(target, { bigint: true }));
      const type = Number(pre.mode) & S_IFMT;
      if (type === S_IFLNK) throw new FsError(ELOOP, "a symlink");
      if (type !== S_IFREG && type !== S_IFDIR) throw new FsError(EPERM, "not a file or directory");
      if (type === S_IFDIR && (flags & O_ACCMODE) !== O_RDONLY) throw new FsError(EISDIR, "directory");
      const extra = C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY;
      const h = type === S_IFDIR ? C.O_RDONLY | C.O_DIRECTORY : hostOpenFlags(flags);
      return this.adopt(host(() => openSync(target, h | extra)));
    });
  }

  /** Wraps a freshly opened descriptor, refusing anything but a regular file or directory. */
  private adopt(fd: number): NodeFile {
    let type: number;
    try {
      type = Number(host(() => fstatSync(fd, { bigint: true })).mode) & S_IFMT;
    } catch (e) {
      closeQuietly(fd);
      throw e;
    }
    if (type !== S_IFREG && type !== S_IFDIR) {
      closeQuietly(fd);
      throw new FsError(EPERM, "not a file or directory");
    }
    return new NodeFile(this, fd, type === S_IFDIR);
  }

  create(dir: FsPath, name: string, flags: number, mode: number, _gid: number): FsFile {
    this.writable();
    return this.inParent([...dir, name], (dirFd, n) => {
      const target = this.at(dirFd, n);
      let existed = true;
      try {
        lstatSync(target);
      } catch {
        existed = false;
      }
      const h =
        hostOpenFlags(flags) |
        C.O_CREAT |
        (flags & O_EXCL ? C.O_EXCL : 0) |
        C.O_NOFOLLOW |
        C.O_NONBLOCK |
        C.O_NOCTTY;
      const file = this.adopt(host(() => openSync(target, h, mode & MODE_MASK)));
      if (file.isDir) {
        file.close();
        throw new FsError(EISDIR, "a directory");
      }
      // The host's umask must not narrow what the guest asked for (the guest applied its own).
      if (!existed) host(() => fchmodSync(file.fd, mode & MODE_MASK));
      return file;
    });
  }

  mkdir(dir: FsPath, name: string, mode: number, _gid: number): FsStat {
    this.writable();
    return this.inParent([...dir, name], (dirFd, n) => {
      host(() => mkdirSync(this.at(dirFd, n), mode & MODE_MASK));
      const fd = host(() => openSync(this.at(dirFd, n), WALK));
      try {
        host(() => chmodSync(this.self(fd), mode & MODE_MASK));
        return this.toStat(host(() => fstatSync(fd, { bigint: true })));
      } finally {
        closeQuietly(fd);
      }
    });
  }

  symlink(dir: FsPath, name: string, target: string, _gid: number): FsStat {
    this.writable();
    return this.inParent([...dir, name], (dirFd, n) => {
      host(() => symlinkSync(Buffer.from(target, "latin1"), this.at(dirFd, n)));
      return this.lstatAt(dirFd, n);
    });
  }

  mknod(dir: FsPath, name: string, _mode: number, _major: number, _minor: number, _gid: number): FsStat {
    this.writable();
    const bad = badName(name);
    if (bad !== undefined) throw new FsError(bad, "bad name");
    void dir;
    throw new FsError(EPERM, "device nodes, FIFOs and sockets cannot be made in a share");
  }

  link(target: FsPath, dir: FsPath, name: string): void {
    this.writable();
    if (target.length === 0) throw new FsError(EPERM, "the share root");
    this.inParent(target, (tFd, tName) =>
      this.inParent([...dir, name], (dFd, n) => host(() => linkSync(this.at(tFd, tName), this.at(dFd, n)))),
    );
  }

  rename(oldDir: FsPath, oldName: string, newDir: FsPath, newName: string): void {
    this.writable();
    this.inParent([...oldDir, oldName], (oFd, o) =>
      this.inParent([...newDir, newName], (nFd, n) =>
        host(() => renameSync(this.at(oFd, o), this.at(nFd, n))),
      ),
    );
  }

  unlink(dir: FsPath, name: string, removeDir: boolean): void {
    this.writable();
    this.inParent([...dir, name], (fd, n) =>
      host(() => (removeDir ? rmdirSync(this.at(fd, n)) : unlinkSync(this.at(fd, n)))),
    );
  }

  readlink(path: FsPath): string {
    if (path.length === 0) throw new FsError(EINVAL, "not a symlink");
    return this.inParent(path, (fd, n) =>
      host(() => readlinkSync(this.at(fd, n), { encoding: "buffer" })).toString("latin1"),
    );
  }

  setattr(path: FsPath, a: FsSetattr): void {
    this.writable();
    this.inDir(path.slice(0, -1), (dirFd) => {
      const isRoot = path.length === 0;
      const name = isRoot ? "" : path[path.length - 1];
      if (!isRoot) {
        const bad = badName(name);
        if (bad !== undefined) throw new FsError(bad, "bad name");
      }
      // An O_PATH handle of the object itself (a symlink stays a symlink): follow-type calls go through its magic link.
      const fd = isRoot ? dirFd : host(() => openSync(this.at(dirFd, name), O_PATH | C.O_NOFOLLOW));
      try {
        const st = host(() => fstatSync(fd, { bigint: true }));
        const type = Number(st.mode) & S_IFMT;
        const link = type === S_IFLNK;
        const self = this.self(fd);
        if (a.mode !== undefined) {
          if (link) throw new FsError(EOPNOTSUPP, "chmod of a symlink");
          const mode = a.mode & MODE_MASK;
          host(() => chmodSync(self, mode));
        }
        if (a.uid !== undefined || a.gid !== undefined) {
          const uid = a.uid ?? -1;
          const gid = a.gid ?? -1;
          host(() => (link ? lchownSync(this.at(dirFd, name), uid, gid) : chownSync(self, uid, gid)));
        }
        if (a.size !== undefined) {
          const size = a.size;
          if (type === S_IFDIR) throw new FsError(EISDIR, "truncate of a directory");
          if (type !== S_IFREG) throw new FsError(EINVAL, "truncate of a special file");
          const wfd = host(() => openSync(self, C.O_WRONLY | C.O_NONBLOCK));
          try {
            host(() => ftruncateSync(wfd, size));
          } finally {
            closeQuietly(wfd);
          }
        }
        if (a.atime !== undefined || a.mtime !== undefined) {
          const at = toSeconds(a.atime, st.atimeNs);
          const mt = toSeconds(a.mtime, st.mtimeNs);
          host(() => (link ? lutimesSync(this.at(dirFd, name), at, mt) : utimesSync(self, at, mt)));
        }
      } finally {
        if (!isRoot) closeQuietly(fd);
      }
    });
  }

  statfs(_path: FsPath): FsStatfs {
    const s = host(() => statfsSync(this.self(this.rootFd), { bigint: true }));
    return {
      type: Number(s.type),
      bsize: Number(s.bsize),
      blocks: s.blocks,
      bfree: s.bfree,
      bavail: s.bavail,
      files: s.files,
      ffree: s.ffree,
      fsid: 0n,
      namelen: 255,
    };
  }

  /** For NodeFile. */
  statFd(fd: number): FsStat {
    return this.toStat(host(() => fstatSync(fd, { bigint: true })));
  }

  /** For NodeFile: the entries of the open directory `fd`. */
  list(fd: number): FsDirEntry[] {
    const names = host(() => readdirSync(this.self(fd), { encoding: "buffer" }));
    const out: FsDirEntry[] = [];
    for (const b of names) {
      const name = b.toString("latin1");
      if (badName(name) !== undefined) continue;
      try {
        const st = lstatSync(this.at(fd, name), { bigint: true });
        out.push({ name, qidPath: this.qidPath(st.dev, st.ino), mode: Number(st.mode) });
      } catch {
        // removed since readdir: leave it out
      }
    }
    return out;
  }

  /** For NodeFile: a modifying call on an open file. */
  checkWritable(): void {
    this.writable();
  }
}

/** An open regular file or directory of the share. */
class NodeFile implements FsFile {
  readonly fs: NodeFsBackend;
  fd: number;
  readonly isDir: boolean;

  constructor(fs: NodeFsBackend, fd: number, isDir: boolean) {
    this.fs = fs;
    this.fd = fd;
    this.isDir = isDir;
  }

  read(offset: number, dst: Uint8Array): number {
    if (this.isDir) throw new FsError(EISDIR, "read of a directory");
    return host(() => readSync(this.fd, dst, 0, dst.length, offset));
  }

  write(offset: number, data: Uint8Array): number {
    this.fs.checkWritable();
    if (this.isDir) throw new FsError(EISDIR, "write to a directory");
    return host(() => writeSync(this.fd, data, 0, data.length, offset));
  }

  readdir(): FsDirEntry[] {
    if (!this.isDir) throw new FsError(ENOTDIR, "not a directory");
    return this.fs.list(this.fd);
  }

  stat(): FsStat {
    return this.fs.statFd(this.fd);
  }

  setattr(a: FsSetattr): void {
    this.fs.checkWritable();
    const fd = this.fd;
    if (a.mode !== undefined) {
      const mode = a.mode & MODE_MASK;
      host(() => fchmodSync(fd, mode));
    }
    if (a.uid !== undefined || a.gid !== undefined) {
      const uid = a.uid ?? -1;
      const gid = a.gid ?? -1;
      host(() => fchownSync(fd, uid, gid));
    }
    if (a.size !== undefined) {
      const size = a.size;
      if (this.isDir) throw new FsError(EISDIR, "truncate of a directory");
      host(() => ftruncateSync(fd, size));
    }
    if (a.atime !== undefined || a.mtime !== undefined) {
      const st = host(() => fstatSync(fd, { bigint: true }));
      const at = toSeconds(a.atime, st.atimeNs);
      const mt = toSeconds(a.mtime, st.mtimeNs);
      host(() => futimesSync(fd, at, mt));
    }
  }

  fsync(datasync: boolean): void {
    host(() => (datasync ? fdatasyncSync(this.fd) : fsyncSync(this.fd)));
  }

  close(): void {
    if (this.fd >= 0) closeQuietly(this.fd);
    this.fd = -1;
  }
}

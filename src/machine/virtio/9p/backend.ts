/**
 * The file-system side of the 9P server: what a host must provide to share
 * a directory with the guest (design 2.2: the core does no I/O; hosts inject
 * backends). The Node backend is src/host/node/p9-fs.ts; tests may use
 * their own.
 *
 * Conventions every backend follows:
 *
 * - A path (FsPath) is a list of names from the share root; [] is the root.
 *   Names are byte strings held as JavaScript strings with one char per
 *   byte (latin1), so any Linux file name round-trips exactly. The server
 *   hands a backend only names that are non-empty, at most NAME_MAX bytes,
 *   and free of '/' and NUL, and never "." or ".." (it resolves those
 *   itself); a backend still checks (defence in depth).
 * - A backend never follows a symbolic link on the guest's behalf. 9P
 *   clients resolve symlinks themselves (Treadlink gives them the text), so
 *   a path whose non-final name is a symlink is an error (ELOOP/ENOTDIR),
 *   and operations on a final name act on the link itself.
 * - Failures are thrown as FsError with a Linux errno (the guest's numbers,
 *   asm-generic, which RISC-V uses). Anything else thrown is answered EIO.
 * - Operations are synchronous: a request completes inside the guest's
 *   QueueNotify write, so deterministic runs stay deterministic.
 */

/** Names from the share root; [] is the root. */
export type FsPath = readonly string[];

/** Linux errno values (include/uapi/asm-generic/errno-base.h and errno.h). */
export const EPERM = 1;
export const ENOENT = 2;
export const EIO = 5;
export const ENXIO = 6;
export const E2BIG = 7;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EXDEV = 18;
export const ENODEV = 19;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const ETXTBSY = 26;
export const EFBIG = 27;
export const ENOSPC = 28;
export const ESPIPE = 29;
export const EROFS = 30;
export const EMLINK = 31;
export const ERANGE = 34;
export const EDEADLK = 35;
export const ENAMETOOLONG = 36;
export const ENOLCK = 37;
export const ENOSYS = 38;
export const ENOTEMPTY = 39;
export const ELOOP = 40;
export const ENODATA = 61;
export const EPROTO = 71;
export const EBADMSG = 74;
export const EOVERFLOW = 75;
export const EMSGSIZE = 90;
export const EOPNOTSUPP = 95;
export const ESTALE = 116;
export const EDQUOT = 122;

/** Linux open(2) flags (asm-generic/fcntl.h); 9P2000.L's P9_DOTL_* flags have the same values. */
export const O_ACCMODE = 0o3;
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DSYNC = 0o10000;
export const O_DIRECT = 0o40000;
export const O_LARGEFILE = 0o100000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000;

/** st_mode file types (the same on every Unix). */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/** Longest name (one path component) in bytes, as Linux's NAME_MAX. */
export const NAME_MAX = 255;
/** Longest symlink target in bytes, as Linux's PATH_MAX less the NUL. */
export const SYMLINK_MAX = 4095;

/** A failed file operation, with the Linux errno the guest sees in Rlerror. */
export class FsError extends Error {
  readonly errno: number;
  constructor(errno: number, message = `errno ${errno}`) {
    super(message);
    this.name = "FsError";
    this.errno = errno;
  }
}

/** Attributes of a file (Linux struct stat); times are seconds and nanoseconds since the epoch. */
export interface FsStat {
  /** st_mode: S_IFMT type bits and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  rdev: bigint;
  size: bigint;
  blksize: number;
  blocks: bigint;
  atimeSec: number;
  atimeNsec: number;
  mtimeSec: number;
  mtimeNsec: number;
  ctimeSec: number;
  ctimeNsec: number;
  /** Unique per file within the share, stable while it exists: the 9P qid path. */
  qidPath: bigint;
}

/** One directory entry (without "." and "..", which the server adds). */
export interface FsDirEntry {
  name: string;
  /** The entry's qid path, as FsStat.qidPath. */
  qidPath: bigint;
  /** The entry's st_mode (only the S_IFMT bits are used). */
  mode: number;
}

/** A point in time for setattr. */
export interface FsTime {
  sec: number;
  nsec: number;
}

/** What Tsetattr changes; absent fields stay as they are. "now" is the host's current time. */
export interface FsSetattr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: FsTime | "now";
  mtime?: FsTime | "now";
}

/** Linux struct statfs as Rstatfs carries it. */
export interface FsStatfs {
  type: number;
  bsize: number;
  blocks: bigint;
  bfree: bigint;
  bavail: bigint;
  files: bigint;
  ffree: bigint;
  fsid: bigint;
  namelen: number;
}

/**
 * An open file or directory (Tlopen, Tlcreate). It stays usable after its
 * name is unlinked or renamed, like a Unix file descriptor.
 */
export interface FsFile {
  /** Reads up to dst.length bytes at `offset` into dst; returns how many (0 at end of file). */
  read(offset: number, dst: Uint8Array): number;
  /** Writes `data` at `offset`; returns how many bytes were written. */
  write(offset: number, data: Uint8Array): number;
  /** The entries of an open directory (ENOTDIR for a file). */
  readdir(): FsDirEntry[];
  stat(): FsStat;
  setattr(attrs: FsSetattr): void;
  fsync(datasync: boolean): void;
  /** Releases the file; never throws. */
  close(): void;
}

/**
 * A shared directory tree. `dir` arguments name a directory and `name` an
 * entry in it. Modifying operations on a read-only backend throw EROFS.
 */
export interface FsBackend {
  /** True when every modifying operation fails with EROFS. */
  readonly readonly: boolean;
  /** Attributes of the object at `path`, not following a final symlink (lstat). */
  stat(path: FsPath): FsStat;
  /**
   * Opens a file or directory with Linux open flags (O_ACCMODE, O_TRUNC;
   * others may be ignored). A symlink, device, FIFO or socket cannot be
   * opened (ELOOP, or EPERM/ENXIO for the special files).
   */
  open(path: FsPath, flags: number): FsFile;
  /** Creates and opens a regular file (O_CREAT; O_EXCL and O_TRUNC as in `flags`) with permission bits `mode`. */
  create(dir: FsPath, name: string, flags: number, mode: number, gid: number): FsFile;
  mkdir(dir: FsPath, name: string, mode: number, gid: number): FsStat;
  symlink(dir: FsPath, name: string, target: string, gid: number): FsStat;
  mknod(dir: FsPath, name: string, mode: number, major: number, minor: number, gid: number): FsStat;
  /** Makes dir/name a hard link to the file at `target`. */
  link(target: FsPath, dir: FsPath, name: string): void;
  rename(oldDir: FsPath, oldName: string, newDir: FsPath, newName: string): void;
  /** Removes dir/name: a directory when `removeDir` (rmdir), anything else otherwise (unlink). */
  unlink(dir: FsPath, name: string, removeDir: boolean): void;
  /** The text of the symlink at `path` (EINVAL when it is not one). */
  readlink(path: FsPath): string;
  setattr(path: FsPath, attrs: FsSetattr): void;
  statfs(path: FsPath): FsStatfs;
}

/** Why `name` cannot be a path component, or undefined when it can ("." and ".." are refused here). */
export function badName(name: string): number | undefined {
  if (name.length === 0 || name === "." || name === "..") return EINVAL;
  if (name.length > NAME_MAX) return ENAMETOOLONG;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2f || c === 0 || c > 0xff) return EINVAL;
  }
  return undefined;
}

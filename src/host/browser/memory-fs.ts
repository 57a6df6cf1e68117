/**
 * A share held in the worker's memory (the browser has no directory to
 * export): a 9P FsBackend (src/machine/virtio/9p/backend.ts) over a tree
 * of nodes. The page puts the files dropped onto it here (putFile), and
 * the guest reads and writes them through virtio-9p. Guest input is
 * hostile: every name goes through badName, offsets and sizes are checked
 * against MAX_FILE.
 */
import {
  badName,
  EEXIST,
  EINVAL,
  EISDIR,
  ELOOP,
  ENOENT,
  ENOSPC,
  ENOTDIR,
  ENOTEMPTY,
  EPERM,
  type FsBackend,
  type FsDirEntry,
  FsError,
  type FsFile,
  type FsPath,
  type FsSetattr,
  type FsStat,
  type FsStatfs,
  O_ACCMODE,
  O_EXCL,
  O_RDONLY,
  O_TRUNC,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
} from "../../machine/virtio/9p/backend.ts";

/** The largest file the share holds (it lives in the worker's memory). */
export const MAX_FILE = 256 * 1024 * 1024;

interface Node {
  ino: bigint;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  data: Uint8Array;
  size: number;
  children: Map<string, Node> | undefined;
  target: string;
  atime: number;
  mtime: number;
  ctime: number;
}

const nowMs = () => Date.now();

export class MemoryFs implements FsBackend {
  readonly readonly = false;
  private nextIno = 1n;
  private readonly root: Node;

  constructor() {
    this.root = this.node(S_IFDIR | 0o777, 0);
    this.root.children = new Map();
  }

  /** Puts a file (from the page) at the top of the share, replacing one of the same name. */
  putFile(name: string, bytes: Uint8Array): void {
    if (badName(name) !== undefined) throw new FsError(EINVAL, `bad file name ${JSON.stringify(name)}`);
    if (bytes.length > MAX_FILE) throw new FsError(ENOSPC, `${name} is larger than ${MAX_FILE} bytes`);
    const n = this.node(S_IFREG | 0o644, 0);
    n.data = bytes.slice();
    n.size = bytes.length;
    this.root.children!.set(name, n);
  }

  private node(mode: number, gid: number): Node {
    const t = nowMs();
    return {
      ino: this.nextIno++,
      mode,
      uid: 0,
      gid,
      nlink: 1,
      data: new Uint8Array(0),
      size: 0,
      children: (mode & S_IFMT) === S_IFDIR ? new Map() : undefined,
      target: "",
      atime: t,
      mtime: t,
      ctime: t,
    };
  }

  private lookup(path: FsPath): Node {
    let n = this.root;
    for (const name of path) {
      if (n.children === undefined) throw new FsError(ENOTDIR);
      const next = n.children.get(name);
      if (next === undefined) throw new FsError(ENOENT);
      n = next;
    }
    return n;
  }

  private dir(path: FsPath): Map<string, Node> {
    const d = this.lookup(path).children;
    if (d === undefined) throw new FsError(ENOTDIR);
    return d;
  }

  private add(dir: FsPath, name: string, n: Node): Node {
    const bad = badName(name);
    if (bad !== undefined) throw new FsError(bad);
    const d = this.dir(dir);
    if (d.has(name)) throw new FsError(EEXIST);
    d.set(name, n);
    return n;
  }

  stat(path: FsPath): FsStat {
    return statOf(this.lookup(path));
  }

  open(path: FsPath, flags: number): FsFile {
    const n = this.lookup(path);
    if ((n.mode & S_IFMT) === S_IFLNK) throw new FsError(ELOOP);
    if ((n.mode & S_IFMT) === S_IFDIR && (flags & O_ACCMODE) !== O_RDONLY) throw new FsError(EISDIR);
    if (flags & O_TRUNC && (n.mode & S_IFMT) === S_IFREG) truncate(n, 0);
    return new MemoryFile(n);
  }

  create(dir: FsPath, name: string, flags: number, mode: number, gid: number): FsFile {
    const existing = this.dir(dir).get(name);
    if (existing !== undefined) {
      if (flags & O_EXCL) throw new FsError(EEXIST);
      return this.open([...dir, name], flags);
    }
    return new MemoryFile(this.add(dir, name, this.node(S_IFREG | (mode & 0o7777), gid)));
  }

  mkdir(dir: FsPath, name: string, mode: number, gid: number): FsStat {
    return statOf(this.add(dir, name, this.node(S_IFDIR | (mode & 0o7777), gid)));
  }

  symlink(dir: FsPath, name: string, target: string, gid: number): FsStat {
    const n = this.node(S_IFLNK | 0o777, gid);
    n.target = target;
    n.size = new TextEncoder().encode(target).length;
    return statOf(this.add(dir, name, n));
  }

  mknod(): FsStat {
    throw new FsError(EPERM, "the page's share holds files, directories and symlinks only");
  }

  link(target: FsPath, dir: FsPath, name: string): void {
    const n = this.lookup(target);
    if (n.children !== undefined) throw new FsError(EPERM);
    this.add(dir, name, n);
    n.nlink++;
  }

  rename(oldDir: FsPath, oldName: string, newDir: FsPath, newName: string): void {
    const bad = badName(newName);
    if (bad !== undefined) throw new FsError(bad);
    const from = this.dir(oldDir);
    const n = from.get(oldName);
    if (n === undefined) throw new FsError(ENOENT);
    const to = this.dir(newDir);
    if (n.children !== undefined && isInside(n, to)) throw new FsError(EINVAL);
    const replaced = to.get(newName);
    if (replaced?.children !== undefined && replaced.children.size > 0) throw new FsError(ENOTEMPTY);
    from.delete(oldName);
    to.set(newName, n);
  }

  unlink(dir: FsPath, name: string, removeDir: boolean): void {
    const d = this.dir(dir);
    const n = d.get(name);
    if (n === undefined) throw new FsError(ENOENT);
    if (removeDir) {
      if (n.children === undefined) throw new FsError(ENOTDIR);
      if (n.children.size > 0) throw new FsError(ENOTEMPTY);
    } else if (n.children !== undefined) throw new FsError(EISDIR);
    d.delete(name);
    n.nlink--;
  }

  readlink(path: FsPath): string {
    const n = this.lookup(path);
    if ((n.mode & S_IFMT) !== S_IFLNK) throw new FsError(EINVAL);
    return n.target;
  }

  setattr(path: FsPath, attrs: FsSetattr): void {
    setattrOf(this.lookup(path), attrs);
  }

  statfs(): FsStatfs {
    const blocks = BigInt(MAX_FILE / 4096);
    return {
      type: 0x01021994,
      bsize: 4096,
      blocks,
      bfree: blocks,
      bavail: blocks,
      files: 1n << 20n,
      ffree: 1n << 20n,
      fsid: 0n,
      namelen: 255,
    };
  }
}

function isInside(dirNode: Node, target: Map<string, Node>): boolean {
  if (dirNode.children === target) return true;
  for (const c of dirNode.children?.values() ?? []) if (c.children && isInside(c, target)) return true;
  return false;
}

function truncate(n: Node, size: number): void {
  if (size > MAX_FILE) throw new FsError(ENOSPC);
  if (size > n.data.length) {
    const grown = new Uint8Array(Math.min(MAX_FILE, Math.max(size, n.data.length * 2)));
    grown.set(n.data.subarray(0, n.size));
    n.data = grown;
  } else n.data.fill(0, size, n.size);
  n.size = size;
  n.mtime = n.ctime = nowMs();
}

function setattrOf(n: Node, a: FsSetattr): void {
  if (a.mode !== undefined) n.mode = (n.mode & S_IFMT) | (a.mode & 0o7777);
  if (a.uid !== undefined) n.uid = a.uid;
  if (a.gid !== undefined) n.gid = a.gid;
  if (a.size !== undefined) {
    if (n.children !== undefined) throw new FsError(EISDIR);
    truncate(n, a.size);
  }
  const ms = (t: FsSetattr["atime"]) => (t === "now" ? nowMs() : t!.sec * 1000 + t!.nsec / 1e6);
  if (a.atime !== undefined) n.atime = ms(a.atime);
  if (a.mtime !== undefined) n.mtime = ms(a.mtime);
  n.ctime = nowMs();
}

function statOf(n: Node): FsStat {
  const t = (ms: number) => ({ sec: Math.floor(ms / 1000), nsec: Math.floor((ms % 1000) * 1e6) });
  const [a, m, c] = [t(n.atime), t(n.mtime), t(n.ctime)];
  return {
    mode: n.mode,
    uid: n.uid,
    gid: n.gid,
    nlink: n.children !== undefined ? 2 : n.nlink,
    rdev: 0n,
    size: BigInt(n.children !== undefined ? 4096 : n.size),
    blksize: 4096,
    blocks: BigInt(Math.ceil(n.size / 512)),
    atimeSec: a.sec,
    atimeNsec: a.nsec,
    mtimeSec: m.sec,
    mtimeNsec: m.nsec,
    ctimeSec: c.sec,
    ctimeNsec: c.nsec,
    qidPath: n.ino,
  };
}

class MemoryFile implements FsFile {
  private readonly n: Node;
  constructor(n: Node) {
    this.n = n;
  }

  read(offset: number, dst: Uint8Array): number {
    if (this.n.children !== undefined) throw new FsError(EISDIR);
    if (offset >= this.n.size) return 0;
    const len = Math.min(dst.length, this.n.size - offset);
    dst.set(this.n.data.subarray(offset, offset + len));
    return len;
  }

  write(offset: number, data: Uint8Array): number {
    if (this.n.children !== undefined) throw new FsError(EISDIR);
    const end = offset + data.length;
    if (end > MAX_FILE) throw new FsError(ENOSPC);
    if (end > this.n.size) truncate(this.n, end);
    this.n.data.set(data, offset);
    this.n.mtime = nowMs();
    return data.length;
  }

  readdir(): FsDirEntry[] {
    if (this.n.children === undefined) throw new FsError(ENOTDIR);
    return [...this.n.children].map(([name, c]) => ({ name, qidPath: c.ino, mode: c.mode }));
  }

  stat(): FsStat {
    return statOf(this.n);
  }

  setattr(attrs: FsSetattr): void {
    setattrOf(this.n, attrs);
  }

  fsync(): void {}

  close(): void {}
}

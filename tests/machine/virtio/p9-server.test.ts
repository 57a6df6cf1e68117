/**
 * The 9P2000.L server, message by message, over the Node backend on a temp
 * directory (and a failing fake backend for error paths): every operation
 * the Linux client uses, error replies, malformed messages, msize limits,
 * fid misuse and limits, and the state round trip.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { NodeFsBackend } from "../../../src/host/node/p9-fs.ts";
import {
  EBADF,
  EBUSY,
  EINVAL,
  EIO,
  EISDIR,
  EMFILE,
  EMSGSIZE,
  ENFILE,
  ENOENT,
  ENOTDIR,
  ENOTEMPTY,
  EOPNOTSUPP,
  EPERM,
  EPROTO,
  type FsBackend,
  FsError,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
} from "../../../src/machine/virtio/9p/backend.ts";
import { P9_MIN_MSIZE, P9Server } from "../../../src/machine/virtio/9p/server.ts";
import {
  P9_AT_REMOVEDIR,
  P9_ATTR_MODE,
  P9_ATTR_MTIME,
  P9_ATTR_MTIME_SET,
  P9_ATTR_SIZE,
  P9_NOTAG,
  P9_QTDIR,
  P9_QTFILE,
  P9_QTSYMLINK,
  P9_RLERROR,
  P9_STATS_BASIC,
  P9_TREAD,
  P9_TWALK,
  P9_TWRITE,
} from "../../../src/machine/virtio/9p/wire.ts";
import { lerror, MsgBuilder, P9TestClient } from "../../support/p9-client.ts";
import { assertRoundTrip } from "../../support/roundtrip.ts";

const tmp = mkdtempSync(join(tmpdir(), "virtus-9p-server-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;

/** A fresh share with `files` (name → content; a trailing '/' makes a directory) and a client attached as fid 1. */
function setup(
  files: Record<string, string> = {},
  opts: { maxFids?: number; maxOpen?: number; maxMsize?: number } = {},
) {
  const root = join(tmp, `share${dirs++}`);
  mkdirSync(root);
  for (const [name, content] of Object.entries(files)) {
    if (name.endsWith("/")) mkdirSync(join(root, name), { recursive: true });
    else writeFileSync(join(root, name), content);
  }
  const backend = new NodeFsBackend(root);
  const server = new P9Server({ backend, ...opts });
  const c = new P9TestClient((req, len, room) => server.handle(req, len, room));
  c.version(128 * 1024);
  const rootQid = c.attach(1);
  return { root, backend, server, c, rootQid };
}

const errno = (n: number) => (e: unknown) => e instanceof FsError && e.errno === n;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

test("Tversion negotiates msize and 9P2000.L, resets the session, and refuses what it cannot speak", () => {
  const server = new P9Server({ backend: new NodeFsBackend(tmp), maxMsize: 64 * 1024 });
  const c = new P9TestClient((req, len, room) => server.handle(req, len, room));
  assert.throws(() => c.attach(1), errno(EPROTO), "attach before Tversion");
  assert.deepEqual(c.version(1 << 20), { msize: 64 * 1024, version: "9P2000.L" });
  assert.deepEqual(c.version(16384), { msize: 16384, version: "9P2000.L" });
  c.attach(1);
  assert.equal(server.fidCount, 1);
  assert.deepEqual(c.version(16384, "9P2000.u"), { msize: 16384, version: "unknown" });
  assert.equal(server.fidCount, 0, "Tversion clunks every fid");
  assert.throws(() => c.attach(1), errno(EPROTO), "no session after an unknown version");
  assert.throws(() => c.version(P9_MIN_MSIZE - 1), errno(EINVAL));
  assert.deepEqual(c.version(P9_MIN_MSIZE), { msize: P9_MIN_MSIZE, version: "9P2000.L" });
});

test("Tattach and Tgetattr of the root", () => {
  const { c, rootQid, root } = setup();
  assert.equal(rootQid.type, P9_QTDIR);
  const a = c.getattr(1);
  assert.equal(a.valid, BigInt(P9_STATS_BASIC));
  assert.equal(a.mode & S_IFMT, S_IFDIR);
  assert.deepEqual(a.qid, rootQid);
  assert.equal(a.qid.path, BigInt(statSync(root, { bigint: true }).ino));
  assert.throws(() => c.attach(1), errno(EINVAL), "fid 1 is in use");
});

test("Twalk: names, '.', '..' at the root, partial walks, clones and bad names", () => {
  const { c, rootQid } = setup({ "a/": "", "a/b/": "", "a/b/f": "data" });
  const q = c.walk(1, 2, ["a", "b", "f"]);
  assert.deepEqual(
    q.map((x) => x.type),
    [P9_QTDIR, P9_QTDIR, P9_QTFILE],
  );
  assert.equal(text(c.read((c.lopen(2, O_RDONLY), 2), 0, 100)), "data");
  // ".." at the root stays at the root; "." stays put.
  assert.deepEqual(c.walk(1, 3, ["..", "..", "."]), [rootQid, rootQid, rootQid]);
  assert.deepEqual(c.walk(1, 4, ["a", "..", "a", "b", "..", ".."]).at(-1), rootQid);
  // A partial walk returns the qids that worked and does not make newfid.
  assert.equal(c.walk(1, 5, ["a", "nope", "x"]).length, 1);
  assert.throws(() => c.getattr(5), errno(EBADF));
  assert.throws(() => c.walk(1, 5, ["nope"]), errno(ENOENT));
  // Through a file.
  assert.equal(c.walk(1, 5, ["a", "b", "f", "x"]).length, 3);
  // Names that cannot be path components.
  assert.throws(() => c.walk(1, 5, ["a/b"]), errno(EINVAL));
  assert.throws(() => c.walk(1, 5, [""]), errno(EINVAL));
  assert.throws(() => c.walk(1, 5, ["a\0"]), errno(EINVAL));
  assert.equal(c.walk(1, 5, ["a", "b/f"]).length, 1);
  assert.throws(() => c.walk(1, 5, new Array(17).fill(".")), errno(EINVAL));
  // Clone, walk in place, and fid misuse.
  assert.deepEqual(c.walk(3, 6, []), []);
  assert.deepEqual(c.getattr(6).qid, rootQid);
  c.walk(6, 6, ["a"]);
  assert.equal(c.getattr(6).qid.type, P9_QTDIR);
  assert.notDeepEqual(c.getattr(6).qid, rootQid);
  assert.throws(() => c.walk(1, 6, ["a"]), errno(EINVAL), "newfid in use");
  assert.throws(() => c.walk(99, 7, []), errno(EBADF), "unknown fid");
  assert.throws(() => c.walk(2, 2, ["x"]), errno(EBUSY), "an open fid walked in place");
});

test("Tlcreate, Twrite, Tread, Tfsync, Tgetattr size and Tclunk", () => {
  const { c, root, server } = setup();
  c.walk(1, 2, []);
  const q = c.lcreate(2, "new.txt", O_RDWR, 0o640);
  assert.equal(q.type, P9_QTFILE);
  assert.equal(c.write(2, 0, "hello, "), 7);
  assert.equal(c.write(2, 7, "world"), 5);
  c.fsync(2);
  c.fsync(2, 1);
  assert.equal(text(c.read(2, 0, 100)), "hello, world");
  assert.equal(text(c.read(2, 7, 3)), "wor");
  assert.equal(c.read(2, 12, 100).length, 0, "end of file");
  assert.equal(c.read(2, 2 ** 60, 100).length, 0, "far beyond the end");
  assert.equal(c.getattr(2).size, 12n);
  assert.equal(readFileSync(join(root, "new.txt"), "utf8"), "hello, world");
  assert.equal(
    statSync(join(root, "new.txt")).mode & 0o777,
    0o640,
    "the guest's mode, not narrowed by the host umask",
  );
  assert.equal(server.openFids, 1);
  c.clunk(2);
  assert.equal(server.openFids, 0);
  assert.throws(() => c.clunk(2), errno(EBADF));
  assert.throws(() => c.read(2, 0, 1), errno(EBADF));
  // Tlcreate on an existing name.
  c.walk(1, 3, []);
  assert.throws(() => c.lcreate(3, "new.txt", O_RDWR | 0o200 /* O_EXCL */, 0o600), errno(17));
  assert.throws(() => c.lcreate(3, "a/b", O_RDWR, 0o600), errno(EINVAL));
  assert.throws(() => c.lcreate(3, "..", O_RDWR, 0o600), errno(EINVAL));
});

test("Tlopen modes: read-only fids cannot write, directories cannot be read, O_TRUNC truncates", () => {
  const { c, root } = setup({ f: "0123456789", "d/": "" });
  c.walk(1, 2, ["f"]);
  c.lopen(2, O_RDONLY);
  assert.throws(() => c.write(2, 0, "x"), errno(EBADF));
  assert.throws(() => c.lopen(2, O_RDONLY), errno(EINVAL), "already open");
  c.walk(1, 3, ["f"]);
  assert.throws(() => c.read(3, 0, 1), errno(EBADF), "not open");
  c.lopen(3, O_WRONLY | O_TRUNC);
  assert.equal(readFileSync(join(root, "f"), "utf8"), "");
  assert.throws(() => c.read(3, 0, 1), errno(EBADF));
  c.walk(1, 4, ["d"]);
  assert.throws(() => c.lopen(4, O_RDWR), errno(EISDIR));
  c.lopen(4, O_RDONLY);
  assert.throws(() => c.read(4, 0, 10), errno(EISDIR));
  assert.throws(() => c.write(4, 0, "x"), errno(EISDIR));
  c.walk(1, 5, ["f"]);
  c.lopen(5, O_RDWR);
  assert.throws(() => c.readdir(5, 0, 100), errno(ENOTDIR));
});

test("Tread and Treaddir replies stay within msize and the transport's room", () => {
  const { c } = setup({ big: "x".repeat(100_000) });
  c.version(P9_MIN_MSIZE);
  c.attach(1);
  c.walk(1, 2, ["big"]);
  c.lopen(2, O_RDONLY);
  assert.equal(c.read(2, 0, 100_000).length, P9_MIN_MSIZE - 11);
  c.room = 4096 + 11;
  assert.equal(c.read(2, 0, 100_000).length, 4096, "a zero-copy read's header + pages");
  c.room = 11;
  assert.equal(c.read(2, 0, 100_000).length, 0);
  // Not even an Rlerror fits: nothing is written.
  const req = new MsgBuilder(P9_TREAD, 9).u32(2).u64(0).u32(10).done();
  assert.equal(c.raw(req, 10).length, 0);
  // A request larger than msize.
  const big = new MsgBuilder(P9_TWRITE, 9)
    .u32(2)
    .u64(0)
    .u32(P9_MIN_MSIZE)
    .raw(new Uint8Array(P9_MIN_MSIZE))
    .done();
  assert.deepEqual(lerror(c.raw(big, 1 << 20)), [9, EMSGSIZE]);
});

test("Treaddir lists '.', '..' and every entry with types, across small batches", () => {
  const names = Array.from({ length: 40 }, (_, i) => `file-with-a-long-name-${i}`);
  const files: Record<string, string> = { "sub/": "" };
  for (const n of names) files[n] = n;
  const { c, rootQid } = setup(files);
  c.walk(1, 2, []);
  c.lopen(2, O_RDONLY);
  const all = c.readdirAll(2, 300);
  const got = all.map((e) => e.name).sort();
  assert.deepEqual(got, [".", "..", ...names, "sub"].sort());
  const dot = all.find((e) => e.name === ".")!;
  const dotdot = all.find((e) => e.name === "..")!;
  assert.deepEqual(dot.qid, rootQid);
  assert.deepEqual(dotdot.qid, rootQid, "the root's parent is itself");
  assert.equal(all.find((e) => e.name === "sub")!.type, 4 /* DT_DIR */);
  assert.equal(all.find((e) => e.name === names[0])!.type, 8 /* DT_REG */);
  assert.equal(new Set(all.map((e) => e.offset)).size, all.length, "offsets are distinct cookies");
  // Resuming from an entry's offset gives the entries after it.
  const rest = c.readdir(2, all[9].offset, 1 << 16);
  assert.deepEqual(
    rest.map((e) => e.name),
    all.slice(10).map((e) => e.name),
  );
  assert.deepEqual(c.readdir(2, 10_000, 1000), []);
  assert.deepEqual(c.readdir(2, 0, 10), [], "a count too small for one entry");
  assert.throws(() => c.readdir(1, 0, 100), errno(EBADF), "not open");
});

test("Tmkdir, Tsymlink, Treadlink, Tlink, Tunlinkat and Tremove", () => {
  const { c, root } = setup({ f: "content" });
  assert.equal(c.mkdir(1, "dir", 0o750).type, P9_QTDIR);
  assert.equal(statSync(join(root, "dir")).mode & 0o777, 0o750);
  assert.equal(c.symlink(1, "ln", "f").type, P9_QTSYMLINK);
  c.walk(1, 2, ["ln"]);
  assert.equal(c.readlink(2), "f");
  assert.equal(c.getattr(2).mode & S_IFMT, S_IFLNK);
  c.walk(1, 3, ["f"]);
  assert.throws(() => c.readlink(3), errno(EINVAL));
  c.walk(1, 4, ["dir"]);
  c.link(4, 3, "hard");
  assert.equal(c.getattr(3).nlink, 2n);
  assert.equal(readFileSync(join(root, "dir/hard"), "utf8"), "content");
  assert.throws(() => c.unlinkat(1, "dir"), errno(EISDIR));
  assert.throws(() => c.unlinkat(1, "dir", P9_AT_REMOVEDIR), errno(ENOTEMPTY));
  c.unlinkat(4, "hard");
  c.unlinkat(1, "dir", P9_AT_REMOVEDIR);
  assert.throws(() => statSync(join(root, "dir")));
  assert.throws(() => c.unlinkat(1, "nope"), errno(ENOENT));
  assert.throws(() => c.unlinkat(1, "..", 0), errno(EINVAL));
  assert.throws(() => c.mkdir(1, "x/y", 0o755), errno(EINVAL));
  // Tremove clunks the fid, even when the remove fails.
  c.remove(2);
  assert.throws(() => statSync(join(root, "ln")));
  assert.throws(() => c.getattr(2), errno(EBADF));
  c.mkdir(1, "full", 0o755);
  writeFileSync(join(root, "full/x"), "");
  c.walk(1, 5, ["full"]);
  assert.throws(() => c.remove(5), errno(ENOTEMPTY));
  assert.throws(() => c.getattr(5), errno(EBADF));
  c.walk(1, 6, []);
  assert.throws(() => c.remove(6), errno(EBUSY), "the share root");
  assert.throws(() => c.mknod(1, "fifo", 0o10644), errno(EPERM));
});

test("Trename and Trenameat move the file and every fid under it follows", () => {
  const { c, root } = setup({ "a/": "", "a/f": "x", "b/": "" });
  c.walk(1, 2, ["a", "f"]);
  c.walk(1, 3, ["a"]);
  c.walk(1, 4, ["b"]);
  c.renameat(1, "a", 4, "moved");
  assert.equal(readFileSync(join(root, "b/moved/f"), "utf8"), "x");
  c.lopen(2, O_RDONLY);
  assert.equal(text(c.read(2, 0, 10)), "x", "fid 2 followed the rename of its parent");
  c.walk(3, 5, ["f"]);
  c.rename(5, 1, "top");
  assert.equal(readFileSync(join(root, "top"), "utf8"), "x");
  c.walk(5, 6, []);
  assert.equal(c.getattr(6).size, 1n);
  assert.throws(() => c.renameat(1, "nope", 1, "x"), errno(ENOENT));
  assert.throws(() => c.rename(1, 4, "root"), errno(EBUSY));
});

test("Tsetattr: mode, size, mtime, on paths and on open fids", () => {
  const { c, root } = setup({ f: "0123456789" });
  c.walk(1, 2, ["f"]);
  c.setattr(2, P9_ATTR_MODE, { mode: 0o4711 });
  assert.equal(statSync(join(root, "f")).mode & 0o7777, 0o711, "set-user-ID is stripped");
  c.setattr(2, P9_ATTR_SIZE, { size: 4 });
  assert.equal(readFileSync(join(root, "f"), "utf8"), "0123");
  c.setattr(2, P9_ATTR_MTIME | P9_ATTR_MTIME_SET, { mtime: 1_000_000_000 });
  assert.equal(statSync(join(root, "f")).mtimeMs, 1e12);
  assert.equal(c.getattr(2).mtimeSec, 1_000_000_000n);
  c.lopen(2, O_RDWR);
  c.setattr(2, P9_ATTR_SIZE, { size: 2 });
  assert.equal(readFileSync(join(root, "f"), "utf8"), "01");
  c.setattr(2, P9_ATTR_MODE, { mode: 0o600 });
  assert.equal(statSync(join(root, "f")).mode & 0o777, 0o600);
  c.walk(1, 3, []);
  assert.throws(() => c.setattr(3, P9_ATTR_SIZE, { size: 0 }), errno(EISDIR));
});

test("Tstatfs, Tlock, Tgetlock, Tflush and the xattr messages", () => {
  const { c, server } = setup({ f: "" });
  const s = c.statfs(1);
  assert.ok(s.bsize > 0 && s.blocks > 0n);
  assert.equal(s.namelen, 255);
  c.walk(1, 2, ["f"]);
  assert.equal(c.lock(2), 0);
  assert.deepEqual(c.getlock(2), { type: 2, start: 100n, length: 200n, procId: 42, client: "guest" });
  assert.throws(() => c.lock(77), errno(EBADF));
  c.flush(5);
  const before = server.fidCount;
  assert.throws(() => c.xattrwalk(2, 3, "user.x"), errno(EOPNOTSUPP));
  assert.throws(() => c.xattrwalk(2, 3, ""), errno(EOPNOTSUPP));
  assert.equal(server.fidCount, before, "no attr fid made");
  assert.throws(() => c.xattrcreate(2, "user.x"), errno(EOPNOTSUPP));
});

test("malformed messages get Rlerror, never an exception", () => {
  const { c, server } = setup({ f: "" });
  // Shorter than a header: EPROTO with NOTAG.
  assert.deepEqual(lerror(c.raw(new Uint8Array([1, 2, 3]))), [P9_NOTAG, EPROTO]);
  assert.deepEqual(lerror(c.raw(new Uint8Array(0))), [P9_NOTAG, EPROTO]);
  // A size field larger than the bytes given, or smaller than a header.
  const walk = new MsgBuilder(P9_TWALK, 3).u32(1).u32(2).u16(0).done();
  const lying = walk.slice();
  lying[0] = 200;
  assert.deepEqual(lerror(c.raw(lying)), [3, EPROTO]);
  lying[0] = 5;
  assert.deepEqual(lerror(c.raw(lying)), [3, EPROTO]);
  // nwname says 3, one name present; a string running past the end; fields missing.
  assert.deepEqual(lerror(c.raw(new MsgBuilder(P9_TWALK, 4).u32(1).u32(2).u16(3).str("f").done())), [
    4,
    EPROTO,
  ]);
  assert.deepEqual(lerror(c.raw(new MsgBuilder(P9_TWALK, 5).u32(1).u32(2).u16(1).u16(50).raw([65]).done())), [
    5,
    EPROTO,
  ]);
  assert.deepEqual(lerror(c.raw(new MsgBuilder(P9_TREAD, 6).u32(1).done())), [6, EPROTO]);
  // Twrite whose count is larger than its data.
  assert.deepEqual(lerror(c.raw(new MsgBuilder(P9_TWRITE, 7).u32(1).u64(0).u32(100).raw([1, 2]).done())), [
    7,
    EPROTO,
  ]);
  // Unknown types, 9P2000 messages, R-messages.
  for (const type of [0, 112 /* Topen */, 124 /* Tstat */, 101 /* Rversion */, 255])
    assert.deepEqual(lerror(c.raw(new MsgBuilder(type, 8).u32(1).done())), [8, EOPNOTSUPP], `type ${type}`);
  // None of it made fids.
  assert.equal(server.fidCount, 1);
});

test("fuzz: mutated and random messages always get a well-formed reply with the request's tag", () => {
  const { c, server } = setup({ "d/": "", "d/f": "abc", l: "" });
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const valid = [
    new MsgBuilder(P9_TWALK, 1).u32(1).u32(2).u16(2).str("d").str("f").done(),
    new MsgBuilder(P9_TREAD, 1).u32(2).u64(0).u32(10).done(),
    new MsgBuilder(12, 1).u32(2).u32(0).done(),
    new MsgBuilder(24, 1).u32(1).u64(0x3fff).done(),
    new MsgBuilder(40, 1).u32(2).u64(0).u32(500).done(),
    new MsgBuilder(26, 1).u32(9).u32(0).u32(0).u32(0).u32(0).u64(0).u64(0).u64(0).u64(0).u64(0).done(),
  ];
  for (let i = 0; i < 5000; i++) {
    let m: Uint8Array;
    if (i % 3 === 0) {
      m = new Uint8Array(rand(64));
      for (let j = 0; j < m.length; j++) m[j] = rand(256);
      if (m.length >= 5 && rand(2)) new DataView(m.buffer).setUint32(0, m.length, true);
    } else {
      m = valid[rand(valid.length)].slice();
      for (let k = rand(4) + 1; k > 0; k--) m[4 + rand(m.length - 4)] = rand(256);
      if (rand(4) === 0) m = m.subarray(0, rand(m.length + 1));
    }
    const reply = c.raw(m, 1 << 16);
    assert.ok(reply.length >= 11, `reply to ${Buffer.from(m).toString("hex")}`);
    const dv = new DataView(reply.buffer, reply.byteOffset);
    assert.equal(dv.getUint32(0, true), reply.length);
    if (m.length >= 7 && dv.getUint32(0, true) >= 7) assert.equal(dv.getUint16(5, true), m[5] | (m[6] << 8));
    if (reply[4] !== P9_RLERROR && m.length >= 7) assert.equal(reply[4], m[4] + 1);
    // Clean up fids the fuzz made, so later iterations keep exercising paths.
    if (server.fidCount > 50) {
      c.version(1 << 17);
      c.attach(1);
    }
  }
});

test("fid limits: too many fids is ENFILE, too many open files EMFILE; clunk frees both", () => {
  const { c } = setup({ f: "" }, { maxFids: 4, maxOpen: 2 });
  c.walk(1, 2, ["f"]);
  c.walk(1, 3, ["f"]);
  c.walk(1, 4, ["f"]);
  assert.throws(() => c.walk(1, 5, ["f"]), errno(ENFILE));
  c.lopen(2, O_RDONLY);
  c.lopen(3, O_RDONLY);
  assert.throws(() => c.lopen(4, O_RDONLY), errno(EMFILE));
  c.clunk(2);
  c.lopen(4, O_RDONLY);
  c.walk(1, 5, ["f"]);
  assert.throws(() => c.attach(6), errno(ENFILE));
});

test("a backend that throws something other than FsError gets EIO, logged", () => {
  const log: string[] = [];
  const broken = new Proxy({} as FsBackend, {
    get: (_t, p) =>
      p === "readonly"
        ? false
        : () => {
            throw new TypeError(`boom in ${String(p)}`);
          },
  });
  const server = new P9Server({ backend: broken, log: (l) => log.push(l) });
  const c = new P9TestClient((req, len, room) => server.handle(req, len, room));
  c.version(1 << 16);
  assert.throws(() => c.attach(1), errno(EIO));
  assert.match(log.join("\n"), /boom in stat/);
});

test("state round trip: fids and open files survive save and restore into a fresh server", () => {
  const { c, server, backend, root } = setup({ "d/": "", "d/f": "saved data" });
  c.walk(1, 2, ["d", "f"]);
  c.lopen(2, O_RDWR);
  c.walk(1, 3, ["d"]);
  const fresh = new P9Server({ backend });
  const s = assertRoundTrip(
    server,
    fresh,
    (x) => x.saveState(),
    (x, st) => x.restoreState(st),
  );
  assert.equal(s.fids.length, 3);
  const c2 = new P9TestClient((req, len, room) => fresh.handle(req, len, room));
  assert.equal(text(c2.read(2, 0, 100)), "saved data");
  c2.write(2, 0, "SAVED");
  assert.equal(readFileSync(join(root, "d/f"), "utf8"), "SAVED data");
  c2.walk(3, 4, ["f"]);
  assert.equal(fresh.openFids, 1);
  // Bad records are refused.
  assert.throws(() => fresh.restoreState({ ...s, version: 2 as 1 }));
  assert.throws(() => fresh.restoreState({ ...s, fids: [{ fid: 1, path: [".."], openFlags: -1 }] }));
  assert.throws(() => fresh.restoreState({ ...s, fids: [{ fid: 1, path: ["a/b"], openFlags: -1 }] }));
  assert.throws(() => fresh.restoreState({ ...s, msize: 10 }));
  // A file gone by restore time leaves its fid answering EIO.
  rmSync(join(root, "d/f"));
  const third = new P9Server({ backend });
  third.restoreState(s);
  const c3 = new P9TestClient((req, len, room) => third.handle(req, len, room));
  assert.throws(() => c3.read(2, 0, 10), errno(EIO));
  assert.equal(c3.getattr(3).mode & S_IFMT, S_IFDIR);
  void S_IFREG;
});

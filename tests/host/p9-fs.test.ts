/**
 * Confinement of the Node 9P backend (the --share contract): the guest
 * reaches nothing outside the share, through "..", absolute or relative
 * symlinks, or a directory swapped for a symlink between (or during)
 * operations; a read-only share refuses every change. Each test plants a
 * secret outside the share and checks it is neither read nor changed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Worker } from "node:worker_threads";
import { NodeFsBackend } from "../../src/host/node/p9-fs.ts";
import { VirtusError } from "../../src/machine/errors.ts";
import {
  EINVAL,
  ELOOP,
  ENOENT,
  ENOTDIR,
  EOPNOTSUPP,
  EPERM,
  EROFS,
  FsError,
  O_CREAT,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
  S_IFLNK,
  S_IFMT,
} from "../../src/machine/virtio/9p/backend.ts";
import { P9Server } from "../../src/machine/virtio/9p/server.ts";
import {
  P9_ATTR_MODE,
  P9_ATTR_MTIME,
  P9_ATTR_MTIME_SET,
  P9_ATTR_SIZE,
} from "../../src/machine/virtio/9p/wire.ts";
import { P9TestClient } from "../support/p9-client.ts";

const tmp = mkdtempSync(join(tmpdir(), "virtus-9p-fs-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const SECRET = "HOST-SECRET-5f2b7e";
let n = 0;

/**
 * outer/secret/passwd (outside the share) and outer/share/ with a decoy
 * d/passwd, an absolute link to /etc, an absolute link to the secret
 * directory, a relative link climbing out, and a link to the secret file.
 */
function world(opts: { readonly?: boolean } = {}) {
  const outer = join(tmp, `w${n++}`);
  const share = join(outer, "share");
  const secretDir = join(outer, "secret");
  mkdirSync(join(share, "d"), { recursive: true });
  mkdirSync(secretDir);
  writeFileSync(join(secretDir, "passwd"), SECRET);
  writeFileSync(join(share, "d/passwd"), "decoy");
  writeFileSync(join(share, "file"), "inside");
  symlinkSync("/etc", join(share, "escape-link"));
  symlinkSync(secretDir, join(share, "abs-link"));
  symlinkSync("../secret", join(share, "rel-link"));
  symlinkSync(join(secretDir, "passwd"), join(share, "file-link"));
  const backend = new NodeFsBackend(share, opts);
  const server = new P9Server({ backend });
  const c = new P9TestClient((req, len, room) => server.handle(req, len, room));
  c.version(1 << 17);
  const rootQid = c.attach(1);
  return { outer, share, secretDir, backend, server, c, rootQid };
}

const errno =
  (...ns: number[]) =>
  (e: unknown) =>
    e instanceof FsError && ns.includes(e.errno);
const text = (b: Uint8Array) => Buffer.from(b).toString("latin1");

function assertSecretUntouched(w: ReturnType<typeof world>) {
  assert.deepEqual(readdirSync(w.secretDir), ["passwd"]);
  assert.equal(readFileSync(join(w.secretDir, "passwd"), "utf8"), SECRET);
  assert.equal(statSync(join(w.secretDir, "passwd")).mode & 0o777, 0o644);
  assert.deepEqual(readdirSync(w.outer).sort(), ["secret", "share"]);
}

test("'..' from the root stays at the root", () => {
  const w = world();
  const { c, rootQid } = w;
  assert.deepEqual(c.walk(1, 2, ["..", "..", ".."]), [rootQid, rootQid, rootQid]);
  c.lopen(2, O_RDONLY);
  const names = c.readdirAll(2).map((e) => e.name);
  assert.ok(names.includes("escape-link") && !names.includes("secret"), names.join(" "));
  // "../secret/passwd" from the root: ".." is the root, and the share has no "secret".
  assert.equal(c.walk(1, 3, ["..", "secret", "passwd"]).length, 1);
  assert.throws(() => c.getattr(3));
  // From a subdirectory, ".." goes up to the root and no further.
  assert.deepEqual(c.walk(1, 4, ["d", "..", "..", ".."]).at(-1), rootQid);
  // '..' hidden inside a name is not a path.
  assert.throws(() => c.walk(1, 5, ["../secret"]), errno(EINVAL));
  assert.throws(() => c.lcreate(1, "../x", O_RDWR, 0o644), errno(EINVAL));
  assertSecretUntouched(w);
});

test("a symlink to /etc: walk and open never reach the host's /etc/passwd", () => {
  const w = world();
  const { c } = w;
  const q = c.walk(1, 2, ["escape-link", "passwd"]);
  assert.equal(q.length, 1, "the walk stops at the symlink");
  assert.equal(q[0].type, 0x02);
  assert.throws(() => c.getattr(2), "newfid was not made");
  c.walk(1, 3, ["escape-link"]);
  assert.equal(c.readlink(3), "/etc", "the link text is the guest's to resolve");
  assert.throws(() => c.lopen(3, O_RDONLY), errno(ELOOP));
  assert.throws(() => c.walk(3, 4, ["passwd"]), errno(ENOTDIR));
  assert.throws(() => c.lcreate(3, "x", O_RDWR, 0o644), errno(ENOTDIR));
  assert.throws(() => c.mkdir(3, "x", 0o755), errno(ENOTDIR));
  assert.throws(() => c.symlink(3, "x", "y"), errno(ENOTDIR));
  assert.throws(() => c.unlinkat(3, "passwd"), errno(ENOTDIR));
  // The backend itself, asked directly with a path through the link.
  assert.throws(() => w.backend.open(["escape-link", "passwd"], O_RDONLY), errno(ENOTDIR));
  assert.throws(() => w.backend.stat(["escape-link", "passwd"]), errno(ENOTDIR));
  assert.throws(() => w.backend.readlink(["escape-link", "passwd"]), errno(ENOTDIR));
});

test("absolute and relative symlinks out of the share: no read, no write, no attribute change", () => {
  const w = world();
  const { c } = w;
  for (const link of ["abs-link", "rel-link"]) {
    assert.equal(c.walk(1, 2, [link, "passwd"]).length, 1, link);
    c.walk(1, 3, [link]);
    assert.throws(() => c.lopen(3, O_RDONLY), errno(ELOOP));
    assert.throws(() => c.walk(3, 4, ["passwd"]), errno(ENOTDIR));
    assert.throws(() => c.lcreate(3, "new", O_RDWR, 0o644), errno(ENOTDIR));
    assert.throws(() => c.renameat(1, "file", 3, "moved"), errno(ENOTDIR));
    c.walk(1, 5, ["file"]);
    assert.throws(() => c.link(3, 5, "hard"), errno(ENOTDIR));
    assert.throws(() => c.setattr(3, P9_ATTR_MODE, { mode: 0o777 }), errno(EOPNOTSUPP));
    c.clunk(3);
    c.clunk(5);
  }
  // A symlink to a file outside.
  c.walk(1, 6, ["file-link"]);
  assert.throws(() => c.lopen(6, O_RDONLY), errno(ELOOP));
  assert.throws(() => c.lopen(6, O_WRONLY | O_TRUNC), errno(ELOOP));
  assert.throws(() => c.setattr(6, P9_ATTR_MODE, { mode: 0o666 }), errno(EOPNOTSUPP));
  assert.throws(() => c.setattr(6, P9_ATTR_SIZE, { size: 0 }), errno(EINVAL));
  c.setattr(6, P9_ATTR_MTIME | P9_ATTR_MTIME_SET, { mtime: 1000 }); // the link's own time
  assert.equal(lstatSync(join(w.share, "file-link")).mtimeMs, 1e6);
  assert.notEqual(statSync(join(w.secretDir, "passwd")).mtimeMs, 1e6);
  // Creating over the link's name does not write through it.
  assert.throws(() => c.lcreate(1, "file-link", O_RDWR | O_TRUNC, 0o644), errno(ELOOP, 17));
  assert.throws(() => c.mkdir(1, "file-link", 0o755), errno(17));
  // A hard link of the symlink is a link to the symlink, not to the secret.
  c.link(1, 6, "hard");
  assert.equal(lstatSync(join(w.share, "hard")).mode & S_IFMT, S_IFLNK);
  // Removing the link removes the link.
  c.unlinkat(1, "abs-link");
  assertSecretUntouched(w);
});

test("a directory swapped for a symlink between two walks leads nowhere", () => {
  const w = world();
  const { c, share, secretDir } = w;
  c.walk(1, 2, ["d"]);
  c.walk(1, 3, ["d", "passwd"]);
  renameSync(join(share, "d"), join(share, "d-old"));
  symlinkSync(secretDir, join(share, "d"));
  assert.throws(() => c.walk(2, 4, ["passwd"]), errno(ENOTDIR));
  assert.throws(() => c.lopen(2, O_RDONLY), errno(ELOOP));
  assert.equal(c.getattr(2).mode & S_IFMT, S_IFLNK, "the fid now names the symlink itself");
  assert.throws(() => c.lopen(3, O_RDONLY), errno(ENOTDIR));
  assert.throws(() => c.lcreate(2, "new", O_RDWR, 0o644), errno(ENOTDIR));
  assert.throws(() => c.mkdir(2, "new", 0o755), errno(ENOTDIR));
  assert.throws(() => c.setattr(3, P9_ATTR_SIZE, { size: 0 }), errno(ENOTDIR));
  assert.throws(() => c.unlinkat(2, "passwd"), errno(ENOTDIR));
  assert.throws(() => c.remove(3), errno(ENOTDIR));
  // Deeper: a parent two levels up swapped.
  mkdirSync(join(share, "a/b"), { recursive: true });
  writeFileSync(join(share, "a/b/passwd"), "decoy");
  c.walk(1, 5, ["a", "b"]);
  rmSync(join(share, "a"), { recursive: true });
  symlinkSync(w.outer, join(share, "a"));
  assert.throws(() => c.walk(5, 6, ["passwd"]), errno(ENOTDIR));
  assert.throws(() => w.backend.open(["a", "secret", "passwd"], O_RDONLY), errno(ENOTDIR));
  assertSecretUntouched(w);
});

test("race: a directory flipping to a symlink while it is opened never yields the secret", async () => {
  const w = world();
  const { share, secretDir, backend } = w;
  // A worker flips share/d between the real directory and a symlink to the secret directory.
  const stop = new SharedArrayBuffer(4);
  const flipper = new Worker(
    `const { renameSync, symlinkSync } = require("node:fs");
     const { workerData: { share, secretDir, stop } } = require("node:worker_threads");
     const flag = new Int32Array(stop);
     symlinkSync(secretDir, share + "/link-b");
     while (Atomics.load(flag, 0) === 0) {
       renameSync(share + "/d", share + "/dir-a");
       renameSync(share + "/link-b", share + "/d");
       renameSync(share + "/d", share + "/link-b");
       renameSync(share + "/dir-a", share + "/d");
     }`,
    { eval: true, workerData: { share, secretDir, stop } },
  );
  const outcomes = new Map<string, number>();
  const deadline = Date.now() + 1500;
  let tries = 0;
  try {
    while (Date.now() < deadline || tries < 200) {
      tries++;
      let outcome: string;
      try {
        const f = backend.open(["d", "passwd"], O_RDONLY);
        const buf = new Uint8Array(64);
        outcome = text(buf.subarray(0, f.read(0, buf)));
        f.close();
      } catch (e) {
        outcome = e instanceof FsError ? `errno ${e.errno}` : String(e);
      }
      assert.notEqual(outcome, SECRET, `read the secret after ${tries} tries`);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await new Promise((r) => flipper.once("exit", r));
  }
  // The race was real: some opens found the directory, some the symlink.
  assert.ok(outcomes.has("decoy"), JSON.stringify([...outcomes]));
  assert.ok(
    [...outcomes.keys()].some((k) => k.startsWith("errno")),
    JSON.stringify([...outcomes]),
  );
  assertSecretUntouched(w);
  assert.ok(existsSync(join(share, "file")));
});

test("a read-only share refuses every change with EROFS and still reads", () => {
  const w = world({ readonly: true });
  const { c, share } = w;
  const before = JSON.stringify(readdirSync(share, { recursive: true }).sort());
  c.walk(1, 2, ["file"]);
  assert.throws(() => c.lopen(2, O_WRONLY), errno(EROFS));
  assert.throws(() => c.lopen(2, O_RDWR), errno(EROFS));
  assert.throws(() => c.lopen(2, O_RDONLY | O_TRUNC), errno(EROFS));
  c.lopen(2, O_RDONLY);
  assert.equal(text(c.read(2, 0, 100)), "inside");
  assert.throws(() => c.write(2, 0, "x"), errno(EROFS, 9));
  c.walk(1, 3, ["file"]);
  c.walk(1, 4, ["d"]);
  assert.throws(() => c.lcreate(4, "new", O_RDWR | O_CREAT, 0o644), errno(EROFS));
  assert.throws(() => c.mkdir(1, "newdir", 0o755), errno(EROFS));
  assert.throws(() => c.symlink(1, "sl", "file"), errno(EROFS));
  assert.throws(() => c.mknod(1, "nod", 0o10644), errno(EROFS));
  assert.throws(() => c.link(1, 3, "hard"), errno(EROFS));
  assert.throws(() => c.unlinkat(1, "file"), errno(EROFS));
  assert.throws(() => c.unlinkat(1, "d", 0x200), errno(EROFS));
  assert.throws(() => c.renameat(1, "file", 1, "renamed"), errno(EROFS));
  assert.throws(() => c.rename(3, 1, "renamed"), errno(EROFS));
  assert.throws(() => c.setattr(3, P9_ATTR_MODE, { mode: 0o777 }), errno(EROFS));
  assert.throws(() => c.setattr(3, P9_ATTR_SIZE, { size: 0 }), errno(EROFS));
  assert.throws(() => c.setattr(2, P9_ATTR_SIZE, { size: 0 }), errno(EROFS), "through the open fid");
  assert.throws(() => c.setattr(3, P9_ATTR_MTIME), errno(EROFS));
  c.walk(1, 5, ["d", "passwd"]);
  assert.throws(() => c.remove(5), errno(EROFS));
  assert.equal(readFileSync(join(share, "file"), "utf8"), "inside");
  assert.equal(statSync(join(share, "file")).mode & 0o777, 0o644);
  assert.equal(JSON.stringify(readdirSync(share, { recursive: true }).sort()), before);
});

test("special files in the share cannot be opened (no hanging on a FIFO), nor made", () => {
  const w = world();
  const fifo = join(w.share, "fifo");
  const r = spawnSync("mkfifo", [fifo]);
  if (r.status !== 0) return;
  w.c.walk(1, 2, ["fifo"]);
  assert.throws(() => w.c.lopen(2, O_RDONLY), errno(EPERM));
  assert.throws(() => w.c.lopen(2, O_WRONLY), errno(EPERM));
  assert.throws(() => w.c.mknod(1, "dev", 0o20644, 1, 3), errno(EPERM));
});

test("file names are bytes: non-UTF-8 names round-trip", () => {
  const w = world();
  const name = "caf\xe9-\xff\x01";
  w.c.walk(1, 2, []);
  w.c.lcreate(2, name, O_RDWR, 0o644);
  w.c.write(2, 0, "bytes");
  const onDisk = readdirSync(w.share, { encoding: "buffer" }).find((b) => b.includes(0xff));
  assert.deepEqual(onDisk, Buffer.from(name, "latin1"));
  w.c.walk(1, 3, []);
  w.c.lopen(3, O_RDONLY);
  assert.ok(w.c.readdirAll(3).some((e) => e.name === name));
  assert.equal(w.c.walk(1, 4, [name]).length, 1);
});

test("a missing or non-directory share root is a one-line VirtusError", () => {
  assert.throws(
    () => new NodeFsBackend(join(tmp, "nope")),
    (e) => e instanceof VirtusError && /no such directory/.test(e.message),
  );
  writeFileSync(join(tmp, "plain"), "");
  assert.throws(
    () => new NodeFsBackend(join(tmp, "plain")),
    (e) => e instanceof VirtusError && /not a directory/.test(e.message),
  );
  void ENOENT;
});

/**
 * The browser's in-memory 9p share (src/host/browser/memory-fs.ts): files
 * the page puts there are read through the FsBackend interface, the guest
 * can create, write, rename and remove, and hostile names and sizes are
 * refused with the errno the guest sees.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_FILE, MemoryFs } from "../../../src/host/browser/memory-fs.ts";
import {
  EEXIST,
  EINVAL,
  ENOENT,
  ENOSPC,
  ENOTEMPTY,
  FsError,
  O_CREAT,
  O_EXCL,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  S_IFDIR,
  S_IFMT,
  S_IFREG,
} from "../../../src/machine/virtio/9p/backend.ts";

const errno = (n: number) => (e: unknown) => e instanceof FsError && e.errno === n;

test("a file put by the page is listed and read back", () => {
  const fs = new MemoryFs();
  fs.putFile("hello.txt", new TextEncoder().encode("hi there"));
  const root = fs.open([], O_RDONLY);
  assert.deepEqual(
    root.readdir().map((e) => e.name),
    ["hello.txt"],
  );
  const f = fs.open(["hello.txt"], O_RDONLY);
  const buf = new Uint8Array(100);
  assert.equal(f.read(3, buf), 5);
  assert.equal(new TextDecoder().decode(buf.subarray(0, 5)), "there");
  assert.equal(f.read(8, buf), 0);
  assert.equal(fs.stat(["hello.txt"]).size, 8n);
  assert.equal(fs.stat(["hello.txt"]).mode & S_IFMT, S_IFREG);
});

test("the guest creates, writes, renames and removes", () => {
  const fs = new MemoryFs();
  fs.mkdir([], "d", 0o755, 0);
  assert.equal(fs.stat(["d"]).mode & S_IFMT, S_IFDIR);
  const f = fs.create(["d"], "a", O_CREAT | O_RDWR, 0o644, 0);
  assert.equal(f.write(4096, new Uint8Array([9, 8])), 2);
  assert.equal(fs.stat(["d", "a"]).size, 4098n);
  assert.throws(() => fs.create(["d"], "a", O_CREAT | O_EXCL, 0o644, 0), errno(EEXIST));
  fs.rename(["d"], "a", [], "b");
  assert.throws(() => fs.stat(["d", "a"]), errno(ENOENT));
  assert.throws(() => fs.rename([], "d", ["d"], "inside"), errno(EINVAL));
  fs.open(["b"], O_RDWR | O_TRUNC).close();
  assert.equal(fs.stat(["b"]).size, 0n);
  fs.create(["d"], "c", O_CREAT | O_RDWR, 0o644, 0);
  assert.throws(() => fs.unlink([], "d", true), errno(ENOTEMPTY));
  fs.unlink(["d"], "c", false);
  fs.unlink([], "d", true);
  assert.throws(() => fs.stat(["d"]), errno(ENOENT));
});

test("hostile names and sizes are refused", () => {
  const fs = new MemoryFs();
  assert.throws(() => fs.mkdir([], "..", 0o755, 0), errno(EINVAL));
  assert.throws(() => fs.create([], "a/b", O_CREAT, 0o644, 0), errno(EINVAL));
  const f = fs.create([], "big", O_CREAT | O_RDWR, 0o644, 0);
  assert.throws(() => f.write(MAX_FILE, new Uint8Array(1)), errno(ENOSPC));
  assert.throws(() => fs.setattr(["big"], { size: MAX_FILE + 1 }), errno(ENOSPC));
  assert.throws(() => fs.putFile("../x", new Uint8Array(1)), errno(EINVAL));
});

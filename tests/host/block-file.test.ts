import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FileBlockBackend } from "../../src/host/node/block-file.ts";
import { VirtusError } from "../../src/machine/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "virtus-blockfile-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a raw file backend reads and writes at offsets and fsyncs on flush", () => {
  const p = join(dir, "a.img");
  writeFileSync(
    p,
    Uint8Array.from({ length: 8192 }, (_, i) => i & 0xff),
  );
  const b = new FileBlockBackend(p);
  assert.equal(b.size, 8192);
  assert.equal(b.readOnly, false);
  const buf = new Uint8Array(4);
  b.read(1000, buf);
  assert.deepEqual(buf, Uint8Array.from([1000 & 0xff, 1001 & 0xff, 1002 & 0xff, 1003 & 0xff]));
  b.write(4096, Uint8Array.from([9, 9, 9]));
  b.flush();
  b.close();
  const after = readFileSync(p);
  assert.deepEqual([...after.subarray(4095, 4100)], [4095 & 0xff, 9, 9, 9, 4099 & 0xff]);
});

test("a read-only backend refuses writes and leaves the file alone", () => {
  const p = join(dir, "ro.img");
  writeFileSync(p, new Uint8Array(1024).fill(7));
  const b = new FileBlockBackend(p, { readOnly: true });
  assert.throws(() => b.write(0, new Uint8Array(1)));
  b.flush();
  b.close();
  assert.ok(readFileSync(p).every((x) => x === 7));
});

test("missing files and directories are one-line VirtusErrors", () => {
  assert.throws(
    () => new FileBlockBackend(join(dir, "nope.img")),
    (e: unknown) => e instanceof VirtusError && /--disk .*nope\.img: no such file/.test(e.message),
  );
  assert.throws(
    () => new FileBlockBackend(dir),
    (e: unknown) => e instanceof VirtusError && /is a directory|not a regular file/.test(e.message),
  );
});

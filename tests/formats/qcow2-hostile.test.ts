/**
 * Corrupt and hostile qcow2 images: each is refused at open with one line
 * naming the problem, or fails the request it touches with an I/O error
 * (ImageCorruptError, which virtio-blk turns into VIRTIO_BLK_S_IOERR);
 * never another exception, never a write outside the image or over its
 * metadata.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ImageCorruptError } from "../../src/formats/qcow2-cache.ts";
import { createQcow2Image, openImage } from "../../src/host/node/block-image.ts";
import { VirtusError } from "../../src/machine/errors.ts";
import { Sfc32 } from "../support/prng.ts";

const dir = mkdtempSync(join(tmpdir(), "virtus-qcow2-bad-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const p = (name: string) => join(dir, name);
const bin = join(import.meta.dirname, "../../bin/virtus.js");

/** Overwrites bytes of a file at `at`. */
function poke(file: string, at: number, bytes: number[]): void {
  const fd = openSync(file, "r+");
  writeSync(fd, Uint8Array.from(bytes), 0, bytes.length, at);
  closeSync(fd);
}
/** COPIED (bit 63) plus an offset, exactly (a double cannot hold 2^63 + 0x40200). */
const copied = (offset: number) => 0x8000000000000000n + BigInt(offset);
const be64 = (n: number | bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return [...b];
};
const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

/** A 64 KiB-cluster image with the first 256 KiB written (one L2 table at 0x40000, data from 0x50000). */
function imageWithData(name: string, clusterBits = 16): string {
  const f = p(name);
  rmSync(f, { force: true });
  createQcow2Image(f, { size: 4 << 20, clusterBits });
  const d = openImage(f, { readOnly: false });
  d.write(0, new Uint8Array(256 << 10).fill(0x33));
  d.close();
  return f;
}

function assertOpenRefused(file: string, why: RegExp): void {
  assert.throws(
    () => openImage(file, { readOnly: false, what: "--disk x" }),
    (e: unknown) => e instanceof VirtusError && why.test(e.message) && !e.message.includes("\n"),
  );
}

test("header fields out of range are refused at open: huge L1, L1 or refcount table past the end, bad cluster bits", () => {
  const f = imageWithData("h.qcow2");
  const orig = readFileSync(f);
  poke(f, 36, be32(0xffffffff));
  assertOpenRefused(f, /L1 table .* is too large/);
  writeFileSync(f, orig);
  poke(f, 36, be32(0));
  assertOpenRefused(f, /L1 table .* too small/);
  writeFileSync(f, orig);
  poke(f, 40, be64(1 << 30));
  assertOpenRefused(f, /L1 table lies beyond the end of the file/);
  writeFileSync(f, orig);
  poke(f, 48, be64(1 << 30));
  assertOpenRefused(f, /refcount table lies beyond/);
  writeFileSync(f, orig);
  poke(f, 20, be32(40));
  assertOpenRefused(f, /cluster_bits 40/);
  writeFileSync(f, orig);
  poke(f, 24, be64(2 ** 60));
  assertOpenRefused(f, /virtual size is too large/);
  writeFileSync(f, orig);
  poke(f, 72, be64(1 << 20));
  assertOpenRefused(f, /unknown incompatible feature/);
  writeFileSync(f, orig);
  poke(f, 32, be32(1));
  assertOpenRefused(f, /encrypted/);
  writeFileSync(f, orig);
  truncateSync(f, 3 * 65536 + 4);
  assertOpenRefused(f, /L1 table lies beyond the end of the file/);
});

test("a truncated image opens, and reads of the missing data fail with an I/O error", () => {
  const f = imageWithData("t.qcow2");
  truncateSync(f, 0x50000 + 65536); // the L2 table and the first data cluster survive
  const d = openImage(f, { readOnly: false });
  const b = new Uint8Array(65536);
  d.read(0, b);
  assert.equal(b[100], 0x33);
  assert.throws(() => d.read(128 << 10, b), ImageCorruptError);
  // An unallocated range still reads as zeros, and a write there works.
  d.read(2 << 20, b);
  assert.ok(b.every((x) => x === 0));
  d.close();
});

test("backing chains that loop (to itself, or a → b → a) are refused at open", () => {
  createQcow2Image(p("a.qcow2"), { size: 1 << 20 });
  createQcow2Image(p("b.qcow2"), { size: 1 << 20, backing: "a.qcow2" });
  createQcow2Image(p("a2.qcow2"), { size: 1 << 20, backing: "b.qcow2" });
  renameSync(p("a2.qcow2"), p("a.qcow2"));
  assertOpenRefused(p("a.qcow2"), /backing chain loops \(a\.qcow2 → b\.qcow2 → a\.qcow2\)/);
  createQcow2Image(p("x.qcow2"), { size: 1 << 20 });
  createQcow2Image(p("self.qcow2"), { size: 1 << 20, backing: "x.qcow2" });
  const img = readFileSync(p("self.qcow2"));
  const at = img.indexOf("x.qcow2");
  img.set(new TextEncoder().encode("s.qcow2"), at);
  writeFileSync(p("s.qcow2"), img);
  assertOpenRefused(p("s.qcow2"), /backing chain loops/);
  // A missing backing file names itself.
  createQcow2Image(p("c.qcow2"), { size: 1 << 20, backing: "x.qcow2" });
  rmSync(p("x.qcow2"));
  assertOpenRefused(p("c.qcow2"), /backing file x\.qcow2: no such file/);
});

test("a misaligned L2 pointer is refused at open; a misaligned data pointer fails only the requests that use it", () => {
  const f = imageWithData("m.qcow2");
  poke(f, 3 * 65536, be64(copied(0x40000 + 512))); // L1[0] → misaligned
  assertOpenRefused(f, /L1 entry 0 points at a misaligned L2 table/);
  const g = imageWithData("m2.qcow2");
  poke(g, 0x40000 + 8, be64(copied(0x60000 + 1024))); // L2[1] → misaligned data cluster
  const e = openImage(g, { readOnly: true });
  assert.throws(() => e.read(65536, new Uint8Array(512)), ImageCorruptError);
  const ok = new Uint8Array(512);
  e.read(0, ok);
  assert.equal(ok[0], 0x33);
  e.close();
});

test("a data cluster pointing at metadata is not written (overlap check); the image then refuses writes", () => {
  const f = imageWithData("o.qcow2");
  const before = readFileSync(f);
  // L2[1] → the L1 table's cluster (0x30000), with COPIED so it looks writable in place.
  poke(f, 0x40000 + 8, be64(copied(0x30000)));
  const meta = readFileSync(f).subarray(0, 0x50000);
  const d = openImage(f, { readOnly: false });
  assert.throws(() => d.write(65536, new Uint8Array(4096).fill(0xee)), /overlaps the L1 table/);
  assert.throws(() => d.write(0, new Uint8Array(512)), /writes stopped/);
  d.close();
  assert.ok(readFileSync(f).subarray(0, 0x50000).equals(meta), "no metadata byte changed");
  assert.equal(statSync(f).size, before.length);
  // A refcount of 0 on the L1 table: the allocator must not hand its cluster out.
  const g = imageWithData("o2.qcow2");
  poke(g, 2 * 65536 + 3 * 2, [0, 0]); // refcount of cluster 3 (L1) = 0
  const e = openImage(g, { readOnly: false });
  assert.throws(() => e.write(1 << 20, new Uint8Array(512).fill(1)), /free cluster holds the L1 table/);
  e.close();
  // A pointer past the end of the file is not followed by a write (the file would grow without bound).
  const h = imageWithData("o3.qcow2");
  poke(h, 0x40000 + 8, be64(copied(2 ** 40)));
  const size = statSync(h).size;
  const x = openImage(h, { readOnly: false });
  assert.throws(() => x.write(65536, new Uint8Array(512)), /past the end of the file/);
  x.close();
  assert.equal(statSync(h).size, size);
});

test("virtus image check: refcount overflow, a refcount too low and a leak are reported (exit 1)", () => {
  // 1-bit refcounts and two L2 entries sharing one data cluster: 2 references overflow.
  const f = p("ovf.qcow2");
  spawnSync("qemu-img", ["create", "-f", "qcow2", "-o", "refcount_bits=1", f, "4M"]);
  const d = openImage(f, { readOnly: false });
  d.write(0, new Uint8Array(131072).fill(7));
  d.close();
  const img = readFileSync(f);
  const l1 = Number(new DataView(img.buffer, img.byteOffset).getBigUint64(40));
  const l2 = Number(new DataView(img.buffer, img.byteOffset).getBigUint64(l1) & 0x00fffffffffffe00n);
  poke(f, l2 + 8, [...img.subarray(l2, l2 + 8)]);
  const r = spawnSync(process.execPath, [bin, "image", "check", f], { encoding: "utf8" });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /overflow 1-bit refcounts/);

  const g = imageWithData("leak.qcow2");
  poke(g, 0x40000, be64(0)); // drop L2[0]: its data cluster is now referenced by nobody
  const r2 = spawnSync(process.execPath, [bin, "image", "check", g], { encoding: "utf8" });
  assert.equal(r2.status, 1);
  assert.match(r2.stdout, /1 leaked clusters/);
  const qc = spawnSync("qemu-img", ["check", g], { encoding: "utf8" });
  assert.match(qc.stdout, /1 leaked clusters/, "qemu-img agrees");

  const h = imageWithData("low.qcow2");
  poke(h, 2 * 65536 + 5 * 2, [0, 0]); // refcount of the first data cluster = 0
  const r3 = spawnSync(process.execPath, [bin, "image", "check", h], { encoding: "utf8" });
  assert.equal(r3.status, 1);
  assert.match(r3.stdout, /ERROR cluster 0x50000: refcount 0 but 1 references/);
});

test("fuzz: random corruption of the metadata never throws anything but a one-line open error or an I/O error", () => {
  const good = readFileSync(imageWithData("fuzz-base.qcow2", 12));
  const rng = new Sfc32(2026, 12, 3, 11, 10);
  const f = p("fuzz.qcow2");
  let refused = 0;
  let ioErrors = 0;
  for (let i = 0; i < 300; i++) {
    const img = Buffer.from(good);
    // Metadata of a 4 KiB-cluster image: header, refcount table and block, L1, L2 in the first 5 clusters.
    for (let k = 1 + rng.int(6); k > 0; k--) img[rng.int(5 * 4096)] = rng.int(256);
    writeFileSync(f, img);
    let d: ReturnType<typeof openImage>;
    try {
      d = openImage(f, { readOnly: false, what: "--disk f" });
    } catch (e) {
      assert.ok(e instanceof VirtusError, `open threw ${String(e)}`);
      assert.ok(!e.message.includes("\n"));
      refused++;
      continue;
    }
    const b = new Uint8Array(d.size);
    for (const op of [
      () => d.read(0, b),
      () => d.write(rng.int(1024) * 512, new Uint8Array(4096).fill(1)),
      () => d.write(0, new Uint8Array(65536)),
      () => d.read(0, b),
    ]) {
      try {
        op();
      } catch (e) {
        assert.ok(
          e instanceof ImageCorruptError || /writes stopped|read-only/.test(String(e)),
          `case ${i}: ${String((e as Error).stack)}`,
        );
        ioErrors++;
      }
    }
    d.close();
    assert.ok(statSync(f).size < 64 << 20, "the file stays small");
  }
  assert.ok(refused > 0 && ioErrors > 0, `${refused} refused, ${ioErrors} I/O errors`);
});

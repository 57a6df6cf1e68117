/**
 * qcow2 interoperability with qemu-img, both ways: images Virtus writes
 * pass `qemu-img check` and compare equal to a raw reference; images
 * qemu-img writes (plain, version 2, compressed with deflate and zstd,
 * zero clusters, backing chains) read back byte-identical.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createQcow2Image, openImage } from "../../src/host/node/block-image.ts";
import { Sfc32 } from "../support/prng.ts";

const hasQemuImg = spawnSync("qemu-img", ["--version"]).status === 0;
const skip = !hasQemuImg && "qemu-img is not installed (Debian: qemu-utils)";
const dir = mkdtempSync(join(tmpdir(), "virtus-qcow2-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const prng = (seed: number) => new Sfc32(seed, 0x9e3779b9, 0x243f6a88, 0xb7e15162, 12);
const p = (name: string) => join(dir, name);
const qemuImg = (...args: string[]) => execFileSync("qemu-img", args, { encoding: "utf8", stdio: "pipe" });

/** qemu-img check must find nothing: exit 0 and its "No errors" line (leaks would exit 3). */
function assertQemuCheckClean(file: string): void {
  const r = spawnSync("qemu-img", ["check", file], { encoding: "utf8" });
  assert.equal(r.status, 0, `qemu-img check ${file}: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /No errors were found on the image/);
}

function assertQemuSame(qcow2: string, raw: string): void {
  assert.match(qemuImg("compare", "-f", "qcow2", "-F", "raw", qcow2, raw), /Images are identical/);
}

/** Random writes of random lengths (sector multiples, some unaligned to clusters) into an image and a raw copy. */
function scribble(
  img: { write(o: number, b: Uint8Array): void },
  raw: Uint8Array,
  rng: Sfc32,
  n: number,
): void {
  for (let i = 0; i < n; i++) {
    const len = (1 + rng.int(200)) * 512;
    const off = rng.int((raw.length - len) / 512) * 512;
    const d = new Uint8Array(len);
    for (let j = 0; j < len; j += 4) d[j] = rng.int(256);
    img.write(off, d);
    raw.set(d, off);
  }
}

for (const opts of [
  "cluster_size=65536",
  "cluster_size=512",
  "cluster_size=512,refcount_bits=64",
  "cluster_size=4096,refcount_bits=1",
  "cluster_size=1024,refcount_bits=4",
  "compat=0.10",
  "cluster_size=2M,refcount_bits=32",
]) {
  test(`Virtus writes into a qemu-img image (${opts}); qemu-img check is clean and compare matches`, {
    skip,
  }, () => {
    const size = 16 << 20;
    const img = p(`w-${opts}.qcow2`);
    qemuImg("create", "-f", "qcow2", "-o", opts, img, String(size));
    const raw = new Uint8Array(size);
    const d = openImage(img, { readOnly: false });
    // Sequential 64 KiB writes over a quarter (many new clusters: small-cluster images outgrow their refcount table), then random ones.
    for (let off = 0; off < size / 4; off += 65536) {
      const b = new Uint8Array(65536).fill((off >> 16) + 1);
      d.write(off, b);
      raw.set(b, off);
    }
    scribble(d, raw, prng(opts.length), 150);
    d.flush();
    const back = new Uint8Array(size);
    d.read(0, back);
    d.close();
    assert.ok(Buffer.from(back).equals(raw), "Virtus reads back what it wrote");
    writeFileSync(p("ref.raw"), raw);
    assertQemuCheckClean(img);
    assertQemuSame(img, p("ref.raw"));
  });
}

test("images Virtus creates are valid to qemu-img, also with a backing file (relative name and format recorded)", {
  skip,
}, () => {
  createQcow2Image(p("new.qcow2"), { size: 100 << 20 });
  assertQemuCheckClean(p("new.qcow2"));
  const info = JSON.parse(qemuImg("info", "--output=json", p("new.qcow2")));
  assert.equal(info["virtual-size"], 100 << 20);
  assert.equal(info.format, "qcow2");

  const base = new Uint8Array(3 << 20).map((_, i) => (i * 13) & 0xff);
  writeFileSync(p("base.raw"), base);
  createQcow2Image(p("over.qcow2"), { backing: "base.raw" });
  const oi = JSON.parse(qemuImg("info", "--output=json", p("over.qcow2")));
  assert.equal(oi["backing-filename"], "base.raw");
  assert.equal(oi["backing-filename-format"], "raw");
  assert.equal(oi["virtual-size"], 3 << 20);
  // Partial-cluster writes copy the rest of the cluster from the backing file; the base is untouched.
  const d = openImage(p("over.qcow2"), { readOnly: false });
  const expect = base.slice();
  scribble(d, expect, prng(5), 40);
  d.close();
  assert.ok(readFileSync(p("base.raw")).equals(base), "the backing file is never written");
  writeFileSync(p("expect.raw"), expect);
  assertQemuCheckClean(p("over.qcow2"));
  assertQemuSame(p("over.qcow2"), p("expect.raw"));
});

/** Content with random, zero and repetitive regions (compresses unevenly). */
function mixedContent(size: number): Uint8Array {
  const b = new Uint8Array(size);
  const rng = prng(99);
  for (let i = 0; i < size / 4; i++) b[i] = rng.int(256);
  for (let i = size / 2; i < size; i++) b[i] = "virtus qcow2 "[i % 13].charCodeAt(0);
  return b;
}

for (const [name, args] of [
  ["plain", ["-O", "qcow2"]],
  ["version 2", ["-O", "qcow2", "-o", "compat=0.10"]],
  ["deflate-compressed", ["-c", "-O", "qcow2"]],
  ["zstd-compressed", ["-c", "-O", "qcow2", "-o", "compression_type=zstd"]],
  ["compressed, 4 KiB clusters", ["-c", "-O", "qcow2", "-o", "cluster_size=4096"]],
] as const) {
  test(`a ${name} image from qemu-img convert reads back byte-identical; writes over it stay clean`, {
    skip,
  }, () => {
    const raw = mixedContent(8 << 20);
    writeFileSync(p("src.raw"), raw);
    const img = p(`c-${name}.qcow2`);
    qemuImg("convert", ...args, p("src.raw"), img);
    const d = openImage(img, { readOnly: false });
    const back = new Uint8Array(raw.length);
    d.read(0, back);
    assert.ok(Buffer.from(back).equals(raw), "contents");
    // Rewriting parts of compressed clusters frees them and allocates plain ones.
    scribble(d, raw, prng(3), 30);
    d.close();
    writeFileSync(p("src2.raw"), raw);
    assertQemuCheckClean(img);
    assertQemuSame(img, p("src2.raw"));
  });
}

test("zero clusters (qemu-io write -z) and a three-level backing chain read as qemu-img sees them", {
  skip,
}, () => {
  const size = 4 << 20;
  const base = mixedContent(size);
  writeFileSync(p("chain0.raw"), base);
  qemuImg("convert", "-O", "qcow2", p("chain0.raw"), p("chain1.qcow2"));
  qemuImg("create", "-f", "qcow2", "-b", "chain1.qcow2", "-F", "qcow2", p("chain2.qcow2"));
  qemuImg("create", "-f", "qcow2", "-b", "chain2.qcow2", "-F", "qcow2", p("chain3.qcow2"));
  const io = (file: string, cmd: string) =>
    execFileSync("qemu-io", ["-f", "qcow2", "-c", cmd, file], { stdio: "pipe" });
  io(p("chain2.qcow2"), "write -P 0x5a 65536 131072");
  io(p("chain3.qcow2"), "write -z 0 1048576");
  io(p("chain3.qcow2"), "write -P 0xa5 1000448 4096");
  qemuImg("convert", "-O", "raw", p("chain3.qcow2"), p("chain3.raw"));
  const d = openImage(p("chain3.qcow2"), { readOnly: true });
  const back = new Uint8Array(size);
  d.read(0, back);
  d.close();
  assert.ok(Buffer.from(back).equals(readFileSync(p("chain3.raw"))));
  assert.equal(back[0], 0);
  assert.equal(back[1000448], 0xa5);
});

test("persistent dirty bitmaps: check counts their clusters; a Virtus write clears autoclear bit 0 so QEMU knows they are stale", {
  skip,
}, () => {
  const img = p("bitmaps.qcow2");
  qemuImg("create", "-f", "qcow2", img, "16M");
  execFileSync("qemu-io", ["-f", "qcow2", "-c", "write -P 1 0 1M", img], { stdio: "pipe" });
  qemuImg("bitmap", "--add", img, "b0");
  execFileSync("qemu-io", ["-f", "qcow2", "-c", "write -P 2 0 4M", img], { stdio: "pipe" });
  const bin = join(import.meta.dirname, "../../bin/virtus.js");
  const clean = spawnSync(process.execPath, [bin, "image", "check", img], { encoding: "utf8" });
  assert.equal(clean.status, 0, clean.stdout);
  const autoclear = () => readFileSync(img).readBigUInt64BE(88);
  assert.equal(autoclear(), 1n);
  const d = openImage(img, { readOnly: false });
  d.write(8 << 20, new Uint8Array(4096).fill(5));
  d.close();
  assert.equal(autoclear(), 0n, "the bitmaps are marked inconsistent before the first write");
  const q = spawnSync("qemu-img", ["check", img], { encoding: "utf8" });
  assert.match(q.stderr, /a program lacking bitmap support modified this file/);
  assert.doesNotMatch(q.stdout, /ERROR/);
});

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseDiskSpec } from "../../src/cli/disk.ts";
import { openDisk } from "../../src/host/node/block-open.ts";
import { VirtusError } from "../../src/machine/errors.ts";
import { assertBadInput, virtusSync } from "../support/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "virtus-image-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const p = (name: string) => join(dir, name);
const hasQemuImg = spawnSync("qemu-img", ["--version"]).status === 0;

test("virtus image create / info / info --json: qcow2 and raw, with a backing chain", () => {
  assert.equal(virtusSync(["image", "create", p("base.qcow2"), "64M"]).code, 0);
  assert.equal(virtusSync(["image", "create", p("over.qcow2"), "--backing", "base.qcow2"]).code, 0);
  assert.equal(virtusSync(["image", "create", p("top.qcow2"), "--backing", p("over.qcow2")]).code, 0);
  assert.equal(virtusSync(["image", "create", p("d.raw"), "1G", "--format", "raw"]).code, 0);
  assert.equal(statSync(p("d.raw")).size, 1 << 30);
  assert.ok(statSync(p("d.raw")).blocks * 512 < 1 << 20, "a raw image is created sparse");

  const text = virtusSync(["image", "info", p("top.qcow2")]);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /format: qcow2\nvirtual size: 64.0 MiB \(67108864 bytes\)/);
  assert.match(
    text.out,
    /backing chain 1: .*over\.qcow2 \(qcow2, 64.0 MiB\)\nbacking chain 2: .*base\.qcow2/,
  );
  const info = JSON.parse(virtusSync(["image", "info", "--json", p("top.qcow2")]).out);
  assert.equal(info.format, "qcow2");
  assert.equal(info.virtualSize, 64 << 20);
  assert.equal(info.backingFormat, "qcow2");
  assert.equal(info.backingChain.length, 2);
  assert.ok(info.allocatedSize > 0 && info.fileSize >= info.allocatedSize);
  const raw = JSON.parse(virtusSync(["image", "info", "--json", p("d.raw")]).out);
  assert.deepEqual([raw.format, raw.virtualSize, raw.backingChain], ["raw", 1 << 30, []]);
  if (hasQemuImg) {
    const q = spawnSync("qemu-img", ["info", "--output=json", "--backing-chain", p("top.qcow2")], {
      encoding: "utf8",
    });
    assert.equal(JSON.parse(q.stdout).length, 3, "qemu-img follows the same chain");
  }
});

test("virtus image convert flattens a chain into raw or qcow2; check passes; nothing is left on failure", () => {
  const base = new Uint8Array(8 << 20);
  for (let i = 0; i < base.length; i += 4096) base[i] = (i >> 12) & 0xff;
  writeFileSync(p("c-base.raw"), base);
  assert.equal(virtusSync(["image", "create", p("c-over.qcow2"), "--backing", "c-base.raw"]).code, 0);
  assert.equal(
    virtusSync(["image", "convert", p("c-over.qcow2"), p("c-flat.raw"), "--format", "raw"]).code,
    0,
  );
  assert.ok(readFileSync(p("c-flat.raw")).equals(base));
  const r = virtusSync(["image", "convert", p("c-flat.raw"), p("c-flat.qcow2"), "--format", "qcow2"]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, "", "no progress bar when stderr is not a terminal");
  const chk = virtusSync(["image", "check", p("c-flat.qcow2")]);
  assert.equal(chk.code, 0, chk.out);
  assert.match(chk.out, /No errors were found on the image/);
  if (hasQemuImg) {
    assert.equal(spawnSync("qemu-img", ["compare", p("c-flat.qcow2"), p("c-base.raw")]).status, 0);
    assert.equal(spawnSync("qemu-img", ["check", p("c-flat.qcow2")]).status, 0);
  }
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.includes(".tmp-")),
    [],
    "no temporary files remain",
  );
});

test("virtus image: bad input is one line and exit 2", () => {
  writeFileSync(p("x.vmdk"), Buffer.concat([Buffer.from("KDMV"), Buffer.alloc(1020)]));
  assertBadInput(["image", "info", p("nope.qcow2")], /nope\.qcow2: no such file/);
  assertBadInput(["image", "info", p("x.vmdk")], /a VMDK image; Virtus reads raw and qcow2/);
  assertBadInput(["image", "create", p("n.qcow2"), "lots"], /SIZE lots: use a size like 10G/);
  assertBadInput(["image", "create", p("n.qcow2")], /give the image a size/);
  assertBadInput(
    ["image", "create", p("n.raw"), "1M", "--format", "raw", "--backing", "x"],
    /--backing needs --format qcow2/,
  );
  assertBadInput(
    ["image", "create", p("n.qcow2"), "1M", "--backing", "missing.img"],
    /--backing missing\.img: no such file/,
  );
  assertBadInput(["image", "create", p("x.vmdk"), "1M"], /already exists/);
  assertBadInput(["image", "convert", p("x.vmdk"), p("y.raw")], /--format/);
  assertBadInput(["image", "convert", p("x.vmdk"), p("y.raw"), "--format", "raw"], /VMDK/);
  assertBadInput(["image", "check", p("x.vmdk")], /VMDK/);
  assert.ok(!existsSync(p("n.qcow2")) && !existsSync(p("y.raw")));
});

test("--disk probes by content: qcow2 by magic, other formats refused unless ,format=raw; raw files of any content work", () => {
  writeFileSync(p("p.vmdk"), Buffer.concat([Buffer.from("KDMV"), Buffer.alloc(4092)]));
  assert.throws(
    () => openDisk(parseDiskSpec(p("p.vmdk"))),
    (e: unknown) => e instanceof VirtusError && /a VMDK image; .*,format=raw/.test(e.message),
  );
  const forced = openDisk(parseDiskSpec(`${p("p.vmdk")},format=raw`));
  assert.equal(forced.backend.size, 4096);
  forced.close();
  writeFileSync(p("q1.img"), Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 1, ...new Array(504).fill(0)]));
  assert.throws(() => openDisk(parseDiskSpec(p("q1.img"))), /qcow \(version 1\)/);
  writeFileSync(p("plain.img"), Buffer.alloc(4096, 0x42));
  const plain = openDisk(parseDiskSpec(p("plain.img")));
  assert.equal(plain.backend.size, 4096);
  plain.close();
  assert.throws(() => openDisk(parseDiskSpec(`${p("plain.img")},format=qcow2`)), /not a qcow2 image/);
  assert.throws(() => parseDiskSpec("a.img,format=vmdk"), /format=vmdk: Virtus reads raw and qcow2/);
  assert.throws(() => parseDiskSpec("a.img,snapshot,readonly"), /pick one/);
  assert.deepEqual(parseDiskSpec("a.img,bw=10M,iops=100,iops_burst=50"), {
    path: "a.img",
    readOnly: false,
    limits: {
      bandwidth: { size: 10 << 20, oneTimeBurst: 0, refillTimeMs: 1000 },
      ops: { size: 100, oneTimeBurst: 50, refillTimeMs: 1000 },
    },
  });
  assert.throws(() => parseDiskSpec("a.img,bw=fast"), /bw= fast|bw=.*use a size/);
  assert.throws(() => parseDiskSpec("a.img,iops=0"), /must be above 0/);
  assert.throws(() => parseDiskSpec("a.img,bw_burst=1M"), /bw_burst= needs bw=/);
});

test("--disk FILE,snapshot: the guest's writes go to a throwaway overlay; the base (raw or qcow2) is never written", () => {
  const base = Buffer.alloc(1 << 20, 0x61);
  writeFileSync(p("s.raw"), base);
  const before = readdirSync(tmpdir()).filter((n) => n.startsWith("virtus-snapshot-")).length;
  const d = openDisk(parseDiskSpec(`${p("s.raw")},snapshot`));
  assert.equal(d.backend.readOnly, false);
  d.backend.write(4096, new Uint8Array(8192).fill(0x7a));
  const b = new Uint8Array(16384);
  d.backend.read(0, b);
  assert.deepEqual([b[0], b[4096], b[12287], b[12288]], [0x61, 0x7a, 0x7a, 0x61]);
  d.backend.flush();
  d.close();
  assert.ok(readFileSync(p("s.raw")).equals(base));
  assert.equal(
    readdirSync(tmpdir()).filter((n) => n.startsWith("virtus-snapshot-")).length,
    before,
    "the overlay is gone",
  );
});

/**
 * qcow2 disks seen from a booted Linux: a compressed image written by
 * qemu-img reads back byte-identical in the guest; guest writes into a
 * Virtus-created overlay leave an image qemu-img finds clean and equal to
 * what was written, with the backing file untouched; a `,snapshot` disk
 * takes writes, keeps them across a guest reboot (as QEMU's -snapshot
 * does) and leaves its base as it was.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createQcow2Image } from "../../src/host/node/block-image.ts";
import { findGuest } from "../../src/host/node/guest.ts";
import { GuestSession } from "../support/guest-session.ts";

const guest = findGuest();
const hasQemuImg = spawnSync("qemu-img", ["--version"]).status === 0;
const skip =
  (guest === undefined && "the default guest is not built: run `npm run guest`") ||
  (!hasQemuImg && "qemu-img is not installed (Debian: qemu-utils)");
const dir = mkdtempSync(join(tmpdir(), "virtus-boot-qcow2-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const p = (name: string) => join(dir, name);
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

test("a guest reads qemu-img's compressed qcow2, writes through a qcow2 overlay and a ,snapshot disk kept across a reboot", {
  skip,
}, async () => {
  const size = 4 << 20;
  const content = new Uint8Array(size);
  for (let i = 0; i < size; i++) content[i] = (i * 31 + (i >> 9) * 7) & 0xff;
  content.fill(0, 1 << 20, 2 << 20); // a zero stretch: compressed to almost nothing
  writeFileSync(p("src.raw"), content);
  execFileSync("qemu-img", ["convert", "-c", "-O", "qcow2", p("src.raw"), p("comp.qcow2")]);
  writeFileSync(p("base.raw"), content);
  createQcow2Image(p("over.qcow2"), { backing: "base.raw" });
  writeFileSync(p("snap.raw"), content);

  const s = new GuestSession([
    "--deterministic",
    "--disk",
    p("comp.qcow2"),
    "--disk",
    p("over.qcow2"),
    "--disk",
    `${p("snap.raw")},snapshot`,
  ]);
  let blob: string | undefined;
  try {
    await s.expect("guest# ");
    assert.match(
      await s.run("cat /sys/block/vda/size /sys/block/vdb/size /sys/block/vdc/size"),
      /8192\n8192\n8192\n$/,
    );
    assert.match(await s.run("dd if=/dev/vda bs=64k 2>/dev/null | md5sum"), new RegExp(`${md5(content)}  -`));
    // Overlay: a 1 MiB random blob at 1 MiB + 512 (partial clusters at both ends copy from the backing file).
    await s.run("dd if=/dev/urandom of=/tmp/blob bs=64k count=16 2>/dev/null");
    blob = (await s.run("md5sum /tmp/blob")).match(/([0-9a-f]{32}) {2}\/tmp\/blob/)?.[1];
    assert.ok(blob);
    await s.run("dd if=/tmp/blob of=/dev/vdb bs=512 seek=2049 conv=notrunc,fsync 2>/dev/null");
    assert.match(
      await s.run("dd if=/dev/vdb bs=512 skip=2049 count=2048 2>/dev/null | md5sum"),
      new RegExp(`${blob}  -`),
    );
    // Snapshot disk: written and read back in the guest.
    await s.run("dd if=/tmp/blob of=/dev/vdc bs=64k conv=notrunc,fsync 2>/dev/null");
    await s.run("echo 3 > /proc/sys/vm/drop_caches");
    assert.match(
      await s.run("dd if=/dev/vdc bs=64k count=16 2>/dev/null | md5sum"),
      new RegExp(`${blob}  -`),
    );
    // A reboot builds a fresh machine; the run's overlay, with the guest's writes, goes on.
    s.send("reboot -f\n");
    await s.expect("reboot: Restarting system");
    await s.expect("guest# ");
    assert.match(
      await s.run("dd if=/dev/vdc bs=64k count=16 2>/dev/null | md5sum"),
      new RegExp(`${blob}  -`),
      "the ,snapshot disk kept the guest's writes across the reboot",
    );
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
  assert.ok(readFileSync(p("base.raw")).equals(Buffer.from(content)), "the backing file is untouched");
  assert.ok(readFileSync(p("snap.raw")).equals(Buffer.from(content)), "the ,snapshot base is untouched");
  const check = spawnSync("qemu-img", ["check", p("over.qcow2")], { encoding: "utf8" });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  execFileSync("qemu-img", ["convert", "-O", "raw", p("over.qcow2"), p("over.raw")]);
  const flat = readFileSync(p("over.raw"));
  assert.equal(md5(flat.subarray(2049 * 512, 4097 * 512)), blob);
  assert.ok(flat.subarray(0, 2049 * 512).equals(Buffer.from(content.subarray(0, 2049 * 512))));
  assert.ok(flat.subarray(4097 * 512).equals(Buffer.from(content.subarray(4097 * 512))));
});

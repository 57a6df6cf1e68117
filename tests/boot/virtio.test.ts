import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { findGuest } from "../../src/host/node/guest.ts";
import { GuestSession } from "../support/guest-session.ts";

const guest = findGuest();
const noGuest = guest === undefined && "the default guest is not built: run `npm run guest`";
const dir = mkdtempSync(join(tmpdir(), "virtus-virtio-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");
const SECTOR = 512;

/** An image of `size` bytes with a different pattern in every sector (a byte-shifted counter plus the sector number). */
function image(name: string, size: number, seed: number): string {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + Math.floor(i / SECTOR) * seed) & 0xff;
  const p = join(dir, name);
  writeFileSync(p, b);
  return p;
}

test("virtio-blk: the guest reads a host image sector by sector and whole, writes back through dd, and a read-only disk stays untouched", {
  skip: noGuest,
}, async () => {
  const rwPath = image("rw.img", 8 << 20, 7);
  const roPath = image("ro.img", 1 << 20, 13);
  const rw = readFileSync(rwPath);
  const ro = readFileSync(roPath);
  const s = new GuestSession(["--deterministic", "--disk", rwPath, "--disk", `${roPath},readonly`]);
  let blobSum: string | undefined;
  try {
    await s.expect("guest# ");
    // Slot order: the first --disk is vda.
    assert.match(
      await s.run("cat /sys/block/vda/size /sys/block/vdb/size /sys/block/vda/ro /sys/block/vdb/ro"),
      /16384\n2048\n0\n1\n$/,
    );
    assert.match(await s.run("cat /sys/block/vda/serial; echo"), /virtus0\n$/);
    for (const n of [0, 3, 4095, 16383]) {
      const out = await s.run(`dd if=/dev/vda bs=512 skip=${n} count=1 2>/dev/null | md5sum`);
      assert.match(out, new RegExp(`${md5(rw.subarray(n * SECTOR, (n + 1) * SECTOR))}  -`), `sector ${n}`);
    }
    assert.match(await s.run("dd if=/dev/vda bs=64k 2>/dev/null | md5sum"), new RegExp(`${md5(rw)}  -`));
    assert.match(await s.run("dd if=/dev/vdb bs=4k 2>/dev/null | md5sum"), new RegExp(`${md5(ro)}  -`));

    // Writes: a sector copied inside the disk, a short string, and 1 MiB of guest-made data at 4 MiB.
    await s.run("dd if=/dev/vda of=/dev/vda bs=512 skip=3 seek=5000 count=8 conv=notrunc 2>/dev/null");
    await s.run("printf 'GUEST-WROTE-%d' 42 | dd of=/dev/vda bs=512 seek=6000 conv=notrunc 2>/dev/null");
    await s.run("dd if=/dev/urandom of=/tmp/blob bs=64k count=16 2>/dev/null");
    blobSum = (await s.run("md5sum /tmp/blob")).match(/([0-9a-f]{32}) {2}\/tmp\/blob/)?.[1];
    assert.ok(blobSum);
    await s.run("dd if=/tmp/blob of=/dev/vda bs=64k seek=64 conv=notrunc,fsync 2>/dev/null");
    // The read-only disk: Linux refuses the write before it reaches the device (the device
    // would answer VIRTIO_BLK_S_IOERR, see tests/machine/virtio/blk.test.ts).
    const denied = await s.run("dd if=/dev/zero of=/dev/vdb bs=512 count=1 conv=fsync; echo rc=$?");
    assert.match(denied, /dd: error writing '\/dev\/vdb': Operation not permitted/);
    assert.match(denied, /rc=1/);
    await s.run("sync");
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
  const after = readFileSync(rwPath);
  assert.equal(after.length, rw.length);
  assert.deepEqual(after.subarray(5000 * SECTOR, 5008 * SECTOR), rw.subarray(3 * SECTOR, 11 * SECTOR));
  assert.equal(after.subarray(6000 * SECTOR, 6000 * SECTOR + 14).toString(), "GUEST-WROTE-42");
  assert.equal(after[6000 * SECTOR + 14], rw[6000 * SECTOR + 14], "the rest of the sector is kept");
  assert.equal(md5(after.subarray(4 << 20, 5 << 20)), blobSum);
  // Everything else is as the host wrote it.
  for (const [a, b] of [
    [0, 5000 * SECTOR],
    [5008 * SECTOR, 6000 * SECTOR],
    [6001 * SECTOR, 4 << 20],
    [5 << 20, 8 << 20],
  ])
    assert.ok(after.subarray(a, b).equals(rw.subarray(a, b)), `bytes ${a}..${b} unchanged`);
  assert.ok(readFileSync(roPath).equals(ro), "the read-only image is byte-identical");
});

test("virtio-rng feeds /dev/hwrng; the virtio console is /dev/hvc1 and its output reaches the host console", {
  skip: noGuest,
}, async () => {
  const s = new GuestSession(["--deterministic"]);
  try {
    await s.expect("guest# ");
    assert.match(await s.run("cat /sys/class/misc/hw_random/rng_current"), /virtio_rng/);
    assert.match(await s.run("dd if=/dev/hwrng bs=64 count=1 2>/dev/null | wc -c"), /^\s*64\s*$/m);
    assert.match(await s.run("head -c 64 /dev/hwrng | wc -c"), /^\s*64\s*$/m);
    // The typed line holds "$((6*7))", so "VIRTIO-42-CONSOLE" can only come from the device.
    const out = await s.run("echo VIRTIO-$((6*7))-CONSOLE > /dev/hvc1; echo rc=$?");
    assert.match(out, /VIRTIO-42-CONSOLE/);
    assert.match(out, /rc=0/);
    // hvc0 is the SBI console; there is no third.
    assert.match(await s.run("echo x > /dev/hvc2; echo rc=$?"), /rc=1/);
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
});

test("with --no-virtio-console and --no-rng there is no hvc1 and no virtio RNG", {
  skip: noGuest,
}, async () => {
  const s = new GuestSession(["--deterministic", "--no-virtio-console", "--no-rng"]);
  try {
    await s.expect("guest# ");
    assert.match(await s.run("echo VIRTIO-$((6*7)) > /dev/hvc1; echo rc=$?"), /rc=1/);
    assert.doesNotMatch(s.output, /VIRTIO-42/);
    assert.doesNotMatch(await s.run("cat /sys/class/misc/hw_random/rng_available 2>&1; echo END"), /virtio/);
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
});

test("with console=hvc1 the shell runs on the virtio console and host input reaches it", {
  skip: noGuest,
}, async () => {
  const s = new GuestSession(["--deterministic", "--append", "earlycon=sbi console=hvc1 panic=-1"]);
  try {
    await s.expect("GUEST-READY");
    await s.expect("guest# ");
    assert.match(await s.run("echo $((6*7)); cat /proc/consoles"), /^echo .*\n42\nhvc1 /);
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
});

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { findGuest } from "../../src/host/node/guest.ts";
import { GuestSession } from "../support/guest-session.ts";

const guest = findGuest();
const noGuest = guest === undefined && "the default guest is not built: run `npm run guest`";
const FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";
const FW_DYNAMIC = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin";
const UBOOT = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin";

test("the default guest boots to GUEST-READY, runs commands on 2 harts and powers off with exit 0", {
  skip: noGuest,
}, async () => {
  const s = new GuestSession(["--deterministic", "--smp", "2"]);
  try {
    await s.expect("GUEST-READY");
    await s.expect("guest# ");
    assert.match(await s.run("uname -m"), /^uname -m\nriscv64\n$/);
    const cpuinfo = await s.run("cat /proc/cpuinfo");
    assert.equal(cpuinfo.match(/^processor\s*:/gm)?.length, 2, cpuinfo);
    assert.match(cpuinfo, /^isa\s*: rv64imafdc\S*$/m);
    assert.match(cpuinfo, /^mmu\s*: sv57$/m);
    assert.match(await s.run("cat /sys/devices/system/cpu/online"), /0-1/);
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
});

test("two deterministic boots print identical bytes, and so do one without the JIT and one with it forced", {
  skip: noGuest,
}, async () => {
  const boot = async (...extra: string[]) => {
    const s = new GuestSession(["--deterministic", ...extra]);
    try {
      await s.expect("guest# ");
      return s.output;
    } finally {
      s.kill();
    }
  };
  const [a, b, interpreted] = [await boot(), await boot(), await boot("--no-jit")];
  // Everything that runs twice compiled (the default threshold leaves boot code interpreted).
  const forced = await boot("--jit-hot", "1");
  assert.match(a, /GUEST-READY/);
  assert.equal(a, b);
  // Translated code retires exactly what the interpreter would, so even the kernel's timestamps agree.
  assert.equal(interpreted, a);
  assert.equal(forced, a);
});

test("OpenSBI fw_jump.bin boots the same kernel to GUEST-READY", {
  skip: noGuest || (!existsSync(FW_JUMP) && "opensbi not installed"),
}, async () => {
  const s = new GuestSession(["--deterministic", "--bios", FW_JUMP]);
  try {
    await s.expect("OpenSBI");
    await s.expect("GUEST-READY");
    await s.expect("guest# ");
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
});

test("U-Boot under OpenSBI reaches its prompt and answers version and bdinfo", {
  skip: !existsSync(UBOOT) && "u-boot-qemu not installed",
}, async () => {
  const s = new GuestSession(["--deterministic", "--bios", FW_JUMP, "--kernel", UBOOT]);
  try {
    await s.expect("Hit any key to stop autoboot");
    s.send(" ");
    await s.expect("=> ");
    assert.match(await s.run("version", "=> "), /U-Boot 20\d\d/);
    const bd = await s.run("bdinfo", "=> ");
    assert.match(bd, /DRAM bank\s+= 0x0+\n-> start\s+= 0x0*80000000/);
    assert.match(bd, /-> size\s+= 0x0*10000000/);
  } finally {
    s.kill();
  }
});

test("OpenSBI fw_dynamic.bin boots the same kernel to GUEST-READY", {
  skip: noGuest || (!existsSync(FW_DYNAMIC) && "opensbi not installed"),
}, async () => {
  const s = new GuestSession(["--deterministic", "--bios", FW_DYNAMIC]);
  try {
    await s.expect("Firmware Base");
    await s.expect("GUEST-READY");
    await s.expect("guest# ");
    assert.match(await s.run("cat /proc/cpuinfo"), /processor\s*: 0/);
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
});

test("Ctrl-A h lists the escapes and Ctrl-A x quits", { skip: noGuest }, async () => {
  const s = new GuestSession(["--deterministic"]);
  try {
    await s.expect("guest# ");
    s.send("\x01h");
    await s.expect("C-a x    exit Virtus");
    s.send("\x01x");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
});

test("Linux brings up all 4 harts with --smp 4", { skip: noGuest }, async () => {
  const s = new GuestSession(["--deterministic", "--smp", "4"]);
  try {
    await s.expect("GUEST-READY");
    await s.expect("guest# ");
    assert.match(await s.run("cat /sys/devices/system/cpu/online"), /0-3/);
    assert.match(await s.run("nproc"), /\n4\n/);
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
});

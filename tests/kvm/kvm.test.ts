/**
 * KVM inside Virtus: a Linux 6.1 kernel built with CONFIG_KVM=y
 * (tests/kvm/build-kernel.sh, into ~/.cache/virtus/kvm-guest/) boots with
 * `--cpu h=on`, KVM finds the H extension, and tests/kvm/kvm-probe.c, run
 * as init, creates a VM whose vCPU runs a few instructions in VS-mode:
 * MMIO exits through guest-page faults, an MMIO read answered by the VMM,
 * and an SBI shutdown. Then tests/kvm/mini-vmm.c boots the default guest's
 * kernel and initramfs as a nested guest (console through SBI, which KVM
 * forwards to the VMM) to its shell, runs `uname -m` and powers off.
 * Opt-in with VIRTUS_KVM_TEST=1, after building that kernel (a kernel
 * compile: `tests/kvm/build-kernel.sh ~/.cache/virtus/kvm-guest`).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { FdtBuilder } from "../../src/machine/fdt/builder.ts";
import { haveCrossGcc } from "../support/cross.ts";
import { GuestSession } from "../support/guest-session.ts";

const KVM_IMAGE = join(homedir(), ".cache/virtus/kvm-guest/Image");

/** A newc cpio archive of the given entries (directories have no data), enough for an extra initramfs. */
function cpio(entries: { name: string; data?: Uint8Array }[]): Uint8Array {
  const parts: Buffer[] = [];
  const entry = (fileName: string, mode: number, body: Uint8Array, ino: number) => {
    const fields = [ino, mode, 0, 0, 1, 0, body.length, 0, 0, 0, 0, fileName.length + 1, 0];
    const header = `070701${fields.map((f) => f.toString(16).padStart(8, "0")).join("")}`;
    const head = Buffer.from(`${header}${fileName}\0`, "latin1");
    parts.push(head, Buffer.alloc((4 - (head.length % 4)) % 4), Buffer.from(body));
    parts.push(Buffer.alloc((4 - (body.length % 4)) % 4));
  };
  entries.forEach((e, i) => {
    entry(e.name, e.data === undefined ? 0o40755 : 0o100755, e.data ?? new Uint8Array(0), i + 1);
  });
  entry("TRAILER!!!", 0, new Uint8Array(0), 0);
  return Buffer.concat(parts);
}

/** Compiles a C file from tests/kvm statically for riscv64. */
function buildStatic(dir: string, name: string): Uint8Array {
  const out = join(dir, name);
  execFileSync("riscv64-linux-gnu-gcc", [
    "-static",
    "-O2",
    "-o",
    out,
    join(import.meta.dirname, `${name}.c`),
  ]);
  return readFileSync(out);
}

function newestGuest(): string | undefined {
  const dir = join(homedir(), ".cache/virtus/guest");
  if (!existsSync(dir)) return undefined;
  const all = readdirSync(dir)
    .map((d) => join(dir, d))
    .filter((d) => existsSync(join(d, "initramfs.cpio.gz")))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return all[0];
}

const guest = newestGuest();
// Opt-in (slow: a nested Linux runs in the interpreter): VIRTUS_KVM_TEST=1 npm test.
const skip =
  process.env.VIRTUS_KVM_TEST !== "1"
    ? "set VIRTUS_KVM_TEST=1 to run (slow)"
    : !existsSync(KVM_IMAGE)
      ? `no KVM test kernel (tests/kvm/build-kernel.sh ${join(homedir(), ".cache/virtus/kvm-guest")})`
      : guest === undefined
        ? "no default guest initramfs"
        : !haveCrossGcc()
          ? "no riscv64 cross compiler"
          : false;

test("a KVM host kernel boots with --cpu h=on and runs a nested vCPU in VS-mode", {
  skip,
  timeout: 900_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "virtus-kvm-"));
  try {
    // Linux takes concatenated (compressed) cpio archives as one initramfs.
    const initrd = join(dir, "initrd.cpio.gz");
    const extra = gzipSync(cpio([{ name: "kvm-probe", data: buildStatic(dir, "kvm-probe") }]));
    writeFileSync(initrd, Buffer.concat([readFileSync(join(guest!, "initramfs.cpio.gz")), extra]));
    const s = new GuestSession([
      "--cpu",
      "h=on",
      "--kernel",
      KVM_IMAGE,
      "--initrd",
      initrd,
      "--append",
      "console=ttyS0 rdinit=/kvm-probe panic=-1",
      "--deterministic",
    ]);
    const boot = await s.expect("KVM-PROBE");
    assert.match(boot, /kvm \[\d+\]: hypervisor extension available/);
    const line = await s.expect("\n");
    assert.match(`KVM-PROBE${line}`, /^KVM-PROBE OK/, s.output.slice(-3000));
    assert.equal(await s.exited, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The nested guest's device tree: one hart, 128 MiB, the initrd, the SBI console (mini-vmm.c's layout). */
function nestedDtb(initrdSize: number): Uint8Array {
  const b = new FdtBuilder();
  const root = b.root.u32("#address-cells", 2).u32("#size-cells", 2).string("compatible", "riscv-virtio");
  const initrdStart = 0x8000_0000 + 96 * 2 ** 20;
  root
    .addNode("chosen")
    .string("bootargs", "console=hvc0 earlycon=sbi panic=-1")
    .u64("linux,initrd-start", initrdStart)
    .u64("linux,initrd-end", initrdStart + initrdSize);
  root
    .addNode("memory@80000000")
    .string("device_type", "memory")
    .u64("reg", 0x8000_0000, 128 * 2 ** 20);
  const cpus = root
    .addNode("cpus")
    .u32("#address-cells", 1)
    .u32("#size-cells", 0)
    .u32("timebase-frequency", 10_000_000);
  const cpu = cpus
    .addNode("cpu@0")
    .string("device_type", "cpu")
    .u32("reg", 0)
    .string("status", "okay")
    .string("compatible", "riscv")
    .string("riscv,isa", "rv64imafdc")
    .string("mmu-type", "riscv,sv39");
  cpu
    .addNode("interrupt-controller")
    .u32("#interrupt-cells", 1)
    .empty("interrupt-controller")
    .string("compatible", "riscv,cpu-intc");
  return b.build();
}

test("a nested Linux boots to a shell under a small VMM on KVM inside Virtus", {
  skip,
  timeout: 1_800_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "virtus-kvm-"));
  try {
    const nestedInitrd = readFileSync(join(guest!, "initramfs.cpio.gz"));
    const extra = gzipSync(
      cpio([
        { name: "mini-vmm", data: buildStatic(dir, "mini-vmm") },
        { name: "nested" },
        { name: "nested/Image", data: readFileSync(join(guest!, "Image")) },
        { name: "nested/initrd", data: nestedInitrd },
        { name: "nested/dtb", data: nestedDtb(nestedInitrd.length) },
      ]),
    );
    const initrd = join(dir, "initrd.cpio.gz");
    writeFileSync(initrd, Buffer.concat([nestedInitrd, extra]));
    const s = new GuestSession([
      "--cpu",
      "h=on",
      "--mem",
      "512M",
      "--kernel",
      KVM_IMAGE,
      "--initrd",
      initrd,
      "--append",
      "console=ttyS0 rdinit=/mini-vmm panic=-1",
    ]);
    await s.expect("MINI-VMM: starting the nested guest");
    await s.expect("GUEST-READY", 1_500_000);
    await s.expect("riscv64");
    await s.expect("MINI-VMM: the nested guest powered off");
    assert.equal(await s.exited, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

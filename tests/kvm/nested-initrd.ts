/**
 * The outer guest's initramfs for the nested tests and bench:nested: the
 * default guest's initramfs plus an archive holding a static program from
 * this directory (kvm-probe, mini-vmm) and, for mini-vmm, the nested guest
 * (/nested/Image, initrd, dtb and an optional script typed at its prompt).
 * Linux takes concatenated (compressed) cpio archives as one initramfs.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { GuestFiles } from "../../src/host/node/guest.ts";
import { FdtBuilder } from "../../src/machine/fdt/builder.ts";

/** A newc cpio archive of the given entries (directories have no data), enough for an extra initramfs. */
export function cpio(entries: { name: string; data?: Uint8Array }[]): Uint8Array {
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
export function buildStatic(dir: string, name: string): Uint8Array {
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

/**
 * Writes DIR/initrd.cpio.gz: the default guest's initramfs, mini-vmm and the nested guest
 * (`script`, if given, replaces what mini-vmm types at the nested prompt); returns its path.
 */
export function writeNestedInitrd(dir: string, guest: GuestFiles, script?: string): string {
  const nestedInitrd = readFileSync(guest.initrd);
  const extra = gzipSync(
    cpio([
      { name: "mini-vmm", data: buildStatic(dir, "mini-vmm") },
      { name: "nested" },
      { name: "nested/Image", data: readFileSync(guest.kernel) },
      { name: "nested/initrd", data: nestedInitrd },
      { name: "nested/dtb", data: nestedDtb(nestedInitrd.length) },
      ...(script === undefined ? [] : [{ name: "nested/script", data: Buffer.from(script) }]),
    ]),
  );
  const initrd = join(dir, "initrd.cpio.gz");
  writeFileSync(initrd, Buffer.concat([nestedInitrd, extra]));
  return initrd;
}

/** Writes DIR/probe.cpio.gz: the default guest's initramfs plus kvm-probe; returns its path. */
export function writeProbeInitrd(dir: string, guest: GuestFiles): string {
  const initrd = join(dir, "probe.cpio.gz");
  const extra = gzipSync(cpio([{ name: "kvm-probe", data: buildStatic(dir, "kvm-probe") }]));
  writeFileSync(initrd, Buffer.concat([readFileSync(guest.initrd), extra]));
  return initrd;
}

/** Shared helpers for the benchmarks that boot the default guest. */
import { GUEST_KERNEL_CMDLINE } from "../src/host/node/guest.ts";
import type { GuestSession } from "../tests/support/guest-session.ts";

export const FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Virtus options that give the guest the same devices as QEMU's plain `-M virt` (no virtio devices). */
export const VIRTUS_SAME_DEVICES = ["--net", "none", "--no-virtio-console", "--no-rng"];

/** `virtus run` arguments booting KERNEL and INITRD with the default guest's command line. */
export function virtusBootArgs(kernel: string, initrd: string): string[] {
  return ["--kernel", kernel, "--initrd", initrd, "--append", GUEST_KERNEL_CMDLINE];
}

/** QEMU's equivalent of `virtus run` for the default guest (the reference anchor's command line). */
export function qemuArgs(kernel: string, initrd: string, smp: number | string = 1, mem = "256M"): string[] {
  return [
    "-M",
    "virt",
    "-nographic",
    "-no-reboot",
    "-smp",
    String(smp),
    "-m",
    mem,
    "-bios",
    FW_JUMP,
    "-kernel",
    kernel,
    "-initrd",
    initrd,
    "-append",
    GUEST_KERNEL_CMDLINE,
  ];
}

/** Seconds from spawn to GUEST-READY; then powers the guest off. */
export async function timeBoot(s: GuestSession): Promise<number> {
  const t0 = performance.now();
  try {
    await s.expect("GUEST-READY", 600_000);
    const t = (performance.now() - t0) / 1000;
    await s.expect("guest# ");
    s.send("poweroff -f\n");
    await s.exited;
    return t;
  } finally {
    s.kill();
  }
}

/** Runs `cmd` in a booted guest under busybox `time -p` and returns the guest's real seconds. */
export async function timeInGuest(s: GuestSession, cmd: string): Promise<number> {
  const out = await s.run(`time -p sh -c '${cmd} >/dev/null'`);
  const m = /real ([\d.]+)/.exec(out);
  if (!m) throw new Error(`no time in output: ${out}`);
  return Number(m[1]);
}

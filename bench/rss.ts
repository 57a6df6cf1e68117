/** Host memory of a guest's process, read from /proc (Linux hosts). */
import { readFileSync } from "node:fs";
import type { GuestSession } from "../tests/support/guest-session.ts";

/** A `/proc/PID/status` field in MB (decimal, as QEMU's and Virtus's docs quote it), e.g. "VmHWM". */
export function procStatusMb(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
  if (m === null) throw new Error(`no ${field} in /proc status`);
  return (Number(m[1]) * 1024) / 1e6;
}

/** Boots to the shell prompt, idles `idleMs`, and returns the process's peak RSS (VmHWM) in MB; then kills it. */
export async function idlePeakRss(s: GuestSession, idleMs = 3000): Promise<number> {
  try {
    await s.expect("guest# ", 600_000);
    await new Promise((r) => setTimeout(r, idleMs));
    return procStatusMb(readFileSync(`/proc/${s.proc.pid}/status`, "utf8"), "VmHWM");
  } finally {
    s.kill();
  }
}

/** Host memory of a guest's process, read from /proc (Linux hosts). */
import { readFileSync } from "node:fs";
import type { GuestSession } from "../tests/support/guest-session.ts";

/** Peak resident set size in bytes from the text of /proc/PID/status (`VmHWM: N kB`). */
export function parseVmHwm(status: string): number | undefined {
  const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Process `pid`'s peak RSS in bytes now (NaN if /proc does not say). */
export function peakRssBytes(pid: number): number {
  return parseVmHwm(readFileSync(`/proc/${pid}/status`, "utf8")) ?? Number.NaN;
}

/** Boots to the shell prompt, idles `idleMs`, and returns the process's peak RSS (VmHWM) in MB; then kills it. */
export async function idlePeakRss(s: GuestSession, idleMs = 3000): Promise<number> {
  try {
    await s.expect("guest# ", 600_000);
    await new Promise((r) => setTimeout(r, idleMs));
    return peakRssBytes(s.proc.pid ?? -1) / 1e6;
  } finally {
    s.kill();
  }
}

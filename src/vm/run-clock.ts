import { TIMEBASE_HZ } from "../machine/board/machine.ts";
import type { Clock } from "../machine/host.ts";

/** Ticks of guest time per host millisecond. */
export const TICKS_PER_MS = TIMEBASE_HZ / 1000;

/**
 * Real-time guest time (design 2.6) that stands still while the VM is
 * paused and can be set to a saved value on restore: mtime = base + the
 * host's monotonic time since the VM last started running. A guest thus
 * never sees the time it spent paused or saved in a file.
 */
export class RunClock implements Clock {
  private readonly monotonicMs: () => number;
  /** Ticks when the clock last started running (or its frozen value while paused). */
  private base = 0;
  /** Host ms when it last started running; undefined while paused. */
  private since: number | undefined;

  constructor(monotonicMs: () => number) {
    this.monotonicMs = monotonicMs;
    this.since = monotonicMs();
  }

  now(): number {
    if (this.since === undefined) return this.base;
    return this.base + Math.floor((this.monotonicMs() - this.since) * TICKS_PER_MS);
  }

  get running(): boolean {
    return this.since !== undefined;
  }

  pause(): void {
    if (this.since === undefined) return;
    this.base = this.now();
    this.since = undefined;
  }

  resume(): void {
    if (this.since === undefined) this.since = this.monotonicMs();
  }

  /** Continues from `ticks` (a restored mtime); running or paused as before. */
  set(ticks: number): void {
    this.base = ticks;
    if (this.since !== undefined) this.since = this.monotonicMs();
  }
}

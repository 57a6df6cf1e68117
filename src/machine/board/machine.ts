import { Bus } from "../bus/mmio.ts";
import { updateSstcTimer } from "../cpu/csr.ts";
import { S_MENVCFG, S_MHARTID, S_STIMECMP } from "../cpu/csr-slots.ts";
import { Hart } from "../cpu/hart.ts";
import { runSlice } from "../cpu/interpreter.ts";
import { CLINT_BASE, CLINT_SIZE, Clint, type Clock } from "../devices/clint.ts";
import { Jit } from "../jit/jit.ts";
import { GuestMemory } from "../memory/guest-memory.ts";

/** Timebase of mtime, as on QEMU virt: 10 MHz. */
export const TIMEBASE_HZ = 10_000_000;
/** Deterministic mode: one mtime tick per this many retired instructions (design 2.6). */
export const INSNS_PER_TICK = 10;
/** Instructions a hart runs before the machine looks at devices and timers. */
export const SLICE = 4096;

export interface MachineOptions {
  ramSize: number;
  harts?: number;
  /** Real-time clock source in ticks; omitted → deterministic (instruction-count) time. */
  clock?: Clock;
  /** Translate hot code to WebAssembly (default true); false runs the interpreter alone. */
  jit?: boolean;
  /** Executions before code is compiled (jit/jit.ts JIT_HOT); tests lower it to reach the JIT at once. */
  jitHot?: number;
}

/** Why Machine.run returned. */
export type StopReason = "budget" | "stopped" | "idle";

/**
 * A machine: RAM, harts, the physical bus and the timer. Harts are
 * interleaved in one thread, SLICE instructions at a time, in a fixed order,
 * so a deterministic run gives the same result every time (design 2.7).
 */
export class Machine {
  readonly mem: GuestMemory;
  readonly bus = new Bus();
  readonly harts: Hart[] = [];
  readonly clint: Clint;
  /** The translation cache shared by the harts, when enabled. */
  readonly jit: Jit | undefined;
  readonly clock: Clock;
  /** True when time follows the retired-instruction count. */
  readonly deterministic: boolean;
  /** Ticks skipped while every hart waited for an interrupt (deterministic mode). */
  private idleTicks = 0;
  /** Set by a device or hook to stop run() at the next slice boundary. */
  stopRequested = false;
  /** Called after every round of slices (devices polling, HTIF). */
  readonly pollers: (() => void)[] = [];
  /**
   * Host work the guest may be waiting on (a network connection to a host
   * socket). While one says true, an idle deterministic machine does not
   * jump to its next timer deadline (that would make a guest waiting for a
   * host reply time out in no real time); run() returns "idle" and the host
   * lets time pass at the wall-clock pace with idleFor().
   */
  readonly idleHolds: (() => boolean)[] = [];

  constructor(opts: MachineOptions) {
    this.mem = new GuestMemory(opts.ramSize);
    const n = opts.harts ?? 1;
    const env = { time: () => this.clock.now() };
    this.jit = opts.jit === false ? undefined : new Jit(this.mem, opts.jitHot);
    for (let i = 0; i < n; i++) {
      const h = new Hart(i, this.mem, this.bus, env);
      h.jit = this.jit;
      h.c[S_MHARTID * 2] = i;
      this.harts.push(h);
    }
    this.deterministic = opts.clock === undefined;
    this.clock = opts.clock ?? { now: () => Math.floor(this.retired() / INSNS_PER_TICK) + this.idleTicks };
    this.clint = new Clint(this.harts, this.clock);
    this.bus.map(CLINT_BASE, CLINT_SIZE, this.clint);
  }

  /** Instructions retired by all harts. */
  retired(): number {
    let n = 0;
    for (const h of this.harts) n += h.icount;
    return n;
  }

  /** Updates MTIP (CLINT) and STIP (Sstc stimecmp) from the current time. */
  updateTimers(): void {
    this.clint.update();
    const t = this.clock.now();
    for (const h of this.harts) updateSstcTimer(h, t);
  }

  /**
   * Runs until about `maxInsns` more instructions retire, stop is requested,
   * or every hart waits for an interrupt that no timer will bring.
   */
  run(maxInsns: number): StopReason {
    const end = this.retired() + maxInsns;
    // Slices can end without retiring anything (a hart whose trap vector itself faults), so
    // rounds are bounded too: a guest in such a storm cannot keep the host from returning.
    for (let rounds = Math.ceil(maxInsns / 16) + 1; rounds > 0; rounds--) {
      if (this.stopRequested) return "stopped";
      const left = end - this.retired();
      if (left <= 0) return "budget";
      let active = 0;
      for (const h of this.harts) {
        if (h.waiting && (h.checkInterrupts(), h.waiting)) continue;
        active++;
        runSlice(h, Math.min(SLICE, left));
      }
      this.updateTimers();
      for (const p of this.pollers) p();
      if (active === 0 && (!this.deterministic || this.idleHeld() || !this.skipToNextTimer())) return "idle";
    }
    return "budget";
  }

  /** True while an idle hold says host work is outstanding (see idleHolds). */
  idleHeld(): boolean {
    for (const h of this.idleHolds) if (h()) return true;
    return false;
  }

  /**
   * Deterministic mode: `ticks` of time pass while every hart waits (the
   * host measured them on its clock during an idle hold), but not beyond
   * the next timer deadline, which the next run() then serves. Real-time
   * machines ignore this: their clock moves by itself.
   */
  idleFor(ticks: number): void {
    if (!this.deterministic || !(ticks > 0)) return;
    const now = this.clock.now();
    const next = this.nextTimerDeadline(now);
    this.idleTicks += Math.floor(Math.min(ticks, next - now));
    this.updateTimers();
  }

  /** The earliest CLINT or Sstc deadline after `now` (infinity if none). */
  private nextTimerDeadline(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const v of this.clint.mtimecmp) if (v > now && v < next) next = v;
    for (const h of this.harts) {
      if (h.c[S_MENVCFG * 2 + 1] < 0) {
        const v = (h.c[S_STIMECMP * 2] >>> 0) + (h.c[S_STIMECMP * 2 + 1] >>> 0) * 2 ** 32;
        if (v > now && v < next) next = v;
      }
    }
    return next;
  }

  /**
   * Deterministic idle: jump time to the next timer deadline still ahead.
   * Returns false if there is none (a deadline already reached has raised
   * its line, and that woke nobody).
   */
  private skipToNextTimer(): boolean {
    const now = this.clock.now();
    const next = this.nextTimerDeadline(now);
    if (next >= 2 ** 63) return false;
    this.idleTicks += next - now;
    this.updateTimers();
    return true;
  }
}

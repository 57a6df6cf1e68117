import { Bus } from "../bus/mmio.ts";
import { updateSstcTimer } from "../cpu/csr.ts";
import { S_MENVCFG, S_MHARTID, S_STIMECMP } from "../cpu/csr-slots.ts";
import { Hart } from "../cpu/hart.ts";
import { vsTimerDeadline } from "../cpu/hext.ts";
import { runSlice } from "../cpu/interpreter.ts";
import { Clint, type Clock } from "../devices/clint.ts";
import { JIT_YIELD_INSNS, Jit } from "../jit/jit.ts";
import type { JitProfile } from "../jit/profile.ts";
import { GuestMemory } from "../memory/guest-memory.ts";
import { expectBoolean, expectNumber, expectVersion, type Stateful } from "../snapshot/state.ts";
import { VIRT_MEMMAP } from "./memory-map.ts";

/** Timebase of mtime, as on QEMU virt: 10 MHz. */
export const TIMEBASE_HZ = 10_000_000;
/** Deterministic mode: one mtime tick per this many retired instructions (design 2.6). */
export const INSNS_PER_TICK = 10;
/**
 * Instructions a hart runs before the machine looks at devices and timers,
 * with several harts (an IPI or a released lock waits for the other hart's
 * turn) and in real time before the speed is known.
 */
export const SLICE = 4096;
/**
 * A lone hart's longest slice: it runs until its next timer deadline, at
 * most this many instructions (each return costs a round of timer and device
 * polling; 4,096-instruction rounds were a tenth of a CPU-bound guest's time).
 */
export const MAX_SLICE = 65536;
/** Real time: the most guest ticks (0.25 ms) a lone hart's slice is sized for, bounding host-input latency. */
const MAX_SLICE_TICKS = 2500;

export interface MachineOptions {
  ramSize: number;
  harts?: number;
  /** Real-time clock source in ticks; omitted → deterministic (instruction-count) time. */
  clock?: Clock;
  /** Translate hot code to WebAssembly (default true); false runs the interpreter alone. */
  jit?: boolean;
  /** Executions before code is compiled (jit/jit.ts JIT_HOT); tests lower it to reach the JIT at once. */
  jitHot?: number;
  /** Live JIT blocks at most (jit/jit.ts MAX_LIVE_BLOCKS; tests lower it). */
  jitMaxBlocks?: number;
  /** Count the JIT's work into this profile (jit/profile.ts; `virtus run --profile`). */
  jitProfile?: JitProfile;
  /**
   * Compile blocks on V8's background threads and install them when the
   * host's event loop runs (jit/jit.ts flush); only for hosts that yield to
   * it between runs. Default false: modules compile synchronously.
   */
  jitAsync?: boolean;
  /** Blocks installed and instructions retired between sweeps that drop cold code (jit/jit.ts SWEEP_EVERY, SWEEP_INSNS; tests lower them). */
  jitSweepEvery?: number;
  jitSweepInsns?: number;
  /** Compile regions of blocks rather than single blocks (jit/jit.ts JIT_REGIONS; tests set it both ways). */
  jitRegions?: boolean;
  /** Decoded pages kept at most (memory/code-cache.ts; tests lower it to exercise eviction). */
  maxCodePages?: number;
  /** Implement the H extension (hypervisor): misa.H, the hypervisor and VS CSRs, V=1 (`--cpu h=on`). */
  hExt?: boolean;
}

/** Why Machine.run returned. */
export type StopReason = "budget" | "stopped" | "idle";

/**
 * The machine's time base and scheduler position as plain data (design
 * 2.8). `mtime` is the time when saved: a restored machine's clock goes on
 * from there (deterministic: through idleTicks; real time: through an
 * offset to the host clock), so guest time neither jumps nor runs back.
 * The scheduler fields say where in a round of slices run() stopped, so
 * that run(N) then run(M) is exactly run(N + M), before and after a restore.
 */
export interface MachineTimeState {
  version: 1;
  /** True when the machine ran on instruction-count time. */
  deterministic: boolean;
  mtime: number;
  /** The next hart to run in the current round (0 = a round starts). */
  cursor: number;
  /** Instructions left in that hart's slice when run() stopped inside it (0 = none). */
  sliceLeft: number;
  /** Harts that ran a slice in the current round so far. */
  roundActive: number;
}

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
  /** Added to the host clock (real-time mode) so a restored machine's time goes on from its snapshot. */
  private timeOffset = 0;
  /** Scheduler position inside a round (see MachineTimeState). */
  private cursor = 0;
  private sliceLeft = 0;
  private roundActive = 0;
  /** The time read at the end of the last round: timers and pollers share one read of the clock per round. */
  private roundNow = 0;
  /** Real time: retired instructions per tick, a moving average (0 = not measured yet), and the last sample point. */
  private insnsPerTick = 0;
  private rateTicks = 0;
  private rateRetired = 0;
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
  /**
   * Times (in ticks) at which a device wants to run again on its own: a
   * rate-limited disk or NIC whose buckets refill then. An idle
   * deterministic machine jumps to the earliest of these and the timer
   * deadlines, so throttled I/O completes in virtual time.
   */
  readonly wakeups: (() => number)[] = [];

  constructor(opts: MachineOptions) {
    this.mem = new GuestMemory(opts.ramSize, opts.maxCodePages);
    const n = opts.harts ?? 1;
    const env = { time: () => this.clock.now() };
    this.jit =
      opts.jit === false
        ? undefined
        : new Jit(this.mem, {
            hot: opts.jitHot,
            maxBlocks: opts.jitMaxBlocks,
            profile: opts.jitProfile,
            async: opts.jitAsync,
            sweepEvery: opts.jitSweepEvery,
            sweepInsns: opts.jitSweepInsns,
            regions: opts.jitRegions,
          });
    for (let i = 0; i < n; i++) {
      const h = new Hart(i, this.mem, this.bus, env);
      h.jit = this.jit;
      h.hExt = opts.hExt === true;
      h.c[S_MHARTID * 2] = i;
      this.harts.push(h);
    }
    this.deterministic = opts.clock === undefined;
    const host = opts.clock;
    this.clock =
      host === undefined
        ? { now: () => Math.floor(this.retired() / INSNS_PER_TICK) + this.idleTicks }
        : { now: () => host.now() + this.timeOffset };
    this.clint = new Clint(this.harts, this.clock);
    this.bus.map(VIRT_MEMMAP.clint.base, VIRT_MEMMAP.clint.size, this.clint);
  }

  /** Instructions retired by all harts. */
  retired(): number {
    let n = 0;
    for (const h of this.harts) n += h.icount;
    return n;
  }

  /** Updates MTIP (CLINT) and STIP (Sstc stimecmp) from the current time. */
  updateTimers(): void {
    const t = this.clock.now();
    this.roundNow = t;
    this.clint.update(t);
    for (const h of this.harts) updateSstcTimer(h, t);
  }

  /** The time at the end of the last round of slices (pollers run then: one clock read serves them all). */
  get pollTime(): number {
    return this.roundNow;
  }

  /**
   * Instructions for the next slice. Several harts: SLICE. A lone hart runs
   * until its next timer deadline, at most MAX_SLICE: in deterministic mode
   * exactly (time is the retired count, so the deadline's interrupt is taken
   * no later than before, and the same on every run); in real time by the
   * measured speed, at most MAX_SLICE_TICKS ahead.
   */
  private sliceLength(): number {
    if (this.harts.length > 1) return SLICE;
    // Deterministic time costs nothing to read, and must not depend on where run() was entered.
    const now = this.deterministic ? this.clock.now() : this.roundNow;
    const ticks = this.nextTimerDeadline(now) - now;
    if (this.deterministic) {
      if (ticks >= MAX_SLICE / INSNS_PER_TICK) return MAX_SLICE;
      // Time reaches the deadline when the count reaches a multiple of INSNS_PER_TICK.
      return ticks * INSNS_PER_TICK - (this.retired() % INSNS_PER_TICK);
    }
    if (this.insnsPerTick === 0) return SLICE;
    const n = Math.floor(Math.min(ticks, MAX_SLICE_TICKS) * this.insnsPerTick);
    return Math.max(1, Math.min(n, MAX_SLICE));
  }

  /** Real time: folds the instructions retired since the last sample into insnsPerTick (at most every 0.1 ms). */
  private sampleRate(now: number): void {
    const dt = now - this.rateTicks;
    if (dt < 1000) return;
    const rate = (this.retired() - this.rateRetired) / dt;
    // An idle stretch (wfi) samples low, which only shortens slices.
    this.insnsPerTick = this.insnsPerTick === 0 ? rate : this.insnsPerTick + (rate - this.insnsPerTick) / 8;
    this.rateTicks = now;
    this.rateRetired = this.retired();
  }

  /**
   * Runs until `maxInsns` more instructions retire, stop is requested, or
   * every hart waits for an interrupt that no timer will bring.
   *
   * Harts take turns in rounds: each runs a slice of up to SLICE
   * instructions (a lone hart up to its next timer deadline: sliceLength; less when something ends it early: a trap, a CSR write,
   * wfi, an interrupt line), then timers and pollers run. When the budget
   * ends inside a slice, run() remembers the hart and what is left of its
   * slice and goes on there next time, so the rounds, and with them every
   * interrupt check, are the same however the instructions are split
   * between calls: run(N) then run(M) is exactly run(N + M). A slice
   * continued this way starts with the interrupt check every slice makes;
   * it finds nothing new, because whatever could make an interrupt pending
   * inside a slice also ends the slice.
   */
  run(maxInsns: number): StopReason {
    this.mem.untouched = false;
    const start = this.retired();
    const end = start + maxInsns;
    const harts = this.harts;
    // Slices can end without retiring anything (a hart whose trap vector itself faults), so
    // rounds are bounded too: a guest in such a storm cannot keep the host from returning.
    let rounds = Math.ceil(maxInsns / 16) + 1;
    for (;;) {
      if (this.cursor === 0 && this.sliceLeft === 0) {
        if (this.stopRequested) return "stopped";
        if (this.retired() >= end || rounds-- <= 0) return "budget";
        // Blocks compiling in the background install from the host's event loop: let it run soon.
        if (this.jit?.compiling() === true && this.retired() - start >= JIT_YIELD_INSNS) return "budget";
      }
      const h = harts[this.cursor];
      if (this.sliceLeft === 0) {
        if (!(h.waiting && (h.checkInterrupts(), h.waiting))) {
          this.roundActive++;
          this.sliceLeft = this.sliceLength();
        }
      }
      if (this.sliceLeft > 0) {
        const left = end - this.retired();
        if (left <= 0) return "budget";
        const budget = Math.min(this.sliceLeft, left);
        const before = h.icount;
        runSlice(h, budget);
        const ran = h.icount - before;
        // Stopped by this call's budget (not by the slice's own end, nor early): resume here next time.
        if (budget < this.sliceLeft && ran >= budget && h.sliceEnd !== 0) {
          this.sliceLeft -= ran;
          return "budget";
        }
        this.sliceLeft = 0;
      }
      if (++this.cursor < harts.length) continue;
      this.cursor = 0;
      const active = this.roundActive;
      this.roundActive = 0;
      this.updateTimers();
      if (!this.deterministic) this.sampleRate(this.roundNow);
      for (const p of this.pollers) p();
      // A poller may just have raised an interrupt (throttled I/O completing): wake before skipping time.
      if (active === 0 && this.anyHartWakes()) continue;
      if (active === 0 && (!this.deterministic || this.idleHeld() || !this.skipToNextTimer())) return "idle";
    }
  }

  /** Lets waiting harts take pending interrupts; true if one woke. */
  private anyHartWakes(): boolean {
    let woke = false;
    for (const h of this.harts) if (h.waiting && (h.checkInterrupts(), !h.waiting)) woke = true;
    return woke;
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
    for (const w of this.wakeups) {
      const v = Math.ceil(w());
      if (v > now && v < next) next = v;
    }
    for (const h of this.harts) {
      if (h.c[S_MENVCFG * 2 + 1] < 0) {
        const v = (h.c[S_STIMECMP * 2] >>> 0) + (h.c[S_STIMECMP * 2 + 1] >>> 0) * 2 ** 32;
        if (v > now && v < next) next = v;
      }
      const vs = vsTimerDeadline(h); // the H extension's vstimecmp (infinity unless enabled)
      if (vs > now && vs < next) next = vs;
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

  // --- state

  /** The time base and scheduler position (see MachineTimeState); the harts and the CLINT save themselves. */
  saveTimeState(): MachineTimeState {
    return {
      version: 1,
      deterministic: this.deterministic,
      mtime: this.clock.now(),
      cursor: this.cursor,
      sliceLeft: this.sliceLeft,
      roundActive: this.roundActive,
    };
  }

  /**
   * Makes the clock read the saved mtime now and continue from there. The
   * harts must be restored first: deterministic time counts their retired
   * instructions.
   */
  restoreTimeState(s: MachineTimeState): void {
    const who = "machine time";
    expectVersion(who, s, 1);
    expectBoolean(who, "deterministic", s.deterministic);
    const mtime = expectNumber(who, "mtime", s.mtime, 0, Number.MAX_SAFE_INTEGER);
    const cursor = expectNumber(who, "cursor", s.cursor, 0, this.harts.length - 1);
    const sliceLeft = expectNumber(who, "sliceLeft", s.sliceLeft, 0, MAX_SLICE);
    const roundActive = expectNumber(who, "roundActive", s.roundActive, 0, this.harts.length);
    if (this.deterministic) this.idleTicks = mtime - Math.floor(this.retired() / INSNS_PER_TICK);
    else this.timeOffset += mtime - this.clock.now();
    this.cursor = cursor;
    this.sliceLeft = sliceLeft;
    this.roundActive = roundActive;
  }

  /** The time base as a Stateful component, for the board's list. */
  timeBase(): Stateful<MachineTimeState> {
    return { saveState: () => this.saveTimeState(), restoreState: (s) => this.restoreTimeState(s) };
  }
}

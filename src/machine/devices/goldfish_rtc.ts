import type { MmioDevice, MmioResult } from "../bus/mmio.ts";
import { type FdtContext, type FdtDevice, interruptParent, unitName } from "../fdt/device.ts";
import type { FdtNode } from "../fdt/node.ts";
import { expectNumber, expectVersion, StateError } from "../snapshot/state.ts";
import type { IrqLine, WallClock } from "./backends.ts";

export const RTC_SIZE = 0x1000;

/*
 * Goldfish RTC registers (Android GOLDFISH-VIRTUAL-HARDWARE.TXT, QEMU hw/rtc/goldfish_rtc.c),
 * 32-bit, time in nanoseconds since the Unix epoch:
 *   0x00 TIME_LOW         R: current time bits 31..0, latches bits 63..32 for TIME_HIGH; W: sets them
 *   0x04 TIME_HIGH        R: the latched high word; W: sets bits 63..32 of the current time
 *   0x08 ALARM_LOW        R/W: alarm bits 31..0; a write arms the alarm
 *   0x0c ALARM_HIGH       R/W: alarm bits 63..32
 *   0x10 IRQ_ENABLED      R/W: bit 0
 *   0x14 CLEAR_ALARM      W: disarms the alarm
 *   0x18 ALARM_STATUS     R: 1 while the alarm is armed
 *   0x1c CLEAR_INTERRUPT  W: lowers the interrupt
 */
const TIME_LOW = 0x00;
const TIME_HIGH = 0x04;
const ALARM_LOW = 0x08;
const ALARM_HIGH = 0x0c;
const IRQ_ENABLED = 0x10;
const CLEAR_ALARM = 0x14;
const ALARM_STATUS = 0x18;
const CLEAR_INTERRUPT = 0x1c;

const TWO32 = 2 ** 32;

/** The RTC as plain data (design 2.8). 64-bit values as unsigned 32-bit halves. */
export interface RtcState {
  version: 1;
  /** Guest time minus host time, modulo 2^64 (set when the guest writes TIME). */
  offsetLo: number;
  offsetHi: number;
  /** TIME_HIGH as latched by the last TIME_LOW read. */
  timeHigh: number;
  alarmLo: number;
  alarmHi: number;
  alarmRunning: boolean;
  irqPending: boolean;
  irqEnabled: boolean;
}

/**
 * Goldfish RTC. Guest time = host wall time (from the WallClock) + an offset
 * the guest sets by writing TIME. 64-bit nanosecond values are kept as two
 * unsigned 32-bit halves so no access allocates. The alarm is checked by
 * poll(), which the board calls between slices.
 */
export class GoldfishRtc implements MmioDevice, FdtDevice {
  readonly name = "goldfish-rtc";
  readonly base: number;
  readonly size = RTC_SIZE;
  readonly irqNumber: number;
  private readonly clock: WallClock;
  private readonly irq: IrqLine;
  private offsetLo = 0;
  private offsetHi = 0;
  private timeHigh = 0;
  private alarmLo = 0;
  private alarmHi = 0;
  private alarmRunning = false;
  private irqPending = false;
  private irqEnabled = false;
  private irqLevel = false;
  // Scratch results of hostNs() / now(), unsigned halves.
  private tLo = 0;
  private tHi = 0;

  /** `base` and `irqNumber` come from the board's memory map (board/memory-map.ts). */
  constructor(opts: { clock: WallClock; irq: IrqLine; base: number; irqNumber: number }) {
    this.clock = opts.clock;
    this.irq = opts.irq;
    this.base = opts.base;
    this.irqNumber = opts.irqNumber;
  }

  /** Host time in ns into tLo/tHi, exactly (a double cannot hold ~1.7e18 ns to the unit). */
  private hostNs(): void {
    let ms = this.clock.nowMs();
    if (!(ms > 0)) ms = 0;
    let msInt = Math.floor(ms);
    // Rounded, so a clock in exact ticks (e.g. mtime / 10^4) gives exact nanoseconds.
    let fracNs = Math.round((ms - msInt) * 1e6);
    if (fracNs >= 1e6) {
      fracNs -= 1e6;
      msInt += 1;
    }
    // ns = msInt * 1e6 + fracNs with msInt = msHi * 2^16 + msLo:
    // msHi * 1e6 * 2^16 = pHi * 2^32 + pLo * 2^16 where msHi * 1e6 = pHi * 2^16 + pLo.
    const msHi = Math.floor(msInt / 65536);
    const msLo = msInt - msHi * 65536;
    const p = msHi * 1e6;
    const pHi = Math.floor(p / 65536);
    let lo = (p - pHi * 65536) * 65536;
    let hi = pHi;
    const q = msLo * 1e6 + fracNs;
    const qHi = Math.floor(q / TWO32);
    lo += q - qHi * TWO32;
    hi += qHi;
    if (lo >= TWO32) {
      lo -= TWO32;
      hi += 1;
    }
    this.tLo = lo;
    this.tHi = hi % TWO32;
  }

  /** Guest time in ns into tLo/tHi: host time + offset, modulo 2^64. */
  private now(): void {
    this.hostNs();
    let lo = this.tLo + this.offsetLo;
    let carry = 0;
    if (lo >= TWO32) {
      lo -= TWO32;
      carry = 1;
    }
    this.tLo = lo;
    this.tHi = (this.tHi + this.offsetHi + carry) % TWO32;
  }

  /** Makes the guest time read (lo, hi) now: offset = new - host. */
  private setTime(lo: number, hi: number): void {
    this.hostNs();
    let l = lo - this.tLo;
    let borrow = 0;
    if (l < 0) {
      l += TWO32;
      borrow = 1;
    }
    this.offsetLo = l;
    this.offsetHi = (hi - this.tHi - borrow + 2 * TWO32) % TWO32;
  }

  private updateIrq(): void {
    const level = this.irqPending && this.irqEnabled;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }

  /** Fires the alarm if its time has come (QEMU: the alarm timer callback). */
  poll(): void {
    if (!this.alarmRunning) return;
    this.now();
    if (this.alarmHi > this.tHi || (this.alarmHi === this.tHi && this.alarmLo > this.tLo)) return;
    this.alarmRunning = false;
    this.irqPending = true;
    this.updateIrq();
  }

  /** Arms the alarm; one already due fires at once (QEMU goldfish_rtc_set_alarm). */
  private setAlarm(): void {
    this.alarmRunning = true;
    this.poll();
  }

  private read32(off: number): number {
    switch (off) {
      case TIME_LOW:
        this.now();
        this.timeHigh = this.tHi;
        return this.tLo | 0;
      case TIME_HIGH:
        return this.timeHigh | 0;
      case ALARM_LOW:
        return this.alarmLo | 0;
      case ALARM_HIGH:
        return this.alarmHi | 0;
      case IRQ_ENABLED:
        return this.irqEnabled ? 1 : 0;
      case ALARM_STATUS:
        return this.alarmRunning ? 1 : 0;
      default:
        return 0;
    }
  }

  private write32(off: number, v: number): void {
    v >>>= 0;
    switch (off) {
      case TIME_LOW:
        this.now();
        this.setTime(v, this.tHi);
        return;
      case TIME_HIGH:
        this.now();
        this.setTime(this.tLo, v);
        return;
      case ALARM_LOW:
        this.alarmLo = v;
        this.setAlarm();
        return;
      case ALARM_HIGH:
        this.alarmHi = v;
        return;
      case IRQ_ENABLED:
        this.irqEnabled = (v & 1) !== 0;
        this.updateIrq();
        return;
      case CLEAR_ALARM:
        this.alarmRunning = false;
        return;
      case CLEAR_INTERRUPT:
        this.irqPending = false;
        this.updateIrq();
        return;
      default:
        return;
    }
  }

  /** 32-bit registers; an 8-byte access is low word then high word (so TIME reads as one 64-bit value). */
  read(off: number, size: number, res: MmioResult): number {
    if ((off & 3) !== 0) return 0;
    if (size === 4) return this.read32(off);
    if (size === 8) {
      const lo = this.read32(off);
      res.hi = this.read32(off + 4);
      return lo;
    }
    return 0;
  }

  write(off: number, size: number, lo: number, hi: number): void {
    if ((off & 3) !== 0) return;
    if (size === 4) this.write32(off, lo);
    else if (size === 8) {
      // High word first so a 64-bit ALARM write arms the alarm with the whole value.
      if (off === ALARM_LOW) {
        this.write32(ALARM_HIGH, hi);
        this.write32(ALARM_LOW, lo);
      } else if (off === TIME_LOW) {
        this.setTime(lo >>> 0, hi >>> 0);
      } else {
        this.write32(off, lo);
        this.write32(off + 4, hi);
      }
    }
  }

  /** `rtc@101000` as QEMU virt writes it. */
  fdt(ctx: FdtContext): FdtNode {
    return ctx.soc
      .addNode(unitName("rtc", this.base))
      .u32("interrupts", this.irqNumber)
      .cells("interrupt-parent", interruptParent(ctx, this.name))
      .u64("reg", this.base, this.size)
      .string("compatible", "google,goldfish-rtc");
  }

  saveState(): RtcState {
    return {
      version: 1,
      offsetLo: this.offsetLo,
      offsetHi: this.offsetHi,
      timeHigh: this.timeHigh,
      alarmLo: this.alarmLo,
      alarmHi: this.alarmHi,
      alarmRunning: this.alarmRunning,
      irqPending: this.irqPending,
      irqEnabled: this.irqEnabled,
    };
  }

  /** Validates everything first; then loads and re-drives the interrupt line. */
  restoreState(s: RtcState): void {
    const who = "goldfish-rtc";
    expectVersion(who, s, 1);
    const words = ["offsetLo", "offsetHi", "timeHigh", "alarmLo", "alarmHi"] as const;
    for (const k of words) expectNumber(who, k, s[k], 0, TWO32 - 1);
    for (const k of ["alarmRunning", "irqPending", "irqEnabled"] as const) {
      if (typeof s[k] !== "boolean") throw new StateError(who, `${k} must be a boolean`);
    }
    this.offsetLo = s.offsetLo;
    this.offsetHi = s.offsetHi;
    this.timeHigh = s.timeHigh;
    this.alarmLo = s.alarmLo;
    this.alarmHi = s.alarmHi;
    this.alarmRunning = s.alarmRunning;
    this.irqPending = s.irqPending;
    this.irqEnabled = s.irqEnabled;
    this.irqLevel = this.irqPending && this.irqEnabled;
    this.irq.set(this.irqLevel);
  }
}

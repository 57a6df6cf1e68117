import type { MmioDevice, MmioResult } from "../bus/mmio.ts";
import { MIP_MSIP, MIP_MTIP } from "../cpu/constants.ts";
import type { Hart } from "../cpu/hart.ts";
import { expectInt32Array, expectVersion, type Stateful } from "../snapshot/state.ts";

export const CLINT_SIZE = 0x1_0000;
const MSIP = 0x0000;
const MTIMECMP = 0x4000;
const MTIME = 0xbff8;

/** The machine's time source, in timebase ticks (design 2.6). */
export interface Clock {
  now(): number;
}

/**
 * The CLINT as plain data (design 2.8): each hart's mtimecmp as lo/hi
 * words. msip lives in the harts' mip lines (saved with the harts) and
 * mtime is the machine's time base (saved by the machine).
 */
export interface ClintState {
  version: 1;
  mtimecmp: Int32Array;
}

/**
 * SiFive CLINT / ACLINT MSWI + MTIMER layout as on QEMU virt: msip[hart] at
 * 0x0 (32-bit), mtimecmp[hart] at 0x4000 (64-bit), mtime at 0xbff8 (64-bit,
 * read-only here: the clock owns it). Accesses of 4 or 8 bytes.
 */
export class Clint implements MmioDevice, Stateful<ClintState> {
  readonly name = "clint";
  private readonly harts: Hart[];
  private readonly clock: Clock;
  /** mtimecmp per hart as a double (exact below 2^53; larger means "never"). */
  readonly mtimecmp: Float64Array;
  private readonly cmpWords: Int32Array;

  constructor(harts: Hart[], clock: Clock) {
    this.harts = harts;
    this.clock = clock;
    this.mtimecmp = new Float64Array(harts.length).fill(2 ** 64);
    this.cmpWords = new Int32Array(harts.length * 2).fill(-1);
  }

  read(off: number, size: number, res: MmioResult): number {
    if (off >= MSIP && off < MSIP + 4 * this.harts.length && size === 4) {
      return (this.harts[off >> 2].mip() & MIP_MSIP) !== 0 ? 1 : 0;
    }
    if (off >= MTIMECMP && off < MTIMECMP + 8 * this.harts.length) {
      const w = (off - MTIMECMP) >> 2;
      if (size === 8) {
        res.hi = this.cmpWords[w + 1];
        return this.cmpWords[w];
      }
      return size === 4 ? this.cmpWords[w] : 0;
    }
    if (off === MTIME || off === MTIME + 4) {
      const t = this.clock.now();
      const lo = (t % 2 ** 32) | 0;
      const hi = Math.floor(t / 2 ** 32) | 0;
      if (size === 8) {
        res.hi = hi;
        return lo;
      }
      return off === MTIME ? lo : hi;
    }
    return 0;
  }

  write(off: number, size: number, lo: number, hi: number): void {
    if (off >= MSIP && off < MSIP + 4 * this.harts.length && size === 4) {
      this.harts[off >> 2].setIrqLine(MIP_MSIP, (lo & 1) !== 0);
      return;
    }
    if (off >= MTIMECMP && off < MTIMECMP + 8 * this.harts.length) {
      const w = (off - MTIMECMP) >> 2;
      if (size === 8) {
        this.cmpWords[w] = lo;
        this.cmpWords[w + 1] = hi;
      } else if (size === 4) this.cmpWords[w] = lo;
      else return;
      const hart = w >> 1;
      this.mtimecmp[hart] = (this.cmpWords[hart * 2] >>> 0) + (this.cmpWords[hart * 2 + 1] >>> 0) * 2 ** 32;
      this.update();
      // A lone hart's slice runs until the deadline it started with (Machine.sliceLength): end it.
      for (const h of this.harts) h.sliceEnd = 0;
    }
  }

  /** Recomputes MTIP for every hart from mtime and mtimecmp. */
  update(t = this.clock.now()): void {
    for (let i = 0; i < this.harts.length; i++) this.harts[i].setIrqLine(MIP_MTIP, t >= this.mtimecmp[i]);
  }

  /** The earliest mtimecmp, to know how far an idle machine may skip. */
  nextDeadline(): number {
    let m = Number.POSITIVE_INFINITY;
    for (const v of this.mtimecmp) m = Math.min(m, v);
    return m;
  }

  saveState(): ClintState {
    return { version: 1, mtimecmp: this.cmpWords.slice() };
  }

  /**
   * Loads mtimecmp. MTIP is not re-driven here: the line was saved with the
   * harts as it stood, and a deadline passed inside the round (time moves
   * with every instruction) is raised at the round's end, as in a run that
   * was never saved; raising it now would let a continued slice take the
   * interrupt early.
   */
  restoreState(s: ClintState): void {
    expectVersion("clint", s, 1);
    const words = expectInt32Array("clint", "mtimecmp", s.mtimecmp, this.harts.length * 2);
    this.cmpWords.set(words);
    for (let i = 0; i < this.harts.length; i++)
      this.mtimecmp[i] = (words[i * 2] >>> 0) + (words[i * 2 + 1] >>> 0) * 2 ** 32;
  }
}

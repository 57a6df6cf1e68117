import { ACCESS_FETCH, ACCESS_STORE, PRV_M } from "../cpu/constants.ts";

/**
 * Physical memory protection, 16 entries (priv spec 3.7), granularity 4 bytes.
 * cfg bytes: R=1 W=2 X=4, A (bits 3-4: OFF, TOR, NA4, NAPOT), L=0x80.
 * pmpaddr holds address bits 55..2 (54 bits, kept as a double: exact).
 */
export const PMP_COUNT = 16;
const PMP_R = 1;
const PMP_W = 2;
const PMP_X = 4;
const PMP_L = 0x80;
const A_OFF = 0;
const A_TOR = 1;
const A_NA4 = 2;

export class Pmp {
  readonly cfg = new Uint8Array(PMP_COUNT);
  readonly addr = new Float64Array(PMP_COUNT);
  /** Decoded [lo, hi) byte ranges per entry; hi = lo when the entry is off. */
  private readonly lo = new Float64Array(PMP_COUNT);
  private readonly hi = new Float64Array(PMP_COUNT);
  /** True when at least one entry is active: S/U accesses then need a match. */
  private anyActive = false;

  locked(i: number): boolean {
    if (this.cfg[i] & PMP_L) return true;
    // A locked TOR entry also locks the pmpaddr below it (priv spec 3.7.1).
    return i + 1 < PMP_COUNT && (this.cfg[i + 1] & PMP_L) !== 0 && ((this.cfg[i + 1] >> 3) & 3) === A_TOR;
  }

  writeCfg(i: number, v: number): void {
    if (this.cfg[i] & PMP_L) return;
    v &= 0x9f;
    // R=0, W=1 is reserved: keep the entry's permissions as they were.
    if ((v & (PMP_R | PMP_W)) === PMP_W) v = (v & ~7) | (this.cfg[i] & 7);
    this.cfg[i] = v;
    this.decode();
  }

  writeAddr(i: number, v: number): void {
    if (this.locked(i)) return;
    this.addr[i] = v;
    this.decode();
  }

  private decode(): void {
    this.anyActive = false;
    for (let i = 0; i < PMP_COUNT; i++) {
      const a = (this.cfg[i] >> 3) & 3;
      const pa = this.addr[i] * 4;
      if (a === A_OFF) {
        this.lo[i] = this.hi[i] = 0;
        continue;
      }
      this.anyActive = true;
      if (a === A_TOR) {
        this.lo[i] = i === 0 ? 0 : this.addr[i - 1] * 4;
        this.hi[i] = pa;
      } else if (a === A_NA4) {
        this.lo[i] = pa;
        this.hi[i] = pa + 4;
      } else {
        // NAPOT: trailing ones of pmpaddr give the size, 2^(ones+3) bytes.
        let ones = 0;
        for (let v = this.addr[i]; v % 2 === 1 && ones < 54; v = (v - 1) / 2) ones++;
        const size = 2 ** (ones + 3);
        this.lo[i] = Math.floor(pa / size) * size;
        this.hi[i] = this.lo[i] + size;
      }
    }
  }

  /**
   * Whether an access of `size` bytes at `paddr` is allowed at `priv`. The
   * lowest-numbered entry that matches any byte decides, and must cover all.
   */
  check(paddr: number, size: number, kind: number, priv: number): boolean {
    if (!this.anyActive) return true;
    for (let i = 0; i < PMP_COUNT; i++) {
      const lo = this.lo[i];
      const hi = this.hi[i];
      if (hi <= lo || paddr + size <= lo || paddr >= hi) continue;
      if (paddr < lo || paddr + size > hi) return false;
      const c = this.cfg[i];
      if (priv === PRV_M && !(c & PMP_L)) return true;
      const need = kind === ACCESS_FETCH ? PMP_X : kind === ACCESS_STORE ? PMP_W : PMP_R;
      return (c & need) !== 0;
    }
    return priv === PRV_M;
  }

  /** True when no entry boundary falls inside the 4 KiB page at `page`, so one check covers it. */
  uniformPage(page: number): boolean {
    if (!this.anyActive) return true;
    for (let i = 0; i < PMP_COUNT; i++) {
      const lo = this.lo[i];
      const hi = this.hi[i];
      if (hi <= lo) continue;
      if ((lo > page && lo < page + 4096) || (hi > page && hi < page + 4096)) return false;
    }
    return true;
  }
}

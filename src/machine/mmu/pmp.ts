import { ACCESS_FETCH, ACCESS_STORE, PRV_M } from "../cpu/constants.ts";

/**
 * Physical memory protection, 16 entries (priv spec 3.7), granularity 4 bytes.
 * cfg bytes: R=1 W=2 X=4, A (bits 3-4: OFF, TOR, NA4, NAPOT), L=0x80.
 * pmpaddr holds address bits 55..2: 54 bits, one more than a double holds
 * exactly, so the registers live as two words (addrLo, addrHi); `addr`
 * mirrors them as doubles (exact below 2^53; all ones reads as 2^54).
 */
export const PMP_COUNT = 16;
const PMP_R = 1;
const PMP_W = 2;
const PMP_X = 4;
const PMP_L = 0x80;
const A_OFF = 0;
const A_TOR = 1;
const A_NA4 = 2;
/** pmpaddr is 54 bits: the high word keeps 22. */
const ADDR_HI_MASK = 0x3fffff;

export class Pmp {
  readonly cfg = new Uint8Array(PMP_COUNT);
  /** pmpaddr as doubles (see above). Writing it directly takes effect at the next writeCfg. */
  readonly addr = new Float64Array(PMP_COUNT);
  /** pmpaddr bits 31..0 and 53..32: the exact register values. */
  readonly addrLo = new Uint32Array(PMP_COUNT);
  readonly addrHi = new Uint32Array(PMP_COUNT);
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

  /** Writes pmpaddr i from a double (values from 2^54 - 1 up mean all ones). */
  writeAddr(i: number, v: number): void {
    if (v >= 2 ** 54 - 1) this.writeAddrWords(i, -1, -1);
    else this.writeAddrWords(i, v % 2 ** 32, Math.floor(v / 2 ** 32));
  }

  /** Writes pmpaddr i from its two words (bits 63..54 are ignored). */
  writeAddrWords(i: number, lo: number, hi: number): void {
    if (this.locked(i)) return;
    this.addrLo[i] = lo;
    this.addrHi[i] = hi & ADDR_HI_MASK;
    this.addr[i] = this.addrLo[i] + this.addrHi[i] * 2 ** 32;
    this.decode();
  }

  private decode(): void {
    this.anyActive = false;
    for (let i = 0; i < PMP_COUNT; i++) {
      // Follow direct writes to `addr` (state restore) unless they are the rounded mirror.
      if (this.addr[i] !== this.addrLo[i] + this.addrHi[i] * 2 ** 32) {
        const v = this.addr[i];
        const all = v >= 2 ** 54 - 1;
        this.addrLo[i] = all ? -1 : v % 2 ** 32;
        this.addrHi[i] = all ? ADDR_HI_MASK : Math.floor(v / 2 ** 32) & ADDR_HI_MASK;
        this.addr[i] = this.addrLo[i] + this.addrHi[i] * 2 ** 32;
      }
      const a = (this.cfg[i] >> 3) & 3;
      const aLo = this.addrLo[i];
      const aHi = this.addrHi[i];
      if (a === A_OFF) {
        this.lo[i] = this.hi[i] = 0;
        continue;
      }
      this.anyActive = true;
      if (a === A_TOR) {
        this.lo[i] = i === 0 ? 0 : (this.addrLo[i - 1] + this.addrHi[i - 1] * 2 ** 32) * 4;
        this.hi[i] = (aLo + aHi * 2 ** 32) * 4;
      } else if (a === A_NA4) {
        this.lo[i] = (aLo + aHi * 2 ** 32) * 4;
        this.hi[i] = this.lo[i] + 4;
      } else {
        // NAPOT: trailing ones of pmpaddr give the size, 2^(ones + 3) bytes.
        const ones = aLo === 0xffff_ffff ? 32 + trailingOnes(aHi) : trailingOnes(aLo);
        const size = 2 ** (ones + 3);
        // Base: pmpaddr with the trailing ones and the zero above them cleared, times 4.
        const baseLo = ones >= 31 ? 0 : aLo & ~(2 ** (ones + 1) - 1);
        const baseHi = ones < 31 ? aHi : ones >= 53 ? 0 : aHi & ~(2 ** (ones - 31) - 1);
        this.lo[i] = ((baseLo >>> 0) + baseHi * 2 ** 32) * 4;
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

function trailingOnes(v: number): number {
  return 31 - Math.clz32(~v & (v + 1));
}

/**
 * Software TLB (design 2.5): direct-mapped, one bank per access kind (fetch,
 * load, store), each entry mapping a 4 KiB virtual page to the linear-memory
 * offset of the RAM page behind it. Only RAM pages whose whole 4 KiB the
 * current privilege may access (page table and PMP) are entered, so a hit
 * needs no further checks. MMIO never enters the TLB.
 *
 * Entry i of bank k lives at index k * TLB_SIZE + i:
 *   tagLo  virtual page base, low word (low 12 bits zero when valid; 1 = empty)
 *   tagHi  virtual address, high word
 *   off    linear byte offset of the page (Uint32: RAM may pass 2 GiB)
 */
export const TLB_BITS = 8;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;
export const TLB_FETCH = 0;
export const TLB_LOAD = TLB_SIZE;
export const TLB_STORE = 2 * TLB_SIZE;
const TLB_EMPTY = 1;

export class Tlb {
  readonly tagLo = new Int32Array(3 * TLB_SIZE).fill(TLB_EMPTY);
  readonly tagHi = new Int32Array(3 * TLB_SIZE);
  readonly off = new Uint32Array(3 * TLB_SIZE);

  /** Called after every flush (the interpreter ends its slice: it caches the current fetch page). */
  onFlush: () => void = () => {};

  flush(): void {
    this.tagLo.fill(TLB_EMPTY);
    this.onFlush();
  }

  /** Enters the page of (vaLo, vaHi) in `bank` (TLB_FETCH/LOAD/STORE). */
  fill(bank: number, vaLo: number, vaHi: number, pageLinear: number): void {
    const i = bank + ((vaLo >>> 12) & TLB_MASK);
    this.tagLo[i] = vaLo & ~0xfff;
    this.tagHi[i] = vaHi;
    this.off[i] = pageLinear;
  }

  /** Drops the store entries that map to linear page `pageLinear` (it now holds decoded code). */
  flushLinearPage(pageLinear: number): void {
    for (let i = TLB_STORE; i < TLB_STORE + TLB_SIZE; i++)
      if (this.off[i] === pageLinear) this.tagLo[i] = TLB_EMPTY;
  }
}

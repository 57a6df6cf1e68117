/**
 * Software TLB (design 2.5): direct-mapped, one bank per access kind (fetch,
 * load, store), each entry mapping a 4 KiB virtual page to the linear-memory
 * offset of the RAM page behind it. Only RAM pages whose whole 4 KiB the
 * current privilege may access (page table and PMP) are entered, so a hit
 * needs no further checks. MMIO never enters the TLB.
 *
 * There is one set of banks per privilege level, so a trap or return (a
 * privilege change) switches sets instead of flushing: `base` selects the
 * current one (PRIV_STRIDE * privilege). Entry i of bank k of the current
 * set lives at index base + k * TLB_SIZE + i:
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
/** Words per privilege level's set of banks. */
export const PRIV_STRIDE = 3 * TLB_SIZE;
const TLB_EMPTY = 1;

export class Tlb {
  // Sets for U (0), S (1) and M (3); index 2 is unused, which keeps base = priv * PRIV_STRIDE.
  readonly tagLo = new Int32Array(4 * PRIV_STRIDE).fill(TLB_EMPTY);
  readonly tagHi = new Int32Array(4 * PRIV_STRIDE);
  readonly off = new Uint32Array(4 * PRIV_STRIDE);
  /** Start of the current privilege level's set. */
  base = 3 * PRIV_STRIDE;

  /**
   * Entries that map a user page for an S-mode data access: valid only while
   * mstatus.SUM is set, so clearing SUM drops just these (Linux toggles SUM
   * around every user copy; a full flush there would cost a walk per page).
   */
  private readonly sumEntries = new Int32Array(64);
  private sumCount = 0;

  /** Called after every flush (the interpreter ends its slice: it caches the current fetch page). */
  onFlush: () => void = () => {};

  flush(): void {
    this.tagLo.fill(TLB_EMPTY);
    this.sumCount = 0;
    this.onFlush();
  }

  /** Records that the entry just filled for (bank, vaLo) depends on SUM. */
  noteSumEntry(bank: number, vaLo: number): void {
    if (this.sumCount < this.sumEntries.length)
      this.sumEntries[this.sumCount++] = this.base + bank + ((vaLo >>> 12) & TLB_MASK);
    else this.sumCount = this.sumEntries.length + 1; // overflowed: the next SUM clear flushes everything
  }

  /** mstatus.SUM went from 1 to 0: drop the entries that relied on it. */
  flushSumEntries(): void {
    if (this.sumCount > this.sumEntries.length) {
      this.flush();
      return;
    }
    for (let k = 0; k < this.sumCount; k++) this.tagLo[this.sumEntries[k]] = TLB_EMPTY;
    this.sumCount = 0;
  }

  /** Enters the page of (vaLo, vaHi) in `bank` (TLB_FETCH/LOAD/STORE). */
  fill(bank: number, vaLo: number, vaHi: number, pageLinear: number): void {
    const i = this.base + bank + ((vaLo >>> 12) & TLB_MASK);
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

import type { Tlb } from "../mmu/tlb.ts";

/**
 * Decoded instructions per physical RAM page (design 2.4: decode once, into
 * one form both tiers use). A page's entry holds, for each 2-byte slot,
 * SLOT_WORDS words: the (expanded) 32-bit instruction, its op number with
 * flags, the raw bits (16-bit parcel or 32-bit word, for illegal-instruction
 * tval), and the JIT's word (a hotness count or a compiled block's id, jit/jit.ts),
 * so a slot's index is pc << 1, a shift (measured: 0.7 ns less per
 * instruction than a multiply by three with three words). Op word 0 means
 * "not decoded yet".
 *
 * Coherence: once a page holds decoded code, no hart's store TLB may map it,
 * so every store to it takes the slow path, which calls invalidate() before
 * writing. Host-side writes into RAM (loaders, DMA) call invalidateRange().
 */
export const SLOT_WORDS = 4;
export const OPW_VALID = 0x10000;
export const OPW_COMPRESSED = 0x20000;
export const OP_MASK = 0xffff;
/** Op number of a decoded instruction that cannot change any state (an ALU op writing x0, fence). */
export const OP_NOP = 0xfffe;

export class CodeCache {
  readonly pages: (Int32Array | undefined)[];
  /** Store TLBs to purge when a page starts holding code. */
  readonly tlbs: Tlb[] = [];
  private readonly ramLinear: number;
  /** Called with a decoded page as it is dropped (the JIT frees the page's blocks). */
  onDrop: (page: Int32Array) => void = () => {};

  constructor(ramSize: number, ramLinear: number) {
    this.pages = new Array(Math.ceil(ramSize / 4096)).fill(undefined);
    this.ramLinear = ramLinear;
  }

  /** The decoded page for RAM page `idx`, created empty on first use. */
  page(idx: number): Int32Array {
    let p = this.pages[idx];
    if (p === undefined) {
      p = new Int32Array(2048 * SLOT_WORDS);
      this.pages[idx] = p;
      const linear = this.ramLinear + idx * 4096;
      for (const t of this.tlbs) t.flushLinearPage(linear);
    }
    return p;
  }

  invalidate(idx: number): void {
    const p = this.pages[idx];
    if (p === undefined) return;
    this.pages[idx] = undefined;
    this.onDrop(p);
  }

  /** Drops decoded code overlapping RAM bytes [off, off + len) (offsets from the start of RAM). */
  invalidateRange(off: number, len: number): void {
    const last = Math.min(this.pages.length - 1, Math.floor((off + len - 1) / 4096));
    for (let i = Math.max(0, Math.floor(off / 4096)); i <= last; i++) this.invalidate(i);
  }
}

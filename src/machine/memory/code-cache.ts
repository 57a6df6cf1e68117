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

/** Bytes of host memory one decoded page takes (8 per byte of guest code). */
export const DECODED_PAGE_BYTES = 2048 * SLOT_WORDS * 4;
/**
 * Decoded pages kept at most (128 MiB of host memory): without a bound, a
 * guest that runs code from every page of its RAM would make the host
 * allocate 8 times its RAM, outside any JavaScript heap limit. The default
 * guest's working set is ~600 pages (measured: boot, then ls -R, find,
 * awk and sort), so the bound is met only by unusual guests, which then
 * decode again what was evicted.
 */
export const DEFAULT_MAX_CODE_PAGES = 4096;

export class CodeCache {
  readonly pages: (Int32Array | undefined)[];
  /** Store TLBs to purge when a page starts holding code. */
  readonly tlbs: Tlb[] = [];
  private readonly ramLinear: number;
  /** Called with a decoded page as it is dropped (the JIT frees the page's blocks). */
  onDrop: (page: Int32Array) => void = () => {};
  readonly maxPages: number;
  /** Decoded pages held now. */
  live = 0;
  /** Pages dropped to stay within maxPages (statistics and tests). */
  evictions = 0;
  /** Where the next eviction looks first (a clock hand over the RAM pages). */
  private hand = 0;

  constructor(ramSize: number, ramLinear: number, maxPages = DEFAULT_MAX_CODE_PAGES) {
    if (!Number.isInteger(maxPages) || maxPages < 1)
      throw new RangeError("the code cache holds at least one page");
    this.pages = new Array(Math.ceil(ramSize / 4096)).fill(undefined);
    this.ramLinear = ramLinear;
    this.maxPages = maxPages;
  }

  /**
   * The decoded page for RAM page `idx`, created empty on first use; when
   * the cache is full, another page is dropped first. Only the interpreter
   * loop calls this, as it enters a page, so the one decoded page a
   * running loop holds is this one.
   */
  page(idx: number): Int32Array {
    let p = this.pages[idx];
    if (p === undefined) {
      if (this.live >= this.maxPages) this.evictOther(idx);
      p = new Int32Array(2048 * SLOT_WORDS);
      this.pages[idx] = p;
      this.live++;
      const linear = this.ramLinear + idx * 4096;
      for (const t of this.tlbs) t.flushLinearPage(linear);
    }
    return p;
  }

  /** Drops the next decoded page after the hand other than `keep` (there is one: live >= 1, keep is not live). */
  private evictOther(keep: number): void {
    const n = this.pages.length;
    for (;;) {
      const i = this.hand;
      this.hand = i + 1 === n ? 0 : i + 1;
      if (i !== keep && this.pages[i] !== undefined) {
        this.invalidate(i);
        this.evictions++;
        return;
      }
    }
  }

  invalidate(idx: number): void {
    const p = this.pages[idx];
    if (p === undefined) return;
    this.pages[idx] = undefined;
    this.live--;
    this.onDrop(p);
  }

  /** Drops decoded code overlapping RAM bytes [off, off + len) (offsets from the start of RAM). */
  invalidateRange(off: number, len: number): void {
    const last = Math.min(this.pages.length - 1, Math.floor((off + len - 1) / 4096));
    for (let i = Math.max(0, Math.floor(off / 4096)); i <= last; i++) this.invalidate(i);
  }
}

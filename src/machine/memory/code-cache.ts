import type { Tlb } from "../mmu/tlb.ts";

/**
 * Decoded instructions per physical RAM page (design 2.4: decode once, into
 * one form both tiers use). A page's entry holds, for each 2-byte slot,
 * SLOT_WORDS (2) words, so a slot's first word is at index pc & 0xffe:
 *   - the (expanded) 32-bit instruction;
 *   - the op word: the op number (OP_MASK), OPW_VALID once decoded (the
 *     decoded bits, OPW_DECODED, are 0 before), OPW_COMPRESSED; and above
 *     JIT_SHIFT, the JIT's word, a signed 20-bit hotness count or compiled
 *     block's id (cpu/tier.ts: jitWord, setJitWord).
 * 16 KiB per 4 KiB guest page, half the earlier 4 words (the raw bits of a
 * 32-bit instruction are the instruction itself; a compressed one's 16 bits
 * are re-read from RAM, which holds what was decoded: rawBits), so that the
 * ~600 pages the default guest runs take 10 MiB instead of 20. The
 * interpreter reads both tiers' bits with one load.
 *
 * Coherence: once a page holds decoded code, no hart's store TLB may map it,
 * so every store to it takes the slow path, which calls invalidate() before
 * writing. Host-side writes into RAM (loaders, DMA) call invalidateRange().
 */
export const SLOT_WORDS = 2;
export const OP_MASK = 0x3ff;
export const OPW_VALID = 0x400;
export const OPW_COMPRESSED = 0x800;
/** The op word's bits that decoding writes; the rest is the JIT's word. */
export const OPW_DECODED = 0xfff;
/** Where the JIT's word starts in the op word: word = opw >> JIT_SHIFT. */
export const JIT_SHIFT = 12;
/** The JIT's words lie in [JIT_WORD_MIN, JIT_WORD_MAX]. */
export const JIT_WORD_MAX = (1 << 19) - 1;
export const JIT_WORD_MIN = -(1 << 19);
/** Op number of a decoded instruction that cannot change any state (an ALU op writing x0, fence). */
export const OP_NOP = 0x3fe;

/** The JIT's word of the slot at byte offset `off` of decoded page `dec`. */
export function jitWord(dec: Int32Array, off: number): number {
  return dec[(off & 0xffe) | 1] >> JIT_SHIFT;
}

/** Sets the JIT's word (in [JIT_WORD_MIN, JIT_WORD_MAX]) of the slot at byte offset `off`, keeping its decoded bits. */
export function setJitWord(dec: Int32Array, off: number, word: number): void {
  const k = (off & 0xffe) | 1;
  dec[k] = (dec[k] & OPW_DECODED) | (word << JIT_SHIFT);
}

/**
 * The instruction's raw bits (as fetched: illegal-instruction tval) from its
 * expanded form and op word; a compressed one's 16 bits are read at linear
 * byte `linear` of `u16`'s memory, its RAM (coherence above).
 */
export function rawBits(insn: number, opw: number, u16: Uint16Array, linear: number): number {
  return opw & OPW_COMPRESSED ? u16[linear >>> 1] : insn;
}

/** rawBits of the slot at byte offset `off` of decoded page `dec`, whose RAM is `mem`'s. */
export function slotRawBits(
  dec: Int32Array,
  off: number,
  mem: { u16: Uint16Array; ramLinear: number },
): number {
  const s = off & 0xffe;
  return rawBits(dec[s], dec[s + 1], mem.u16, mem.ramLinear + dec[PAGE_INDEX_WORD] * 4096 + s);
}

/** Index of the word after a decoded page's slots, which holds its RAM page's index (rawBits needs the RAM). */
export const PAGE_INDEX_WORD = 2048 * SLOT_WORDS;
/**
 * A 32-bit instruction at byte 0xffe straddles into the next virtual page,
 * which may map any RAM page, so its slot is never valid (the interpreter
 * fetches it from both pages at every execution). The page's last words
 * record it for the JIT (CodeCache.noteStraddle): its expanded bits, its op
 * word (valid), and 1 + the index of the RAM page its upper half was read
 * from (0: none recorded). A block ending with it checks that the next
 * virtual page still maps that page (jit/emit.ts straddleCheck), and a
 * change to either page drops the decoded page (CodeCache.invalidate).
 */
export const STRADDLE_INSN = PAGE_INDEX_WORD + 1;
export const STRADDLE_OPW = PAGE_INDEX_WORD + 2;
export const STRADDLE_PAGE = PAGE_INDEX_WORD + 3;
/** Bytes of host memory one decoded page takes (4 per byte of guest code, the index and the straddle record). */
export const DECODED_PAGE_BYTES = (STRADDLE_PAGE + 1) * 4;
/**
 * Decoded pages kept at most (64 MiB of host memory): without a bound, a
 * guest that runs code from every page of its RAM would make the host
 * allocate 4 times its RAM, outside any JavaScript heap limit. The default
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
  /** RAM page -> the decoded pages whose recorded straddling instruction's upper half it holds. */
  private readonly straddlers = new Map<number, number[]>();

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
      p = new Int32Array(STRADDLE_PAGE + 1);
      p[PAGE_INDEX_WORD] = idx;
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

  /**
   * Drops RAM page `idx`'s decoded code, and that of every page whose
   * recorded straddling instruction reads its upper half from it.
   */
  invalidate(idx: number): void {
    const p = this.pages[idx];
    if (p === undefined) return;
    this.pages[idx] = undefined;
    this.live--;
    const upper = p[STRADDLE_PAGE] - 1;
    if (upper >= 0) this.unlinkStraddle(idx, upper);
    this.onDrop(p);
    const lower = this.straddlers.get(idx);
    if (lower === undefined) return;
    this.straddlers.delete(idx);
    for (const i of lower) this.invalidate(i);
  }

  /**
   * Records, in decoded page `dec`, the instruction straddling its end (see
   * STRADDLE_INSN): expanded bits `insn`, op word `opw`, its upper half read
   * from RAM page `upper`. Only the first is kept (another mapping's upper
   * page fails the blocks' check and runs interpreted), and only while both
   * pages hold decoded code: then no store TLB maps `upper`, so a store into
   * it takes the slow path, and invalidate() drops `dec` too.
   */
  noteStraddle(dec: Int32Array, insn: number, opw: number, upper: number): void {
    const idx = dec[PAGE_INDEX_WORD];
    if (dec[STRADDLE_PAGE] !== 0 || this.pages[idx] !== dec || this.pages[upper] === undefined) return;
    dec[STRADDLE_INSN] = insn;
    dec[STRADDLE_OPW] = opw;
    dec[STRADDLE_PAGE] = upper + 1;
    const lower = this.straddlers.get(upper);
    if (lower === undefined) this.straddlers.set(upper, [idx]);
    else lower.push(idx);
  }

  private unlinkStraddle(idx: number, upper: number): void {
    const lower = this.straddlers.get(upper);
    if (lower === undefined) return;
    const i = lower.indexOf(idx);
    if (i >= 0) lower.splice(i, 1);
    if (lower.length === 0) this.straddlers.delete(upper);
  }

  /** Drops decoded code overlapping RAM bytes [off, off + len) (offsets from the start of RAM). */
  invalidateRange(off: number, len: number): void {
    const last = Math.min(this.pages.length - 1, Math.floor((off + len - 1) / 4096));
    for (let i = Math.max(0, Math.floor(off / 4096)); i <= last; i++) this.invalidate(i);
  }
}

import { JC_LINEAR, JC_STRIDE } from "../memory/layout.ts";
import { inRegion } from "../mmu/tlb.ts";
import { jcSetOffset } from "./emit.ts";

/**
 * An empty jump-cache entry: all zeros, as linear memory starts. TLB set 0
 * is no TLB set (they live at TLB_LINEAR and above), so no lookup matches
 * it, even a jump to pc 0; and the caches of harts that never run stay
 * untouched pages. (Machine builds each Jit with a fresh GuestMemory.)
 */
const JC_EMPTY = 0;
/** Words of an entry (pc lo, pc hi, TLB set, block id); way 1 follows way 0. */
const ENTRY_WORDS = 4;
/** Bits of the linked-pages filter: a page number's low 16 bits. */
const PAGE_BITS = 16;
const PAGE_MASK = (1 << PAGE_BITS) - 1;

/**
 * One hart's jump cache (memory/layout.ts JC_*): what the interpreter
 * links, generated code probes (jit/emit.ts chain), TLB flushes empty.
 *
 * Page flushes (an sfence.vma naming an address: ~66 per million
 * instructions in the boot) mostly name data pages, where no block starts:
 * a filter of the pages linked (a bit per page number's low 16 bits, set by
 * link, recomputed by the flushes) lets those return at once instead of
 * scanning 4,096 entries (4-5% of the boot's time).
 */
export class JumpCache {
  /** The entries as words: entry i at 4i. */
  readonly words: Int32Array;
  /** Bit (page & PAGE_MASK): an entry of such a page may be in the cache. */
  readonly pages = new Uint32Array((1 << PAGE_BITS) >>> 5);

  /**
   * Whether an entry may be non-empty (a link since the last flush). A flush of a cache that
   * holds none writes nothing: flushes of every hart's cache (jit.ts, on code changes) would
   * otherwise write the zeros of the 7 harts a 1-hart guest never runs into 896 KiB of pages
   * the host then holds (docs/PERFORMANCE.md, memory of a booted idle guest).
   */
  private used = false;

  constructor(buffer: ArrayBufferLike, hartId: number) {
    this.words = new Int32Array(buffer, JC_LINEAR + hartId * JC_STRIDE, JC_STRIDE / 4);
  }

  /**
   * Lets generated code chain to block `id` at (pcLo, pcHi) under TLB set
   * `tlbSet`. A new pc goes into way 0 of its set, moving way 0 (unless
   * empty) to way 1 (the older of the two goes): two hot targets sharing a
   * set both stay. An entry for the same pc (under another TLB set) is
   * replaced in place, so that a pc is never in both ways, which chain()'s
   * probe relies on.
   */
  link(pcLo: number, pcHi: number, tlbSet: number, id: number): void {
    const jc = this.words;
    const w0 = jcSetOffset(pcLo) >>> 2;
    const w1 = w0 + ENTRY_WORDS;
    let e = w0;
    if (jc[w1] === pcLo && jc[w1 + 1] === pcHi) e = w1;
    else if ((jc[w0] !== pcLo || jc[w0 + 1] !== pcHi) && jc[w0 + 2] !== JC_EMPTY) jc.copyWithin(w1, w0, w1);
    jc[e] = pcLo;
    jc[e + 1] = pcHi;
    jc[e + 2] = tlbSet;
    jc[e + 3] = id;
    this.used = true;
    this.mark(pcLo);
  }

  /** Empties every entry. */
  flush(): void {
    if (!this.used) return;
    this.used = false;
    this.words.fill(JC_EMPTY);
    this.pages.fill(0);
  }

  /**
   * Empties the entries of pcs in the 2^shift-byte region around (vaLo,
   * vaHi), whose translation changed. Entries of other pages stay right: a
   * block lies inside one page, and an entry was linked under the
   * translation its pc's page still has. A 4 KiB page's pcs map to half the
   * sets (2,048 halfword slots), which are all it scans, and only when the
   * filter says the page may have entries.
   */
  flushRegion(vaLo: number, vaHi: number, shift: number): void {
    if (!this.used) return;
    const jc = this.words;
    if (shift > 12) {
      this.pages.fill(0);
      for (let e = 0; e < jc.length; e += ENTRY_WORDS) this.clearOrMark(e, vaLo, vaHi, shift);
      return;
    }
    const p = (vaLo >>> 12) & PAGE_MASK;
    if ((this.pages[p >>> 5] & (1 << (p & 31))) === 0) return;
    // The sets scanned hold every entry whose page shares the filter bit (a set's index takes the
    // page number's low 12 bits): the scan recomputes that bit.
    this.pages[p >>> 5] &= ~(1 << (p & 31));
    const page = vaLo & ~0xfff;
    for (let off = 0; off < 0x1000; off += 2) {
      const w = jcSetOffset(page + off) >>> 2;
      this.clearOrMark(w, vaLo, vaHi, shift);
      this.clearOrMark(w + ENTRY_WORDS, vaLo, vaHi, shift);
    }
  }

  /** Empties entry `e` (a word index) if its pc is in the region, else marks its page in the filter. */
  private clearOrMark(e: number, vaLo: number, vaHi: number, shift: number): void {
    const jc = this.words;
    if (jc[e + 2] === JC_EMPTY) return;
    if (inRegion(jc[e], jc[e + 1], vaLo, vaHi, shift)) jc.fill(JC_EMPTY, e, e + ENTRY_WORDS);
    else this.mark(jc[e]);
  }

  private mark(pcLo: number): void {
    const p = (pcLo >>> 12) & PAGE_MASK;
    this.pages[p >>> 5] |= 1 << (p & 31);
  }
}

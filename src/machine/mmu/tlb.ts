/**
 * Software TLB (design 2.5): one bank per access kind (fetch, load, store),
 * each entry mapping a 4 KiB virtual page to the linear-memory offset of the
 * RAM page behind it; the fetch bank is direct-mapped, the load and store
 * banks 2-way set-associative (a second bank each, TLB_WAY entries on, holds
 * way 1). A fill writes way 0 and moves what was there to way 1, so two hot
 * pages that share an index both stay, and a hit needs no write (the JIT's
 * probe reads way 1 only when way 0 misses). Only RAM pages whose whole 4 KiB the
 * current privilege may access (page table and PMP) are entered, so a hit
 * needs no further checks. MMIO never enters the TLB.
 *
 * There is one set of banks per privilege level, so a trap or return (a
 * privilege change) switches sets instead of flushing: `base` selects the
 * current one (PRIV_STRIDE * set, set = privilege for U, S, M, and 4 + privilege
 * for VU and VS with the H extension: tlbSet()). U and S have such a pair
 * of sets for each of SPACES address spaces (satp values): a satp write
 * switches to the pair of its value if one holds it, else empties the
 * least recently used pair for it (switchSpace), so two processes taking
 * turns (a pipe: bzip2 -d | wc) keep their translations instead of
 * walking their pages again after every switch. Entry i of bank k of the current
 * set is entry number n = base + k * TLB_SIZE + i (banks: fetch, load,
 * store, load way 1, store way 1). The entries live in the
 * machine's linear memory (layout.ts, TLB_LINEAR) so JIT-generated
 * WebAssembly can probe them too; entry n is 16 bytes at word n << 2:
 *   +0  tag lo  virtual page base, low word (low 12 bits zero when valid;
 *               TLB_EMPTY otherwise: bit 11 set, so no masked address matches)
 *   +4  tag hi  virtual address, high word (so +0 read as an i64 is the page)
 *   +8  add     linear byte offset of the page minus its virtual base, mod
 *               2^32: an address's low word plus this is its byte's linear
 *               offset (read unsigned: RAM may pass 2 GiB)
 *   +12 unused
 */
/**
 * Entries per bank: 2^TLB_BITS (two ways for loads and stores: 16 MiB of
 * pages each). xz -3 (a 32 MiB match finder) misses it all along: 45% of
 * its returns to JavaScript are refills; at 2^12 10% (2^13 the same), but
 * the VM thread's CPU time did not move (xz alone, four alternating pairs,
 * medians 3.96 s at 2^12 against 3.88 s, load ~3.8, 2026-12-04) while each
 * set doubles to 320 KiB of the guest's memory.
 */
export const TLB_BITS = 11;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;
/**
 * An entry's index is the page number's low TLB_BITS XOR the next TLB_BITS
 * (va >>> 12 ^ va >>> TLB_FOLD): pages of one 8 MiB region still get
 * distinct entries, and two buffers whose page numbers agree in their low
 * bits (seen: gzip's two 17-page buffers, thrashing at every TLB size) no
 * longer share them.
 */
export const TLB_FOLD = 12 + TLB_BITS;

/** The entry index of the page holding vaLo (every probe of the TLB computes this). */
export function tlbIndex(vaLo: number): number {
  return ((vaLo >>> 12) ^ (vaLo >>> TLB_FOLD)) & TLB_MASK;
}
export const TLB_FETCH = 0;
export const TLB_LOAD = TLB_SIZE;
export const TLB_STORE = 2 * TLB_SIZE;
/** Entries from a load or store entry (way 0) to the same index's way 1. */
export const TLB_WAY = 2 * TLB_SIZE;
/** Entries per privilege level's set of banks. */
export const PRIV_STRIDE = 5 * TLB_SIZE;
/**
 * Address spaces (satp values) whose U and S translations are kept at once.
 * The bench guest's `bzip2 -dc | wc -c` switched satp ~1,000 times in 1.4 s,
 * each switch a flush followed by ~280 page walks (2026-12-04).
 */
export const SPACES = 4;
/** Sets: U 0, S 1, (2 unused), M 3, VU 4, VS 5, then U and S of spaces 1 .. SPACES - 1. */
export const TLB_SETS = 6 + 2 * (SPACES - 1);
/** The sets after M, VU and VS: U and S of spaces 1 .. SPACES - 1. */
const BASE_SETS = 6;
/** Sets filled with empty entries at construction (U and S of space 0, M); the others when first selected. */
const FILLED_FIRST = (1 << 0) | (1 << 1) | (1 << 3);
/** Bytes of one hart's TLB in linear memory. */
export const TLB_BYTES = TLB_SETS * PRIV_STRIDE * 16;

/**
 * The set for a privilege level and virtualization mode V in address space
 * `space` (the TLB's `base` is this * PRIV_STRIDE): M, VU and VS have one set
 * each; U and S one per space.
 */
export function tlbSet(priv: number, virt: number, space = 0): number {
  if (virt !== 0) return 4 + priv;
  if (priv > 1 || space === 0) return priv;
  return BASE_SETS + 2 * (space - 1) + priv;
}
/**
 * An empty entry's tag: its bit 11 is never set in a page base, nor in a
 * page base OR-ed with the alignment bits (at most 7) of an access, which is
 * what the JIT compares against.
 */
export const TLB_EMPTY = 0x800;

/** Distinct 1 GiB granules with superpage entries tracked before every page flush scans the TLB. */
const MAX_SUPER_GRANULES = 16;

/** The 1 GiB granule number of a virtual address (exact as a double). */
function granule(vaLo: number, vaHi: number): number {
  return vaHi * 4 + (vaLo >>> 30);
}

/** Whether address (lo, hi) lies in the 2^shift-byte aligned region holding (vaLo, vaHi); 12 <= shift < 64. */
export function inRegion(lo: number, hi: number, vaLo: number, vaHi: number, shift: number): boolean {
  if (shift < 32) {
    const m = -1 << shift;
    return hi === vaHi && (lo & m) === (vaLo & m);
  }
  const m = -1 << (shift - 32);
  return (hi & m) === (vaHi & m);
}

export class Tlb {
  // Sets for U (0), S (1) and M (3); index 2 is unused, which keeps base = priv * PRIV_STRIDE.
  /** The entries as words: entry n's tag lo at w[n << 2], tag hi at w[(n << 2) + 1]. */
  readonly w: Int32Array;
  /** The same words unsigned: entry n's `add` (linear page offset - page, mod 2^32) at u[(n << 2) + 2]. */
  readonly u: Uint32Array;
  /** Byte offset of the entries in linear memory. */
  readonly linear: number;
  /** Start of the current privilege level's set. */
  base = 3 * PRIV_STRIDE;

  /**
   * Entries that map a user page for an S-mode data access: valid only while
   * mstatus.SUM is set, so clearing SUM drops just these (Linux toggles SUM
   * around every user copy; a full flush there would cost a walk per page).
   */
  private readonly sumEntries = new Int32Array(64);
  private sumCount = 0;

  /**
   * Superpage fragments: every entry maps 4 KiB, so a page flush naming an
   * address inside a 2 MiB or larger leaf must drop the leaf's other pages
   * too. `superShift` is the largest leaf (log2 bytes) entered since the
   * last full flush; `superGranules` the 1 GiB granules (va >> 30) holding
   * such entries, so flushes elsewhere (user pages, while the kernel's
   * linear map is in megapages) stay one probe per bank.
   */
  private superShift = 12;
  private readonly superGranules: number[] = [];
  private superAnywhere = false;

  /** Counts for profiles and tests: full flushes, and page flushes (sfence.vma naming an address). */
  flushes = 0;
  pageFlushes = 0;

  /** Called after every flush (the interpreter ends its slice: it caches the current fetch page). */
  onFlush: () => void = () => {};

  /** The privilege level and V whose set `base` selects (select()). */
  private priv = 3;
  private virt = 0;
  /** The address space whose U and S sets are in use, and each space's satp value (lo, hi) and last use. */
  private space = 0;
  private readonly spaceLo = new Int32Array(SPACES);
  private readonly spaceHi = new Int32Array(SPACES);
  private readonly spaceUsed = new Float64Array(SPACES);
  private spaceClock = 0;
  /** Spaces holding a satp value (bit k). */
  private spaceValid = 1;
  /**
   * Sets filled with empty entries (bit s); the others hold zeros, which
   * would map page 0, and are filled when first selected, so that a guest's
   * memory holds only the sets it uses.
   */
  private ready = FILLED_FIRST;
  /** Called after a page flush of the `shift`-sized region around (vaLo, vaHi): only its jumps are stale. */
  onFlushPage: (vaLo: number, vaHi: number, shift: number) => void = () => {};

  /** `buffer` is the machine's linear memory; the TLB takes TLB_BYTES at `linear`. */
  constructor(buffer: ArrayBuffer, linear: number) {
    this.linear = linear;
    this.w = new Int32Array(buffer, linear, TLB_BYTES / 4);
    this.u = new Uint32Array(buffer, linear, TLB_BYTES / 4);
    for (let set = 0; set < TLB_SETS; set++) if (FILLED_FIRST & (1 << set)) this.emptySet(set);
  }

  /** Selects the set of privilege `priv` and virtualization mode `virt` in the current address space. */
  select(priv: number, virt: number): void {
    this.priv = priv;
    this.virt = virt;
    const set = tlbSet(priv, virt, this.space);
    if ((this.ready & (1 << set)) === 0) {
      this.emptySet(set);
      this.ready |= 1 << set;
    }
    this.base = set * PRIV_STRIDE;
  }

  /**
   * satp changed to (lo, hi): U and S translations come from the space that
   * holds this value, or from the least recently used one, emptied for it.
   * The M set is emptied too (with MPRV its entries came through satp);
   * VU and VS depend on vsatp and hgatp only. Returns whether a space was
   * emptied or M's entries dropped (chained jumps keyed by their sets are
   * stale then); onFlush is not called, the caller ends the slice.
   */
  switchSpace(lo: number, hi: number): boolean {
    let k = 0;
    while (k < SPACES && !(this.spaceLo[k] === lo && this.spaceHi[k] === hi && this.spaceValid & (1 << k)))
      k++;
    let stale = this.clearSet(3);
    if (k === SPACES) {
      k = 0;
      for (let i = 1; i < SPACES; i++) if (this.spaceUsed[i] < this.spaceUsed[k]) k = i;
      this.spaceLo[k] = lo;
      this.spaceHi[k] = hi;
      this.spaceValid |= 1 << k;
      stale = this.clearSet(tlbSet(0, 0, k)) || stale;
      stale = this.clearSet(tlbSet(1, 0, k)) || stale;
    }
    this.spaceUsed[k] = ++this.spaceClock;
    this.space = k;
    this.select(this.priv, this.virt);
    return stale;
  }

  /** Forgets every address space but the current one, whose satp value is now (lo, hi) (reset, restore). */
  resetSpaces(lo: number, hi: number): void {
    this.space = 0;
    this.spaceLo[0] = lo;
    this.spaceHi[0] = hi;
    this.spaceValid = 1;
    this.spaceUsed.fill(0);
    this.select(this.priv, this.virt);
  }

  /** Whether some address space's satp value has ASID `asid` (its translations may be cached). */
  holdsAsid(asid: number): boolean {
    for (let k = 0; k < SPACES; k++)
      if (this.spaceValid & (1 << k) && ((this.spaceHi[k] >>> 12) & 0xffff) === asid) return true;
    return false;
  }

  /** Empties set `set` if it holds entries; true when it did. */
  private clearSet(set: number): boolean {
    if ((this.used & (1 << set)) === 0) return false;
    this.emptySet(set);
    this.used &= ~(1 << set);
    return true;
  }

  /** Bit s set: set s may hold entries (filled since the last flush); a flush empties only those. */
  private used = 0;

  /** Writes an empty entry into every slot of set `set` (whole entries, not just tags: one native fill). */
  private emptySet(set: number): void {
    this.w.fill(TLB_EMPTY, set * PRIV_STRIDE * 4, (set + 1) * PRIV_STRIDE * 4);
  }

  /** Empties every entry of the sets in use. */
  private clear(): void {
    for (let set = 0; set < TLB_SETS; set++) if (this.used & (1 << set)) this.emptySet(set);
    this.used = 0;
  }

  flush(): void {
    this.clear();
    this.sumCount = 0;
    this.superShift = 12;
    this.superGranules.length = 0;
    this.superAnywhere = false;
    this.flushes++;
    this.onFlush();
  }

  /** The entry just filled for (vaLo, vaHi) is a 4 KiB piece of a leaf of 2^shift bytes (shift > 12). */
  noteSuperpage(vaLo: number, vaHi: number, shift: number): void {
    if (shift > this.superShift) this.superShift = shift;
    if (shift > 30 || this.superGranules.length >= MAX_SUPER_GRANULES) {
      this.superAnywhere = true;
      return;
    }
    const g = granule(vaLo, vaHi);
    if (!this.superGranules.includes(g)) this.superGranules.push(g);
  }

  /**
   * sfence.vma naming an address (priv spec 4.2.1): drops the translations
   * of its page in every set, bank and way (other ASIDs and global pages too,
   * which is allowed), and of the whole leaf when superpages are cached
   * near it.
   */
  flushPage(vaLo: number, vaHi: number): void {
    this.pageFlushes++;
    if (this.superAnywhere || (this.superShift > 12 && this.superGranules.includes(granule(vaLo, vaHi)))) {
      this.flushRegion(vaLo, vaHi, this.superShift);
      this.onFlushPage(vaLo, vaHi, this.superShift);
      return;
    }
    this.dropPage(vaLo & ~0xfff, vaHi);
    this.onFlushPage(vaLo, vaHi, 12);
  }

  /** Drops page (tag, hi) from every bank and way of the sets in use (it can only be at its index). */
  private dropPage(tag: number, hi: number): void {
    const w = this.w;
    const i = tlbIndex(tag);
    for (let set = 0; set < TLB_SETS; set++) {
      if ((this.used & (1 << set)) === 0) continue;
      for (let bank = 0; bank < PRIV_STRIDE; bank += TLB_SIZE) {
        const n = (set * PRIV_STRIDE + bank + i) << 2;
        if (w[n] === tag && w[n + 1] === hi) w[n] = TLB_EMPTY;
      }
    }
  }

  /** Drops every entry whose page lies in the 2^shift-byte region holding (vaLo, vaHi). */
  private flushRegion(vaLo: number, vaHi: number, shift: number): void {
    // A region of fewer pages than a set has entries (a 2 MiB or 4 MiB leaf): drop its pages one by
    // one; a larger one: scan the sets in use.
    if (shift - 12 <= TLB_BITS) {
      const base = vaLo & (-1 << shift);
      for (let k = 0; k < 1 << (shift - 12); k++) this.dropPage((base + (k << 12)) | 0, vaHi);
      return;
    }
    const w = this.w;
    for (let set = 0; set < TLB_SETS; set++) {
      if ((this.used & (1 << set)) === 0) continue;
      for (let n = set * PRIV_STRIDE * 4; n < (set + 1) * PRIV_STRIDE * 4; n += 4)
        if (inRegion(w[n], w[n + 1], vaLo, vaHi, shift)) w[n] = TLB_EMPTY;
    }
  }

  /** Records that the entry just filled for (bank, vaLo) depends on SUM (later fills may move it to way 1). */
  noteSumEntry(bank: number, vaLo: number): void {
    if (this.sumCount < this.sumEntries.length)
      this.sumEntries[this.sumCount++] = this.base + bank + tlbIndex(vaLo);
    else this.sumCount = this.sumEntries.length + 1; // overflowed: the next SUM clear flushes everything
  }

  /** mstatus.SUM went from 1 to 0: drop the entries that relied on it. */
  flushSumEntries(): void {
    if (this.sumCount > this.sumEntries.length) {
      this.flush();
      return;
    }
    for (let k = 0; k < this.sumCount; k++) {
      const n = this.sumEntries[k] << 2;
      this.w[n] = TLB_EMPTY;
      this.w[n + TLB_WAY * 4] = TLB_EMPTY; // where a later fill moved it (or another page: harmless)
    }
    this.sumCount = 0;
  }

  /**
   * The linear offset of the byte at (vaLo, vaHi) when the current set's
   * `bank` maps its page, else -1. (The interpreter's hot paths inline this.)
   */
  lookup(bank: number, vaLo: number, vaHi: number): number {
    const w = this.w;
    const tag = vaLo & ~0xfff;
    let n = (this.base + bank + tlbIndex(vaLo)) << 2;
    if (w[n] === tag && w[n + 1] === vaHi) return (this.u[n + 2] + vaLo) >>> 0;
    if (bank === TLB_FETCH) return -1;
    n += TLB_WAY * 4;
    return w[n] === tag && w[n + 1] === vaHi ? (this.u[n + 2] + vaLo) >>> 0 : -1;
  }

  /**
   * Enters the page of (vaLo, vaHi) in `bank` (TLB_FETCH/LOAD/STORE), which
   * maps it in neither way: in way 0, a load or store bank's previous way-0
   * page moving to way 1 (the least recently filled of the two goes).
   */
  fill(bank: number, vaLo: number, vaHi: number, pageLinear: number): void {
    const w = this.w;
    const u = this.u;
    const n = (this.base + bank + tlbIndex(vaLo)) << 2;
    this.used |= 1 << (this.base / PRIV_STRIDE);
    if (bank !== TLB_FETCH && w[n] !== TLB_EMPTY) {
      const v = n + TLB_WAY * 4;
      w[v] = w[n];
      w[v + 1] = w[n + 1];
      u[v + 2] = u[n + 2];
    }
    w[n] = vaLo & ~0xfff;
    w[n + 1] = vaHi;
    u[n + 2] = pageLinear - (vaLo & ~0xfff); // Uint32Array: stored mod 2^32
  }

  /** Drops the store entries (both ways) that map to linear page `pageLinear` (it now holds decoded code). */
  flushLinearPage(pageLinear: number): void {
    for (let set = 0; set < TLB_SETS * PRIV_STRIDE; set += PRIV_STRIDE)
      if (this.used & (1 << (set / PRIV_STRIDE)))
        for (let bank = TLB_STORE; bank <= TLB_STORE + TLB_WAY; bank += TLB_WAY)
          for (let n = (set + bank) << 2; n < (set + bank + TLB_SIZE) << 2; n += 4)
            if ((this.u[n + 2] + this.w[n]) >>> 0 === pageLinear) this.w[n] = TLB_EMPTY;
  }
}

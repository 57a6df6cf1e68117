/**
 * Which compiled blocks are still in use, so that code gone cold is dropped
 * and compiled code is bounded by what runs, not by everything that ever
 * ran (issue 15). Each block has a mark, set when it is installed and each
 * time the interpreter enters it (Jit.link). After `every` installations
 * and at least `insns` retired instructions since the last sweep, the Jit
 * sweeps: blocks without a mark are released, and every mark and every
 * jump-cache entry is cleared. (Installations alone are no clock: with a
 * low threshold they come every few hundred instructions, and a period
 * that short releases code that runs, to compile it again at once.) With the jump caches empty, any block
 * that runs in the next period is entered from the interpreter at least
 * once (blocks reach each other only through jump-cache entries, which only
 * the interpreter fills), so a block without a mark at the next sweep did
 * not run, and no jump-cache entry names it: its id can be reused at once.
 */
export class BlockUse {
  /** Installations and retired instructions between sweeps, at least. */
  readonly every: number;
  readonly insns: number;
  private lastSweep = 0;
  private marks = new Uint8Array(256);
  /** Where each live block starts: its decoded page and byte offset. */
  private readonly pages: (Int32Array | undefined)[] = [];
  private offs = new Int32Array(256);
  private installs = 0;

  constructor(every: number, insns: number) {
    this.every = every;
    this.insns = insns;
  }

  /**
   * Block `id` now starts at byte `off` of decoded page `dec`, with `now`
   * instructions retired. True when a sweep is due (then call unused()).
   */
  installed(id: number, dec: Int32Array, off: number, now: number): boolean {
    if (id >= this.marks.length) this.grow(id);
    this.marks[id] = 1;
    this.pages[id] = dec;
    this.offs[id] = off;
    if (++this.installs < this.every || now - this.lastSweep < this.insns) return false;
    this.installs = 0;
    this.lastSweep = now;
    return true;
  }

  /** Block `id` was entered from the interpreter. */
  entered(id: number): void {
    this.marks[id] = 1;
  }

  /** Block `id` is gone (its page was dropped). */
  forget(id: number): void {
    this.pages[id] = undefined;
  }

  /** The live blocks that were not used since the last sweep, with where they start; clears every mark. */
  unused(): { id: number; dec: Int32Array; off: number }[] {
    const out: { id: number; dec: Int32Array; off: number }[] = [];
    this.pages.forEach((dec, id) => {
      if (dec !== undefined && this.marks[id] === 0) {
        out.push({ id, dec, off: this.offs[id] });
        this.pages[id] = undefined;
      }
    });
    this.marks.fill(0);
    return out;
  }

  private grow(id: number): void {
    const n = Math.max(id + 1, this.marks.length * 2);
    const marks = new Uint8Array(n);
    marks.set(this.marks);
    this.marks = marks;
    const offs = new Int32Array(n);
    offs.set(this.offs);
    this.offs = offs;
  }
}

import { OP_MASK } from "../memory/code-cache.ts";
import { HART_X } from "../memory/layout.ts";
import { TLB_LOAD, TLB_STORE, tlbIndex } from "../mmu/tlb.ts";
import { opName } from "./profile-names.ts";

/** accessOf: not a load or store (0), a load (LOAD) or a store (STORE), FP ones with their size << 2. */
const LOAD = 1;
const STORE = 2;
const ACCESS = new Map<number, number>();
function accessOf(op: number): number {
  let a = ACCESS.get(op);
  if (a === undefined) {
    const name = opName(op);
    const store = /^(s[bhwd]|fs[wd])$/.test(name);
    const load = /^(l[bhwd]u?|fl[wd])$/.test(name);
    const fpSize = name.startsWith("f") ? (name.endsWith("w") ? 4 : 8) : 0;
    a = store ? STORE | (fpSize << 2) : load ? LOAD | (fpSize << 2) : 0;
    ACCESS.set(op, a);
  }
  return a;
}

const NONE = -1;
const MISALIGNED = -2;

/**
 * Why a load or store left compiled code (profile mode, jit/profile.ts):
 * its inline TLB probe missed, and the interpreter then did the access.
 * Misaligned is told from the address; otherwise whether the interpreter's
 * access filled the TLB entry, seen at the next return: filled, it was a
 * TLB miss (a refill); still empty, the page is one the TLB never maps (MMIO,
 * a store into a page holding code) or was evicted at once.
 */
export class MemoryExits {
  refills = 0;
  uncached = 0;
  misaligned = 0;
  stores = 0;
  /**
   * The tag address and page of the access waiting to be judged (tag NONE,
   * or MISALIGNED: counted), and the interpreter's retired count then.
   */
  private pendingTag = NONE;
  private pendingAt = 0;
  private pendingLo = 0;
  private pendingHi = 0;

  /** Linear memory (the Jit's, once it attaches to the profile). */
  private readonly i32: () => Int32Array;

  constructor(i32: () => Int32Array) {
    this.i32 = i32;
  }

  /**
   * The access at slot `s` of `dec` left compiled code (its registers are in
   * the hart block); `interpreted` is the interpreter's retired count so far.
   */
  left(hartLinear: number, tlbSet: number, dec: Int32Array, s: number, interpreted: number): void {
    // Compiled code stopped at the access waiting again, before the interpreter did it: the same one.
    if (this.pendingTag !== NONE && interpreted === this.pendingAt) return;
    this.settle(interpreted);
    this.pendingAt = interpreted;
    const access = accessOf(dec[s + 1] & OP_MASK);
    if (access === 0) return;
    const insn = dec[s];
    const store = (access & STORE) !== 0;
    if (store) this.stores++;
    const size = access >> 2 || 1 << ((insn >>> 12) & 3);
    const imm = store ? ((insn >> 25) << 5) | ((insn >>> 7) & 31) : insn >> 20;
    const mem = this.i32();
    const r = (hartLinear + HART_X + 8 * ((insn >>> 15) & 31)) >>> 2;
    const lo = (mem[r] + imm) | 0;
    const hi = (mem[r + 1] + (imm >> 31) + (lo >>> 0 < mem[r] >>> 0 ? 1 : 0)) | 0;
    if ((lo & (size - 1)) !== 0) {
      this.misaligned++;
      this.pendingTag = MISALIGNED;
      return;
    }
    this.pendingTag = (tlbSet + ((store ? TLB_STORE : TLB_LOAD) + tlbIndex(lo)) * 16) >>> 2;
    this.pendingLo = lo & ~0xfff;
    this.pendingHi = hi;
  }

  /** Judges the access waiting once the interpreter has run since (and so done it). */
  settle(interpreted: number): void {
    if (this.pendingTag === NONE || interpreted === this.pendingAt) return;
    const tag = this.pendingTag;
    this.pendingTag = NONE;
    if (tag === MISALIGNED) return;
    const mem = this.i32();
    if (mem[tag] === this.pendingLo && mem[tag + 1] === this.pendingHi) this.refills++;
    else this.uncached++;
  }

  /**
   * The interpreter has just entered in the TLB the access waiting (it left
   * compiled code, no instruction ran since): judges it now. True when it
   * did, so the same access returning again at once is not counted twice.
   */
  judgeNow(interpreted: number): boolean {
    if (this.pendingTag === NONE || interpreted !== this.pendingAt) return false;
    this.pendingAt = -1;
    this.settle(interpreted);
    return true;
  }

  reset(): void {
    this.refills = 0;
    this.uncached = 0;
    this.misaligned = 0;
    this.stores = 0;
    this.pendingTag = NONE;
  }
}

/**
 * What the interpreter needs of a second tier (design 2.4): the JIT
 * (jit/jit.ts) implements it and the machine (board/machine.ts) hands it to
 * each hart, so cpu/ depends on this interface and never on jit/.
 *
 * The decoded slot's JIT word (memory/code-cache.ts jitWord: 20 bits of
 * its op word) drives tiering, with `hot` the tier's threshold:
 *   below hot          times the interpreter reached this slot
 *   hot                hot: compile a block starting here next time
 *   above hot          a compiled block, id = word - hot - 1
 * A slot where no block can start is set to SLOT_NEVER, the least word, so
 * it counts for ~2^19 more executions before trying again.
 *
 * H is the hart type (cpu/hart.ts): a parameter, so this file imports
 * nothing of the hart's.
 */
import { JIT_WORD_MIN } from "../memory/code-cache.ts";

export const SLOT_NEVER = JIT_WORD_MIN;

/**
 * A compiled block: (hart, tlbSet, budget, pcLo, pcHi, acc) -> acc +
 * instructions retired; it stores the next pc in the hart's pc slot and
 * retires none when it cannot make progress (jit/emit.ts).
 */
export type BlockFn = (
  hart: number,
  tlbSet: number,
  budget: number,
  pcLo: number,
  pcHi: number,
  acc: number,
) => number;

/**
 * With a profile (`virtus run --profile`; jit/profile.ts implements it):
 * what the interpreter reports of the boundary with compiled code.
 */
export interface TierProfile {
  /** Instructions the interpreter retired (it adds each stretch between calls into blocks). */
  interpInsns: number;
  /**
   * A call into compiled code retired `n` and left pc at (pcLo, pcHi) with
   * `left` of the slice's budget; `dec` is the decoded page of the virtual
   * page (pageLo, pageHi), tlbSet the linear address of the TLB set the
   * block ran with. True when the return is to be classified once the
   * interpreter has pc's page (exitAt).
   */
  returned(
    n: number,
    hartLinear: number,
    tlbSet: number,
    dec: Int32Array,
    pageLo: number,
    pageHi: number,
    pcLo: number,
    pcHi: number,
    left: number,
  ): boolean;
  /** Classifies the pending return at pcLo, in its decoded page `dec`. */
  exitAt(hartLinear: number, tlbSet: number, dec: Int32Array, pcLo: number, left: number): void;
  /** The pending return's pc could not be fetched (a trap). */
  fetchFaulted(): void;
  /**
   * The interpreter entered in the TLB the page of the load or store that
   * starts the block it calls next (cpu/interpreter.ts refillFirstAccess).
   */
  prefilled(): void;
}

export interface Tier<H> {
  /** Executions of a slot before a block is compiled there. */
  readonly hot: number;
  /** Longest block, in instructions: the interpreter enters a block only with at least this much budget left. */
  readonly maxBlock: number;
  /** Compiled blocks by id. */
  readonly fns: readonly BlockFn[];
  /**
   * The slot at byte offset `off` of decoded page `dec` is hot: returns its
   * new word, a compiled block's (above hot), SLOT_NEVER when no block can
   * start there, or a count (at most hot) while its block is being
   * compiled. The tier also writes the words of other slots whose blocks
   * it installs (several are compiled together, or later: jit/jit.ts).
   */
  compile(dec: Int32Array, off: number): number;
  /** The hart and its retired count as blocks start running from the interpreter. */
  enter(h: H, icount: number): void;
  /** Lets compiled code chain to block `id` when it reaches (pcLo, pcHi) under TLB set `tlbSet`. */
  link(hartId: number, pcLo: number, pcHi: number, tlbSet: number, id: number): void;
  /** Forgets the hart's chained jumps (its translations changed). */
  flushJumpCache(hartId: number): void;
  /** Forgets the hart's chained jumps to pcs in the 2^shift-byte region around (vaLo, vaHi). */
  flushJumpCacheRegion(hartId: number, vaLo: number, vaHi: number, shift: number): void;
  /** Counters of `virtus run --profile`; undefined, and no cost, otherwise. */
  readonly profile: TierProfile | undefined;
}

import type { TierProfile } from "../cpu/tier.ts";
import { JIT_SHIFT, OP_MASK } from "../memory/code-cache.ts";
import { HART_CHAINS, HART_EXIT_KIND } from "../memory/layout.ts";
import { MemoryExits } from "./profile-memory.ts";
import { opName, stopKey, stopName } from "./profile-names.ts";

export { opName } from "./profile-names.ts";

/**
 * The JIT's profile counters (issue 15 item 6; `virtus run --profile FILE`,
 * `npm run bench:profile`). Off unless a Jit is built with one: the
 * interpreter and the Jit test one local or field for undefined at each
 * return from compiled code and each compile, and generated code is the
 * same as without a profile except that each way out of a block also
 * stores what kind of exit it took (EXIT_KIND_*) in the hart's block.
 *
 * Instructions are counted on both sides of the boundary, independently:
 * blocks by what they report retired (plus what a block retired before a
 * helper trapped), the interpreter by the retired count between the
 * points where it calls a block; their sum is the hart's retired count.
 */

/** What a block stores at HART_EXIT_KIND as it leaves (profile mode only): the exit's instruction kind. */
export const EXIT_KIND_NONE = 0;
/** A jal, or a taken conditional branch, to a pc outside the block. */
export const EXIT_KIND_DIRECT = 1;
/** A jalr. */
export const EXIT_KIND_INDIRECT = 2;
/** The block's end: the next instruction cannot be translated, the page or the longest block ends. */
export const EXIT_KIND_END = 3;
/** A load or store whose inline TLB probe missed: TLB miss, MMIO, misaligned, a store into code. */
export const EXIT_KIND_MEMORY = 4;
/** A loop back to the block's start without the budget for another pass. */
export const EXIT_KIND_LOOP_BUDGET = 5;

/** Why compiled code returned to the interpreter, as the interpreter classifies it. */
export const EXIT_CAUSES = [
  /** The slice's budget ran out (or too little was left for the next block). */
  "budget",
  /** A direct jump or branch to a pc where a block exists, which the jump cache did not know. */
  "jc-miss-direct",
  /** The same for a jalr (indirect jump, return). */
  "jc-miss-indirect",
  /** The same for a block that ended by running into the next block's first instruction. */
  "jc-miss-end",
  /** A jump-cache miss whose jump kind the block did not say (compiled without a profile). */
  "jc-miss",
  /** Nothing compiled at the target yet (below the threshold; the first visits of a stop op too). */
  "not-compiled",
  /** The next instruction is one no block translates, once its slot has tried to compile (which: stopOps). */
  "stop",
  /** A load or store that needs the interpreter's slow path (TLB miss, MMIO, misaligned, code page). */
  "memory",
  /** A host helper (an instruction run through the interpreter's exec functions) trapped. */
  "helper-trap",
  /** The target's fetch faulted or the slice ended on a trap before the next instruction ran. */
  "other",
] as const;
export type ExitCause = (typeof EXIT_CAUSES)[number];
const CAUSE = Object.fromEntries(EXIT_CAUSES.map((c, i) => [c, i])) as Record<ExitCause, number>;

/** Powers of two of a block's instruction count: bucket i holds blocks of 2^i .. 2^(i+1) - 1 instructions. */
export const SIZE_BUCKETS = 8;

/** A profile's counters as plain data (what the JSON file and the control command carry). */
export interface JitProfileData {
  /** Instructions retired by compiled blocks (chained ones included). */
  blockInsns: number;
  /** Instructions retired by the interpreter. */
  interpInsns: number;
  /** Calls from the interpreter into compiled code (each may chain through many blocks). */
  entries: number;
  /** Calls from block to block through the jump cache, without a return to JavaScript. */
  chains: number;
  /** A hart's whole jump cache emptied (a satp change, a full TLB flush) / the entries in one page's region. */
  jcFlushes: number;
  jcPageFlushes: number;
  /** Every jump cache emptied because blocks were dropped (a code page written, a sweep of cold blocks). */
  jcDrops: number;
  /** Entries that retired nothing (FP off, a rounding mode inline FP does not handle). */
  refused: number;
  /** Returns to the interpreter by cause (EXIT_CAUSES). */
  exits: Record<ExitCause, number>;
  /** For exits of cause "stop": the instruction at the pc, by name (and CSR: "csrrs time"). */
  stopOps: Record<string, number>;
  /**
   * Loads and stores that left compiled code (exits of cause "memory" and entries retiring
   * nothing before one), by what the interpreter's access found (profile-memory.ts).
   */
  memory: { refills: number; uncached: number; misaligned: number; stores: number };
  /** The pcs (low words, hex) most jump-cache misses went to, with their counts: a few, often, means entries that evict each other. */
  jcMissTargets: Record<string, number>;
  /** The pcs (low words, hex) most returns of cause "not-compiled" were at, with their counts. */
  notCompiledAt: Record<string, number>;
  /** Host helper calls by instruction name. */
  helperOps: Record<string, number>;
  compiled: number;
  /** Blocks compiled by instruction count: "1", "2-3", "4-7", … */
  blockSizes: Record<string, number>;
  /** Instructions of all blocks compiled (mean size = this / compiled). */
  compiledInsns: number;
  /** Host milliseconds spent compiling (planner, emitter, V8's module compile and instantiation). */
  compileMs: number;
}

export class JitProfile implements TierProfile {
  blockInsns = 0;
  interpInsns = 0;
  entries = 0;
  chains = 0;
  jcFlushes = 0;
  jcPageFlushes = 0;
  jcDrops = 0;
  refused = 0;
  readonly exits = new Float64Array(EXIT_CAUSES.length);
  /** Jump-cache misses by the pc (low word) they went to. */
  private readonly jcMissAt = new Map<number, number>();
  /** Returns of cause "not-compiled" by the pc (low word) they were at. */
  private readonly notCompiledAt = new Map<number, number>();
  /** By stopKey (op, and CSR for CSR instructions). */
  readonly stopOps = new Map<number, number>();
  readonly memory = new MemoryExits(() => this.i32);
  readonly helperOps = new Map<number, number>();
  compiled = 0;
  compiledInsns = 0;
  readonly sizes = new Float64Array(SIZE_BUCKETS);
  compileMs = 0;
  /** Instruction count of each live block, by id (for the budget test of an exit). */
  private readonly lens: number[] = [];
  readonly now: () => number;
  // From the Jit that counts into this profile (attach): its threshold and linear memory.
  private hot = 0;
  private i32: Int32Array = new Int32Array(0);

  constructor(now: () => number = () => performance.now()) {
    this.now = now;
  }

  /** Whether a Jit counts into this profile (without one, `--no-jit`, everything is interpreted). */
  attached = false;

  /** The Jit counting into this profile: its threshold (slot words above it are blocks) and memory. */
  attach(hot: number, i32: Int32Array): void {
    this.hot = hot;
    this.i32 = i32;
    this.attached = true;
  }

  /** The last prefilled() judged the access a block had just left on (the block called next starts with it). */
  private prefilledExit = false;

  prefilled(): void {
    this.prefilledExit = this.memory.judgeNow(this.interpInsns);
  }

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
  ): boolean {
    this.entries++;
    this.blockInsns += n;
    const chains = (hartLinear + HART_CHAINS) >>> 2;
    this.chains += this.i32[chains];
    this.i32[chains] = 0;
    this.memory.settle(this.interpInsns);
    const again = this.prefilledExit;
    this.prefilledExit = false;
    if (n === 0) {
      this.refused++;
      // Returned at once, at its own first instruction (in `dec`): a load or store that missed
      // (unless it is the access just judged at the refill, which found an entry it cannot fill)?
      if (this.i32[(hartLinear + HART_EXIT_KIND) >>> 2] === EXIT_KIND_MEMORY && !again)
        this.memory.left(hartLinear, tlbSet, dec, pcLo & 0xffe, this.interpInsns);
      return false;
    }
    if (left <= 0) {
      this.count("budget");
      return false;
    }
    if ((pcLo & ~0xfff) !== pageLo || pcHi !== pageHi) return true;
    this.exitAt(hartLinear, tlbSet, dec, pcLo, left);
    return false;
  }

  exitAt(hartLinear: number, tlbSet: number, dec: Int32Array, pcLo: number, left: number): void {
    const s = pcLo & 0xffe;
    const kind = this.i32[(hartLinear + HART_EXIT_KIND) >>> 2];
    if (kind === EXIT_KIND_MEMORY) this.memory.left(hartLinear, tlbSet, dec, s, this.interpInsns);
    const cause = this.classify(dec, s, this.hot, left, kind);
    const at = cause.startsWith("jc-miss")
      ? this.jcMissAt
      : cause === "not-compiled"
        ? this.notCompiledAt
        : null;
    if (at !== null) at.set(pcLo >>> 0, (at.get(pcLo >>> 0) ?? 0) + 1);
  }

  fetchFaulted(): void {
    this.count("other");
  }

  /** A block of `len` instructions was compiled as `id`, taking `ms`. */
  blockCompiled(id: number, len: number, ms: number): void {
    this.lens[id] = len;
    this.compiled++;
    this.compiledInsns += len;
    this.sizes[Math.min(SIZE_BUCKETS - 1, 31 - Math.clz32(len))]++;
    this.compileMs += ms;
  }

  helper(op: number): void {
    this.helperOps.set(op, (this.helperOps.get(op) ?? 0) + 1);
  }

  count(cause: ExitCause): ExitCause {
    this.exits[CAUSE[cause]]++;
    return cause;
  }

  /**
   * Classifies a return from compiled code at the slot `s` of decoded page
   * `dec` (the pc it returned at), with `left` instructions of the slice's
   * budget left, `hot` the Jit's threshold and `kind` what the last block
   * stored at HART_EXIT_KIND. A slot where compiling failed (its count
   * below zero, cpu/tier.ts SLOT_NEVER) holds an instruction no block translates.
   */
  classify(dec: Int32Array, s: number, hot: number, left: number, kind: number): ExitCause {
    const j = dec[s + 1] >> JIT_SHIFT;
    if (kind === EXIT_KIND_MEMORY) return this.count("memory");
    if (kind === EXIT_KIND_LOOP_BUDGET || left <= 0) return this.count("budget");
    if (j > hot) {
      // A block starts here: either the chain stopped for budget (the block refused) or the jump cache missed.
      if (left < (this.lens[j - hot - 1] ?? 0)) return this.count("budget");
      if (kind === EXIT_KIND_DIRECT) return this.count("jc-miss-direct");
      if (kind === EXIT_KIND_INDIRECT) return this.count("jc-miss-indirect");
      return this.count(kind === EXIT_KIND_END ? "jc-miss-end" : "jc-miss");
    }
    if (j < 0) {
      const key = stopKey(dec[s + 1] & OP_MASK, dec[s]);
      this.stopOps.set(key, (this.stopOps.get(key) ?? 0) + 1);
      return this.count("stop");
    }
    return this.count("not-compiled");
  }

  /** The counters as plain data. */
  data(): JitProfileData {
    const byName = (m: Map<number, number>, name: (key: number) => string) => {
      const out: Record<string, number> = {};
      for (const [key, n] of [...m].sort((a, b) => b[1] - a[1])) out[name(key)] = (out[name(key)] ?? 0) + n;
      return out;
    };
    this.memory.settle(Number.NaN); // the run is over: judge what waits
    const { refills, uncached, misaligned, stores } = this.memory;
    const exits = Object.fromEntries(EXIT_CAUSES.map((c, i) => [c, this.exits[i]])) as Record<
      ExitCause,
      number
    >;
    const blockSizes: Record<string, number> = {};
    this.sizes.forEach((n, i) => {
      const lo = 1 << i;
      const label = i === SIZE_BUCKETS - 1 ? `${lo}+` : lo === 1 ? "1" : `${lo}-${2 * lo - 1}`;
      blockSizes[label] = n;
    });
    return {
      blockInsns: this.blockInsns,
      interpInsns: this.interpInsns,
      entries: this.entries,
      chains: this.chains,
      jcFlushes: this.jcFlushes,
      jcPageFlushes: this.jcPageFlushes,
      jcDrops: this.jcDrops,
      refused: this.refused,
      exits,
      stopOps: byName(this.stopOps, stopName),
      jcMissTargets: topPcs(this.jcMissAt),
      notCompiledAt: topPcs(this.notCompiledAt),
      memory: { refills, uncached, misaligned, stores },
      helperOps: byName(this.helperOps, opName),
      compiled: this.compiled,
      blockSizes,
      compiledInsns: this.compiledInsns,
      compileMs: this.compileMs,
    };
  }

  /** Starts counting afresh (a new profile segment); live blocks keep their sizes. */
  reset(): void {
    this.blockInsns = 0;
    this.interpInsns = 0;
    this.entries = 0;
    this.chains = 0;
    this.jcFlushes = 0;
    this.jcPageFlushes = 0;
    this.jcDrops = 0;
    this.refused = 0;
    this.exits.fill(0);
    this.stopOps.clear();
    this.jcMissAt.clear();
    this.notCompiledAt.clear();
    this.memory.reset();
    this.helperOps.clear();
    this.compiled = 0;
    this.compiledInsns = 0;
    this.sizes.fill(0);
    this.compileMs = 0;
  }
}

/** The 16 pcs with the highest counts, as hex low words. */
function topPcs(counts: Map<number, number>): Record<string, number> {
  return Object.fromEntries(
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 16)
      .map(([pc, n]) => [`0x${pc.toString(16)}`, n]),
  );
}

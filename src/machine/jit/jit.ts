import { execOp } from "../cpu/exec/index.ts";
import type { Hart } from "../cpu/hart.ts";
import type { BlockFn, Tier } from "../cpu/tier.ts";
import { SLOT_WORDS } from "../memory/code-cache.ts";
import type { GuestMemory } from "../memory/guest-memory.ts";
import { JC_LINEAR, JC_STRIDE, MAX_HARTS } from "../memory/layout.ts";
import { inRegion } from "../mmu/tlb.ts";
import { BLOCK_IMPORTS, BLOCK_PARAMS, emitBlock, jcIndex } from "./emit.ts";
import { EMITTERS } from "./emitters.ts";
import { MAX_BLOCK, planBlock } from "./plan.ts";
import type { JitProfile } from "./profile.ts";
import { I32, moduleBytes } from "./wasm.ts";

/**
 * Executions of a slot before a block is compiled there (the slot word's
 * protocol is in cpu/tier.ts).
 *
 * JIT_HOT, measured on the default guest's boot (121M instructions to GUEST-READY,
 * wall time, 2026-11-21): at 3,000, 2,300 blocks cost 0.3 s to compile
 * (~150 us each: our emitter plus V8's compile) for 2.2-2.4 s; at 10,000,
 * 600 blocks run 55% of the boot in 1.9 s; at 30,000, 2.5-2.9 s; the
 * interpreter alone 2.9-3.3 s. CPU-bound loops compile within the first
 * milliseconds either way.
 */
export const JIT_HOT = 10000;
/**
 * Compiled blocks alive at once, at most: each is a WebAssembly module whose
 * code lives outside the JavaScript heap, so the count is what bounds it. A
 * busy default guest has ~3,700 (boot plus ls -R, find, awk, sort); past the
 * bound a hot slot stays in the interpreter until blocks are released.
 */
export const MAX_LIVE_BLOCKS = 32768;
/**
 * An empty jump-cache word: pc -1 is odd, so no exit pc matches, and set -1
 * is no TLB set. (All zeros would match a jump to pc 0 in U-mode, set 0, and
 * run block 0 instead of taking the fetch fault.)
 */
const JC_EMPTY = -1;

/**
 * The translation cache (design 2.4): hot guest code -> WebAssembly, one
 * module per block, cached by physical address in the decoded-instruction
 * pages, so a write that drops a decoded page (a store into code, DMA,
 * fence.i) drops its blocks with it. One per machine: harts share the code.
 * The interpreter reaches it through cpu/tier.ts.
 */
export class Jit implements Tier<Hart> {
  readonly fns: BlockFn[] = [];
  readonly maxBlock = MAX_BLOCK;
  private readonly free: number[] = [];
  /** The same functions by id, for chained calls from generated code. */
  private readonly table = new WebAssembly.Table({ element: "anyfunc", initial: 256 });
  /** Each hart's jump cache as words (entry i at 4i: pc lo, pc hi, TLB set, block id). */
  private readonly jumpCaches: Int32Array[] = [];
  private readonly imports: WebAssembly.Imports;
  /** Blocks compiled so far, and instructions blocks handed to the exec helper (statistics and tests). */
  compiled = 0;
  helperCalls = 0;
  /** Conditional branches compiled as jumps inside their block (statistics and tests). */
  forwardEdges = 0;
  // What the exec helper needs about the block running now (set by enter()).
  private hart: Hart | undefined;
  private icount0 = 0;

  /** Executions of a slot before a block is compiled there. */
  readonly hot: number;

  /** Live blocks at most (MAX_LIVE_BLOCKS unless a test lowers it). */
  readonly maxBlocks: number;

  /** Counters of `virtus run --profile` (profile.ts); undefined, and no cost, otherwise. */
  readonly profile: JitProfile | undefined;

  constructor(mem: GuestMemory, hot = JIT_HOT, maxBlocks = MAX_LIVE_BLOCKS, profile?: JitProfile) {
    this.hot = hot;
    this.maxBlocks = maxBlocks;
    this.profile = profile;
    profile?.attach(hot, mem.i32);
    const exec = profile === undefined ? this.exec : this.profiledExec;
    this.imports = { env: { memory: mem.memory, table: this.table, exec } };
    mem.code.onDrop = (page) => this.release(page);
    for (let i = 0; i < MAX_HARTS; i++) {
      const jc = new Int32Array(mem.buffer, JC_LINEAR + i * JC_STRIDE, JC_STRIDE / 4);
      jc.fill(JC_EMPTY);
      this.jumpCaches.push(jc);
    }
  }

  /** Lets generated code chain to block `id` when it reaches (pcLo, pcHi) under TLB set `tlbSet`. */
  link(hartId: number, pcLo: number, pcHi: number, tlbSet: number, id: number): void {
    const jc = this.jumpCaches[hartId];
    const e = jcIndex(pcLo) << 2;
    jc[e] = pcLo;
    jc[e + 1] = pcHi;
    jc[e + 2] = tlbSet;
    jc[e + 3] = id;
  }

  /** Forgets hart `hartId`'s chained jumps (its translations changed). */
  flushJumpCache(hartId: number): void {
    this.jumpCaches[hartId].fill(JC_EMPTY);
  }

  /**
   * Forgets hart `hartId`'s chained jumps to pcs in the 2^shift-byte region
   * around (vaLo, vaHi), whose translation changed (a page flush). Jumps to
   * other pages stay right: a block lies inside one page, and an entry was
   * linked under the translation its pc's page still has.
   */
  flushJumpCacheRegion(hartId: number, vaLo: number, vaHi: number, shift: number): void {
    const jc = this.jumpCaches[hartId];
    for (let e = 0; e < jc.length; e += 4)
      if (inRegion(jc[e], jc[e + 1], vaLo, vaHi, shift)) jc.fill(JC_EMPTY, e, e + 4);
  }

  /** Compiles the block at byte offset `off` of decoded page `dec`; its id, or -1 when no block can start there (or none may be added). */
  compile(dec: Int32Array, off: number): number {
    if (this.free.length === 0 && this.fns.length >= this.maxBlocks) return -1;
    const t0 = this.profile?.now() ?? 0;
    const insns = planBlock(dec, off);
    if (insns.length === 0) return -1;
    const block = emitBlock(insns, off, EMITTERS, this.profile !== undefined);
    this.forwardEdges += block.forwardEdges;
    const bytes = moduleBytes({
      params: BLOCK_PARAMS,
      results: [I32],
      imports: BLOCK_IMPORTS,
      table: true,
      functions: [{ locals: block.locals, body: block.body }],
    });
    const instance = new WebAssembly.Instance(
      new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>),
      this.imports,
    );
    const fn = instance.exports.f0 as BlockFn;
    const id = this.free.length > 0 ? (this.free.pop() as number) : this.fns.length;
    this.fns[id] = fn;
    if (id >= this.table.length) this.table.grow(Math.max(id + 1 - this.table.length, this.table.length));
    this.table.set(id, fn);
    this.compiled++;
    this.profile?.blockCompiled(id, insns.length, this.profile.now() - t0);
    return id;
  }

  /** Records, for the exec helper, the hart and retired count as blocks start running from the interpreter. */
  enter(h: Hart, icount: number): void {
    this.hart = h;
    this.icount0 = icount;
  }

  /** The blocks of a dropped decoded page are unreachable now: reuse their ids (after forgetting every chain). */
  private release(page: Int32Array): void {
    let any = false;
    for (let s = 3; s < page.length; s += SLOT_WORDS) {
      const j = page[s];
      if (j > this.hot) {
        const id = j - this.hot - 1;
        this.fns[id] = UNUSED;
        this.free.push(id);
        any = true;
      }
    }
    if (any) for (const jc of this.jumpCaches) jc.fill(JC_EMPTY);
  }

  /** The `exec` import: one instruction through the interpreter's exec functions, state synced as it expects. */
  private readonly exec = (
    op: number,
    insn: number,
    raw: number,
    pcLo: number,
    pcHi: number,
    retired: number,
  ): void => {
    const h = this.hart as Hart;
    this.helperCalls++;
    h.pcLo = pcLo;
    h.pcHi = pcHi;
    const nLo = (pcLo + ((raw & 3) === 3 ? 4 : 2)) | 0;
    h.npcLo = nLo;
    h.npcHi = nLo >>> 0 < pcLo >>> 0 ? (pcHi + 1) | 0 : pcHi;
    h.icount = this.icount0 + retired;
    h.insnBits = raw;
    execOp(h, op, insn);
  };

  /** The `exec` import with a profile: counts the op, and what the block retired before a trap in it. */
  private readonly profiledExec = (
    op: number,
    insn: number,
    raw: number,
    pcLo: number,
    pcHi: number,
    retired: number,
  ): void => {
    const p = this.profile as JitProfile;
    p.helper(op);
    try {
      this.exec(op, insn, raw, pcLo, pcHi, retired);
    } catch (e) {
      p.blockInsns += retired;
      p.count("helper-trap");
      throw e;
    }
  };
}

const UNUSED: BlockFn = () => 0;

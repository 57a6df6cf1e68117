import { execOp } from "../cpu/exec/index.ts";
import type { Hart } from "../cpu/hart.ts";
import { SLOT_WORDS } from "../memory/code-cache.ts";
import type { GuestMemory } from "../memory/guest-memory.ts";
import { BLOCK_IMPORTS, BLOCK_PARAMS, emitBlock, planBlock } from "./translate.ts";
import { I32, moduleBytes } from "./wasm.ts";

/** A compiled block: (hart, tlbSet, budget, pcLo, pcHi) -> instructions retired (translate.ts). */
export type BlockFn = (hart: number, tlbSet: number, budget: number, pcLo: number, pcHi: number) => number;

/**
 * The decoded slot's fourth word (memory/code-cache.ts) drives tiering,
 * with `hot` the Jit's threshold (JIT_HOT unless a test lowers it):
 *   below hot          times the interpreter reached this slot
 *   hot                hot: compile a block starting here next time
 *   above hot          a compiled block, id = word - hot - 1
 * A slot where no block can start is set to JIT_NEVER, far below, so it
 * counts for ~2^30 more executions before trying again.
 */
export const JIT_HOT = 64;
export const JIT_NEVER = -(1 << 30);

/**
 * The translation cache (design 2.4): hot guest code -> WebAssembly, one
 * module per block, cached by physical address in the decoded-instruction
 * pages, so a write that drops a decoded page (a store into code, DMA,
 * fence.i) drops its blocks with it. One per machine: harts share the code.
 */
export class Jit {
  readonly fns: BlockFn[] = [];
  private readonly free: number[] = [];
  private readonly imports: WebAssembly.Imports;
  /** Blocks compiled so far (statistics and tests). */
  compiled = 0;
  // What the exec helper needs about the block running now (set by enter()).
  private hart: Hart | undefined;
  private pageLo = 0;
  private pcHi = 0;
  private icount0 = 0;

  /** Executions of a slot before a block is compiled there. */
  readonly hot: number;

  constructor(mem: GuestMemory, hot = JIT_HOT) {
    this.hot = hot;
    this.imports = { env: { memory: mem.memory, exec: this.exec } };
    mem.code.onDrop = (page) => this.release(page);
  }

  /** Compiles the block at byte offset `off` of decoded page `dec`; its id, or -1 when no block can start there. */
  compile(dec: Int32Array, off: number): number {
    const insns = planBlock(dec, off);
    if (insns.length === 0) return -1;
    const block = emitBlock(insns, off);
    const bytes = moduleBytes({
      params: BLOCK_PARAMS,
      results: [I32],
      imports: BLOCK_IMPORTS,
      functions: [{ locals: block.locals, body: block.body }],
    });
    const instance = new WebAssembly.Instance(
      new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>),
      this.imports,
    );
    const fn = instance.exports.f0 as BlockFn;
    const id = this.free.length > 0 ? (this.free.pop() as number) : this.fns.length;
    this.fns[id] = fn;
    this.compiled++;
    return id;
  }

  /** Records the block about to run for the exec helper. */
  enter(h: Hart, pcLo: number, pcHi: number, icount: number): void {
    this.hart = h;
    this.pageLo = pcLo & ~0xfff;
    this.pcHi = pcHi;
    this.icount0 = icount;
  }

  /** The blocks of a dropped decoded page are unreachable now: reuse their ids. */
  private release(page: Int32Array): void {
    for (let s = 3; s < page.length; s += SLOT_WORDS) {
      const j = page[s];
      if (j > this.hot) {
        const id = j - this.hot - 1;
        this.fns[id] = UNUSED;
        this.free.push(id);
      }
    }
  }

  /** The `exec` import: one instruction through the interpreter's exec functions, state synced as it expects. */
  private readonly exec = (op: number, insn: number, raw: number, off: number, retired: number): void => {
    const h = this.hart as Hart;
    const lo = (this.pageLo + off) | 0;
    h.pcLo = lo;
    h.pcHi = this.pcHi;
    const nLo = (lo + ((raw & 3) === 3 ? 4 : 2)) | 0;
    h.npcLo = nLo;
    h.npcHi = nLo >>> 0 < lo >>> 0 ? (this.pcHi + 1) | 0 : this.pcHi;
    h.icount = this.icount0 + retired;
    h.insnBits = raw;
    execOp(h, op, insn);
  };
}

const UNUSED: BlockFn = () => 0;

import { immediate } from "../../isa/imm.ts";
import { MSTATUS_FS } from "../cpu/constants.ts";
import { S_FCSR, S_MSTATUS } from "../cpu/csr-slots.ts";
import { OP_NOP } from "../memory/code-cache.ts";
import {
  HART_CHAINS,
  HART_CSR,
  HART_EXIT_KIND,
  HART_PC,
  HART_X,
  JC_ENTRY_BYTES,
  JC_LINEAR,
  JC_SET_BYTES,
  JC_SETS,
  JC_SHIFT,
} from "../memory/layout.ts";
import { TLB_FETCH, TLB_FOLD, TLB_MASK } from "../mmu/tlb.ts";
import {
  FP_DYN,
  forwardTargets,
  fpInline,
  type Insn,
  isFp,
  isFpCsrRead,
  rdOf,
  regsOf,
  rs1Of,
  rs2Of,
  targetOf,
} from "./plan.ts";
import { EXIT_KIND_END, EXIT_KIND_LOOP_BUDGET, EXIT_KIND_NONE } from "./profile.ts";
import { Code, F64, I32, I64, Op, VOID } from "./wasm.ts";

/**
 * The block emitter's frame (design 2.4): a planned block (plan.ts) becomes
 * one WebAssembly function body. This file owns what every block has —
 * parameters, locals, prologue and epilogue, guest registers cached in
 * locals and written back, exits and chaining — and hands each instruction
 * to its extension's emitter (emit-*.ts, gathered by op in emitters.ts).
 *
 * The function's signature is BLOCK_PARAMS -> i32:
 *   (hart, tlbSet, budget, pcLo, pcHi, acc)
 *   hart    linear address of the hart's register block (layout.ts)
 *   tlbSet  linear address of the current privilege's TLB set (mmu/tlb.ts)
 *   budget  instructions it may retire; it retires none when the block
 *           does not fit (the interpreter then steps)
 *   pc      the virtual pc of the block's first instruction: the same
 *           physical code may be mapped at several virtual addresses
 *   acc     instructions retired by the blocks that chained to this one
 * It stores the next pc in the hart's pc slot and returns acc plus the
 * instructions it retired, unless it chains: when the next pc has an entry
 * in the hart's jump cache (virtual pc and TLB set -> table index, filled
 * by the interpreter, emptied on TLB flushes and code drops), it tail-calls
 * that block with what is left of the budget, so hot paths run from block
 * to block without returning to JavaScript (design 2.4).
 *
 * A region (region.ts) is several blocks of one page in one such function,
 * entered at its first, so registers stay in locals from block to block.
 * Its blocks are in reverse postorder: a move to a later block is a branch
 * to the end of the wasm block just before that block's code; a back edge
 * sets the local `which` and goes round a loop around a br_table on it.
 * Each move first checks that a pass of the target block fits the budget
 * (else the block leaves with pc at the target).
 *
 * Guest registers the block uses live in wasm locals and are written back
 * on the way out. Anything irregular (a TLB miss, a misaligned access,
 * MMIO, a store to a page holding code) leaves the block *before* that
 * instruction, with everything up to it retired, and the interpreter
 * carries on from there with its slow paths: the JIT never raises an
 * exception itself, so traps, MMIO and code invalidation stay in one place.
 *
 * Instructions without an inline translation that cannot jump, stop the
 * slice or write memory (FP arithmetic, mulh, rev8, ...) call the host
 * helper `exec(op, insn, raw, pcLo, pcHi, retired)`, which runs them through
 * the interpreter's exec functions. Registers are written back first, so a
 * trap in the helper unwinds with memory holding the architectural state.
 */
export const BLOCK_PARAMS = [I32, I32, I32, I32, I32, I32];
/** Host helpers a block may import, as (name, i32 parameter count). */
export const BLOCK_IMPORTS = [
  { name: "exec", params: 6 },
  { name: "csr", params: 6, results: 1 },
];
const H_EXEC = 0;
/** CSR writes: exec's, then whether the block must leave after the instruction (jit/csr-leave.ts). */
const H_CSR = 1;
/** Bits of a set's byte offset in a hart's jump cache. */
const JC_SET_MASK = (JC_SETS - 1) * JC_SET_BYTES;
const JC_SET_LOG2 = Math.log2(JC_SET_BYTES);
const FCSR = HART_CSR + 8 * S_FCSR;
const MSTATUS = HART_CSR + 8 * S_MSTATUS;
/** A bit of BlockEmitter.fpFlags above fflags': an f register was written. */
const FP_WRITTEN = 0x100;

/** The block function's parameters, by index. */
export const P_HART = 0;
export const P_TLB = 1;
const P_BUDGET = 2;
const P_PCLO = 3;
const P_PCHI = 4;
const P_ACC = 5;

/** Scratch f64 locals for inline FP (emit-fp*.ts). */
export const FP_SCRATCH = 8;
/** Scratch i64 locals (BlockEmitter.i64Scratch). */
export const I64_SCRATCH = 4;

/** Hands out a function's locals after its parameters, each group typed, in declaration order. */
export class Locals {
  private readonly groups: [number, number][] = [];
  private next: number;

  constructor(params: number) {
    this.next = params;
  }

  /** `count` new locals of type `ty`: the index of the first. */
  add(ty: number, count = 1): number {
    const first = this.next;
    this.groups.push([count, ty]);
    this.next += count;
    return first;
  }

  /** The locals section's (count, type) groups. */
  get declared(): [number, number][] {
    return this.groups;
  }
}

/** Emits the code of one op at the emitter's current instruction. */
export type OpEmit = (e: BlockEmitter) => void;
/** Emitters by op number, as an extension file exports them. */
export type OpEmitters = Readonly<Record<number, OpEmit>>;

/** The same emitter for each of `ops`. */
export function forOps(ops: readonly number[], emit: OpEmit): Record<number, OpEmit> {
  return Object.fromEntries(ops.map((op) => [op, emit]));
}

/** A block of a region (region.ts): its first instruction's byte offset and its instructions. */
export interface RegionBlock {
  start: number;
  insns: Insn[];
}

interface RegionFrame {
  blocks: readonly RegionBlock[];
  /** Block index by start offset. */
  at: Map<number, number>;
  /** i32 local: the block the dispatch loop runs next. */
  which: number;
}

/** A translated block: the wasm function's extra locals and body. */
export interface BlockCode {
  locals: [number, number][];
  body: Uint8Array;
  /** Conditional branches that jump inside the block instead of leaving it. */
  forwardEdges: number;
}

/**
 * Emits the function body for `insns` (from planBlock), whose first
 * instruction is at byte offset `start`; `emitters` by op (emitters.ts),
 * the exec helper for ops without one.
 */
export function emitBlock(
  insns: Insn[],
  start: number,
  emitters: readonly (OpEmit | undefined)[],
  profile = false,
): BlockCode {
  const e = new BlockEmitter(insns, start, profile);
  e.prologue();
  insns.forEach((ins, k) => {
    e.at(ins, k);
    if (ins.op !== OP_NOP) (emitters[ins.op] ?? helperOp)(e);
  });
  e.epilogue();
  return { locals: e.locals.declared, body: e.c.result(), forwardEdges: e.forwardEdges };
}

const helperOp: OpEmit = (e) => e.helper();

/** The state of one block's emission, and what extension emitters build on. */
export class BlockEmitter {
  readonly c = new Code();
  readonly locals = new Locals(BLOCK_PARAMS.length);
  /** i64: virtual base of the block's page. */
  readonly page = this.locals.add(I64);
  /** i32: instructions retired by earlier loop iterations (and skipped by forward edges). */
  readonly n = this.locals.add(I32);
  readonly exitPc = this.locals.add(I64);
  /** i32: instructions this block retired. */
  readonly exitN = this.locals.add(I32);
  /** i64: effective address. */
  readonly va = this.locals.add(I64);
  /** i32: TLB or jump-cache entry address. */
  readonly ent = this.locals.add(I32);
  /** i64 scratch. */
  readonly t = this.locals.add(I64);
  /** First of FP_SCRATCH f64 scratch locals (emit-fp.ts). */
  readonly fp0 = this.locals.add(F64, FP_SCRATCH);
  /**
   * i32, in blocks with FP ops: the fflags their inline code raised (bits
   * 0-4) and FP_WRITTEN, written to fcsr and mstatus when the block leaves
   * or calls the helper (flushFp), instead of at every instruction.
   */
  readonly fpFlags: number;
  /** First of I64_SCRATCH i64 scratch locals, allocated by the first i64Scratch() (-1: none yet). */
  private scratch64 = -1;
  /** Guest register -> its local (undefined: the block does not use it). */
  private readonly regs: number[] = [];
  /** The registers the block uses (reads or writes), in order of their locals. */
  private readonly cached: number[] = [];
  /** Those of them the prologue loads (entryRegs). */
  private readonly loaded: Set<number>;
  /**
   * Registers written since the hart last got their values, in order. They
   * are stored just before the next instruction that may leave the block
   * (an exit, a helper call, a move to another block): on the main path,
   * so that a register's local lives from its definition to that point and
   * to the block's reads of it, not to every later exit, and the exits and
   * the epilogue write nothing back (TurboFan's register allocation and
   * the merge at $exit in large regions).
   */
  private dirty: number[] = [];
  /** Registers the current instruction wrote (stored by its own exits). */
  private own: number[] = [];
  /** Byte offset in `c` where the current instruction's code begins (-1: none open). */
  private insnStart = -1;
  /** The current instruction may leave the block, call a helper or move to another block. */
  private leaves = false;
  private usesFp = false;
  /** Inline FP with rm = dyn: frm must be RNE. */
  private dynamicRm = false;
  private loops: boolean;
  /** For each instruction, the later instruction its conditional branch jumps to inside the block, else -1. */
  private forward: number[];
  /** Forward-edge targets not reached yet, innermost last. */
  private open: number[];
  forwardEdges: number;
  /** In a region (region.ts): its blocks, their starts' indexes, the i32 local "which block next". */
  private readonly region: RegionFrame | undefined;
  /** Dispatch blocks around the code being emitted (a region's later blocks). */
  private switchDepth = 0;
  /** In a region: the index of the block being emitted. */
  private blockIndex = 0;
  /** Ifs enclosing the code being emitted (for branch depths). */
  private ifs = 0;
  private endsWithJump = false;

  // The instruction being emitted and its fields.
  ins!: Insn;
  /** Its index in the block. */
  k = 0;
  rd = 0;
  rs1 = 0;
  rs2 = 0;
  /** Its immediate, in the format its operands give (isa/imm.ts immediate). */
  imm = 0;

  private insns: Insn[];
  /** Byte offset of the first instruction in the page (of the region's block being emitted). */
  start: number;

  /** With a profile (`--profile`): each exit stores its kind at HART_EXIT_KIND (jit/profile.ts). */
  private readonly profile: boolean;

  constructor(insns: Insn[], start: number, profile = false, region?: readonly RegionBlock[]) {
    this.insns = insns;
    this.start = start;
    this.profile = profile;
    for (const ins of insns) {
      const { reads, writes } = regsOf(ins);
      for (const r of [...reads, ...writes]) if (!this.cached.includes(r)) this.cached.push(r);
      if (isFp(ins.op) || isFpCsrRead(ins.op, ins.insn)) this.usesFp = true;
      if (fpInline(ins.op, (ins.insn >>> 12) & 7) === FP_DYN) this.dynamicRm = true;
    }
    this.fpFlags = this.usesFp ? this.locals.add(I32) : -1;
    const first = this.locals.add(I64, this.cached.length);
    this.cached.forEach((r, i) => {
      this.regs[r] = first + i;
    });
    this.loaded = entryRegs(region === undefined ? [insns] : region.map((b) => b.insns));
    this.loops = insns.some((ins) => targetOf(ins) === start);
    this.forward = forwardTargets(insns);
    // One wasm block per forward target, the farthest outermost, each ended just before its target.
    this.open = [...new Set(this.forward.filter((t) => t >= 0))].sort((a, b) => b - a);
    this.forwardEdges = this.forward.filter((t) => t >= 0).length;
    if (region !== undefined) {
      this.region = {
        blocks: region,
        at: new Map(region.map((b, i) => [b.start, i])),
        which: this.locals.add(I32),
      };
      this.loops = true; // the dispatch loop
      // The entry check wants block 0's length; beginBlock sets up each block's own state.
      this.insns = region[0].insns;
      this.forward = [];
      this.open = [];
      this.forwardEdges = 0;
    }
  }

  /** In a region: block i's instructions become the ones emitted (its forward edges, its start). */
  private useBlock(i: number): void {
    const b = (this.region as RegionFrame).blocks[i];
    this.insns = b.insns;
    this.start = b.start;
    this.endsWithJump = false;
    this.forward = forwardTargets(b.insns);
    this.open = [...new Set(this.forward.filter((t) => t >= 0))].sort((a, b) => b - a);
    this.forwardEdges += this.forward.filter((t) => t >= 0).length;
    this.switchDepth = this.region === undefined ? 0 : this.region.blocks.length - 1 - i;
    this.blockIndex = i;
  }

  /**
   * In a region, after the prologue: starts block i's code (ends the
   * dispatch block whose br_table label is i, opens its forward-target blocks).
   */
  beginBlock(i: number): void {
    this.endInsn();
    // Every way into a block start (the dispatch, moves from other blocks: backEdge) has stored all.
    this.dirty = [];
    this.useBlock(i);
    this.c.op(Op.end);
    for (let j = 0; j < this.open.length; j++) this.c.op(Op.block, VOID);
  }

  /** In a region, after block i's instructions: falls through to the next pc (a region block or an exit). */
  endBlock(): void {
    if (this.endsWithJump) return;
    const last = this.insns[this.insns.length - 1];
    const next = last.off + last.len;
    if (this.jumpInside(this.insns.length - 1, next)) return;
    this.pcConst(next);
    this.exitWith(this.insns.length, EXIT_KIND_END);
  }

  /**
   * A direct jump or taken branch from instruction k to byte offset
   * `target` of the page that stays in compiled code: the block's own
   * start (a loop), or in a region, any of its blocks' starts. Emits it and
   * says whether it did.
   */
  jumpInside(k: number, target: number): boolean {
    const region = this.region;
    if (region === undefined) {
      if (target !== this.start) return false;
      this.backEdge(k);
      return true;
    }
    const i = region.at.get(target);
    if (i === undefined) return false;
    this.backEdge(k, i);
    return true;
  }

  /** Entry checks, the page base, cached registers loaded, the exit/loop/forward-target (or dispatch) blocks opened. */
  prologue(): void {
    const c = this.c;
    // Not enough budget for one pass: retire nothing (whoever chained here stored pc).
    c.get(P_BUDGET).i32Const(this.insns.length).op(Op.i32LtS, Op.if, VOID).get(P_ACC).op(Op.return, Op.end);
    if (this.usesFp) {
      // mstatus.FS = Off: the interpreter raises the illegal-instruction trap.
      c.get(P_HART).mem(Op.i64Load, 3, MSTATUS).i64Const(MSTATUS_FS);
      c.op(Op.i64And, Op.i64Eqz, Op.if, VOID).get(P_ACC).op(Op.return, Op.end);
    }
    if (this.dynamicRm) {
      // Inline FP assumes round-to-nearest-even (emit-fp.ts); other modes run interpreted.
      c.get(P_HART).mem(Op.i32Load, 2, FCSR).i32Const(0xe0).op(Op.i32And);
      c.op(Op.if, VOID).get(P_ACC).op(Op.return, Op.end);
    }
    // page = (pcHi:pcLo) & ~0xfff
    c.get(P_PCHI).op(Op.i64ExtendI32U).i64Const(32).op(Op.i64Shl);
    c.get(P_PCLO).i32Const(~0xfff).op(Op.i32And, Op.i64ExtendI32U, Op.i64Or).set(this.page);
    for (const r of this.cached)
      if (this.loaded.has(r))
        c.get(P_HART)
          .mem(Op.i64Load, 3, HART_X + 8 * r)
          .set(this.regs[r]);
    c.op(Op.block, VOID); // $exit
    if (this.loops) c.op(Op.loop, VOID); // $top
    if (this.region !== undefined) {
      // Dispatch on `which`: block i's code follows the end of the dispatch block br_table's label i names.
      const m = this.region.blocks.length;
      for (let i = 0; i < m; i++) c.op(Op.block, VOID);
      c.get(this.region.which).op(Op.brTable).u32(m);
      for (let i = 0; i < m; i++) c.u32(i);
      c.u32(m - 1);
      return;
    }
    for (let i = 0; i < this.open.length; i++) c.op(Op.block, VOID);
  }

  /** Moves to instruction k: closes the forward-target blocks that end before it, decodes its fields. */
  at(ins: Insn, k: number): void {
    this.endInsn();
    const open = this.open;
    while (open.length > 0 && open[open.length - 1] === k) {
      this.c.op(Op.end);
      open.pop();
    }
    this.insnStart = this.c.length;
    if (ins.upper !== undefined) this.straddleCheck(ins.upper, ins.off, k);
    const insn = ins.insn;
    this.ins = ins;
    this.k = k;
    this.rd = rdOf(insn);
    this.rs1 = rs1Of(insn);
    this.rs2 = rs2Of(insn);
    this.imm = immediate(ins.op, insn);
  }

  /**
   * Before an instruction straddling the page's end (plan.ts Insn.upper),
   * whose upper half was read from the RAM page at linear `upper`: leaves
   * before it (k retired) unless the current TLB set's fetch bank maps the
   * next virtual page to that page. The block is cached by physical page,
   * and the next page's translation may change on its own (a remap, a
   * flush), so the interpreter, which fetches both halves and raises their
   * faults, runs it then.
   */
  private straddleCheck(upper: number, off: number, k: number): void {
    const c = this.c;
    const { va, ent } = this;
    // The entry's byte offset as emit-mem.ts probe() computes it (fetch bank: the set's first).
    c.get(this.page).i64Const(0x1000).op(Op.i64Add).tee(va);
    c.op(Op.i32WrapI64)
      .tee(ent)
      .i32Const(12 - 4)
      .op(Op.i32ShrU);
    c.get(ent)
      .i32Const(TLB_FOLD - 4)
      .op(Op.i32ShrU, Op.i32Xor)
      .i32Const(TLB_MASK << 4)
      .op(Op.i32And);
    c.get(P_TLB)
      .op(Op.i32Add)
      .tee(ent)
      .mem(Op.i64Load, 3, TLB_FETCH * 16)
      .get(va)
      .op(Op.i64Ne);
    c.get(ent)
      .mem(Op.i32Load, 2, TLB_FETCH * 16 + 8)
      .get(va)
      .op(Op.i32WrapI64, Op.i32Add);
    c.i32Const(upper | 0).op(Op.i32Ne, Op.i32Or);
    this.ifOpen();
    this.pcConst(off);
    this.exitWith(k);
    this.ifClose();
  }

  /** Falls out past the last instruction (unless it jumped), writes back, stores pc and chains. */
  epilogue(): void {
    const c = this.c;
    if (this.region === undefined && !this.endsWithJump) {
      const last = this.insns[this.insns.length - 1];
      this.pcConst(last.off + last.len);
      this.exitWith(this.insns.length, EXIT_KIND_END);
    }
    this.endInsn();
    if (this.loops) c.op(Op.end);
    c.op(Op.end); // $exit
    this.flushFp();
    c.get(P_HART).get(this.exitPc).mem(Op.i64Store, 3, HART_PC);
    this.chain();
  }

  /** The block's last instruction jumped: no fall-through exit. */
  jumped(): void {
    this.endsWithJump = true;
  }

  private topDepth(): number {
    return this.ifs + this.open.length + this.switchDepth;
  }

  private exitDepth(): number {
    return this.topDepth() + (this.loops ? 1 : 0);
  }

  /** Opens an `if` (condition on the stack) whose body may exit or branch; `type` is its result (VOID, I32...). */
  ifOpen(type: number = VOID): void {
    this.leaves = true;
    this.c.op(Op.if, type);
    this.ifs++;
  }

  ifClose(): void {
    this.ifs--;
    this.c.op(Op.end);
  }

  /** The first of I64_SCRATCH i64 scratch locals, for emitters that need more than `t`. */
  i64Scratch(): number {
    if (this.scratch64 < 0) this.scratch64 = this.locals.add(I64, I64_SCRATCH);
    return this.scratch64;
  }

  /** Pushes guest register r's value. */
  val(r: number): Code {
    return r === 0 ? this.c.i64Const(0) : this.c.get(this.regs[r]);
  }

  /** Pops the value into guest register rd (dropped for x0); the hart gets it later (`dirty`). */
  setRd(rd: number): void {
    if (rd === 0) {
      this.c.op(Op.drop);
      return;
    }
    this.c.set(this.regs[rd]);
    if (!this.own.includes(rd)) this.own.push(rd);
  }

  /** Stores registers `regs` from their locals into the hart, in `code`. */
  private storeRegs(code: Code, regs: readonly number[]): void {
    for (const r of regs)
      code
        .get(P_HART)
        .get(this.regs[r])
        .mem(Op.i64Store, 3, HART_X + 8 * r);
  }

  /**
   * Ends the current instruction: if it may leave, the registers dirty
   * before it are stored at its start (inserted there now that that is
   * known; its own writes went out with its exits), else its writes join
   * `dirty`. Forward edges only skip instructions, so `dirty` in emission
   * order holds every register a path may have written; a path that did
   * not write one stores its local's value, which the prologue loaded.
   */
  private endInsn(): void {
    if (this.insnStart < 0) return;
    if (this.leaves) {
      if (this.dirty.length > 0) {
        const stores = new Code();
        this.storeRegs(stores, this.dirty);
        this.c.insert(this.insnStart, stores.result());
      }
      this.dirty = this.own;
    } else for (const r of this.own) if (!this.dirty.includes(r)) this.dirty.push(r);
    this.own = [];
    this.leaves = false;
    this.insnStart = -1;
  }

  /** The current instruction leaves (or may): its writes so far go to the hart on this path. */
  private leaving(): void {
    this.leaves = true;
    this.storeRegs(this.c, this.own);
  }

  /** Pushes the virtual address of byte `off` of the block's page. */
  pcConst(off: number): Code {
    return this.c.get(this.page).i64Const(off).op(Op.i64Add);
  }

  /**
   * Leaves the block: exit pc is on the stack; `k` instructions of this
   * pass retired; `kind` what the profile calls this way out (EXIT_KIND_*).
   */
  exitWith(k: number, kind = EXIT_KIND_NONE): void {
    this.c.set(this.exitPc);
    this.leaving();
    this.c.get(this.n).i32Const(k).op(Op.i32Add).set(this.exitN);
    this.exitKind(kind);
    this.c.op(Op.br).u32(this.exitDepth());
  }

  /** With a profile, stores the kind of the exit being taken for the interpreter to classify. */
  private exitKind(kind: number): void {
    if (this.profile) this.c.get(P_HART).i32Const(kind).mem(Op.i32Store, 2, HART_EXIT_KIND);
  }

  /**
   * Jumps back to the block's first instruction from the branch at index k
   * (k + 1 instructions retired this pass), if a whole further pass (at most
   * L) fits in the budget; otherwise leaves with pc at the first instruction.
   * In a region: to the start of its block `to` (a pass of that block must
   * fit): a later block's code is a branch away (the end of the dispatch
   * block just before it), an earlier one's through the dispatch loop.
   */
  private backEdge(k: number, to?: number): void {
    const c = this.c;
    const region = this.region as RegionFrame;
    const target = to === undefined ? this.insns : region.blocks[to].insns;
    this.leaving();
    c.get(this.n)
      .i32Const(k + 1)
      .op(Op.i32Add)
      .tee(this.n)
      .i32Const(target.length)
      .op(Op.i32Add)
      .get(P_BUDGET)
      .op(Op.i32LeS);
    if (to === undefined) c.op(Op.brIf).u32(this.topDepth());
    else if (to > this.blockIndex)
      c.op(Op.brIf).u32(this.ifs + this.open.length + (to - this.blockIndex - 1));
    else {
      c.op(Op.if, VOID)
        .i32Const(to)
        .set((this.region as RegionFrame).which);
      c.op(Op.br).u32(this.topDepth() + 1);
      c.op(Op.end);
    }
    this.pcConst(target[0].off);
    c.set(this.exitPc).get(this.n).set(this.exitN);
    this.exitKind(EXIT_KIND_LOOP_BUDGET);
    c.op(Op.br).u32(this.exitDepth());
  }

  /** The instruction a branch at index k jumps to inside the block (forward), else -1. */
  forwardTarget(k: number): number {
    return this.forward[k];
  }

  /**
   * Jumps from the branch at index k to instruction t of this pass: the
   * t - k - 1 instructions between are not retired, which `n` absorbs
   * (exits count n + their index).
   */
  forwardEdge(k: number, t: number): void {
    this.leaves = true;
    this.c
      .get(this.n)
      .i32Const(k + 1 - t)
      .op(Op.i32Add)
      .set(this.n);
    this.c.op(Op.br).u32(this.ifs + (this.open.length - 1 - this.open.indexOf(t)));
  }

  /** Notes that FP state was written: mstatus.FS becomes Dirty when the block leaves (flushFp). */
  fpDirty(): void {
    this.raiseFp(() => this.c.i32Const(FP_WRITTEN));
  }

  /** Pushes fcsr (an i32) as the interpreter would read it now: with the block's pending fflags. */
  fcsrNow(): Code {
    return this.c
      .get(P_HART)
      .mem(Op.i32Load, 2, FCSR)
      .get(this.fpFlags)
      .i32Const(0x1f)
      .op(Op.i32And, Op.i32Or);
  }

  /** ORs the i32 that `emitBits` pushes (fflags bits, FP_WRITTEN) into the block's pending FP flags. */
  raiseFp(emitBits: () => void): void {
    this.c.get(this.fpFlags);
    emitBits();
    this.c.op(Op.i32Or).set(this.fpFlags);
  }

  /**
   * Pending FP flags into the hart, as the interpreter's accrue() and
   * fpDirty() would have done: fflags |= the flags raised, and FS = Dirty
   * (with SD) if any were raised or an f register was written.
   */
  private flushFp(reset = false): void {
    if (this.fpFlags < 0) return;
    const c = this.c;
    c.get(this.fpFlags).op(Op.if, VOID);
    c.get(P_HART).get(P_HART).mem(Op.i32Load, 2, FCSR).get(this.fpFlags).i32Const(0x1f);
    c.op(Op.i32And, Op.i32Or).mem(Op.i32Store, 2, FCSR);
    c.get(P_HART).get(P_HART).mem(Op.i64Load, 3, MSTATUS);
    c.i64Const(BigInt(MSTATUS_FS) | (1n << 63n))
      .op(Op.i64Or)
      .mem(Op.i64Store, 3, MSTATUS);
    if (reset) c.i32Const(0).set(this.fpFlags);
    c.op(Op.end);
  }

  /** Runs the current instruction through the host's exec helper: registers through memory, then rd reloaded. */
  helper(fn = H_EXEC): void {
    const c = this.c;
    const { op, insn, raw, off } = this.ins;
    this.leaving();
    this.flushFp(true);
    c.i32Const(op).i32Const(insn).i32Const(raw);
    c.get(P_PCLO).i32Const(~0xfff).op(Op.i32And).i32Const(off).op(Op.i32Add).get(P_PCHI);
    c.get(P_ACC).get(this.n).op(Op.i32Add).i32Const(this.k).op(Op.i32Add).op(Op.call).u32(fn);
    const rd = this.rd;
    if (rd !== 0 && this.regs[rd])
      c.get(P_HART)
        .mem(Op.i64Load, 3, HART_X + 8 * rd)
        .set(this.regs[rd]);
  }

  /**
   * A CSR write through the `csr` helper; when it answers "leave" (an
   * interrupt may be taken, translation or FP state changed), the block
   * leaves after the instruction with a zero budget, so that it returns to
   * the interpreter instead of chaining.
   */
  csrWrite(): void {
    this.helper(H_CSR); // its answer stays on the stack below rd's reload
    this.ifOpen();
    this.c.i32Const(0).set(P_BUDGET);
    this.pcConst(this.ins.off + this.ins.len);
    this.exitWith(this.k + 1);
    this.ifClose();
  }

  /**
   * The way out: with progress made (a block that retired nothing must not
   * call itself again), look the next pc up in the hart's jump cache
   * (layout.ts: at JC_LINEAR + (hart << JC_SHIFT), set jcSetOffset, two ways
   * of 16 bytes: pc i64, TLB set i32, table index i32) and tail-call the
   * block found, passing on the budget left and the count retired;
   * otherwise return the count. Way 0's pc is compared first, way 1's only
   * when it differs (link() never puts one pc in both ways); the way that
   * holds the pc gives its TLB set and table index as one i64 (set low,
   * index high), so each way's words are loaded once. The choice of way is
   * a branch, not arithmetic, so that the CPU predicts it and loads from the
   * way it guessed at once instead of waiting for way 0's pc (computed, a
   * chain-bound loop took 30% more CPU time than with one way).
   */
  private chain(): void {
    const c = this.c;
    const { exitN, exitPc, ent, t } = this;
    c.get(exitN).op(Op.i32Eqz, Op.if, VOID).get(P_ACC).op(Op.return, Op.end);
    // set = JC_LINEAR + (hart << JC_SHIFT) + jcSetOffset(pc)
    c.get(exitPc)
      .op(Op.i32WrapI64)
      .tee(ent)
      .i32Const(JC_SET_LOG2 - 1)
      .op(Op.i32Shl);
    c.get(ent)
      .i32Const(12 - JC_SET_LOG2)
      .op(Op.i32ShrU, Op.i32Xor)
      .i32Const(JC_SET_MASK)
      .op(Op.i32And);
    c.get(P_HART).i32Const(JC_SHIFT).op(Op.i32Shl, Op.i32Add).tee(ent);
    c.mem(Op.i64Load, 3, JC_LINEAR).get(exitPc).op(Op.i64Eq, Op.if, I64);
    c.get(ent).mem(Op.i64Load, 3, JC_LINEAR + 8);
    c.op(Op.else);
    c.get(ent)
      .mem(Op.i64Load, 3, JC_LINEAR + JC_ENTRY_BYTES)
      .get(exitPc)
      .op(Op.i64Ne, Op.if, VOID);
    c.get(P_ACC).get(exitN).op(Op.i32Add, Op.return, Op.end); // in neither way
    c.get(ent).mem(Op.i64Load, 3, JC_LINEAR + JC_ENTRY_BYTES + 8);
    c.op(Op.end);
    c.tee(t).op(Op.i32WrapI64).get(P_TLB).op(Op.i32Eq, Op.if, VOID);
    if (this.profile)
      c.get(P_HART)
        .get(P_HART)
        .mem(Op.i32Load, 2, HART_CHAINS)
        .i32Const(1)
        .op(Op.i32Add)
        .mem(Op.i32Store, 2, HART_CHAINS);
    c.get(P_HART).get(P_TLB).get(P_BUDGET).get(exitN).op(Op.i32Sub);
    c.get(exitPc).op(Op.i32WrapI64).get(exitPc).i64Const(32).op(Op.i64ShrU, Op.i32WrapI64);
    c.get(P_ACC).get(exitN).op(Op.i32Add);
    c.get(t).i64Const(32).op(Op.i64ShrU, Op.i32WrapI64);
    c.op(Op.returnCallIndirect).u32(0).u32(0);
    c.op(Op.end);
    c.get(P_ACC).get(exitN).op(Op.i32Add);
  }
}

/**
 * The registers whose value at entry the code of `blocks` (a block, or a
 * region's blocks) may use, so the prologue loads them: those read where
 * the block has not surely written them since its start (any block of a
 * region may be entered from the others), and those written where a
 * forward edge may jump over the write (a later store of the register,
 * BlockEmitter.endInsn, then stores the local's earlier value). A forward
 * edge's target ends what is surely written, conservatively.
 */
export function entryRegs(blocks: readonly (readonly Insn[])[]): Set<number> {
  const out = new Set<number>();
  for (const insns of blocks) {
    const forward = forwardTargets([...insns]);
    const targets = new Set(forward.filter((t) => t >= 0));
    const skippable = insns.map((_, j) => forward.some((t, b) => b < j && j < t));
    const sure = new Set<number>();
    insns.forEach((ins, k) => {
      if (targets.has(k)) sure.clear();
      const { reads, writes } = regsOf(ins);
      for (const r of reads) if (!sure.has(r)) out.add(r);
      for (const r of writes) {
        if (skippable[k]) out.add(r);
        sure.add(r);
      }
    });
  }
  return out;
}

/**
 * The byte offset of pc's set in a hart's jump cache: its halfword index
 * (pc >> 1) XOR its page number (pc >> 12), so that the same offset in
 * different pages does not alias, times JC_SET_BYTES (32). For an even pc
 * (every jump target) that is ((pc << 4) ^ (pc >> 7)) & JC_SET_MASK, one
 * shift fewer, as chain() computes it.
 */
export function jcSetOffset(pcLo: number): number {
  return (((pcLo >>> 1) ^ (pcLo >>> 12)) & (JC_SETS - 1)) * JC_SET_BYTES;
}

/** Way w's entry of pc's set, as a byte offset in a hart's jump cache. */
export function jcEntryOffset(pcLo: number, way: number): number {
  return jcSetOffset(pcLo) + way * JC_ENTRY_BYTES;
}

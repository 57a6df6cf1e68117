import { INSTRUCTIONS } from "../../isa/table.ts";
import { MSTATUS_FS } from "../cpu/constants.ts";
import { S_FCSR, S_MSTATUS } from "../cpu/csr-slots.ts";
import { OP_MASK, OP_NOP, OPW_COMPRESSED, SLOT_WORDS } from "../memory/code-cache.ts";
import { HART_CSR, HART_F, HART_PC, HART_X, JC_LINEAR, JC_SHIFT, JC_STRIDE } from "../memory/layout.ts";
import { TLB_FOLD, TLB_LOAD, TLB_MASK, TLB_STORE } from "../mmu/tlb.ts";
import { emitFp, FP_LOCALS, fpInline } from "./fp.ts";
import { Code, F64, I32, I64, Op, VOID } from "./wasm.ts";

/**
 * Translation of one guest block to a WebAssembly function body (design
 * 2.4). A block is straight-line code inside one physical page, taken from
 * the decoded-instruction page (memory/code-cache.ts), so both tiers run
 * the same decode. It may hold conditional branches (taken ones leave the
 * block, or loop back when they target its first instruction) and ends
 * after a jump, before an instruction it cannot translate, or at the page's
 * end.
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
 * Guest registers the block uses live in wasm locals and are written back
 * on the way out. Anything irregular (a TLB miss, a
 * misaligned access, MMIO, a store to a page holding code) leaves the block
 * *before* that instruction, with everything up to it retired, and the
 * interpreter carries on from there with its slow paths: the JIT never
 * raises an exception itself, so traps, MMIO and code invalidation stay in
 * one place.
 *
 * Instructions without an inline translation that cannot jump, stop the
 * slice or write memory (FP arithmetic, mulh, rev8, ...) call the host
 * helper `exec(op, insn, raw, pcLo, pcHi, retired)`, which runs them through
 * the interpreter's exec functions. Registers are written back first, so a
 * trap in the helper unwinds with memory holding the architectural state.
 *
 * Op numbers are literals tagged with their instruction's name, kept
 * current by `npm run gen:isa`, as in the interpreter.
 */
export const BLOCK_PARAMS = [I32, I32, I32, I32, I32, I32];
/** Longest block, in instructions. */
export const MAX_BLOCK = 64;
/** Host helpers a block may import, as (name, i32 parameter count). */
export const BLOCK_IMPORTS = [{ name: "exec", params: 6 }];
/** Entries in a hart's jump cache (JC_STRIDE / 16 bytes). */
export const JC_ENTRIES = JC_STRIDE / 16;
const H_EXEC = 0;

const P_HART = 0;
const P_TLB = 1;
const P_BUDGET = 2;
const P_PCLO = 3;
const P_PCHI = 4;
const P_ACC = 5;
const L_PAGE = 6; // i64: virtual base of the block's page
const L_N = 7; // i32: instructions retired by earlier loop iterations
const L_EXITPC = 8; // i64
const L_EXITN = 9; // i32: instructions this block retired
const L_VA = 10; // i64: effective address
const L_ENT = 11; // i32: TLB or jump-cache entry address
const L_T = 12; // i64 scratch
const L_F0 = 13; // FP_LOCALS f64 scratch locals for inline FP (fp.ts)
const L_REG0 = L_F0 + FP_LOCALS; // i64 locals for guest registers start here

/** One instruction of a block. */
interface Insn {
  /** Byte offset in the page. */
  off: number;
  op: number;
  insn: number;
  raw: number;
  len: number;
}

/** How a block treats an op. */
const Kind = { stop: 0, inline: 1, helper: 2, end: 3 } as const;

/** flw, fsw, fld, fsd: translated inline, their data through the f registers in memory. */
const isFpMem = (op: number) =>
  op === 139 /* flw */ || op === 140 /* fsw */ || op === 169 /* fld */ || op === 170 /* fsd */;

/** jal's offset (J-type immediate). */
const jalImm = (insn: number) =>
  ((insn >> 31) << 20) | (insn & 0xff000) | (((insn >>> 20) & 1) << 11) | (((insn >>> 21) & 0x3ff) << 1);

/** A branch's offset (B-type immediate). */
const branchImm = (insn: number) =>
  ((insn >> 31) << 12) |
  (((insn >>> 7) & 1) << 11) |
  (((insn >>> 25) & 0x3f) << 5) |
  (((insn >>> 8) & 0xf) << 1);

function kindOf(op: number): number {
  if (op === OP_NOP) return Kind.inline;
  if (op === 3 /* jal */ || op === 4 /* jalr */) return Kind.end;
  if (op >= 1 /* lui */ && op <= 49 /* sraw */) return Kind.inline;
  if (op >= 65 /* mulh */ && op <= 67 /* mulhu */) return Kind.helper;
  if (op >= 64 /* mul */ && op <= 76 /* remuw */) return Kind.inline;
  if (op === 129 /* orc.b */ || op === 130 /* rev8 */) return Kind.helper;
  if (op >= 99 /* add.uw */ && op <= 138 /* bseti */) return Kind.inline;
  if (isFpMem(op)) return Kind.inline;
  if (op >= 141 /* fmadd.s */ && op <= 200 /* fmv.d.x */) return Kind.helper;
  return Kind.stop;
}

/** The instructions of the block starting at byte offset `start` of a decoded page; empty when none can run. */
export function planBlock(dec: Int32Array, start: number): Insn[] {
  const out: Insn[] = [];
  let off = start;
  while (off < 4096 && out.length < MAX_BLOCK) {
    const s = (off >> 1) * SLOT_WORDS;
    const opw = dec[s + 1];
    if (opw === 0) break; // not decoded yet (or a page-straddling instruction)
    const op = opw & OP_MASK;
    const kind = kindOf(op);
    if (kind === Kind.stop) break;
    const len = opw & OPW_COMPRESSED ? 2 : 4;
    out.push({ off, op, insn: dec[s], raw: dec[s + 2], len });
    off += len;
    if (kind === Kind.end) break;
  }
  return out;
}

const rdOf = (i: number) => (i >>> 7) & 31;
const rs1Of = (i: number) => (i >>> 15) & 31;
const rs2Of = (i: number) => (i >>> 20) & 31;

/**
 * Per op, from the instruction table's operands: bit 0 reads rs1, bit 1
 * reads rs2, bit 2 writes rd (integer registers). In the other formats
 * those fields are immediate bits or function codes: "reading" them would
 * load a register for nothing on every block entry.
 */
const REG_USE = (() => {
  const u = new Uint8Array(INSTRUCTIONS.length + 1);
  INSTRUCTIONS.forEach(([, , , , operands], i) => {
    const names = operands.split(/[,()]/);
    u[i + 1] =
      (names.includes("rs1") ? 1 : 0) | (names.includes("rs2") ? 2 : 0) | (names.includes("rd") ? 4 : 0);
  });
  return u;
})();

/** Integer registers an instruction reads and writes (x0 excluded). */
export function regsOf(ins: { op: number; insn: number }): { reads: number[]; writes: number[] } {
  const { op, insn } = ins;
  if (op === OP_NOP || kindOf(op) === Kind.helper) return { reads: [], writes: [] }; // helpers: through memory
  const use = REG_USE[op];
  const reads: number[] = [];
  const rs1 = rs1Of(insn);
  const rs2 = rs2Of(insn);
  const rd = rdOf(insn);
  if (use & 1 && rs1 !== 0) reads.push(rs1);
  if (use & 2 && rs2 !== 0) reads.push(rs2);
  return { reads, writes: use & 4 && rd !== 0 ? [rd] : [] };
}

/** A translated block: the wasm function's extra locals and body. */
export interface BlockCode {
  locals: [number, number][];
  body: Uint8Array;
  /** Conditional branches that jump inside the block instead of leaving it. */
  forwardEdges: number;
}

/** Emits the function body for `insns` (from planBlock), whose first instruction is at byte offset `start`. */
export function emitBlock(insns: Insn[], start: number): BlockCode {
  const regs: number[] = []; // guest register -> local index (0 = not cached)
  const written = new Set<number>();
  const cached: number[] = [];
  let usesFp = false;
  let dynamicRm = false; // inline FP with rm = dyn: frm must be RNE
  for (const ins of insns) {
    const { reads, writes } = regsOf(ins);
    for (const r of [...reads, ...writes]) {
      if (!regs[r]) {
        regs[r] = L_REG0 + cached.length;
        cached.push(r);
      }
    }
    for (const r of writes) written.add(r);
    if (isFpMem(ins.op)) usesFp = true;
    if (fpInline(ins.op, (ins.insn >>> 12) & 7)) {
      usesFp = true;
      if (((ins.insn >>> 12) & 7) === 7) dynamicRm = true;
    }
  }
  const L = insns.length;
  const c = new Code();
  // Not enough budget for one pass: retire nothing (whoever chained here stored pc).
  c.get(P_BUDGET).i32Const(L).op(Op.i32LtS, Op.if, VOID).get(P_ACC).op(Op.return, Op.end);
  if (usesFp) {
    // mstatus.FS = Off: the interpreter raises the illegal-instruction trap.
    c.get(P_HART)
      .mem(Op.i64Load, 3, HART_CSR + 8 * S_MSTATUS)
      .i64Const(MSTATUS_FS);
    c.op(Op.i64And, Op.i64Eqz, Op.if, VOID).get(P_ACC).op(Op.return, Op.end);
  }
  if (dynamicRm) {
    // Inline FP assumes round-to-nearest-even (fp.ts); other modes run interpreted.
    c.get(P_HART)
      .mem(Op.i32Load, 2, HART_CSR + 8 * S_FCSR)
      .i32Const(0xe0)
      .op(Op.i32And);
    c.op(Op.if, VOID).get(P_ACC).op(Op.return, Op.end);
  }
  // page = (pcHi:pcLo) & ~0xfff
  c.get(P_PCHI).op(Op.i64ExtendI32U).i64Const(32).op(Op.i64Shl);
  c.get(P_PCLO).i32Const(~0xfff).op(Op.i32And, Op.i64ExtendI32U, Op.i64Or).set(L_PAGE);
  for (const r of cached)
    c.get(P_HART)
      .mem(Op.i64Load, 3, HART_X + 8 * r)
      .set(regs[r]);

  const loops = insns.some((ins) => targetOf(ins) === start);
  c.op(Op.block, VOID);
  if (loops) c.op(Op.loop, VOID);
  // A conditional branch to a later instruction of the block jumps there instead of leaving:
  // one wasm block per such target, opened here, the farthest outermost, each ended just
  // before its target instruction. `open` holds the targets not reached yet, innermost last.
  const forward = forwardTargets(insns);
  const open = [...new Set(forward.filter((t) => t >= 0))].sort((a, b) => b - a);
  for (let i = 0; i < open.length; i++) c.op(Op.block, VOID);
  // Branch depths from the code being emitted: `ifs` enclosing ifs, then the open target blocks,
  // then $top (when looping) and $exit.
  let ifs = 0;
  const topDepth = () => ifs + open.length;
  const exitDepth = () => ifs + open.length + (loops ? 1 : 0);

  const val = (r: number) => (r === 0 ? c.i64Const(0) : c.get(regs[r]));
  const setRd = (rd: number) => {
    if (rd === 0) c.op(Op.drop);
    else c.set(regs[rd]);
  };
  /** Leaves the block: exit pc is on the stack; `k` instructions of this pass retired. */
  const exitWith = (k: number) => {
    c.set(L_EXITPC).get(L_N).i32Const(k).op(Op.i32Add).set(L_EXITN);
    c.op(Op.br).u32(exitDepth());
  };
  const pcConst = (off: number) => c.get(L_PAGE).i64Const(off).op(Op.i64Add);
  /**
   * Jumps back to the block's first instruction from the branch at index k
   * (k + 1 instructions retired this pass), if a whole further pass (at most
   * L) fits in the budget; otherwise leaves with pc at the first instruction.
   */
  const backEdge = (k: number) => {
    c.get(L_N)
      .i32Const(k + 1)
      .op(Op.i32Add)
      .tee(L_N)
      .i32Const(L)
      .op(Op.i32Add)
      .get(P_BUDGET)
      .op(Op.i32LeS);
    c.op(Op.brIf).u32(topDepth());
    pcConst(start);
    c.set(L_EXITPC).get(L_N).set(L_EXITN).op(Op.br).u32(exitDepth());
  };
  /**
   * Jumps from the branch at index k to instruction t of this pass: the
   * t - k - 1 instructions between are not retired, which L_N absorbs
   * (exits count L_N + their index).
   */
  const forwardEdge = (k: number, t: number) => {
    c.get(L_N)
      .i32Const(k + 1 - t)
      .op(Op.i32Add)
      .set(L_N);
    c.op(Op.br).u32(ifs + (open.length - 1 - open.indexOf(t)));
  };
  /** The TLB probe of a `size`-byte access at the address in L_VA; leaves the host address on the stack. */
  const probe = (bank: number, size: number, k: number, off: number) => {
    const bankOff = bank * 16;
    // index = (page ^ page >>> TLB_BITS) & TLB_MASK (mmu/tlb.ts tlbIndex), page = va >>> 12
    c.get(L_VA)
      .i64Const(12)
      .op(Op.i64ShrU, Op.i32WrapI64)
      .tee(L_ENT)
      .get(L_ENT)
      .i32Const(TLB_FOLD - 12)
      .op(Op.i32ShrU, Op.i32Xor)
      .i32Const(TLB_MASK)
      .op(Op.i32And)
      .i32Const(4) // 16-byte entries
      .op(Op.i32Shl);
    c.get(P_TLB).op(Op.i32Add).tee(L_ENT).mem(Op.i64Load, 3, bankOff);
    // A misaligned address keeps its low bits and so matches no tag.
    c.get(L_VA)
      .i64Const(~0xfff | (size - 1))
      .op(Op.i64And, Op.i64Ne, Op.if, VOID);
    ifs++;
    pcConst(off);
    exitWith(k);
    ifs--;
    c.op(Op.end);
    c.get(L_ENT)
      .mem(Op.i32Load, 2, bankOff + 8)
      .get(L_VA)
      .op(Op.i32WrapI64)
      .i32Const(0xfff);
    c.op(Op.i32And, Op.i32Add);
  };
  const address = (insn: number, imm: number) => {
    val(rs1Of(insn)).i64Const(imm).op(Op.i64Add).set(L_VA);
  };
  const fpDirty = () => {
    c.get(P_HART)
      .get(P_HART)
      .mem(Op.i64Load, 3, HART_CSR + 8 * S_MSTATUS);
    c.i64Const(BigInt(MSTATUS_FS) | (1n << 63n))
      .op(Op.i64Or)
      .mem(Op.i64Store, 3, HART_CSR + 8 * S_MSTATUS);
  };
  const flushWritten = () => {
    for (const r of written)
      c.get(P_HART)
        .get(regs[r])
        .mem(Op.i64Store, 3, HART_X + 8 * r);
  };

  let endsWithJump = false;
  insns.forEach((ins, k) => {
    while (open.length > 0 && open[open.length - 1] === k) {
      c.op(Op.end);
      open.pop();
    }
    const { op, insn, off, len } = ins;
    const rd = rdOf(insn);
    const rs1 = rs1Of(insn);
    const rs2 = rs2Of(insn);
    const immI = insn >> 20;
    const immS = ((insn >> 25) << 5) | ((insn >>> 7) & 31);
    const shamt = (insn >>> 20) & 63;
    const bin = (wasmOp: number) => {
      val(rs1);
      val(rs2);
      c.op(wasmOp);
      setRd(rd);
    };
    const binImm = (wasmOp: number, imm: number | bigint) => {
      val(rs1);
      c.i64Const(imm).op(wasmOp);
      setRd(rd);
    };
    /** A 32-bit op on the low words of rs1 and rs2 (or an immediate), sign-extended into rd. */
    const word = (wasmOp: number, imm?: number) => {
      val(rs1).op(Op.i32WrapI64);
      if (imm === undefined) val(rs2).op(Op.i32WrapI64);
      else c.i32Const(imm);
      c.op(wasmOp, Op.i64ExtendI32S);
      setRd(rd);
    };
    const zext32 = (r: number) => val(r).i64Const(0xffffffff).op(Op.i64And);
    switch (op) {
      case OP_NOP:
        break;
      case 1 /* lui */:
        c.i64Const(insn & 0xfffff000);
        setRd(rd);
        break;
      case 2 /* auipc */:
        pcConst(off + (insn & 0xfffff000));
        setRd(rd);
        break;
      case 3 /* jal */:
        {
          const imm = jalImm(insn);
          if (rd !== 0) {
            pcConst(off + len);
            c.set(regs[rd]);
          }
          if (off + imm === start) backEdge(k);
          else {
            pcConst(off + imm);
            exitWith(k + 1);
          }
          endsWithJump = true;
          break;
        }
      case 4 /* jalr */:
        val(rs1).i64Const(immI).op(Op.i64Add).i64Const(-2).op(Op.i64And).set(L_T);
        if (rd !== 0) {
          pcConst(off + len);
          c.set(regs[rd]);
        }
        c.get(L_T);
        exitWith(k + 1);
        endsWithJump = true;
        break;
      case 5 /* beq */:
      case 6 /* bne */:
      case 7 /* blt */:
      case 8 /* bge */:
      case 9 /* bltu */:
      case 10 /* bgeu */:
        {
          const imm = branchImm(insn);
          val(rs1);
          val(rs2);
          c.op([Op.i64Eq, Op.i64Ne, 0, 0, Op.i64LtS, Op.i64GeS, Op.i64LtU, Op.i64GeU][(insn >>> 12) & 7]);
          c.op(Op.if, VOID);
          ifs++;
          if (off + imm === start) backEdge(k);
          else if (forward[k] >= 0) forwardEdge(k, forward[k]);
          else {
            pcConst(off + imm);
            exitWith(k + 1);
          }
          ifs--;
          c.op(Op.end);
          break;
        }
      case 11 /* lb */:
      case 12 /* lh */:
      case 13 /* lw */:
      case 14 /* ld */:
      case 15 /* lbu */:
      case 16 /* lhu */:
      case 17 /* lwu */:
        {
          const f3 = (insn >>> 12) & 7;
          address(insn, immI);
          probe(TLB_LOAD, 1 << (f3 & 3), k, off);
          const loads = [
            Op.i64Load8S,
            Op.i64Load16S,
            Op.i64Load32S,
            Op.i64Load,
            Op.i64Load8U,
            Op.i64Load16U,
            Op.i64Load32U,
          ];
          c.mem(loads[f3], 0, 0);
          setRd(rd);
          break;
        }
      case 18 /* sb */:
      case 19 /* sh */:
      case 20 /* sw */:
      case 21 /* sd */:
        {
          const f3 = (insn >>> 12) & 7;
          address(insn, immS);
          probe(TLB_STORE, 1 << f3, k, off);
          val(rs2);
          c.mem([Op.i64Store8, Op.i64Store16, Op.i64Store32, Op.i64Store][f3], 0, 0);
          break;
        }
      case 139 /* flw */:
      case 169 /* fld */:
        c.get(P_HART);
        address(insn, immI);
        probe(TLB_LOAD, op === 169 /* fld */ ? 8 : 4, k, off);
        if (op === 169 /* fld */) c.mem(Op.i64Load, 0, 0);
        else c.mem(Op.i64Load32U, 0, 0).i64Const(-0x100000000n).op(Op.i64Or); // NaN-boxed
        c.mem(Op.i64Store, 3, HART_F + 8 * rd);
        fpDirty();
        break;
      case 140 /* fsw */:
      case 170 /* fsd */:
        address(insn, immS);
        probe(TLB_STORE, op === 170 /* fsd */ ? 8 : 4, k, off);
        c.get(P_HART).mem(Op.i64Load, 3, HART_F + 8 * rs2);
        c.mem(op === 170 /* fsd */ ? Op.i64Store : Op.i64Store32, 0, 0);
        break;
      case 22 /* addi */:
        binImm(Op.i64Add, immI);
        break;
      case 23 /* slti */:
      case 24 /* sltiu */:
        val(rs1)
          .i64Const(immI)
          .op(op === 23 /* slti */ ? Op.i64LtS : Op.i64LtU, Op.i64ExtendI32U);
        setRd(rd);
        break;
      case 25 /* xori */:
        binImm(Op.i64Xor, immI);
        break;
      case 26 /* ori */:
        binImm(Op.i64Or, immI);
        break;
      case 27 /* andi */:
        binImm(Op.i64And, immI);
        break;
      case 28 /* slli */:
        binImm(Op.i64Shl, shamt);
        break;
      case 29 /* srli */:
        binImm(Op.i64ShrU, shamt);
        break;
      case 30 /* srai */:
        binImm(Op.i64ShrS, shamt);
        break;
      case 31 /* add */:
        bin(Op.i64Add);
        break;
      case 32 /* sub */:
        bin(Op.i64Sub);
        break;
      case 33 /* sll */:
        bin(Op.i64Shl); // wasm takes the count mod 64, as RISC-V does
        break;
      case 34 /* slt */:
      case 35 /* sltu */:
        val(rs1);
        val(rs2);
        c.op(op === 34 /* slt */ ? Op.i64LtS : Op.i64LtU, Op.i64ExtendI32U);
        setRd(rd);
        break;
      case 36 /* xor */:
        bin(Op.i64Xor);
        break;
      case 37 /* srl */:
        bin(Op.i64ShrU);
        break;
      case 38 /* sra */:
        bin(Op.i64ShrS);
        break;
      case 39 /* or */:
        bin(Op.i64Or);
        break;
      case 40 /* and */:
        bin(Op.i64And);
        break;
      case 41 /* addiw */:
        word(Op.i32Add, immI);
        break;
      case 42 /* slliw */:
        word(Op.i32Shl, shamt & 31);
        break;
      case 43 /* srliw */:
        word(Op.i32ShrU, shamt & 31);
        break;
      case 44 /* sraiw */:
        word(Op.i32ShrS, shamt & 31);
        break;
      case 45 /* addw */:
        word(Op.i32Add);
        break;
      case 46 /* subw */:
        word(Op.i32Sub);
        break;
      case 47 /* sllw */:
        word(Op.i32Shl);
        break;
      case 48 /* srlw */:
        word(Op.i32ShrU);
        break;
      case 49 /* sraw */:
        word(Op.i32ShrS);
        break;
      case 64 /* mul */:
        bin(Op.i64Mul);
        break;
      case 72 /* mulw */:
        word(Op.i32Mul);
        break;
      case 68 /* div */:
      case 69 /* divu */:
      case 70 /* rem */:
      case 71 /* remu */:
        divide(c, W64, op === 68 /* div */ || op === 70 /* rem */, op >= 70 /* rem */, val, rs1, rs2);
        setRd(rd);
        break;
      case 73 /* divw */:
      case 74 /* divuw */:
      case 75 /* remw */:
      case 76 /* remuw */:
        divide(
          c,
          W32,
          op === 73 /* divw */ || op === 75 /* remw */,
          op >= 75 /* remw */,
          (r) => val(r).op(Op.i32WrapI64),
          rs1,
          rs2,
        );
        c.op(Op.i64ExtendI32S);
        setRd(rd);
        break;
      case 99 /* add.uw */:
        zext32(rs1);
        val(rs2).op(Op.i64Add);
        setRd(rd);
        break;
      case 100 /* sh1add */:
      case 101 /* sh2add */:
      case 102 /* sh3add */:
        val(rs1)
          .i64Const(op - 99 /* add.uw */)
          .op(Op.i64Shl);
        val(rs2).op(Op.i64Add);
        setRd(rd);
        break;
      case 103 /* sh1add.uw */:
      case 104 /* sh2add.uw */:
      case 105 /* sh3add.uw */:
        zext32(rs1)
          .i64Const(op - 102 /* sh3add */)
          .op(Op.i64Shl);
        val(rs2).op(Op.i64Add);
        setRd(rd);
        break;
      case 106 /* slli.uw */:
        zext32(rs1).i64Const(shamt).op(Op.i64Shl);
        setRd(rd);
        break;
      case 107 /* andn */:
      case 108 /* orn */:
      case 109 /* xnor */:
        val(rs1);
        val(rs2).i64Const(-1).op(Op.i64Xor);
        c.op([Op.i64And, Op.i64Or, Op.i64Xor][op - 107 /* andn */]);
        setRd(rd);
        break;
      case 110 /* clz */:
      case 112 /* ctz */:
      case 114 /* cpop */:
        val(rs1).op(op === 110 /* clz */ ? Op.i64Clz : op === 112 /* ctz */ ? Op.i64Ctz : Op.i64Popcnt);
        setRd(rd);
        break;
      case 111 /* clzw */:
      case 113 /* ctzw */:
      case 115 /* cpopw */:
        val(rs1).op(
          Op.i32WrapI64,
          op === 111 /* clzw */ ? Op.i32Clz : op === 113 /* ctzw */ ? Op.i32Ctz : Op.i32Popcnt,
        );
        c.op(Op.i64ExtendI32U);
        setRd(rd);
        break;
      case 116 /* max */:
      case 117 /* maxu */:
      case 118 /* min */:
      case 119 /* minu */:
        val(rs1);
        val(rs2);
        val(rs1);
        val(rs2);
        c.op([Op.i64GtS, Op.i64GtU, Op.i64LtS, Op.i64LtU][op - 116 /* max */], Op.select);
        setRd(rd);
        break;
      case 120 /* sext.b */:
      case 121 /* sext.h */:
        val(rs1)
          .i64Const(op === 120 /* sext.b */ ? 56 : 48)
          .op(Op.i64Shl);
        c.i64Const(op === 120 /* sext.b */ ? 56 : 48).op(Op.i64ShrS);
        setRd(rd);
        break;
      case 122 /* zext.h */:
        binImm(Op.i64And, 0xffff);
        break;
      case 123 /* rol */:
        bin(Op.i64Rotl);
        break;
      case 125 /* ror */:
        bin(Op.i64Rotr);
        break;
      case 126 /* rori */:
        binImm(Op.i64Rotr, shamt);
        break;
      case 124 /* rolw */:
        word(Op.i32Rotl);
        break;
      case 128 /* rorw */:
        word(Op.i32Rotr);
        break;
      case 127 /* roriw */:
        word(Op.i32Rotr, shamt & 31);
        break;
      case 131 /* bclr */:
      case 132 /* bclri */:
      case 133 /* bext */:
      case 134 /* bexti */:
      case 135 /* binv */:
      case 136 /* binvi */:
      case 137 /* bset */:
      case 138 /* bseti */:
        {
          const bit = () => (op & 1 ? val(rs2) : c.i64Const(shamt)); // odd ops take rs2 (bclr 131, ...)
          if (op === 133 /* bext */ || op === 134 /* bexti */) {
            val(rs1);
            bit();
            c.op(Op.i64ShrU).i64Const(1).op(Op.i64And);
          } else {
            val(rs1);
            c.i64Const(1);
            bit();
            c.op(Op.i64Shl);
            if (op <= 132 /* bclri */) c.i64Const(-1).op(Op.i64Xor, Op.i64And);
            else c.op(op <= 136 /* binvi */ ? Op.i64Xor : Op.i64Or);
          }
          setRd(rd);
          break;
        }
      default: {
        // Host helper: registers through memory, then reload rd.
        const helper = () => {
          flushWritten();
          c.i32Const(op).i32Const(insn).i32Const(ins.raw);
          c.get(P_PCLO).i32Const(~0xfff).op(Op.i32And).i32Const(off).op(Op.i32Add).get(P_PCHI);
          c.get(P_ACC).get(L_N).op(Op.i32Add).i32Const(k).op(Op.i32Add).op(Op.call).u32(H_EXEC);
          if (rd !== 0 && regs[rd])
            c.get(P_HART)
              .mem(Op.i64Load, 3, HART_X + 8 * rd)
              .set(regs[rd]);
        };
        if (fpInline(op, (insn >>> 12) & 7))
          emitFp({ c, first: L_F0, hart: P_HART, helper, fpDirty }, op, insn);
        else helper();
      }
    }
  });
  if (!endsWithJump) {
    const last = insns[L - 1];
    pcConst(last.off + last.len);
    exitWith(L);
  }
  if (loops) c.op(Op.end);
  c.op(Op.end); // $exit
  flushWritten();
  c.get(P_HART).get(L_EXITPC).mem(Op.i64Store, 3, HART_PC);
  emitChain(c);
  return {
    locals: blockLocals(cached.length),
    body: c.result(),
    forwardEdges: forward.filter((t) => t >= 0).length,
  };
}

/** The locals a block declares, in index order after the params: page, n, exitPc, exitN, va, ent, t, regs. */
function blockLocals(regCount: number): [number, number][] {
  return [
    [1, I64],
    [1, I32],
    [1, I64],
    [1, I32],
    [1, I64],
    [1, I32],
    [1, I64],
    [FP_LOCALS, F64],
    [regCount, I64],
  ];
}

/**
 * The way out: with progress made (a block that retired nothing must not
 * call itself again), look the next pc up in the hart's jump cache
 * (16-byte entries: pc i64, TLB set i32, table index i32, at
 * JC_LINEAR + (hart << JC_SHIFT), index jcIndex) and tail-call the block found, passing on the
 * budget left and the count retired; otherwise return the count.
 */
function emitChain(c: Code): void {
  c.get(L_EXITN).op(Op.i32Eqz, Op.if, VOID).get(P_ACC).op(Op.return, Op.end);
  // entry = JC_LINEAR + (hart << JC_SHIFT) + jcIndex(pc) * 16
  c.get(L_EXITPC).op(Op.i32WrapI64).tee(L_ENT).i32Const(1).op(Op.i32ShrU);
  c.get(L_ENT)
    .i32Const(12)
    .op(Op.i32ShrU, Op.i32Xor)
    .i32Const(JC_ENTRIES - 1)
    .op(Op.i32And);
  c.i32Const(4).op(Op.i32Shl).get(P_HART).i32Const(JC_SHIFT).op(Op.i32Shl, Op.i32Add).tee(L_ENT);
  // Two loads: the pc, then the TLB set and the table index as one i64 (set low, index high).
  c.mem(Op.i64Load, 3, JC_LINEAR).get(L_EXITPC).op(Op.i64Eq);
  c.get(L_ENT)
    .mem(Op.i64Load, 3, JC_LINEAR + 8)
    .tee(L_T)
    .op(Op.i32WrapI64)
    .get(P_TLB)
    .op(Op.i32Eq, Op.i32And, Op.if, VOID);
  c.get(P_HART).get(P_TLB).get(P_BUDGET).get(L_EXITN).op(Op.i32Sub);
  c.get(L_EXITPC).op(Op.i32WrapI64).get(L_EXITPC).i64Const(32).op(Op.i64ShrU, Op.i32WrapI64);
  c.get(P_ACC).get(L_EXITN).op(Op.i32Add);
  c.get(L_T).i64Const(32).op(Op.i64ShrU, Op.i32WrapI64);
  c.op(Op.returnCallIndirect).u32(0).u32(0);
  c.op(Op.end);
  c.get(P_ACC).get(L_EXITN).op(Op.i32Add);
}

/** A jump cache's entry index for pc: the 2-byte slot, its page number folded in so pages do not alias. */
export function jcIndex(pcLo: number): number {
  return ((pcLo >>> 1) ^ (pcLo >>> 12)) & (JC_ENTRIES - 1);
}

/** For each instruction: the index of a later instruction of the block its conditional branch targets, else -1. */
function forwardTargets(insns: Insn[]): number[] {
  const at = new Map(insns.map((ins, i) => [ins.off, i]));
  return insns.map((ins, k) => {
    if (ins.op < 5 /* beq */ || ins.op > 10 /* bgeu */) return -1;
    const t = at.get(ins.off + branchImm(ins.insn)) ?? -1;
    return t > k ? t : -1;
  });
}

/** Byte offset a branch or jal jumps to, or -1. */
function targetOf(ins: Insn): number {
  if (ins.op === 3 /* jal */) return ins.off + jalImm(ins.insn);
  if (ins.op >= 5 /* beq */ && ins.op <= 10 /* bgeu */) return ins.off + branchImm(ins.insn);
  return -1;
}

/** The wasm ops of one integer width, for code shared by the 64- and 32-bit forms. */
interface Width {
  ty: number;
  eqz: number;
  eq: number;
  sub: number;
  divS: number;
  divU: number;
  remS: number;
  remU: number;
  konst(c: Code, v: number): Code;
}
const W64: Width = {
  ty: I64,
  eqz: Op.i64Eqz,
  eq: Op.i64Eq,
  sub: Op.i64Sub,
  divS: Op.i64DivS,
  divU: Op.i64DivU,
  remS: Op.i64RemS,
  remU: Op.i64RemU,
  konst: (c, v) => c.i64Const(v),
};
const W32: Width = {
  ty: I32,
  eqz: Op.i32Eqz,
  eq: Op.i32Eq,
  sub: Op.i32Sub,
  divS: Op.i32DivS,
  divU: Op.i32DivU,
  remS: Op.i32RemS,
  remU: Op.i32RemU,
  konst: (c, v) => c.i32Const(v),
};

/**
 * div/divu/rem/remu (w = W64, operands as they are) and their -w forms
 * (w = W32, operands' low words, the caller sign-extends), with RISC-V's
 * results for a zero divisor and overflow (unpriv spec 13.2).
 */
function divide(
  c: Code,
  w: Width,
  signed: boolean,
  isRem: boolean,
  operand: (r: number) => void,
  rs1: number,
  rs2: number,
): void {
  operand(rs2);
  c.op(w.eqz, Op.if, w.ty);
  if (isRem) operand(rs1);
  else w.konst(c, -1);
  c.op(Op.else);
  if (signed && !isRem) {
    // x / -1 = -x, which wraps for the most negative x to itself: RISC-V's overflow answer (wasm would trap).
    operand(rs2);
    w.konst(c, -1).op(w.eq, Op.if, w.ty);
    w.konst(c, 0);
    operand(rs1);
    c.op(w.sub, Op.else);
    operand(rs1);
    operand(rs2);
    c.op(w.divS, Op.end);
  } else {
    // wasm's rem_s gives 0 for MIN % -1, which is RISC-V's answer.
    operand(rs1);
    operand(rs2);
    c.op(signed ? w.remS : isRem ? w.remU : w.divU);
  }
  c.op(Op.end);
}

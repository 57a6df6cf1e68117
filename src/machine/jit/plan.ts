import {
  EXACT,
  FP_STATE,
  Imm,
  JIT_END,
  JIT_HELPER,
  JIT_INLINE,
  JIT_STOP,
  MEM,
  OP_FLAGS,
  OP_IMM,
  OP_JIT,
  OP_REGS,
  RDIR,
  READS_RS1,
  READS_RS2,
  ROUNDS,
  WRITES_RD,
} from "../../isa/facts.ts";
import { immB, immJ } from "../../isa/imm.ts";
import {
  OP_MASK,
  OP_NOP,
  OPW_COMPRESSED,
  OPW_VALID,
  SLOT_WORDS,
  STRADDLE_INSN,
  STRADDLE_OPW,
  STRADDLE_PAGE,
  slotRawBits,
} from "../memory/code-cache.ts";

/**
 * What a block is (design 2.4): straight-line code inside one physical
 * page, taken from the decoded-instruction page (memory/code-cache.ts), so
 * both tiers run the same decode. It may hold conditional branches (taken
 * ones leave the block, jump forward inside it, or loop back when they
 * target its first instruction) and ends after a jump, before an
 * instruction it cannot translate, or at the page's end, after the 32-bit
 * instruction straddling it if one is recorded (its upper half from the
 * next page: Insn.upper). The emitter
 * (emit.ts) turns a plan into a wasm function body.
 *
 * What the JIT does with each op is a fact of the instruction table
 * (isa/table.ts `jit:T`, read through isa/facts.ts): inline, helper, stop
 * or end.
 */

/** Longest block, in instructions. */
export const MAX_BLOCK = 64;

/** One instruction of a block. */
export interface Insn {
  /** Byte offset in the page. */
  off: number;
  op: number;
  insn: number;
  raw: number;
  len: number;
  /**
   * For a 32-bit instruction straddling the page's end (at 0xffe): the
   * linear address of the RAM page its upper half was read from, which the
   * next virtual page must still map when the block reaches it.
   */
  upper?: number;
}

/** How a block treats an op (isa/facts.ts OP_JIT). */
export const Kind = { stop: JIT_STOP, inline: JIT_INLINE, helper: JIT_HELPER, end: JIT_END } as const;

/** FP loads and stores: translated inline, their data through the f registers in memory. */
export const isFpMem = (op: number) => (OP_FLAGS[op] & (MEM | FP_STATE)) === (MEM | FP_STATE);

/** jal's offset (J-type immediate). */
export const jalImm = immJ;

/** A branch's offset (B-type immediate). */
export const branchImm = immB;

/** A conditional branch: its immediate is B-type. */
const isBranch = (op: number) => OP_IMM[op] === Imm.b;

/** F and D instructions, loads and stores included: an f register among the operands. */
export const isFp = (op: number) => (OP_FLAGS[op] & FP_STATE) !== 0;

/**
 * The table's `jit:` fact. Inline today: RV64I, M, the AMOs, Zba/Zbb/Zbs and F/D
 * (whose emitters fall back to the exec helper, from inside the block, in
 * the cases they cannot prove).
 */
export function kindOf(op: number): number {
  return op === OP_NOP ? Kind.inline : OP_JIT[op];
}

/**
 * A CSR read: csrrs/csrrc with rs1 = x0, csrrsi/csrrci with uimm = 0 (no
 * write, so no side effect on the machine: a read of time, cycle or
 * sstatus, say). In a block it runs through the exec helper, which raises
 * its illegal-instruction trap if the privilege or a counter enable says
 * so; reads of the FP CSRs are inline (isFpCsrRead). Writes go through the
 * `csr` helper, which also says whether the block must leave after them
 * (jit/csr-leave.ts).
 */
export function isCsrRead(op: number, insn: number): boolean {
  if (op !== 59 /* csrrs */ && op !== 60 /* csrrc */ && op !== 62 /* csrrsi */ && op !== 63 /* csrrci */)
    return false;
  return rs1Of(insn) === 0;
}

/**
 * Reads of the FP CSRs fflags, frm and fcsr (frflags, frrm, frcsr): fcsr
 * and the block's pending flags, readable at every privilege while FS is
 * not Off (which the block checks at entry). glibc reads frm in strtod and
 * printf (mawk's numbers).
 */
export function isFpCsrRead(op: number, insn: number): boolean {
  const csr = insn >>> 20;
  return isCsrRead(op, insn) && csr >= 0x001 && csr <= 0x003;
}

/**
 * The instructions of the block starting at byte offset `start` of a decoded
 * page, whose RAM is `mem`'s; empty when none can run.
 */
export function planBlock(
  dec: Int32Array,
  start: number,
  mem: { u16: Uint16Array; ramLinear: number },
): Insn[] {
  const out: Insn[] = [];
  let off = start;
  while (off < 4096 && out.length < MAX_BLOCK) {
    const s = (off >> 1) * SLOT_WORDS;
    const opw = dec[s + 1];
    if ((opw & OPW_VALID) === 0) {
      if (off === 0xffe && dec[STRADDLE_PAGE] !== 0) out.push(...straddling(dec, mem.ramLinear));
      break; // not decoded yet (or a page-straddling instruction, last)
    }
    const op = opw & OP_MASK;
    const kind = kindOf(op);
    if (kind === Kind.stop) break;
    const len = opw & OPW_COMPRESSED ? 2 : 4;
    out.push({ off, op, insn: dec[s], raw: slotRawBits(dec, off, mem), len });
    off += len;
    if (kind === Kind.end) break;
  }
  return out;
}

/** The instruction straddling decoded page `dec`'s end, as recorded (memory/code-cache.ts STRADDLE_INSN), if a block may hold it. */
function straddling(dec: Int32Array, ramLinear: number): Insn[] {
  const op = dec[STRADDLE_OPW] & OP_MASK;
  if (kindOf(op) === Kind.stop) return [];
  const insn = dec[STRADDLE_INSN];
  return [{ off: 0xffe, op, insn, raw: insn, len: 4, upper: ramLinear + (dec[STRADDLE_PAGE] - 1) * 4096 }];
}

export const rdOf = (i: number) => (i >>> 7) & 31;
export const rs1Of = (i: number) => (i >>> 15) & 31;
export const rs2Of = (i: number) => (i >>> 20) & 31;

/** Integer registers an instruction reads and writes (x0 excluded). */
export function regsOf(ins: { op: number; insn: number }): { reads: number[]; writes: number[] } {
  const { op, insn } = ins;
  if (op === OP_NOP || kindOf(op) === Kind.helper) return { reads: [], writes: [] }; // helpers: through memory
  const use = OP_REGS[op];
  const reads: number[] = [];
  const rs1 = rs1Of(insn);
  const rs2 = rs2Of(insn);
  const rd = rdOf(insn);
  if (use & READS_RS1 && rs1 !== 0) reads.push(rs1);
  if (use & READS_RS2 && rs2 !== 0) reads.push(rs2);
  return { reads, writes: use & WRITES_RD && rd !== 0 ? [rd] : [] };
}

/** For each instruction: the index of a later instruction of the block its conditional branch targets, else -1. */
export function forwardTargets(insns: Insn[]): number[] {
  const at = new Map(insns.map((ins, i) => [ins.off, i]));
  return insns.map((ins, k) => {
    if (!isBranch(ins.op)) return -1;
    const t = at.get(ins.off + branchImm(ins.insn)) ?? -1;
    return t > k ? t : -1;
  });
}

/** Byte offset a branch or jal jumps to, or -1. */
export function targetOf(ins: Insn): number {
  if (OP_IMM[ins.op] === Imm.j) return ins.off + jalImm(ins.insn);
  if (isBranch(ins.op)) return ins.off + branchImm(ins.insn);
  return -1;
}

/** fpInline's answers: no inline code (the helper runs it), inline, inline when frm is RNE. */
export const FP_HELPER = 0;
export const FP_INLINE = 1;
export const FP_DYN = 2;

/**
 * Whether FP op `op` with funct3 `rm` has inline code (the emit-fp*.ts
 * files; each still takes its unusual operands to the helper), and whether
 * that code needs frm = RNE (checked once at block entry), from the
 * instruction table: ops without a rounding mode always; the others in RNE,
 * static or dyn, those marked `rdir` (conversions to integers: wasm's
 * trunc, floor, ceil) also in RTZ, RDN and RUP, and those marked `exact`
 * (int32 -> binary64) in any valid static mode.
 */
export function fpInline(op: number, rm: number): number {
  const f = OP_FLAGS[op];
  if (!(f & FP_STATE)) return FP_HELPER;
  if (!(f & ROUNDS)) return FP_INLINE;
  if (rm === 7) return FP_DYN;
  if (rm === 0) return FP_INLINE;
  if (f & RDIR && rm <= 3) return FP_INLINE;
  if (f & EXACT && rm <= 4) return FP_INLINE;
  return FP_HELPER;
}

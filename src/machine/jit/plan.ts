import { INSTRUCTIONS } from "../../isa/table.ts";
import { OP_MASK, OP_NOP, OPW_COMPRESSED, SLOT_WORDS } from "../memory/code-cache.ts";

/**
 * What a block is (design 2.4): straight-line code inside one physical
 * page, taken from the decoded-instruction page (memory/code-cache.ts), so
 * both tiers run the same decode. It may hold conditional branches (taken
 * ones leave the block, jump forward inside it, or loop back when they
 * target its first instruction) and ends after a jump, before an
 * instruction it cannot translate, or at the page's end. The emitter
 * (emit.ts) turns a plan into a wasm function body.
 *
 * Op numbers are literals tagged with their instruction's name, kept
 * current by `npm run gen:isa`, as in the interpreter.
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
}

/** How a block treats an op. */
export const Kind = { stop: 0, inline: 1, helper: 2, end: 3 } as const;

/** flw, fsw, fld, fsd: translated inline, their data through the f registers in memory. */
export const isFpMem = (op: number) =>
  op === 139 /* flw */ || op === 140 /* fsw */ || op === 169 /* fld */ || op === 170 /* fsd */;

/** jal's offset (J-type immediate). */
export const jalImm = (insn: number) =>
  ((insn >> 31) << 20) | (insn & 0xff000) | (((insn >>> 20) & 1) << 11) | (((insn >>> 21) & 0x3ff) << 1);

/** A branch's offset (B-type immediate). */
export const branchImm = (insn: number) =>
  ((insn >> 31) << 12) |
  (((insn >>> 7) & 1) << 11) |
  (((insn >>> 25) & 0x3f) << 5) |
  (((insn >>> 8) & 0xf) << 1);

/** F and D instructions, loads and stores included. */
export const isFp = (op: number) => op >= 139 /* flw */ && op <= 200 /* fmv.d.x */;

/**
 * Inline: RV64I, M, Zba/Zbb/Zbs and F/D (whose emitters fall back to the
 * exec helper, from inside the block, in the cases they cannot prove).
 */
export function kindOf(op: number): number {
  if (op === OP_NOP) return Kind.inline;
  if (op === 3 /* jal */ || op === 4 /* jalr */) return Kind.end;
  if (op >= 1 /* lui */ && op <= 49 /* sraw */) return Kind.inline;
  if (op >= 64 /* mul */ && op <= 76 /* remuw */) return Kind.inline;
  if (op >= 99 /* add.uw */ && op <= 138 /* bseti */) return Kind.inline;
  if (isFp(op)) return Kind.inline;
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

export const rdOf = (i: number) => (i >>> 7) & 31;
export const rs1Of = (i: number) => (i >>> 15) & 31;
export const rs2Of = (i: number) => (i >>> 20) & 31;

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

/** For each instruction: the index of a later instruction of the block its conditional branch targets, else -1. */
export function forwardTargets(insns: Insn[]): number[] {
  const at = new Map(insns.map((ins, i) => [ins.off, i]));
  return insns.map((ins, k) => {
    if (ins.op < 5 /* beq */ || ins.op > 10 /* bgeu */) return -1;
    const t = at.get(ins.off + branchImm(ins.insn)) ?? -1;
    return t > k ? t : -1;
  });
}

/** Byte offset a branch or jal jumps to, or -1. */
export function targetOf(ins: Insn): number {
  if (ins.op === 3 /* jal */) return ins.off + jalImm(ins.insn);
  if (ins.op >= 5 /* beq */ && ins.op <= 10 /* bgeu */) return ins.off + branchImm(ins.insn);
  return -1;
}

/** fpInline's answers: no inline code (the helper runs it), inline, inline when frm is RNE. */
export const FP_HELPER = 0;
export const FP_INLINE = 1;
export const FP_DYN = 2;

/**
 * Whether FP op `op` with funct3 `rm` has inline code (the emit-fp*.ts
 * files; each still takes its unusual operands to the helper), and whether
 * that code needs frm = RNE (checked once at block entry): arithmetic in
 * RNE, static or dyn; conversions to integers also in RTZ, RDN and RUP
 * (wasm's trunc, floor, ceil), and the exact int32 -> binary64 ones in any
 * valid mode; sign injection, moves, compares, min/max and fclass (no
 * rounding) always.
 */
export function fpInline(op: number, rm: number): number {
  if (op < 141 /* fmadd.s */ || op > 200 /* fmv.d.x */) return FP_HELPER;
  if (!ROUNDS[op]) return FP_INLINE;
  if (rm === 7) return FP_DYN;
  if (rm === 0) return FP_INLINE;
  const toInt =
    (op >= 155 /* fcvt.w.s */ && op <= 158) /* fcvt.lu.s */ ||
    (op >= 191 /* fcvt.w.d */ && op <= 194) /* fcvt.lu.d */;
  if (toInt && rm <= 3) return FP_INLINE;
  if ((op === 195 /* fcvt.d.w */ || op === 196) /* fcvt.d.wu */ && rm <= 4) return FP_INLINE;
  return FP_HELPER;
}

/** Per op: whether it has a rounding-mode field (the instruction table's `rm` operand). */
const ROUNDS = (() => {
  const u = new Uint8Array(INSTRUCTIONS.length + 1);
  INSTRUCTIONS.forEach(([, , , , operands], i) => {
    u[i + 1] = operands.split(",").includes("rm") ? 1 : 0;
  });
  return u;
})();

import { Imm, OP_IMM } from "./facts.ts";

/**
 * Immediate extractors, one per format (unprivileged spec 2.3, "Immediate
 * Encoding Variants"), and an op's own immediate by the format its operands
 * give (isa/facts.ts OP_IMM). Signed formats are sign-extended to 32 bits.
 */
export const immI = (insn: number) => insn >> 20;
export const immS = (insn: number) => ((insn >> 25) << 5) | ((insn >>> 7) & 31);
export const immB = (insn: number) =>
  ((insn >> 31) << 12) |
  (((insn >>> 7) & 1) << 11) |
  (((insn >>> 25) & 0x3f) << 5) |
  (((insn >>> 8) & 0xf) << 1);
export const immU = (insn: number) => insn & 0xfffff000;
export const immJ = (insn: number) =>
  ((insn >> 31) << 20) | (insn & 0xff000) | (((insn >>> 20) & 1) << 11) | (((insn >>> 21) & 0x3ff) << 1);

/** Instruction `insn`'s immediate for op `op` (0 when its format has none). */
export function immediate(op: number, insn: number): number {
  switch (OP_IMM[op]) {
    case Imm.i:
      return immI(insn);
    case Imm.s:
      return immS(insn);
    case Imm.b:
      return immB(insn);
    case Imm.u:
      return immU(insn);
    case Imm.j:
      return immJ(insn);
    case Imm.shamt:
      return (insn >>> 20) & 63;
    case Imm.shamtw:
      return (insn >>> 20) & 31;
    case Imm.zimm:
      return (insn >>> 15) & 31;
    default:
      return 0;
  }
}

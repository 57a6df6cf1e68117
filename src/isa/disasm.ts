import { decode } from "./decoder.generated.ts";
import { immB, immI, immJ, immS } from "./imm.ts";
import { RVC_EXPANSION } from "./rvc.ts";
import { INSTRUCTIONS } from "./table.ts";

export const XREG = [
  "zero",
  "ra",
  "sp",
  "gp",
  "tp",
  "t0",
  "t1",
  "t2",
  "s0",
  "s1",
  "a0",
  "a1",
  "a2",
  "a3",
  "a4",
  "a5",
  "a6",
  "a7",
  "s2",
  "s3",
  "s4",
  "s5",
  "s6",
  "s7",
  "s8",
  "s9",
  "s10",
  "s11",
  "t3",
  "t4",
  "t5",
  "t6",
];
export const FREG = [
  "ft0",
  "ft1",
  "ft2",
  "ft3",
  "ft4",
  "ft5",
  "ft6",
  "ft7",
  "fs0",
  "fs1",
  "fa0",
  "fa1",
  "fa2",
  "fa3",
  "fa4",
  "fa5",
  "fa6",
  "fa7",
  "fs2",
  "fs3",
  "fs4",
  "fs5",
  "fs6",
  "fs7",
  "fs8",
  "fs9",
  "fs10",
  "fs11",
  "ft8",
  "ft9",
  "ft10",
  "ft11",
];
const RM = ["rne", "rtz", "rdn", "rup", "rmm", "rm5", "rm6", "dyn"];

/**
 * Disassembles one instruction (32-bit word, or a 16-bit parcel whose low
 * bits are not 0b11) from the operand syntax in the table. Compressed
 * instructions print as the instruction they expand to, prefixed "c:".
 * `pc` (a number) resolves branch and jump targets; `csrName` names CSRs.
 */
export function disassemble(
  raw: number,
  pc = 0,
  csrName: (addr: number) => string = (a) => `0x${a.toString(16)}`,
): string {
  const compressed = (raw & 3) !== 3;
  const insn = compressed ? RVC_EXPANSION[raw & 0xffff] : raw;
  const op = insn === 0 ? 0 : decode(insn);
  if (op === 0)
    return compressed
      ? `c.unknown 0x${(raw & 0xffff).toString(16)}`
      : `unknown 0x${(raw >>> 0).toString(16)}`;
  const [name, , , , operands] = INSTRUCTIONS[op - 1];
  const rd = (insn >>> 7) & 31;
  const rs1 = (insn >>> 15) & 31;
  const rs2 = (insn >>> 20) & 31;
  const rs3 = insn >>> 27;
  const iimm = immI(insn);
  const simm = immS(insn);
  const target = (off: number) => `0x${(pc + off).toString(16)}`;
  const parts = operands
    ? operands.split(",").map((o) => {
        switch (o) {
          case "rd":
            return XREG[rd];
          case "rs1":
            return XREG[rs1];
          case "rs2":
            return XREG[rs2];
          case "fd":
            return FREG[rd];
          case "fs1":
            return FREG[rs1];
          case "fs2":
            return FREG[rs2];
          case "fs3":
            return FREG[rs3];
          case "imm":
            return String(iimm);
          case "uimm":
            return `0x${(insn >>> 12).toString(16)}`;
          case "shamt":
            return String((insn >>> 20) & 63);
          case "shamtw":
            return String((insn >>> 20) & 31);
          case "csr":
            return csrName(insn >>> 20);
          case "zimm":
            return String(rs1);
          case "rm":
            return RM[(insn >>> 12) & 7];
          case "imm(rs1)":
            return `${iimm}(${XREG[rs1]})`;
          case "simm(rs1)":
            return `${simm}(${XREG[rs1]})`;
          case "(rs1)":
            return `(${XREG[rs1]})`;
          case "bimm":
            return target(immB(insn));
          case "jimm":
            return target(immJ(insn));
          default:
            return o;
        }
      })
    : [];
  return `${compressed ? "c:" : ""}${name}${parts.length ? ` ${parts.join(", ")}` : ""}`;
}

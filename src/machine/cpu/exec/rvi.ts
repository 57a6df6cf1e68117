import { CAUSE_BREAKPOINT, CAUSE_USER_ECALL } from "../constants.ts";
import type { Hart } from "../hart.ts";

/**
 * RV64I base integer instructions (unpriv spec chapters 2 and 5).
 * Registers are lo/hi int32 pairs (design 2.3); `x[2r]` is the low word.
 * Case labels are op numbers kept in step with the table by gen-isa.
 */
export function execRvi(h: Hart, op: number, insn: number): void {
  const x = h.x;
  const rd = (insn >>> 6) & 62; // 2 * rd
  const rs1 = (insn >>> 14) & 62;
  const rs2 = (insn >>> 19) & 62;
  switch (op) {
    case 1 /* lui */:
      x[rd] = insn & 0xfffff000;
      x[rd + 1] = insn >> 31;
      return;
    case 2 /* auipc */:
      {
        const imm = insn & 0xfffff000;
        const lo = (h.pcLo + imm) | 0;
        x[rd + 1] = (h.pcHi + (imm >> 31) + (lo >>> 0 < h.pcLo >>> 0 ? 1 : 0)) | 0;
        x[rd] = lo;
        return;
      }
    case 3 /* jal */:
      {
        const imm =
          ((insn >> 31) << 20) |
          (insn & 0xff000) |
          (((insn >>> 20) & 1) << 11) |
          (((insn >>> 21) & 0x3ff) << 1);
        const lo = (h.pcLo + imm) | 0;
        const hi = (h.pcHi + (imm >> 31) + (lo >>> 0 < h.pcLo >>> 0 ? 1 : 0)) | 0;
        x[rd] = h.npcLo;
        x[rd + 1] = h.npcHi;
        h.npcLo = lo;
        h.npcHi = hi;
        return;
      }
    case 4 /* jalr */:
      {
        const imm = insn >> 20;
        const a = x[rs1];
        const lo = (a + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
        x[rd] = h.npcLo;
        x[rd + 1] = h.npcHi;
        h.npcLo = lo & ~1;
        h.npcHi = hi;
        return;
      }
    case 5 /* beq */:
      if (x[rs1] === x[rs2] && x[rs1 + 1] === x[rs2 + 1]) branch(h, insn);
      return;
    case 6 /* bne */:
      if (x[rs1] !== x[rs2] || x[rs1 + 1] !== x[rs2 + 1]) branch(h, insn);
      return;
    case 7 /* blt */:
      if (lt(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1])) branch(h, insn);
      return;
    case 8 /* bge */:
      if (!lt(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1])) branch(h, insn);
      return;
    case 9 /* bltu */:
      if (ltu(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1])) branch(h, insn);
      return;
    case 10 /* bgeu */:
      if (!ltu(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1])) branch(h, insn);
      return;
    case 11 /* lb */:
    case 12 /* lh */:
    case 13 /* lw */:
    case 14 /* ld */:
    case 15 /* lbu */:
    case 16 /* lhu */:
    case 17 /* lwu */:
      {
        const imm = insn >> 20;
        const a = x[rs1];
        const lo = (a + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
        const f3 = (insn >>> 12) & 7;
        const v = h.load(lo, hi, 1 << (f3 & 3), f3 < 4);
        if (f3 === 3) x[rd + 1] = h.ldHi;
        else x[rd + 1] = f3 < 4 ? v >> 31 : 0;
        x[rd] = v;
        return;
      }
    case 18 /* sb */:
    case 19 /* sh */:
    case 20 /* sw */:
    case 21 /* sd */:
      {
        const imm = ((insn >> 25) << 5) | ((insn >>> 7) & 31);
        const a = x[rs1];
        const lo = (a + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
        h.store(lo, hi, 1 << ((insn >>> 12) & 3), x[rs2], x[rs2 + 1]);
        return;
      }
    case 22 /* addi */:
      {
        const imm = insn >> 20;
        const a = x[rs1];
        const lo = (a + imm) | 0;
        x[rd + 1] = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
        x[rd] = lo;
        return;
      }
    case 23 /* slti */:
      {
        const imm = insn >> 20;
        x[rd] = lt(x[rs1], x[rs1 + 1], imm, imm >> 31) ? 1 : 0;
        x[rd + 1] = 0;
        return;
      }
    case 24 /* sltiu */:
      {
        const imm = insn >> 20;
        x[rd] = ltu(x[rs1], x[rs1 + 1], imm, imm >> 31) ? 1 : 0;
        x[rd + 1] = 0;
        return;
      }
    case 25 /* xori */:
      {
        const imm = insn >> 20;
        x[rd] = x[rs1] ^ imm;
        x[rd + 1] = x[rs1 + 1] ^ (imm >> 31);
        return;
      }
    case 26 /* ori */:
      {
        const imm = insn >> 20;
        x[rd] = x[rs1] | imm;
        x[rd + 1] = x[rs1 + 1] | (imm >> 31);
        return;
      }
    case 27 /* andi */:
      {
        const imm = insn >> 20;
        x[rd] = x[rs1] & imm;
        x[rd + 1] = x[rs1 + 1] & (imm >> 31);
        return;
      }
    case 28 /* slli */:
      sll(x, rd, x[rs1], x[rs1 + 1], (insn >>> 20) & 63);
      return;
    case 29 /* srli */:
      srl(x, rd, x[rs1], x[rs1 + 1], (insn >>> 20) & 63);
      return;
    case 30 /* srai */:
      sra(x, rd, x[rs1], x[rs1 + 1], (insn >>> 20) & 63);
      return;
    case 31 /* add */:
      {
        const a = x[rs1];
        const lo = (a + x[rs2]) | 0;
        x[rd + 1] = (x[rs1 + 1] + x[rs2 + 1] + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
        x[rd] = lo;
        return;
      }
    case 32 /* sub */:
      {
        const a = x[rs1];
        const b = x[rs2];
        x[rd + 1] = (x[rs1 + 1] - x[rs2 + 1] - (a >>> 0 < b >>> 0 ? 1 : 0)) | 0;
        x[rd] = (a - b) | 0;
        return;
      }
    case 33 /* sll */:
      sll(x, rd, x[rs1], x[rs1 + 1], x[rs2] & 63);
      return;
    case 34 /* slt */:
      x[rd] = lt(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]) ? 1 : 0;
      x[rd + 1] = 0;
      return;
    case 35 /* sltu */:
      x[rd] = ltu(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]) ? 1 : 0;
      x[rd + 1] = 0;
      return;
    case 36 /* xor */:
      x[rd] = x[rs1] ^ x[rs2];
      x[rd + 1] = x[rs1 + 1] ^ x[rs2 + 1];
      return;
    case 37 /* srl */:
      srl(x, rd, x[rs1], x[rs1 + 1], x[rs2] & 63);
      return;
    case 38 /* sra */:
      sra(x, rd, x[rs1], x[rs1 + 1], x[rs2] & 63);
      return;
    case 39 /* or */:
      x[rd] = x[rs1] | x[rs2];
      x[rd + 1] = x[rs1 + 1] | x[rs2 + 1];
      return;
    case 40 /* and */:
      x[rd] = x[rs1] & x[rs2];
      x[rd + 1] = x[rs1 + 1] & x[rs2 + 1];
      return;
    case 41 /* addiw */:
      {
        const v = (x[rs1] + (insn >> 20)) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        return;
      }
    case 42 /* slliw */:
      {
        const v = x[rs1] << ((insn >>> 20) & 31);
        x[rd] = v;
        x[rd + 1] = v >> 31;
        return;
      }
    case 43 /* srliw */:
      {
        const v = (x[rs1] >>> ((insn >>> 20) & 31)) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        return;
      }
    case 44 /* sraiw */:
      {
        const v = x[rs1] >> ((insn >>> 20) & 31);
        x[rd] = v;
        x[rd + 1] = v >> 31;
        return;
      }
    case 45 /* addw */:
      {
        const v = (x[rs1] + x[rs2]) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        return;
      }
    case 46 /* subw */:
      {
        const v = (x[rs1] - x[rs2]) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        return;
      }
    case 47 /* sllw */:
      {
        const v = x[rs1] << (x[rs2] & 31);
        x[rd] = v;
        x[rd + 1] = v >> 31;
        return;
      }
    case 48 /* srlw */:
      {
        const v = (x[rs1] >>> (x[rs2] & 31)) | 0;
        x[rd] = v;
        x[rd + 1] = v >> 31;
        return;
      }
    case 49 /* sraw */:
      {
        const v = x[rs1] >> (x[rs2] & 31);
        x[rd] = v;
        x[rd + 1] = v >> 31;
        return;
      }
    case 50 /* fence */:
      // One hart at a time sees memory in program order: nothing to do.
      return;
    case 51 /* ecall */:
      h.raise(CAUSE_USER_ECALL + h.priv, 0, 0);
      return;
    case 52 /* ebreak */:
      h.raise(CAUSE_BREAKPOINT, h.pcLo, h.pcHi);
      return;
    default:
      h.illegal();
  }
}

function branch(h: Hart, insn: number): void {
  const imm =
    ((insn >> 31) << 12) |
    (((insn >>> 7) & 1) << 11) |
    (((insn >>> 25) & 0x3f) << 5) |
    (((insn >>> 8) & 0xf) << 1);
  const lo = (h.pcLo + imm) | 0;
  h.npcHi = (h.pcHi + (imm >> 31) + (lo >>> 0 < h.pcLo >>> 0 ? 1 : 0)) | 0;
  h.npcLo = lo;
}

/** Signed 64-bit a < b. */
export function lt(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  return aHi < bHi || (aHi === bHi && aLo >>> 0 < bLo >>> 0);
}

/** Unsigned 64-bit a < b. */
export function ltu(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  return aHi >>> 0 < bHi >>> 0 || (aHi === bHi && aLo >>> 0 < bLo >>> 0);
}

/** x[rd] = a << sh (0 <= sh < 64). */
export function sll(x: Int32Array, rd: number, lo: number, hi: number, sh: number): void {
  if (sh === 0) {
    x[rd] = lo;
    x[rd + 1] = hi;
  } else if (sh < 32) {
    x[rd + 1] = (hi << sh) | (lo >>> (32 - sh));
    x[rd] = lo << sh;
  } else {
    x[rd + 1] = lo << (sh - 32);
    x[rd] = 0;
  }
}

/** x[rd] = a >>> sh (logical). */
export function srl(x: Int32Array, rd: number, lo: number, hi: number, sh: number): void {
  if (sh === 0) {
    x[rd] = lo;
    x[rd + 1] = hi;
  } else if (sh < 32) {
    x[rd] = (lo >>> sh) | (hi << (32 - sh));
    x[rd + 1] = hi >>> sh;
  } else {
    x[rd] = hi >>> (sh - 32);
    x[rd + 1] = 0;
  }
}

/** x[rd] = a >> sh (arithmetic). */
export function sra(x: Int32Array, rd: number, lo: number, hi: number, sh: number): void {
  if (sh === 0) {
    x[rd] = lo;
    x[rd + 1] = hi;
  } else if (sh < 32) {
    x[rd] = (lo >>> sh) | (hi << (32 - sh));
    x[rd + 1] = hi >> sh;
  } else {
    x[rd] = hi >> (sh - 32);
    x[rd + 1] = hi >> 31;
  }
}

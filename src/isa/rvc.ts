/**
 * The C extension (unpriv spec chapter 16) by expansion: every 16-bit
 * instruction is rewritten to the 32-bit instruction it stands for, so one
 * decoder and one set of semantics serve both. The whole 64 Ki space is
 * expanded once into a table (256 KiB), making expansion one load.
 * 0 marks an illegal or reserved encoding.
 */
import { encodeB, encodeI, encodeJal, encodeR, encodeS } from "./encode.ts";

const i = encodeI;
const s = encodeS;
const b = encodeB;
const r = encodeR;
const jal = encodeJal;

const OP_LOAD = 0x03;
const OP_LOAD_FP = 0x07;
const OP_IMM = 0x13;
const OP_IMM_32 = 0x1b;
const OP_STORE = 0x23;
const OP_STORE_FP = 0x27;
const OP = 0x33;
const OP_32 = 0x3b;
const OP_LUI = 0x37;
const OP_JALR = 0x67;

/** Sign-extends the low `bits` of v. */
const sx = (v: number, bits: number) => (v << (32 - bits)) >> (32 - bits);
const bit = (c: number, n: number) => (c >>> n) & 1;
const bits = (c: number, hi: number, lo: number) => (c >>> lo) & ((1 << (hi - lo + 1)) - 1);

/** Expands one 16-bit instruction (low two bits != 0b11) to its 32-bit equivalent; 0 if illegal. */
export function expandCompressed(c: number): number {
  const f3 = c >>> 13;
  const rd = bits(c, 11, 7);
  const rs2 = bits(c, 6, 2);
  const rdp = 8 + bits(c, 4, 2); // rd' / rs2'
  const rs1p = 8 + bits(c, 9, 7); // rs1' / rd'
  switch (c & 3) {
    case 0:
      switch (f3) {
        case 0: {
          const imm = (bits(c, 12, 11) << 4) | (bits(c, 10, 7) << 6) | (bit(c, 6) << 2) | (bit(c, 5) << 3);
          return imm === 0 ? 0 : i(imm, 2, 0, rdp, OP_IMM); // c.addi4spn
        }
        case 1:
          return i((bits(c, 12, 10) << 3) | (bits(c, 6, 5) << 6), rs1p, 3, rdp, OP_LOAD_FP); // c.fld
        case 2:
          return i((bits(c, 12, 10) << 3) | (bit(c, 6) << 2) | (bit(c, 5) << 6), rs1p, 2, rdp, OP_LOAD); // c.lw
        case 3:
          return i((bits(c, 12, 10) << 3) | (bits(c, 6, 5) << 6), rs1p, 3, rdp, OP_LOAD); // c.ld
        case 5:
          return s((bits(c, 12, 10) << 3) | (bits(c, 6, 5) << 6), rdp, rs1p, 3, OP_STORE_FP); // c.fsd
        case 6:
          return s((bits(c, 12, 10) << 3) | (bit(c, 6) << 2) | (bit(c, 5) << 6), rdp, rs1p, 2, OP_STORE); // c.sw
        case 7:
          return s((bits(c, 12, 10) << 3) | (bits(c, 6, 5) << 6), rdp, rs1p, 3, OP_STORE); // c.sd
      }
      return 0;
    case 1: {
      const imm6 = sx((bit(c, 12) << 5) | rs2, 6);
      switch (f3) {
        case 0:
          return i(imm6, rd, 0, rd, OP_IMM); // c.addi / c.nop
        case 1:
          return rd === 0 ? 0 : i(imm6, rd, 0, rd, OP_IMM_32); // c.addiw
        case 2:
          return i(imm6, 0, 0, rd, OP_IMM); // c.li
        case 3:
          if (rd === 2) {
            const imm = sx(
              (bit(c, 12) << 9) |
                (bit(c, 6) << 4) |
                (bit(c, 5) << 6) |
                (bits(c, 4, 3) << 7) |
                (bit(c, 2) << 5),
              10,
            );
            return imm === 0 ? 0 : i(imm, 2, 0, 2, OP_IMM); // c.addi16sp
          }
          return imm6 === 0 ? 0 : (imm6 << 12) | (rd << 7) | OP_LUI; // c.lui
        case 4: {
          const shamt = (bit(c, 12) << 5) | rs2;
          switch (bits(c, 11, 10)) {
            case 0:
              return i(shamt, rs1p, 5, rs1p, OP_IMM); // c.srli
            case 1:
              return i(shamt | 0x400, rs1p, 5, rs1p, OP_IMM); // c.srai
            case 2:
              return i(imm6, rs1p, 7, rs1p, OP_IMM); // c.andi
          }
          const op2 = bits(c, 6, 5);
          if (!bit(c, 12)) {
            // c.sub, c.xor, c.or, c.and
            const f3s = [0, 4, 6, 7][op2];
            return r(op2 === 0 ? 0x20 : 0, rdp, rs1p, f3s, rs1p, OP);
          }
          if (op2 === 0) return r(0x20, rdp, rs1p, 0, rs1p, OP_32); // c.subw
          if (op2 === 1) return r(0, rdp, rs1p, 0, rs1p, OP_32); // c.addw
          return 0;
        }
        case 5: {
          const imm = sx(
            (bit(c, 12) << 11) |
              (bit(c, 11) << 4) |
              (bits(c, 10, 9) << 8) |
              (bit(c, 8) << 10) |
              (bit(c, 7) << 6) |
              (bit(c, 6) << 7) |
              (bits(c, 5, 3) << 1) |
              (bit(c, 2) << 5),
            12,
          );
          return jal(imm, 0); // c.j
        }
        default: {
          const imm = sx(
            (bit(c, 12) << 8) |
              (bits(c, 11, 10) << 3) |
              (bits(c, 6, 5) << 6) |
              (bits(c, 4, 3) << 1) |
              (bit(c, 2) << 5),
            9,
          );
          return b(imm, 0, rs1p, f3 === 6 ? 0 : 1); // c.beqz / c.bnez
        }
      }
    }
    case 2:
      switch (f3) {
        case 0:
          return i((bit(c, 12) << 5) | rs2, rd, 1, rd, OP_IMM); // c.slli
        case 1:
          return i((bit(c, 12) << 5) | (bits(c, 6, 5) << 3) | (bits(c, 4, 2) << 6), 2, 3, rd, OP_LOAD_FP); // c.fldsp
        case 2:
          return rd === 0
            ? 0
            : i((bit(c, 12) << 5) | (bits(c, 6, 4) << 2) | (bits(c, 3, 2) << 6), 2, 2, rd, OP_LOAD); // c.lwsp
        case 3:
          return rd === 0
            ? 0
            : i((bit(c, 12) << 5) | (bits(c, 6, 5) << 3) | (bits(c, 4, 2) << 6), 2, 3, rd, OP_LOAD); // c.ldsp
        case 4:
          if (!bit(c, 12)) {
            if (rs2 === 0) return rd === 0 ? 0 : i(0, rd, 0, 0, OP_JALR); // c.jr
            return r(0, rs2, 0, 0, rd, OP); // c.mv
          }
          if (rs2 === 0) return rd === 0 ? 0x00100073 : i(0, rd, 0, 1, OP_JALR); // c.ebreak / c.jalr
          return r(0, rs2, rd, 0, rd, OP); // c.add
        case 5:
          return s((bits(c, 12, 10) << 3) | (bits(c, 9, 7) << 6), rs2, 2, 3, OP_STORE_FP); // c.fsdsp
        case 6:
          return s((bits(c, 12, 9) << 2) | (bits(c, 8, 7) << 6), rs2, 2, 2, OP_STORE); // c.swsp
        default:
          return s((bits(c, 12, 10) << 3) | (bits(c, 9, 7) << 6), rs2, 2, 3, OP_STORE); // c.sdsp
      }
  }
  return 0;
}

/** Expansion of every 16-bit pattern (entries with low bits 0b11 are unused). */
export const RVC_EXPANSION: Int32Array = (() => {
  const t = new Int32Array(65536);
  for (let c = 0; c < 65536; c++) if ((c & 3) !== 3) t[c] = expandCompressed(c);
  return t;
})();

/**
 * Instruction encoders for the base formats (unpriv spec 2.2-2.3), operands
 * in the order their fields appear from bit 31 down. Used to build the RVC
 * expansion table and by tests that write machine code directly.
 */

/** I-type: imm[11:0] rs1 funct3 rd opcode. */
export const encodeI = (imm: number, rs1: number, f3: number, rd: number, op: number) =>
  ((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;

/** S-type: imm[11:5] rs2 rs1 funct3 imm[4:0] opcode. */
export const encodeS = (imm: number, rs2: number, rs1: number, f3: number, op: number) =>
  (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | op;

/** B-type (BRANCH): imm[12|10:5] rs2 rs1 funct3 imm[4:1|11]. */
export const encodeB = (imm: number, rs2: number, rs1: number, f3: number) =>
  (((imm >> 12) & 1) << 31) |
  (((imm >> 5) & 0x3f) << 25) |
  (rs2 << 20) |
  (rs1 << 15) |
  (f3 << 12) |
  (((imm >> 1) & 0xf) << 8) |
  (((imm >> 11) & 1) << 7) |
  0x63;

/** R-type: funct7 rs2 rs1 funct3 rd opcode. */
export const encodeR = (f7: number, rs2: number, rs1: number, f3: number, rd: number, op: number) =>
  (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;

/** JAL: imm[20|10:1|11|19:12] rd. */
export const encodeJal = (imm: number, rd: number) =>
  (((imm >> 20) & 1) << 31) |
  (((imm >> 1) & 0x3ff) << 21) |
  (((imm >> 11) & 1) << 20) |
  (((imm >> 12) & 0xff) << 12) |
  (rd << 7) |
  0x6f;

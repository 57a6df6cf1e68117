import type { BlockEmitter, OpEmitters } from "./emit.ts";
import { Op } from "./wasm.ts";

/**
 * RV64I's register-register and register-immediate ALU ops (lui, auipc,
 * the OP-IMM, OP, OP-IMM-32 and OP-32 groups), and the shapes of ALU code
 * the M and Zb emitters share.
 */

/** rd = rs1 `wasmOp` rs2. */
export function bin(e: BlockEmitter, wasmOp: number): void {
  e.val(e.rs1);
  e.val(e.rs2);
  e.c.op(wasmOp);
  e.setRd(e.rd);
}

/** rd = rs1 `wasmOp` imm. */
export function binImm(e: BlockEmitter, wasmOp: number, imm: number | bigint): void {
  e.val(e.rs1);
  e.c.i64Const(imm).op(wasmOp);
  e.setRd(e.rd);
}

/** A 32-bit op on the low words of rs1 and rs2 (or an immediate), sign-extended into rd. */
export function word(e: BlockEmitter, wasmOp: number, imm?: number): void {
  e.val(e.rs1).op(Op.i32WrapI64);
  if (imm === undefined) e.val(e.rs2).op(Op.i32WrapI64);
  else e.c.i32Const(imm);
  e.c.op(wasmOp, Op.i64ExtendI32S);
  e.setRd(e.rd);
}

/** Pushes register r's low word, zero-extended. */
export const zext32 = (e: BlockEmitter, r: number) => e.val(r).i64Const(0xffffffff).op(Op.i64And);

/** slt/sltu and their immediate forms: rd = (rs1 < operand) as 0 or 1. */
const setLess = (e: BlockEmitter, cmp: number, imm?: number) => {
  e.val(e.rs1);
  if (imm === undefined) e.val(e.rs2);
  else e.c.i64Const(imm);
  e.c.op(cmp, Op.i64ExtendI32U);
  e.setRd(e.rd);
};

export const BASE_EMITTERS: OpEmitters = {
  1 /* lui */: (e) => {
    e.c.i64Const(e.imm);
    e.setRd(e.rd);
  },
  2 /* auipc */: (e) => {
    e.pcConst(e.ins.off + e.imm);
    e.setRd(e.rd);
  },
  22 /* addi */: (e) => binImm(e, Op.i64Add, e.imm),
  23 /* slti */: (e) => setLess(e, Op.i64LtS, e.imm),
  24 /* sltiu */: (e) => setLess(e, Op.i64LtU, e.imm),
  25 /* xori */: (e) => binImm(e, Op.i64Xor, e.imm),
  26 /* ori */: (e) => binImm(e, Op.i64Or, e.imm),
  27 /* andi */: (e) => binImm(e, Op.i64And, e.imm),
  28 /* slli */: (e) => binImm(e, Op.i64Shl, e.imm),
  29 /* srli */: (e) => binImm(e, Op.i64ShrU, e.imm),
  30 /* srai */: (e) => binImm(e, Op.i64ShrS, e.imm),
  31 /* add */: (e) => bin(e, Op.i64Add),
  32 /* sub */: (e) => bin(e, Op.i64Sub),
  33 /* sll */: (e) => bin(e, Op.i64Shl), // wasm takes the count mod 64, as RISC-V does
  34 /* slt */: (e) => setLess(e, Op.i64LtS),
  35 /* sltu */: (e) => setLess(e, Op.i64LtU),
  36 /* xor */: (e) => bin(e, Op.i64Xor),
  37 /* srl */: (e) => bin(e, Op.i64ShrU),
  38 /* sra */: (e) => bin(e, Op.i64ShrS),
  39 /* or */: (e) => bin(e, Op.i64Or),
  40 /* and */: (e) => bin(e, Op.i64And),
  41 /* addiw */: (e) => word(e, Op.i32Add, e.imm),
  42 /* slliw */: (e) => word(e, Op.i32Shl, e.imm),
  43 /* srliw */: (e) => word(e, Op.i32ShrU, e.imm),
  44 /* sraiw */: (e) => word(e, Op.i32ShrS, e.imm),
  45 /* addw */: (e) => word(e, Op.i32Add),
  46 /* subw */: (e) => word(e, Op.i32Sub),
  47 /* sllw */: (e) => word(e, Op.i32Shl),
  48 /* srlw */: (e) => word(e, Op.i32ShrU),
  49 /* sraw */: (e) => word(e, Op.i32ShrS),
};

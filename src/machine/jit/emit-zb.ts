import { OP_REGS, READS_RS2 } from "../../isa/facts.ts";
import { type BlockEmitter, forOps, type OpEmitters } from "./emit.ts";
import { bin, binImm, word, zext32 } from "./emit-base.ts";
import { Op } from "./wasm.ts";

/** Zba, Zbb and Zbs inline, each a few wasm ops. */

/** sh1add..sh3add (shift = op - add.uw) and their .uw forms (shift = op - sh3add). */
const shAdd = (e: BlockEmitter) => {
  const op = e.ins.op;
  if (op <= 102 /* sh3add */)
    e.val(e.rs1)
      .i64Const(op - 99 /* add.uw */)
      .op(Op.i64Shl);
  else
    zext32(e, e.rs1)
      .i64Const(op - 102 /* sh3add */)
      .op(Op.i64Shl);
  e.val(e.rs2).op(Op.i64Add);
  e.setRd(e.rd);
};

/** andn, orn, xnor: rs1 op ~rs2. */
const inverted = (e: BlockEmitter) => {
  e.val(e.rs1);
  e.val(e.rs2).i64Const(-1).op(Op.i64Xor);
  e.c.op([Op.i64And, Op.i64Or, Op.i64Xor][e.ins.op - 107 /* andn */]);
  e.setRd(e.rd);
};

const count = (wasmOp: number) => (e: BlockEmitter) => {
  e.val(e.rs1).op(wasmOp);
  e.setRd(e.rd);
};

const countWord = (wasmOp: number) => (e: BlockEmitter) => {
  e.val(e.rs1).op(Op.i32WrapI64, wasmOp);
  e.c.op(Op.i64ExtendI32U);
  e.setRd(e.rd);
};

/** max, maxu, min, minu: select(rs1, rs2, rs1 cmp rs2). */
const minMax = (e: BlockEmitter) => {
  e.val(e.rs1);
  e.val(e.rs2);
  e.val(e.rs1);
  e.val(e.rs2);
  e.c.op([Op.i64GtS, Op.i64GtU, Op.i64LtS, Op.i64LtU][e.ins.op - 116 /* max */], Op.select);
  e.setRd(e.rd);
};

const signExtend = (bits: number) => (e: BlockEmitter) => {
  e.val(e.rs1)
    .i64Const(64 - bits)
    .op(Op.i64Shl);
  e.c.i64Const(64 - bits).op(Op.i64ShrS);
  e.setRd(e.rd);
};

/** Zbs: the bit is rs2 or, in the immediate forms, shamt. */
const singleBit = (e: BlockEmitter) => {
  const op = e.ins.op;
  const bit = () => (OP_REGS[op] & READS_RS2 ? e.val(e.rs2) : e.c.i64Const(e.imm));
  if (op === 133 /* bext */ || op === 134 /* bexti */) {
    e.val(e.rs1);
    bit();
    e.c.op(Op.i64ShrU).i64Const(1).op(Op.i64And);
  } else {
    e.val(e.rs1);
    e.c.i64Const(1);
    bit();
    e.c.op(Op.i64Shl);
    if (op <= 132 /* bclri */) e.c.i64Const(-1).op(Op.i64Xor, Op.i64And);
    else e.c.op(op <= 136 /* binvi */ ? Op.i64Xor : Op.i64Or);
  }
  e.setRd(e.rd);
};

const BYTES_LOW7 = 0x7f7f7f7f7f7f7f7fn;
const BYTES_HIGH = -0x7f7f7f7f7f7f7f80n; // 0x8080808080808080

/**
 * orc.b: per byte, the high bit set iff the byte is non-zero
 * (((x & 0x7f..) + 0x7f..) | x) & 0x80.., no carry crossing bytes), then
 * that bit spread over the byte: (bit >> 7) * 0xff.
 */
const orCombine = (e: BlockEmitter) => {
  e.val(e.rs1).i64Const(BYTES_LOW7).op(Op.i64And).i64Const(BYTES_LOW7).op(Op.i64Add);
  e.val(e.rs1).op(Op.i64Or).i64Const(BYTES_HIGH).op(Op.i64And);
  e.c.i64Const(7).op(Op.i64ShrU).i64Const(0xff).op(Op.i64Mul);
  e.setRd(e.rd);
};

/** rev8: swap adjacent bytes, then adjacent halfwords, then the words (a rotation by 32). */
const reverseBytes = (e: BlockEmitter) => {
  const c = e.c;
  const t = e.t;
  const swap = (shift: number, mask: bigint) => {
    c.get(t).i64Const(shift).op(Op.i64ShrU).i64Const(mask).op(Op.i64And);
    c.get(t).i64Const(mask).op(Op.i64And).i64Const(shift).op(Op.i64Shl, Op.i64Or).set(t);
  };
  e.val(e.rs1).set(t);
  swap(8, 0x00ff00ff00ff00ffn);
  swap(16, 0x0000ffff0000ffffn);
  c.get(t).i64Const(32).op(Op.i64Rotl);
  e.setRd(e.rd);
};

export const ZB_EMITTERS: OpEmitters = {
  129 /* orc.b */: orCombine,
  130 /* rev8 */: reverseBytes,
  99 /* add.uw */: (e) => {
    zext32(e, e.rs1);
    e.val(e.rs2).op(Op.i64Add);
    e.setRd(e.rd);
  },
  ...forOps([100 /* sh1add */, 101 /* sh2add */, 102 /* sh3add */], shAdd),
  ...forOps([103 /* sh1add.uw */, 104 /* sh2add.uw */, 105 /* sh3add.uw */], shAdd),
  106 /* slli.uw */: (e) => {
    zext32(e, e.rs1).i64Const(e.imm).op(Op.i64Shl);
    e.setRd(e.rd);
  },
  ...forOps([107 /* andn */, 108 /* orn */, 109 /* xnor */], inverted),
  110 /* clz */: count(Op.i64Clz),
  112 /* ctz */: count(Op.i64Ctz),
  114 /* cpop */: count(Op.i64Popcnt),
  111 /* clzw */: countWord(Op.i32Clz),
  113 /* ctzw */: countWord(Op.i32Ctz),
  115 /* cpopw */: countWord(Op.i32Popcnt),
  ...forOps([116 /* max */, 117 /* maxu */, 118 /* min */, 119 /* minu */], minMax),
  120 /* sext.b */: signExtend(8),
  121 /* sext.h */: signExtend(16),
  122 /* zext.h */: (e) => binImm(e, Op.i64And, 0xffff),
  123 /* rol */: (e) => bin(e, Op.i64Rotl),
  125 /* ror */: (e) => bin(e, Op.i64Rotr),
  126 /* rori */: (e) => binImm(e, Op.i64Rotr, e.imm),
  124 /* rolw */: (e) => word(e, Op.i32Rotl),
  128 /* rorw */: (e) => word(e, Op.i32Rotr),
  127 /* roriw */: (e) => word(e, Op.i32Rotr, e.imm),
  ...forOps(
    [
      131 /* bclr */, 132 /* bclri */, 133 /* bext */, 134 /* bexti */, 135 /* binv */, 136 /* binvi */,
      137 /* bset */, 138 /* bseti */,
    ],
    singleBit,
  ),
};

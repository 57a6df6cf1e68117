import { type BlockEmitter, forOps, type OpEmitters } from "./emit.ts";
import { bin, word } from "./emit-base.ts";
import { type Code, I32, I64, Op } from "./wasm.ts";

/**
 * M inline: mul and mulw as wasm's; the high halves (mulh, mulhsu, mulhu)
 * from four 32x32-bit partial products; the divisions with RISC-V's
 * answers for a zero divisor and overflow.
 */

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

const div64 = (e: BlockEmitter) => {
  const op = e.ins.op;
  divide(
    e.c,
    W64,
    op === 68 /* div */ || op === 70 /* rem */,
    op >= 70 /* rem */,
    (r) => e.val(r),
    e.rs1,
    e.rs2,
  );
  e.setRd(e.rd);
};

const div32 = (e: BlockEmitter) => {
  const op = e.ins.op;
  const signed = op === 73 /* divw */ || op === 75 /* remw */;
  divide(e.c, W32, signed, op >= 75 /* remw */, (r) => e.val(r).op(Op.i32WrapI64), e.rs1, e.rs2);
  e.c.op(Op.i64ExtendI32S);
  e.setRd(e.rd);
};

const LOW32 = 0xffffffff;

/**
 * The high 64 bits of rs1 * rs2, unsigned, then corrected for signed
 * operands: as signed, a negative x is x + 2^64 unsigned, so each adds the
 * other operand to the high half, which mulh and mulhsu take back.
 */
const mulHigh = (e: BlockEmitter) => {
  const c = e.c;
  const op = e.ins.op;
  const s = e.i64Scratch();
  const [a, b, lh, hl] = [s, s + 1, s + 2, s + 3];
  e.val(e.rs1).set(a);
  e.val(e.rs2).set(b);
  const lo = (x: number) => c.get(x).i64Const(LOW32).op(Op.i64And);
  const hi = (x: number) => c.get(x).i64Const(32).op(Op.i64ShrU);
  lo(a);
  hi(b).op(Op.i64Mul).set(lh);
  hi(a);
  lo(b).op(Op.i64Mul).set(hl);
  // carries out of the middle column: (lo*lo >> 32) + low(lh) + low(hl) < 3 * 2^32
  lo(a);
  lo(b).op(Op.i64Mul).i64Const(32).op(Op.i64ShrU);
  lo(lh).op(Op.i64Add);
  lo(hl).op(Op.i64Add).i64Const(32).op(Op.i64ShrU);
  hi(a);
  hi(b).op(Op.i64Mul, Op.i64Add);
  hi(lh).op(Op.i64Add);
  hi(hl).op(Op.i64Add);
  if (op !== 67 /* mulhu */) {
    c.get(a).i64Const(63).op(Op.i64ShrS).get(b).op(Op.i64And, Op.i64Sub);
    if (op === 65 /* mulh */) c.get(b).i64Const(63).op(Op.i64ShrS).get(a).op(Op.i64And, Op.i64Sub);
  }
  e.setRd(e.rd);
};

export const M_EMITTERS: OpEmitters = {
  ...forOps([65 /* mulh */, 66 /* mulhsu */, 67 /* mulhu */], mulHigh),
  64 /* mul */: (e) => bin(e, Op.i64Mul),
  72 /* mulw */: (e) => word(e, Op.i32Mul),
  ...forOps([68 /* div */, 69 /* divu */, 70 /* rem */, 71 /* remu */], div64),
  ...forOps([73 /* divw */, 74 /* divuw */, 75 /* remw */, 76 /* remuw */], div32),
};

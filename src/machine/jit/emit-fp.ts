import { S_FCSR } from "../cpu/csr-slots.ts";
import { HART_CSR, HART_F } from "../memory/layout.ts";
import { type BlockEmitter, forOps, type OpEmitters, P_HART } from "./emit.ts";
import { fpInline } from "./plan.ts";
import { Op, VOID } from "./wasm.ts";

/**
 * F and D arithmetic inline in a block, in round-to-nearest-even only, on
 * the host's IEEE doubles, for the cases where the result is provably the
 * one the softfloat (cpu/fpu) gives, bits and flags: every operand and
 * result a normal number (no NaN, infinity, zero or subnormal, so no NV,
 * DZ, OF or UF), and the inexact flag decided exactly:
 *   - binary64 add/sub: Knuth's TwoSum gives the rounding error;
 *   - binary64 mul and fused multiply-add: Dekker's TwoProduct (Veltkamp
 *     split, no FMA needed) gives a*b = p + e exactly when the exponents
 *     stay within +-480 (no overflow in the split, no underflow in e); the
 *     fused sum p + e + c is exact as s + u when TwoSum(p, c) = (s, t) and
 *     t + e is itself exact, and then one rounding of s + u is the answer;
 *     otherwise the helper decides;
 *   - binary32 add/sub/mul/div/sqrt: computed in binary64 and rounded once
 *     more, which is correctly rounded because 53 >= 2*24 + 2 (Figueroa);
 *     inexact when the binary32 result, widened, differs from the exact
 *     value (products of two singles are exact in binary64);
 *   - binary32 fused: a*b is exact in binary64; when p + c is exact too,
 *     one rounding to binary32 is the answer.
 * Anything else runs the instruction through the exec helper, as the
 * interpreter would. The block checks at entry that a dynamic rounding
 * mode (frm) is RNE, so ops with rm = dyn qualify.
 */

const fReg = (r: number) => HART_F + 8 * r;
const FCSR = HART_CSR + 8 * S_FCSR;

/** Emits op (fpInline said yes) for instruction `insn`. */
function emitFp(e: BlockEmitter, op: number, insn: number): void {
  const { c } = e;
  const hart = P_HART;
  const rd = (insn >>> 7) & 31;
  const rs1 = (insn >>> 15) & 31;
  const rs2 = (insn >>> 20) & 31;
  const rs3 = insn >>> 27;
  const A = e.fp0; // FP_SCRATCH f64 locals (emit.ts)
  const B = A + 1;
  const C = A + 2;
  const S = A + 3;
  const T = A + 4;
  const U = A + 5;
  const V = A + 6;
  const W = A + 7;
  const double = op >= 171 /* fmadd.d */;
  c.op(Op.block, VOID, Op.block, VOID); // $done, $slow
  const slowIf = () => c.op(Op.brIf).u32(0);
  /** Goes slow unless the biased exponent field of the f64 in `local` lies in [lo, hi]. */
  const needExp = (local: number, lo: number, hi: number) => {
    c.get(local).op(Op.i64ReinterpretF64).i64Const(52).op(Op.i64ShrU, Op.i32WrapI64).i32Const(0x7ff);
    c.op(Op.i32And)
      .i32Const(lo)
      .op(Op.i32Sub)
      .i32Const(hi - lo + 1)
      .op(Op.i32GeU);
    slowIf();
  };
  /** Loads operand r into `local` as an f64, going slow unless it is a normal number (a boxed one for singles). */
  const operand = (r: number, local: number) => {
    if (double) {
      c.get(hart).mem(Op.f64Load, 3, fReg(r)).set(local);
      needExp(local, 1, 0x7fe);
      return;
    }
    c.get(hart)
      .mem(Op.i32Load, 2, fReg(r) + 4)
      .i32Const(-1)
      .op(Op.i32Ne);
    slowIf();
    c.get(hart).mem(Op.i32Load, 2, fReg(r)).i32Const(23).op(Op.i32ShrU).i32Const(0xff).op(Op.i32And);
    c.i32Const(1).op(Op.i32Sub).i32Const(0xfe).op(Op.i32GeU);
    slowIf();
    c.get(hart).mem(Op.f32Load, 2, fReg(r)).op(Op.f64PromoteF32).set(local);
  };
  /** a and b of a binary64 product into A and B, within the exponent range TwoProduct needs. */
  const productOperands = () => {
    operand(rs1, A);
    operand(rs2, B);
    needExp(A, 1023 - 480, 1023 + 480);
    needExp(B, 1023 - 480, 1023 + 480);
  };
  /** TwoSum(x, y): the rounding error of x + y (whose rounded value is in `sum`) into `err`. */
  const twoSumErr = (x: number, y: number, sum: number, err: number) => {
    c.get(sum).get(x).op(Op.f64Sub).set(W); // bb
    c.get(x).get(sum).get(W).op(Op.f64Sub, Op.f64Sub); // x - (sum - bb)
    c.get(y).get(W).op(Op.f64Sub, Op.f64Add).set(err);
  };
  /** ORs the i32 condition emitted by emitCond (0 or 1) into fflags.NX. */
  const raiseNxIf = (emitCond: () => void) => {
    c.get(hart).get(hart).mem(Op.i32Load, 2, FCSR);
    emitCond();
    c.op(Op.i32Or).mem(Op.i32Store, 2, FCSR);
  };
  const storeD = (local: number) => {
    c.get(hart).get(local).mem(Op.f64Store, 3, fReg(rd));
  };
  /** Rounds the f64 in `local` to binary32 (slow unless normal), stores it NaN-boxed; leaves it widened in `local`. */
  const storeS = (local: number) => {
    c.get(local).op(Op.f32DemoteF64, Op.f64PromoteF32).set(V);
    // binary32's normal range as binary64 exponents, less the smallest binade (tininess after rounding)
    needExp(V, 0x382, 0x47e);
    c.get(hart).get(V).op(Op.f32DemoteF64, Op.i32ReinterpretF32, Op.i64ExtendI32U);
    c.i64Const(-0x100000000n).op(Op.i64Or).mem(Op.i64Store, 3, fReg(rd));
  };
  /** Veltkamp split of `x` into hi (into `h`) and lo (into `l`). */
  const split = (x: number, h: number, l: number) => {
    c.f64Const(134217729).get(x).op(Op.f64Mul).set(l); // c = (2^27 + 1) x
    c.get(l).get(l).get(x).op(Op.f64Sub, Op.f64Sub).set(h); // hi = c - (c - x)
    c.get(x).get(h).op(Op.f64Sub).set(l); // lo = x - hi
  };
  /**
   * TwoProduct of A and B (exponents already checked): p = A*B into S, slow
   * unless normal, and its exact error into `err`. Uses U, V, W, T.
   */
  const twoProduct = (err: number) => {
    c.get(A).get(B).op(Op.f64Mul).set(S);
    needExp(S, 2, 0x7fe);
    split(A, U, V); // ah, al
    split(B, W, T); // bh, bl
    // e = ((ah*bh - p) + ah*bl + al*bh) + al*bl
    c.get(U).get(W).op(Op.f64Mul).get(S).op(Op.f64Sub);
    c.get(U).get(T).op(Op.f64Mul, Op.f64Add);
    c.get(V).get(W).op(Op.f64Mul, Op.f64Add);
    c.get(V).get(T).op(Op.f64Mul, Op.f64Add).set(err);
  };

  switch (op) {
    case 175 /* fadd.d */:
    case 176 /* fsub.d */:
      operand(rs1, A);
      operand(rs2, B);
      if (op === 176 /* fsub.d */) c.get(B).op(Op.f64Neg).set(B);
      c.get(A).get(B).op(Op.f64Add).set(S);
      needExp(S, 2, 0x7fe);
      twoSumErr(A, B, S, T);
      storeD(S);
      raiseNxIf(() => c.get(T).f64Const(0).op(Op.f64Ne));
      break;
    case 177 /* fmul.d */:
      productOperands();
      twoProduct(C);
      storeD(S);
      raiseNxIf(() => c.get(C).f64Const(0).op(Op.f64Ne));
      break;
    case 171 /* fmadd.d */:
    case 172 /* fmsub.d */:
    case 173 /* fnmsub.d */:
    case 174 /* fnmadd.d */:
      productOperands();
      operand(rs3, C);
      needExp(C, 1023 - 960, 1023 + 960);
      // fnmsub/fnmadd negate the product (negate a), fmsub/fnmadd subtract c: exact sign flips.
      if (op >= 173 /* fnmsub.d */) c.get(A).op(Op.f64Neg).set(A);
      if (op === 172 /* fmsub.d */ || op === 174 /* fnmadd.d */) c.get(C).op(Op.f64Neg).set(C);
      twoProduct(B); // p in S, e in B
      c.get(S).get(C).op(Op.f64Add).set(A); // s
      twoSumErr(S, C, A, T); // t
      c.get(T).get(B).op(Op.f64Add).set(U); // u = t + e, which must be exact
      twoSumErr(T, B, U, V);
      c.get(V).f64Const(0).op(Op.f64Ne);
      slowIf();
      c.get(A).get(U).op(Op.f64Add).set(S); // r = s + u: the exact value, rounded once
      needExp(S, 2, 0x7fe);
      twoSumErr(A, U, S, T);
      storeD(S);
      raiseNxIf(() => c.get(T).f64Const(0).op(Op.f64Ne));
      break;
    case 145 /* fadd.s */:
    case 146 /* fsub.s */:
      operand(rs1, A);
      operand(rs2, B);
      if (op === 146 /* fsub.s */) c.get(B).op(Op.f64Neg).set(B);
      c.get(A).get(B).op(Op.f64Add).set(S);
      twoSumErr(A, B, S, T);
      storeS(S);
      // inexact: the double sum was, or rounding it to single changed it
      raiseNxIf(() => {
        c.get(T).f64Const(0).op(Op.f64Ne);
        c.get(V).get(S).op(Op.f64Ne, Op.i32Or);
      });
      break;
    case 147 /* fmul.s */:
      operand(rs1, A);
      operand(rs2, B);
      c.get(A).get(B).op(Op.f64Mul).set(S); // exact
      storeS(S);
      raiseNxIf(() => c.get(V).get(S).op(Op.f64Ne));
      break;
    case 148 /* fdiv.s */:
      operand(rs1, A);
      operand(rs2, B);
      c.get(A).get(B).op(Op.f64Div).set(S);
      storeS(S);
      // exact iff r * b == a (a product of singles is exact in binary64)
      raiseNxIf(() => c.get(V).get(B).op(Op.f64Mul).get(A).op(Op.f64Ne));
      break;
    case 149 /* fsqrt.s */:
      operand(rs1, A);
      c.get(A).f64Const(0).op(Op.f64Lt);
      slowIf(); // negative: invalid
      c.get(A).op(Op.f64Sqrt).set(S);
      storeS(S);
      raiseNxIf(() => c.get(V).get(V).op(Op.f64Mul).get(A).op(Op.f64Ne));
      break;
    default: {
      // binary32 fused: fmadd.s 141 .. fnmadd.s 144
      operand(rs1, A);
      operand(rs2, B);
      operand(rs3, C);
      if (op >= 143 /* fnmsub.s */) c.get(A).op(Op.f64Neg).set(A);
      if (op === 142 /* fmsub.s */ || op === 144 /* fnmadd.s */) c.get(C).op(Op.f64Neg).set(C);
      c.get(A).get(B).op(Op.f64Mul).set(U); // exact
      c.get(U).get(C).op(Op.f64Add).set(S);
      twoSumErr(U, C, S, T);
      c.get(T).f64Const(0).op(Op.f64Ne);
      slowIf();
      storeS(S);
      raiseNxIf(() => c.get(V).get(S).op(Op.f64Ne));
    }
  }
  e.fpDirty();
  c.op(Op.br).u32(1); // $done
  c.op(Op.end); // $slow
  e.helper();
  c.op(Op.end); // $done
}

/** The F and D arithmetic ops with an inline path; the exec helper when the rounding mode rules it out. */
export const FP_EMITTERS: OpEmitters = forOps(
  [
    141 /* fmadd.s */, 142 /* fmsub.s */, 143 /* fnmsub.s */, 144 /* fnmadd.s */, 145 /* fadd.s */,
    146 /* fsub.s */, 147 /* fmul.s */, 148 /* fdiv.s */, 149 /* fsqrt.s */, 171 /* fmadd.d */,
    172 /* fmsub.d */, 173 /* fnmsub.d */, 174 /* fnmadd.d */, 175 /* fadd.d */, 176 /* fsub.d */,
    177 /* fmul.d */,
  ],
  (e) => {
    const { op, insn } = e.ins;
    if (fpInline(op, (insn >>> 12) & 7)) emitFp(e, op, insn);
    else e.helper();
  },
);

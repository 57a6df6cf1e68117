import { forOps, type OpEmitters } from "./emit.ts";
import { type FpOp, fpEmitter, MIN32, MIN64 } from "./emit-fp-common.ts";
import { Op } from "./wasm.ts";

/**
 * F and D arithmetic inline in a block, in round-to-nearest-even (static,
 * or dyn with frm checked at block entry), on the host's IEEE doubles,
 * wherever the result is provably the softfloat's (cpu/fpu), bits and
 * flags; anything else (NaN and infinite operands or results, overflow,
 * possible underflow, an unresolved tie) runs through the exec helper.
 * The proofs are those of the interpreter's own fast paths
 * (cpu/fpu/fast.ts, whose conditions this code follows op for op):
 *   - binary64 add/sub: a finite sum is correctly rounded by the host, and
 *     Knuth's TwoSum gives its error exactly (a sum of doubles in the
 *     subnormal range is exact, so no underflow); inexact iff the error is
 *     non-zero;
 *   - binary64 mul: a zero product with a zero operand is exact; otherwise
 *     Dekker's TwoProduct (Veltkamp split) gives a*b = p + e exactly with
 *     exponents within +-480 and a normal p;
 *   - binary64 fused: fastMulAdd64's TwoProduct/TwoSum chain, its zero
 *     product case, and its midpoint check;
 *   - binary64 div and sqrt: fastDiv64's and fastSqrt64's residual checks
 *     (q*b == a, s*s == a through TwoProduct), plus zero operands;
 *   - binary32: one binary64 operation and one rounding to binary32, which
 *     is correctly rounded for + - * / sqrt (53 >= 2*24 + 2, Figueroa),
 *     inexactness from the binary64 error and the second rounding; fused
 *     ops as fastMulAdd32, with its binary32 midpoint check.
 * Tininess is after rounding on RISC-V: a result above 2^-1022 (2^-126)
 * in magnitude is not tiny, one at or below it goes to the helper unless
 * it is exact.
 */

const SPLIT = 134217729; // 2^27 + 1: Veltkamp splitter for binary64
const SPLIT25 = 268435457; // 2^28 + 1: splits off the leading 25 bits of a binary64

/** TwoSum(x, y) with `sum` = RN(x + y) already set: the exact error into `err` (uses `tmp`). */
function twoSumErr(o: FpOp, x: number, y: number, sum: number, err: number, tmp: number): void {
  const c = o.c;
  c.get(sum).get(x).op(Op.f64Sub).set(tmp); // y' = sum - x
  c.get(x).get(sum).get(tmp).op(Op.f64Sub, Op.f64Sub); // x - (sum - y')
  c.get(y).get(tmp).op(Op.f64Sub, Op.f64Add).set(err); // + (y - y')
}

/** Veltkamp split of `x` into hi (`h`) and lo (`l`). */
function split(o: FpOp, x: number, h: number, l: number): void {
  const c = o.c;
  c.f64Const(SPLIT).get(x).op(Op.f64Mul).set(l); // t = (2^27 + 1) x
  c.get(l).get(l).get(x).op(Op.f64Sub, Op.f64Sub).set(h); // hi = t - (t - x)
  c.get(x).get(h).op(Op.f64Sub).set(l); // lo = x - hi
}

/**
 * TwoProduct of x and y whose rounded product is in `p`: the exact error
 * (given no overflow in the splits and no underflow in the error) into
 * `err`, as ((xh*yh - p) + xh*yl + xl*yh) + xl*yl. Uses four temporaries.
 */
function twoProductErr(o: FpOp, x: number, y: number, p: number, err: number, t: number[]): void {
  if (t.length < 4) throw new Error("twoProductErr needs four temporaries");
  const c = o.c;
  const [xh, xl, yh, yl] = t;
  split(o, x, xh, xl);
  split(o, y, yh, yl);
  c.get(xh).get(yh).op(Op.f64Mul).get(p).op(Op.f64Sub);
  c.get(xh).get(yl).op(Op.f64Mul, Op.f64Add);
  c.get(xl).get(yh).op(Op.f64Mul, Op.f64Add);
  c.get(xl).get(yl).op(Op.f64Mul, Op.f64Add).set(err);
}

/** Raises NX if the f64 in `local` is non-zero. */
function nxIfNonZero(o: FpOp, local: number): void {
  o.raise(() => o.c.get(local).f64Const(0).op(Op.f64Ne));
}

/** Rounds the f64 in `from` to binary32 and back into `to` (a binary32 value, exactly). */
function round32(o: FpOp, from: number, to: number): void {
  o.c.get(from).op(Op.f32DemoteF64, Op.f64PromoteF32).set(to);
}

/** fadd/fsub: a and b (b negated for fsub) into A and B. */
function addOperands(o: FpOp, double: boolean): void {
  const [A, B] = o.f;
  o.load(o.rs1, double).set(A);
  o.load(o.rs2, double);
  if (o.op === 176 /* fsub.d */ || o.op === 146 /* fsub.s */) o.c.op(Op.f64Neg);
  o.c.set(B);
}

const addD = fpEmitter((o) => {
  const c = o.c;
  const [A, B, S, T, W] = o.f;
  addOperands(o, true);
  c.get(A).get(B).op(Op.f64Add).set(S);
  o.notFinite(S);
  o.slowIf();
  twoSumErr(o, A, B, S, T, W);
  o.storeD(S);
  nxIfNonZero(o, T);
});

const addS = fpEmitter((o) => {
  const c = o.c;
  const [A, B, S, T, W, R] = o.f;
  addOperands(o, false);
  c.get(A).get(B).op(Op.f64Add).set(S);
  round32(o, S, R);
  o.notFinite(R);
  o.slowIf();
  twoSumErr(o, A, B, S, T, W);
  o.storeS(R);
  // inexact: the binary64 sum was, or rounding it to binary32 changed it
  o.raise(() => {
    c.get(T).f64Const(0).op(Op.f64Ne);
    c.get(R).get(S).op(Op.f64Ne, Op.i32Or);
  });
});

const mulD = fpEmitter((o) => {
  const c = o.c;
  const [A, B, P, E, ...t] = o.f;
  o.loadD(o.rs1).set(A);
  o.loadD(o.rs2).set(B);
  c.get(A).get(B).op(Op.f64Mul).tee(P).f64Const(0).op(Op.f64Eq);
  o.ifOpen();
  // a zero product: exact if an operand is zero (the other is then finite), else underflow
  c.get(A).f64Const(0).op(Op.f64Eq);
  c.get(B).f64Const(0).op(Op.f64Eq, Op.i32Or, Op.i32Eqz);
  o.slowIf();
  o.else();
  o.expOutside(A, 1023 - 480, 1023 + 480);
  o.expOutside(B, 1023 - 480, 1023 + 480).op(Op.i32Or);
  o.expOutside(P, 2, 0x7fe).op(Op.i32Or);
  o.slowIf();
  twoProductErr(o, A, B, P, E, t);
  nxIfNonZero(o, E);
  o.ifClose();
  o.storeD(P);
});

const mulS = fpEmitter((o) => {
  const c = o.c;
  const [A, B, P, R] = o.f;
  o.loadS(o.rs1).set(A);
  o.loadS(o.rs2).set(B);
  c.get(A).get(B).op(Op.f64Mul).set(P); // exact
  round32(o, P, R);
  // slow unless normal, or an exact zero (p == 0 only with a zero operand: binary32 products do not underflow binary64)
  o.notSafeNormal(R, MIN32);
  c.get(P).f64Const(0).op(Op.f64Ne, Op.i32And);
  o.slowIf();
  o.storeS(R);
  o.raise(() => c.get(R).get(P).op(Op.f64Ne));
});

/** binary64 fused ops (fastMulAdd64): a*b + c with a negated for fnm*, c negated for fmsub/fnmadd. */
const fmaD = fpEmitter((o) => {
  const c = o.c;
  const op = o.op;
  const [A, B, C, P, T, U, V, W] = o.f;
  o.loadD(o.rs1);
  if (op >= 173 /* fnmsub.d */) c.op(Op.f64Neg);
  c.set(A);
  o.loadD(o.rs2).set(B);
  o.loadD(o.rs3);
  if (op === 172 /* fmsub.d */ || op === 174 /* fnmadd.d */) c.op(Op.f64Neg);
  c.set(C);
  // both factors normal, |a|, |b| < 2^996, exponent sum in [-968, 1021] (biased sum in [1078, 3067])
  o.expOf(A).i32Const(1).op(Op.i32Sub).i32Const(2018).op(Op.i32LtU);
  o.expOf(B).i32Const(1).op(Op.i32Sub).i32Const(2018).op(Op.i32LtU, Op.i32And);
  o.expOf(A);
  o.expOf(B).op(Op.i32Add).i32Const(1078).op(Op.i32Sub).i32Const(1990).op(Op.i32LtU, Op.i32And);
  o.ifOpen();
  c.get(A).get(B).op(Op.f64Mul).set(P);
  twoProductErr(o, A, B, P, B, [T, U, V, W]); // e into B
  c.get(P).get(C).op(Op.f64Add).set(A); // s
  twoSumErr(o, P, C, A, T, W); // t
  c.get(B).f64Const(0).op(Op.f64Eq);
  c.get(T).f64Const(0).op(Op.f64Eq, Op.i32And);
  o.ifOpen();
  // exact product and exact sum: s is the result
  o.notFinite(A);
  o.slowIf();
  c.get(A).set(P);
  o.else();
  c.get(T).get(B).op(Op.f64Add).set(U); // u = t + e
  twoSumErr(o, T, B, U, V, W); // w
  c.get(A).get(U).op(Op.f64Add).set(P); // r = RN(s + u)
  twoSumErr(o, A, U, P, C, W); // v
  // slow unless r is normal (and finite), or an exact cancellation to zero
  o.notSafeNormal(P, MIN64);
  c.get(P).f64Const(0).op(Op.f64Eq);
  c.get(V).f64Const(0).op(Op.f64Eq, Op.i32And, Op.i32Eqz, Op.i32And);
  o.slowIf();
  // w != 0 and s + u a rounding midpoint (r + 2v the neighbour of r): the tie w breaks is the helper's
  c.get(V).f64Const(0).op(Op.f64Ne);
  c.get(C).f64Const(0).op(Op.f64Ne, Op.i32And);
  c.get(P).get(C).get(C).op(Op.f64Add, Op.f64Add).get(P).op(Op.f64Sub);
  c.get(C).get(C).op(Op.f64Add, Op.f64Eq, Op.i32And);
  o.slowIf();
  o.raise(() => {
    c.get(V).f64Const(0).op(Op.f64Ne);
    c.get(C).f64Const(0).op(Op.f64Ne, Op.i32Or);
  });
  o.ifClose();
  o.else();
  // a zero factor gives an exact zero product, then RN(+-0 + c) is exact; other factors: helper
  c.get(A).f64Const(0).op(Op.f64Ne);
  c.get(B).f64Const(0).op(Op.f64Ne, Op.i32And);
  o.slowIf();
  c.get(A).get(B).op(Op.f64Mul).get(C).op(Op.f64Add).set(P);
  o.notFinite(P);
  o.slowIf();
  o.ifClose();
  o.storeD(P);
});

/** binary32 fused ops (fastMulAdd32). */
const fmaS = fpEmitter((o) => {
  const c = o.c;
  const op = o.op;
  const [A, B, C, P, S, R, T, W] = o.f;
  o.loadS(o.rs1);
  if (op >= 143 /* fnmsub.s */) c.op(Op.f64Neg);
  c.set(A);
  o.loadS(o.rs2).set(B);
  o.loadS(o.rs3);
  if (op === 142 /* fmsub.s */ || op === 144 /* fnmadd.s */) c.op(Op.f64Neg);
  c.set(C);
  c.get(A).get(B).op(Op.f64Mul).set(P); // exact
  c.get(P).get(C).op(Op.f64Add).set(S);
  round32(o, S, R);
  // slow unless normal, or s == 0 (an exact zero: a non-zero p + c never rounds to 0 in binary64)
  o.notSafeNormal(R, MIN32);
  c.get(S).f64Const(0).op(Op.f64Ne, Op.i32And);
  o.slowIf();
  twoSumErr(o, P, C, S, T, W); // e
  // e != 0 and s a binary32 midpoint (25 significant bits, not a binary32): the helper's
  c.get(T).f64Const(0).op(Op.f64Ne);
  c.get(R).get(S).op(Op.f64Ne, Op.i32And);
  c.f64Const(SPLIT25).get(S).op(Op.f64Mul).tee(W).get(W).get(S).op(Op.f64Sub, Op.f64Sub);
  c.get(S).op(Op.f64Eq, Op.i32And);
  o.slowIf();
  o.storeS(R);
  o.raise(() => {
    c.get(T).f64Const(0).op(Op.f64Ne);
    c.get(R).get(S).op(Op.f64Ne, Op.i32Or);
  });
});

/** fdiv.d (fastDiv64): |a|, |b| in [2^-969, 2^996), exponents at most 990 apart; or a zero dividend. */
const divD = fpEmitter((o) => {
  const c = o.c;
  const [A, B, Q, PH, ...t] = o.f;
  const PL = t[0]; // written after the temporaries' last use
  o.loadD(o.rs1).set(A);
  o.loadD(o.rs2).set(B);
  o.expOf(A).i32Const(54).op(Op.i32Sub).i32Const(1965).op(Op.i32LtU);
  o.expOf(B).i32Const(54).op(Op.i32Sub).i32Const(1965).op(Op.i32LtU, Op.i32And);
  o.expOf(A);
  o.expOf(B).op(Op.i32Sub).i32Const(990).op(Op.i32Add).i32Const(1980).op(Op.i32LeU, Op.i32And);
  o.ifOpen();
  c.get(A).get(B).op(Op.f64Div).set(Q);
  c.get(Q).get(B).op(Op.f64Mul).set(PH);
  twoProductErr(o, Q, B, PH, PL, t);
  // exact iff a - q*b == 0, i.e. a - ph == pl (a - ph is exact: Sterbenz)
  o.raise(() => c.get(A).get(PH).op(Op.f64Sub).get(PL).op(Op.f64Ne));
  o.else();
  // 0 / b for finite non-zero or infinite b: an exact zero
  c.get(A).f64Const(0).op(Op.f64Ne);
  o.isNaN(B).op(Op.i32Or);
  c.get(B).f64Const(0).op(Op.f64Eq, Op.i32Or);
  o.slowIf();
  c.get(A).get(B).op(Op.f64Div).set(Q);
  o.ifClose();
  o.storeD(Q);
});

/** fsqrt.d (fastSqrt64): a positive in [2^-969, 2^968); or a zero (sqrt(-0) = -0). */
const sqrtD = fpEmitter((o) => {
  const c = o.c;
  const [A, S, PH, PL, ...t] = o.f;
  o.loadD(o.rs1).set(A);
  c.get(A).op(Op.i64ReinterpretF64).i64Const(0).op(Op.i64GeS);
  o.expOf(A).i32Const(54).op(Op.i32Sub).i32Const(1937).op(Op.i32LtU, Op.i32And);
  o.ifOpen();
  c.get(A).op(Op.f64Sqrt).set(S);
  c.get(S).get(S).op(Op.f64Mul).set(PH);
  twoProductErr(o, S, S, PH, PL, t);
  o.raise(() => c.get(A).get(PH).op(Op.f64Sub).get(PL).op(Op.f64Ne));
  o.else();
  c.get(A).f64Const(0).op(Op.f64Ne);
  o.slowIf();
  c.get(A).set(S);
  o.ifClose();
  o.storeD(S);
});

/** fdiv.s (fastDiv32): one rounding of the binary64 quotient; exact iff r*b == a, or a zero dividend. */
const divS = fpEmitter((o) => {
  const c = o.c;
  const [A, B, R] = o.f;
  o.loadS(o.rs1).set(A);
  o.loadS(o.rs2).set(B);
  c.get(A).get(B).op(Op.f64Div).set(R);
  round32(o, R, R);
  o.notSafeNormal(R, MIN32);
  c.get(A).f64Const(0).op(Op.f64Eq);
  c.get(R).f64Const(0).op(Op.f64Eq, Op.i32And, Op.i32Eqz, Op.i32And);
  o.slowIf();
  o.storeS(R);
  o.raise(() => {
    c.get(A).f64Const(0).op(Op.f64Ne);
    c.get(R).get(B).op(Op.f64Mul).get(A).op(Op.f64Ne, Op.i32And);
  });
});

/** fsqrt.s (fastSqrt32): every finite root is normal or zero; exact iff r*r == a. */
const sqrtS = fpEmitter((o) => {
  const c = o.c;
  const [A, R] = o.f;
  o.loadS(o.rs1).set(A);
  c.get(A).op(Op.f64Sqrt).set(R);
  round32(o, R, R);
  o.notFinite(R);
  o.slowIf();
  o.storeS(R);
  o.raise(() => c.get(R).get(R).op(Op.f64Mul).get(A).op(Op.f64Ne));
});

export const FP_EMITTERS: OpEmitters = {
  ...forOps([175 /* fadd.d */, 176 /* fsub.d */], addD),
  ...forOps([145 /* fadd.s */, 146 /* fsub.s */], addS),
  177 /* fmul.d */: mulD,
  147 /* fmul.s */: mulS,
  ...forOps([171 /* fmadd.d */, 172 /* fmsub.d */, 173 /* fnmsub.d */, 174 /* fnmadd.d */], fmaD),
  ...forOps([141 /* fmadd.s */, 142 /* fmsub.s */, 143 /* fnmsub.s */, 144 /* fnmadd.s */], fmaS),
  178 /* fdiv.d */: divD,
  179 /* fsqrt.d */: sqrtD,
  148 /* fdiv.s */: divS,
  149 /* fsqrt.s */: sqrtS,
};

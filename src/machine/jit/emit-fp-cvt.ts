import { forOps, type OpEmitters } from "./emit.ts";
import { FLAG_NV, FLAG_NX, fpEmitter, fpEmitterNoSlow, MIN32 } from "./emit-fp-common.ts";
import { Op, TruncSat } from "./wasm.ts";

/**
 * F/D conversions (unpriv spec 11.7, 12.5) inline:
 *   - to integers (fcvt.w/wu/l/lu.s/d) in RNE, RTZ, RDN and RUP: wasm's
 *     nearest (ties to even), trunc, floor and ceil give the integral
 *     value r; in range, the result is r, inexact iff r != a; out of range
 *     or NaN, NV and RISC-V's saturated result (NaN as the largest
 *     positive value), which wasm's saturating truncation gives but for
 *     NaN; RMM goes to the helper;
 *   - from integers: wasm's conversions round to nearest even; the
 *     result is exact iff the integer's significant bits (from its highest
 *     to its lowest set bit of the magnitude) fit the significand, 53 or 24;
 *   - binary64 -> binary32: exact iff it widens back to the same value;
 *     else inexact if the result is normal, the helper otherwise (overflow,
 *     possible underflow, NaN); binary32 -> binary64 is exact but for NaN.
 */

/** By op: fcvt.w, wu, l, lu from binary32 (155..158) or binary64 (191..194). */
const TO_INT = [
  { lo: -(2 ** 31), hi: 2 ** 31, sat: TruncSat.i32F64S, nan: 0x7fffffff, wide: false },
  { lo: 0, hi: 2 ** 32, sat: TruncSat.i32F64U, nan: -1, wide: false },
  { lo: -(2 ** 63), hi: 2 ** 63, sat: TruncSat.i64F64S, nan: 0x7fffffffffffffffn, wide: true },
  { lo: 0, hi: 2 ** 64, sat: TruncSat.i64F64U, nan: -1, wide: true },
];
/** wasm's rounding to an integral value, by rm: RNE (and dyn, checked RNE at block entry), RTZ, RDN, RUP. */
const ROUND = [Op.f64Nearest, Op.f64Trunc, Op.f64Floor, Op.f64Ceil];

const toInt = fpEmitterNoSlow((o) => {
  const c = o.c;
  const double = o.op >= 191 /* fcvt.w.d */;
  const t = TO_INT[o.op - (double ? 191 /* fcvt.w.d */ : 155) /* fcvt.w.s */];
  const [A, R] = o.f;
  o.load(o.rs1, double).set(A);
  c.get(A)
    .op(ROUND[o.rm === 7 ? 0 : o.rm])
    .set(R);
  // the result: saturated by wasm, NaN fixed up; 32-bit results sign-extended (wu too, as RV64 does)
  if (t.wide) c.i64Const(t.nan);
  else c.i32Const(t.nan as number);
  c.get(R).truncSat(t.sat);
  o.isNaN(A).op(Op.select);
  if (!t.wide) c.op(Op.i64ExtendI32S);
  o.e.setRd(o.rd);
  // flags: NX if in range and inexact, NV if out of range or NaN (r's compares are false for NaN)
  o.raise(() => {
    c.get(R).get(A).op(Op.f64Ne).i32Const(FLAG_NX).op(Op.i32And);
    c.i32Const(FLAG_NV);
    c.get(R).f64Const(t.lo).op(Op.f64Ge);
    c.get(R).f64Const(t.hi).op(Op.f64Lt, Op.i32And, Op.select);
  });
});

/**
 * By op: fcvt.s.w, wu, l, lu (164..167) and fcvt.d.w, wu, l, lu (195..198):
 * how rs1 becomes the i64 converted, and whether that i64 is unsigned.
 */
const FROM_INT = [
  { word: true, signed: true },
  { word: true, signed: false },
  { word: false, signed: true },
  { word: false, signed: false },
];

const fromInt = fpEmitterNoSlow((o) => {
  const c = o.c;
  const e = o.e;
  const double = o.op >= 195 /* fcvt.d.w */;
  const s = FROM_INT[o.op - (double ? 195 /* fcvt.d.w */ : 164) /* fcvt.s.w */];
  e.val(o.rs1);
  if (s.word) c.op(Op.i32WrapI64, s.signed ? Op.i64ExtendI32S : Op.i64ExtendI32U);
  c.set(e.t);
  const [R] = o.f;
  c.get(e.t);
  if (double) c.op(s.signed ? Op.f64ConvertI64S : Op.f64ConvertI64U);
  else c.op(s.signed ? Op.f32ConvertI64S : Op.f32ConvertI64U, Op.f64PromoteF32);
  c.set(R);
  o.store(R, double);
  if (double && s.word) return; // exact
  // inexact iff the magnitude's significant bits span more than the significand: clz + ctz < 64 - p
  o.raise(() => {
    if (s.signed) {
      // |x| (2^63, as unsigned, for the most negative)
      c.i64Const(0).get(e.t).op(Op.i64Sub).get(e.t);
      c.get(e.t).i64Const(0).op(Op.i64LtS, Op.select).set(e.t);
    }
    c.get(e.t).op(Op.i64Clz).get(e.t).op(Op.i64Ctz, Op.i64Add);
    c.i64Const(64 - (double ? 53 : 24)).op(Op.i64LtU);
  });
});

/** fcvt.s.d: RN to binary32; exact if it widens back to the same value (zeros, infinities included). */
const narrow = fpEmitter((o) => {
  const c = o.c;
  const [A, R] = o.f;
  o.loadD(o.rs1).set(A);
  c.get(A).op(Op.f32DemoteF64, Op.f64PromoteF32).set(R);
  c.get(R).get(A).op(Op.f64Ne);
  o.ifOpen();
  o.notSafeNormal(R, MIN32);
  o.slowIf();
  o.raise(() => c.i32Const(FLAG_NX));
  o.ifClose();
  o.storeS(R);
});

/** fcvt.d.s: exact; NaN (its canonical form and NV for a signalling one) through the helper. */
const widen = fpEmitter((o) => {
  const [A] = o.f;
  o.loadS(o.rs1).set(A);
  o.isNaN(A);
  o.slowIf();
  o.storeD(A);
});

export const FP_CVT_EMITTERS: OpEmitters = {
  ...forOps(
    [
      155 /* fcvt.w.s */, 156 /* fcvt.wu.s */, 157 /* fcvt.l.s */, 158 /* fcvt.lu.s */, 191 /* fcvt.w.d */,
      192 /* fcvt.wu.d */, 193 /* fcvt.l.d */, 194 /* fcvt.lu.d */,
    ],
    toInt,
  ),
  ...forOps(
    [
      164 /* fcvt.s.w */, 165 /* fcvt.s.wu */, 166 /* fcvt.s.l */, 167 /* fcvt.s.lu */, 195 /* fcvt.d.w */,
      196 /* fcvt.d.wu */, 197 /* fcvt.d.l */, 198 /* fcvt.d.lu */,
    ],
    fromInt,
  ),
  185 /* fcvt.s.d */: narrow,
  186 /* fcvt.d.s */: widen,
};

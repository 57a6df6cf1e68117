/**
 * Round-to-nearest-even fast paths for the arithmetic of the F and D extensions.
 *
 * The host's double arithmetic is IEEE 754 binary64 with round-to-nearest-even, so where the
 * operation's exact result provably rounds the same way in the host and on RISC-V, and no flag
 * other than NX can be raised, the result is a few host operations. Each function here returns the
 * fflags (0 or FLAG_NX) with the result in fpResult, exactly as the softfloat would, or -1 when it
 * cannot prove that (NaN or infinite operands or results, possible overflow or underflow, the
 * rare unresolved tie): the caller then runs the softfloat. Only call them for rm === RNE.
 *
 * Inexactness is decided by error-free transforms (all exact under the range guards below):
 * - TwoSum (Knuth, TAOCP vol. 2 4.2.2): s = RN(a + b) and t = (a - (s - b')) + (b - b'),
 *   b' = s - a, give a + b = s + t exactly; Fast2Sum (Dekker) likewise when |a| >= |b|.
 * - TwoProduct (Dekker 1971, Veltkamp splitting by 2^27 + 1): p = RN(a * b) and an exact e with
 *   a * b = p + e, provided the split does not overflow and e does not underflow.
 * - A quotient q is exact iff q * b == a exactly, a root s iff s * s == a (checked with
 *   TwoProduct for binary64, directly for binary32 whose products are exact in binary64).
 * binary32 results come from one binary64 operation and Math.fround: double rounding through a
 * format of q >= 2p + 2 bits is innocuous for + - * / sqrt (Figueroa 1995, "When is double
 * rounding innocuous?"; 53 >= 2 * 24 + 2). The fused ops need more care (see fastMulAdd32).
 *
 * Nothing here allocates: doubles are decoded arithmetically from the int32 words, as
 * (significand with its hidden bit) * (sign * 2^(e - 1075)) (see POW2 in common.ts; NaNs and
 * infinities decode as infinities, which the result checks reject; the scale is computed off the
 * significand's dependency chain, which matters for latency-bound chains of fmadd), and encoded
 * through the preallocated scratch arrays.
 */

import { d32, d64, FLAG_NX, fpResult, HI, i32, i64, LO, POW2, TWO32 } from "./common.ts";

const SPLIT = 134217729; // 2^27 + 1: Veltkamp splitter for binary64 (26 + 27 bit halves)
const SPLIT25 = 268435457; // 2^28 + 1: splits off the leading 25 bits of a binary64
const MIN64 = 2.2250738585072014e-308; // 2^-1022, smallest normal binary64
const MIN32 = 1.1754943508222875e-38; // 2^-126, smallest normal binary32
const NEG = 0x80000000 | 0;

/*
 * Why results at or below the smallest normal are left to the softfloat: RISC-V detects tininess
 * after rounding, so an inexact result that rounds up to exactly 2^-1022 (2^-126) may still raise
 * UF. A result r > 2^-1022 means the exact value is >= 2^-1022 (rounding is monotone), so it is
 * not tiny and the host rounded it on the normal grid, like the softfloat. A finite r likewise
 * means the exact value did not overflow in round-to-nearest.
 */

// --- binary64 -------------------------------------------------------------------------------------

/*
 * fadd.d, fsub.d and fmul.d have no fast path here: the softfloat's f64Add and f64Mul already
 * compute the RNE result natively (Fast2Sum, TwoProduct) and test rm only afterwards, so a
 * second layer only adds a call (measured 0.5 to 1.7 ns slower per instruction).
 */

/**
 * fdiv.d: |a|, |b| in [2^-969, 2^996) and exponents at most 990 apart: the quotient q is normal,
 * q and b split without overflow and the residual a - q*b is exact (Sterbenz for a - RN(q*b),
 * TwoProduct for the rest), so it is zero iff the division was exact.
 */
export function fastDiv64(aLo: number, aHi: number, bLo: number, bHi: number): number {
  const ea = (aHi >>> 20) & 0x7ff;
  const eb = (bHi >>> 20) & 0x7ff;
  if ((ea - 54) >>> 0 >= 1965 || (eb - 54) >>> 0 >= 1965 || (ea - eb + 990) >>> 0 > 1980) return -1;
  const x = (((aHi & 0xfffff) | 0x100000) * TWO32 + (aLo >>> 0)) * (POW2[ea] * ((aHi >> 31) | 1));
  const y = (((bHi & 0xfffff) | 0x100000) * TWO32 + (bLo >>> 0)) * (POW2[eb] * ((bHi >> 31) | 1));
  const q = x / y;
  let t = SPLIT * q;
  const qh = t - (t - q);
  const ql = q - qh;
  t = SPLIT * y;
  const yh = t - (t - y);
  const yl = y - yh;
  const ph = q * y;
  const pl = ql * yl - (ph - qh * yh - ql * yh - qh * yl);
  d64[0] = q;
  fpResult[0] = i64[LO];
  fpResult[1] = i64[HI];
  return x - ph === pl ? 0 : FLAG_NX;
}

/**
 * fsqrt.d: a positive and in [2^-969, 2^968): s and s*s stay far from overflow and TwoProduct's
 * error of s*s is exact (a multiple of ulp(s)^2 >= 2^-1073), so s*s == a exactly iff exact.
 */
export function fastSqrt64(aLo: number, aHi: number): number {
  const ea = (aHi >>> 20) & 0x7ff;
  if (aHi < 0 || (ea - 54) >>> 0 > 1936) return -1; // also rejects -0, NaN, infinity
  const x = (((aHi & 0xfffff) | 0x100000) * TWO32 + (aLo >>> 0)) * POW2[ea];
  const s = Math.sqrt(x);
  const t = SPLIT * s;
  const sh = t - (t - s);
  const sl = s - sh;
  const ph = s * s;
  const pl = sl * sl - (ph - sh * sh - 2 * (sh * sl));
  d64[0] = s;
  fpResult[0] = i64[LO];
  fpResult[1] = i64[HI];
  return x - ph === pl ? 0 : FLAG_NX;
}

/**
 * Fused a*b + c in one rounding. Negate aHi for -(a*b) and cHi for -c before the call (fmsub,
 * fnmsub, fnmadd): with NaNs excluded that is exactly the softfloat's negProduct / negAddend.
 *
 * With both operands normal, |a|, |b| < 2^996 (the splits cannot overflow) and the exponent sum
 * in [-968, 1021] (a*b normal and finite), TwoProduct gives an exact a*b = p + e. Then
 * TwoSum(p, c) = s + t, TwoSum(t, e) = u + w and TwoSum(s, u) = r + v: a*b + c = r + v + w
 * exactly, and r = RN(s + u).
 * - w == 0: r is the correctly rounded result, inexact iff v != 0.
 * - w != 0: then t != 0, so s is not exact, which implies |p| <= 2|s| (else Sterbenz would make
 *   p + c exact), hence |e| <= ulp(s), |t| <= ulp(s)/2, |u| <= 1.5 ulp(s) and ulp(u) <= 2^-52
 *   ulp(s). s, u, r, v and every rounding midpoint next to r are multiples of G = ulp(u), and
 *   |w| <= G/2. So unless s + u is itself a midpoint, s + u + w rounds like s + u, to r, and the
 *   result is inexact. s + u is a midpoint iff r + 2v is the neighbouring double of r, i.e. iff
 *   r + 2v is exact; that tie, broken by w, is left to the softfloat.
 * A zero operand gives an exact zero product, and then RN(+-0 + c) is the exact result (IEEE sign
 * rules for zeros), with no flags, as long as the other factor and c are finite.
 */
export function fastMulAdd64(
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  cLo: number,
  cHi: number,
): number {
  const ea = (aHi >>> 20) & 0x7ff;
  const eb = (bHi >>> 20) & 0x7ff;
  const ec = (cHi >>> 20) & 0x7ff;
  const x =
    (((aHi & 0xfffff) | (ea === 0 ? 0 : 0x100000)) * TWO32 + (aLo >>> 0)) * (POW2[ea] * ((aHi >> 31) | 1));
  const y =
    (((bHi & 0xfffff) | (eb === 0 ? 0 : 0x100000)) * TWO32 + (bLo >>> 0)) * (POW2[eb] * ((bHi >> 31) | 1));
  const z =
    (((cHi & 0xfffff) | (ec === 0 ? 0 : 0x100000)) * TWO32 + (cLo >>> 0)) * (POW2[ec] * ((cHi >> 31) | 1));
  let r: number;
  let flags = 0;
  if ((ea - 1) >>> 0 < 2018 && (eb - 1) >>> 0 < 2018 && (ea + eb - 1078) >>> 0 <= 1989) {
    const p = x * y;
    const s = p + z;
    let t = SPLIT * x;
    const xh = t - (t - x);
    const xl = x - xh;
    t = SPLIT * y;
    const yh = t - (t - y);
    const yl = y - yh;
    const e = xl * yl - (p - xh * yh - xl * yh - xh * yl);
    let bv = s - p;
    t = p - (s - bv) + (z - bv);
    if (e === 0 && t === 0) {
      // Exact product and exact sum: s is the result, whatever its size (exact, so never UF).
      // Branching here lets a predicted exact case skip the rest of the chain.
      if (s - s !== 0) return -1;
      d64[0] = s;
      fpResult[0] = i64[LO];
      fpResult[1] = i64[HI];
      return 0;
    }
    const u = t + e;
    bv = u - t;
    const w = t - (u - bv) + (e - bv);
    r = s + u;
    bv = r - s;
    const v = s - (r - bv) + (u - bv);
    // Any overflow along the way makes r infinite or NaN; r === 0 is an exact cancellation
    // (then v and w are 0 too, and r is +0 as in the softfloat: s and u are not both -0). The
    // tininess check is only defensive: here a*b + c is a multiple of 2^-1074, so tiny is exact.
    const ar = Math.abs(r);
    if (!(ar > MIN64 && ar < Number.POSITIVE_INFINITY) && !(r === 0 && w === 0)) return -1;
    if (w !== 0) {
      if (v !== 0 && r + 2 * v - r === 2 * v) return -1; // s + u is a rounding midpoint
      flags = FLAG_NX;
    } else if (v !== 0) flags = FLAG_NX;
  } else {
    if (((aHi & 0x7fffffff) | aLo) !== 0 && ((bHi & 0x7fffffff) | bLo) !== 0) return -1;
    r = x * y + z; // a zero product: exact
    if (r - r !== 0) return -1; // 0 * infinity, NaN or infinite operands
  }
  d64[0] = r;
  fpResult[0] = i64[LO];
  fpResult[1] = i64[HI];
  return flags;
}

// --- binary32 -------------------------------------------------------------------------------------

/**
 * fadd.s: fround(RN64(a + b)) = RN32(a + b) (Figueroa). Exact iff the double sum was exact
 * (TwoSum) and already a binary32. Sums of binary32 values below 2^-125 are exact, so never UF.
 */
export function fastAdd32(a: number, b: number): number {
  i32[0] = a;
  const x = d32[0];
  i32[0] = b;
  const y = d32[0];
  const s = x + y;
  const r = Math.fround(s);
  if (r - r !== 0) return -1; // NaN or infinite operand, or overflow
  const bv = s - x;
  const e = x - (s - bv) + (y - bv);
  d32[0] = r;
  fpResult[0] = i32[0];
  return e === 0 && r === s ? 0 : FLAG_NX;
}

export function fastSub32(a: number, b: number): number {
  return fastAdd32(a, b ^ NEG);
}

/** fmul.s: the double product is exact, so one rounding. A zero operand gives an exact zero. */
export function fastMul32(a: number, b: number): number {
  i32[0] = a;
  const x = d32[0];
  i32[0] = b;
  const p = x * d32[0];
  const r = Math.fround(p);
  const ar = Math.abs(r);
  if (!(ar > MIN32 && ar < Number.POSITIVE_INFINITY) && p !== 0) return -1;
  d32[0] = r;
  fpResult[0] = i32[0];
  return r === p ? 0 : FLAG_NX;
}

/** fdiv.s: fround(RN64(a / b)) = RN32(a / b) (Figueroa); exact iff r * b == a (exact in double). */
export function fastDiv32(a: number, b: number): number {
  i32[0] = a;
  const x = d32[0];
  i32[0] = b;
  const y = d32[0];
  const r = Math.fround(x / y);
  const ar = Math.abs(r);
  // 0 / b is an exact zero for finite non-zero or infinite b (0 / 0 and 0 / NaN give NaN).
  if (!(ar > MIN32 && ar < Number.POSITIVE_INFINITY) && !(x === 0 && r === 0)) return -1;
  d32[0] = r;
  fpResult[0] = i32[0];
  return x === 0 || r * y === x ? 0 : FLAG_NX;
}

/**
 * fsqrt.s: fround(RN64(sqrt(a))) = RN32(sqrt(a)) (Figueroa). Every finite root is accepted: roots
 * of binary32 values are normal (>= 2^-75) or +-0; exact iff r * r == a (exact in double).
 */
export function fastSqrt32(a: number): number {
  i32[0] = a;
  const x = d32[0];
  const r = Math.fround(Math.sqrt(x));
  if (r - r !== 0) return -1; // negative (NaN), NaN or +infinity
  d32[0] = r;
  fpResult[0] = i32[0];
  return r * r === x ? 0 : FLAG_NX;
}

/**
 * Fused a*b + c (negate a and/or c beforehand, as for fastMulAdd64). p = a*b is exact in double;
 * s = RN64(p + c) with TwoSum error e. If e == 0, fround(s) is the one correct rounding. If
 * e != 0, no binary32 midpoint lies strictly between p + c and s (it would be a double nearer
 * to p + c than s), so fround(s) is still correct unless s itself is a midpoint: a double with
 * at most 25 significant bits that is not a binary32 (Veltkamp split at 25 bits leaves it whole).
 * That tie is left to the softfloat; note plain double rounding would get it wrong.
 */
export function fastMulAdd32(a: number, b: number, c: number): number {
  i32[0] = a;
  const x = d32[0];
  i32[0] = b;
  const y = d32[0];
  i32[0] = c;
  const z = d32[0];
  const p = x * y;
  const s = p + z;
  const r = Math.fround(s);
  const ar = Math.abs(r);
  // s === 0: an exact zero with RNE's sign rules (a non-zero p + c never rounds to 0 in double).
  if (!(ar > MIN32 && ar < Number.POSITIVE_INFINITY) && s !== 0) return -1;
  const bv = s - p;
  const e = p - (s - bv) + (z - bv);
  let flags = 0;
  if (e !== 0) {
    if (r !== s) {
      const t = SPLIT25 * s;
      if (t - (t - s) === s) return -1; // s is a binary32 midpoint
    }
    flags = FLAG_NX;
  } else if (r !== s) flags = FLAG_NX;
  d32[0] = r;
  fpResult[0] = i32[0];
  return flags;
}

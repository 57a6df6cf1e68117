/**
 * binary32 arithmetic (RISC-V F extension): add, sub, mul, div, sqrt, fused multiply-add,
 * min/max, comparisons and classify. See common.ts for the calling conventions.
 *
 * binary32 operands are exact doubles. Products of two binary32 values are exact in a double;
 * sums are made exact with TwoSum and collapsed into one double with round-to-odd, which rounds
 * correctly to binary32 in every mode (53 >= 24 + 2). Division and square root use exact integer
 * arithmetic on doubles (all intermediate integers stay below 2^53). The final rounding to binary32
 * (including subnormals, tininess after rounding, overflow) is done on the double's bit pattern.
 */

import {
  d32,
  d64,
  FLAG_DZ,
  FLAG_NV,
  fpResult,
  HI,
  i32,
  i64,
  isNaN32,
  isSNaN32,
  LO,
  nanResult32,
  putCanonicalNaN32,
  roundPack32,
  toOddScratch,
} from "./common.ts";

/**
 * Rounds the double in the scratch d64 (finite or infinite, not NaN) to binary32 in mode rm;
 * writes fpResult[0] and returns the flags. Used by every binary32 operation and the conversions.
 */
export function roundScratchToF32(rm: number): number {
  const hi = i64[HI];
  const lo = i64[LO];
  const sign = hi >>> 31;
  const bexp = (hi >>> 20) & 0x7ff;
  if (bexp === 0x7ff) {
    fpResult[0] = (sign << 31) | 0x7f800000;
    return 0;
  }
  // 52-bit fraction shifted right by 22 with jamming: 30 bits.
  const sig = ((hi & 0xfffff) << 10) | (lo >>> 22) | ((lo & 0x3fffff) !== 0 ? 1 : 0);
  if (bexp === 0 && sig === 0) {
    fpResult[0] = sign << 31;
    return 0;
  }
  return roundPack32(sign, bexp - 0x381, sig | 0x40000000, rm);
}

// --- add / sub -----------------------------------------------------------------------------------

export function f32Add(a: number, b: number, rm: number): number {
  i32[0] = a;
  const x = d32[0];
  i32[0] = b;
  const y = d32[0];
  const s = x + y;
  if (s - s !== 0) return addSpecial(a, b);
  if (s === 0) {
    const neg = x === 0 && y === 0 && a >>> 31 === b >>> 31 ? a >>> 31 : rm === 2 ? 1 : 0;
    fpResult[0] = neg << 31;
    return 0;
  }
  const bv = s - x;
  const e = x - (s - bv) + (y - bv); // TwoSum: exact (no overflow is possible here)
  d64[0] = s;
  if (e !== 0) toOddScratch(s > 0 === e > 0);
  return roundScratchToF32(rm);
}

export function f32Sub(a: number, b: number, rm: number): number {
  return f32Add(a, b ^ 0x80000000, rm);
}

function addSpecial(a: number, b: number): number {
  const nan = nanResult32(a, b);
  if (nan >= 0) return nan;
  // At least one infinite operand (the double sum of binary32 values cannot overflow).
  const aInf = (a & 0x7fffffff) === 0x7f800000;
  const bInf = (b & 0x7fffffff) === 0x7f800000;
  if (aInf && bInf && (a ^ b) < 0) {
    putCanonicalNaN32();
    return FLAG_NV; // inf - inf
  }
  fpResult[0] = aInf ? a : b;
  return 0;
}

// --- mul -----------------------------------------------------------------------------------------

export function f32Mul(a: number, b: number, rm: number): number {
  i32[0] = a;
  const x = d32[0];
  i32[0] = b;
  const p = x * d32[0]; // exact: 48-bit significand, exponent within double range
  if (p - p !== 0) {
    putCanonicalNaN32();
    if (isNaN32(a) || isNaN32(b)) return isSNaN32(a) || isSNaN32(b) ? FLAG_NV : 0;
    if ((a & 0x7fffffff) === 0 || (b & 0x7fffffff) === 0) return FLAG_NV; // 0 * inf
    fpResult[0] = ((a ^ b) & 0x80000000) | 0x7f800000;
    return 0;
  }
  d64[0] = p;
  return roundScratchToF32(rm);
}

// --- fused multiply-add --------------------------------------------------------------------------

/**
 * Fused multiply-add with a single rounding: (negProduct ? -(a*b) : a*b) + (negAddend ? -c : c).
 * fmadd = (false,false), fmsub = (false,true), fnmsub = (true,false), fnmadd = (true,true).
 */
export function f32MulAdd(
  a: number,
  b: number,
  c: number,
  rm: number,
  negProduct: boolean,
  negAddend: boolean,
): number {
  i32[0] = a;
  let x = d32[0];
  i32[0] = b;
  const y = d32[0];
  i32[0] = c;
  let z = d32[0];
  if (negProduct) x = -x;
  if (negAddend) z = -z;
  const p = x * y; // exact
  const s = p + z;
  if (s - s !== 0 || p - p !== 0) return mulAddSpecial(a, b, c, negProduct, negAddend);
  if (s === 0) {
    // Exact zero: equal-signed zero operands keep their sign, otherwise +0 (-0 rounding down).
    const neg = p === 0 && z === 0 && 1 / p === 1 / z ? (1 / p < 0 ? 1 : 0) : rm === 2 ? 1 : 0;
    fpResult[0] = neg << 31;
    return 0;
  }
  const bv = s - p;
  const e = p - (s - bv) + (z - bv);
  d64[0] = s;
  if (e !== 0) toOddScratch(s > 0 === e > 0);
  return roundScratchToF32(rm);
}

function mulAddSpecial(a: number, b: number, c: number, negProduct: boolean, negAddend: boolean): number {
  const aNaN = isNaN32(a);
  const bNaN = isNaN32(b);
  const aInf = (a & 0x7fffffff) === 0x7f800000;
  const bInf = (b & 0x7fffffff) === 0x7f800000;
  const invalidProd = (aInf && (b & 0x7fffffff) === 0) || (bInf && (a & 0x7fffffff) === 0);
  if (aNaN || bNaN || isNaN32(c)) {
    putCanonicalNaN32();
    return invalidProd || isSNaN32(a) || isSNaN32(b) || isSNaN32(c) ? FLAG_NV : 0;
  }
  if (invalidProd) {
    putCanonicalNaN32();
    return FLAG_NV;
  }
  const sp = ((a ^ b) >>> 31) ^ (negProduct ? 1 : 0);
  const sc = (c >>> 31) ^ (negAddend ? 1 : 0);
  if (aInf || bInf) {
    // Infinite product.
    if ((c & 0x7fffffff) === 0x7f800000 && sc !== sp) {
      putCanonicalNaN32();
      return FLAG_NV;
    }
    fpResult[0] = (sp << 31) | 0x7f800000;
    return 0;
  }
  fpResult[0] = (sc << 31) | 0x7f800000; // infinite addend
  return 0;
}

// --- div / sqrt ----------------------------------------------------------------------------------

/** Significand (24 bits, leading one at bit 23) and biased exponent of the last unpack32. */
let uSig = 0;
let uExp = 0;

/** Unpacks a finite non-zero binary32: value = uSig * 2^(uExp - 150). */
function unpack32(a: number): void {
  let e = (a >>> 23) & 0xff;
  let m = a & 0x7fffff;
  if (e === 0) {
    const sh = Math.clz32(m) - 8;
    m <<= sh;
    e = 1 - sh;
  } else m |= 0x800000;
  uSig = m;
  uExp = e;
}

export function f32Div(a: number, b: number, rm: number): number {
  const sign = (a ^ b) >>> 31;
  const ae = a & 0x7f800000;
  const be = b & 0x7f800000;
  if (ae === 0x7f800000 || be === 0x7f800000 || (a & 0x7fffffff) === 0 || (b & 0x7fffffff) === 0) {
    const nan = nanResult32(a, b);
    if (nan >= 0) return nan;
    const aInf = ae === 0x7f800000;
    const bInf = be === 0x7f800000;
    const aZero = (a & 0x7fffffff) === 0;
    const bZero = (b & 0x7fffffff) === 0;
    if ((aInf && bInf) || (aZero && bZero)) {
      putCanonicalNaN32();
      return FLAG_NV;
    }
    if (aInf || bZero) {
      fpResult[0] = (sign << 31) | 0x7f800000;
      return aInf ? 0 : FLAG_DZ;
    }
    fpResult[0] = sign << 31; // 0 / x or x / inf
    return 0;
  }
  unpack32(a);
  const A = uSig;
  const ea = uExp;
  unpack32(b);
  const B = uSig;
  // Q = floor(A * 2^k / B) in [2^26, 2^27): the double quotient errs by at most 2^-27 while a
  // non-integral exact quotient is at least 1/B > 2^-24 away from an integer, so floor is exact,
  // and so is the remainder R (all products stay below 2^53).
  const k = A < B ? 27 : 26;
  const N = A * (A < B ? 134217728 : 67108864);
  const Q = Math.floor(N / B);
  const R = N - Q * B;
  return roundPack32(sign, ea - uExp - k + 152, Q * 16 + (R !== 0 ? 1 : 0), rm);
}

export function f32Sqrt(a: number, rm: number): number {
  a |= 0;
  if (a < 0 || (a & 0x7f800000) === 0x7f800000 || a === 0) {
    if (isNaN32(a)) {
      putCanonicalNaN32();
      return isSNaN32(a) ? FLAG_NV : 0;
    }
    if ((a & 0x7fffffff) === 0) {
      fpResult[0] = a;
      return 0;
    }
    if (a < 0) {
      putCanonicalNaN32();
      return FLAG_NV;
    }
    fpResult[0] = 0x7f800000; // +inf
    return 0;
  }
  unpack32(a);
  // value = M * 2^(2t) with M = A or 2A; N = M * 2^28 in [2^51, 2^53).
  let t2 = uExp - 150;
  let M = uSig;
  if ((t2 & 1) !== 0) {
    M *= 2;
    t2 -= 1;
  }
  // Q = floor(sqrt(N)) exactly: N is a multiple of 2^28, so a non-square N has sqrt(N) at least
  // ~2^-26.5 away from any integer, beyond the rounding error of Math.sqrt (checked exhaustively
  // for all 2^25 - 2^23 values of M).
  const N = M * 268435456;
  const Q = Math.floor(Math.sqrt(N));
  const R = N - Q * Q;
  // Q in [2^25.5, 2^26.5): move its leading one to bit 30.
  const sh = Q >= 67108864 ? 4 : 5;
  return roundPack32(0, t2 / 2 - sh + 142, Q * (1 << sh) + (R !== 0 ? 1 : 0), rm);
}

// --- min / max / compare / classify --------------------------------------------------------------

export function f32Min(a: number, b: number): number {
  return minMax(a | 0, b | 0, false);
}

export function f32Max(a: number, b: number): number {
  return minMax(a | 0, b | 0, true);
}

function minMax(a: number, b: number, max: boolean): number {
  const aNaN = isNaN32(a);
  const bNaN = isNaN32(b);
  if (aNaN || bNaN) {
    const flags = isSNaN32(a) || isSNaN32(b) ? FLAG_NV : 0;
    if (aNaN && bNaN) putCanonicalNaN32();
    else fpResult[0] = aNaN ? b : a;
    return flags;
  }
  i32[0] = a;
  const x = d32[0];
  i32[0] = b;
  const y = d32[0];
  const pickA = max ? x > y || (x === y && a >= 0) : x < y || (x === y && a < 0);
  fpResult[0] = pickA ? a : b;
  return 0;
}

/** Quiet equality (feq.s): NV only for signaling NaN operands. fpResult[0] = 0 or 1. */
export function f32Eq(a: number, b: number): number {
  fpResult[1] = 0;
  if (isNaN32(a) || isNaN32(b)) {
    fpResult[0] = 0;
    return isSNaN32(a) || isSNaN32(b) ? FLAG_NV : 0;
  }
  i32[0] = a;
  const x = d32[0];
  i32[0] = b;
  const y = d32[0];
  fpResult[0] = x === y ? 1 : 0;
  return 0;
}

/** Signaling less-than (flt.s): NV for any NaN operand. */
export function f32Lt(a: number, b: number): number {
  fpResult[1] = 0;
  if (isNaN32(a) || isNaN32(b)) {
    fpResult[0] = 0;
    return FLAG_NV;
  }
  i32[0] = a;
  const x = d32[0];
  i32[0] = b;
  const y = d32[0];
  fpResult[0] = x < y ? 1 : 0;
  return 0;
}

/** Signaling less-or-equal (fle.s): NV for any NaN operand. */
export function f32Le(a: number, b: number): number {
  fpResult[1] = 0;
  if (isNaN32(a) || isNaN32(b)) {
    fpResult[0] = 0;
    return FLAG_NV;
  }
  i32[0] = a;
  const x = d32[0];
  i32[0] = b;
  const y = d32[0];
  fpResult[0] = x <= y ? 1 : 0;
  return 0;
}

/** fclass.s: one-hot 10-bit class mask in fpResult[0] (fpResult[1] = 0). Never raises flags. */
export function f32Class(a: number): number {
  const neg = (a | 0) < 0;
  const e = (a >>> 23) & 0xff;
  const frac = a & 0x7fffff;
  let m: number;
  if (e === 0xff) {
    if (frac === 0) m = neg ? 1 : 1 << 7;
    else m = (a & 0x400000) !== 0 ? 1 << 9 : 1 << 8;
  } else if (e === 0) {
    if (frac === 0) m = neg ? 1 << 3 : 1 << 4;
    else m = neg ? 1 << 2 : 1 << 5;
  } else m = neg ? 1 << 1 : 1 << 6;
  fpResult[0] = m;
  fpResult[1] = 0;
  return 0;
}

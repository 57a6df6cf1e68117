/**
 * Conversions (RISC-V fcvt.*): float <-> integer with RISC-V saturation rules, and
 * binary64 <-> binary32. See common.ts for the calling conventions.
 *
 * Integer results always fill both result words: 32-bit results are sign-extended to 64 bits
 * (fcvt.wu.* included, as RV64 writes them to rd sign-extended). Out-of-range or NaN inputs
 * saturate (NaN -> largest positive value) and raise NV only; otherwise NX reports inexactness.
 */

import {
  applyError64,
  d32,
  d64,
  errBuf,
  FLAG_NV,
  FLAG_NX,
  fpResult,
  HI,
  i32,
  i64,
  isNaN32,
  isNaN64,
  isSNaN32,
  isSNaN64,
  LO,
  putCanonicalNaN32,
  putCanonicalNaN64,
  toOddScratch,
} from "./common.ts";
import { roundScratchToF32 } from "./f32.ts";

const TWO32 = 4294967296;
const TWO63 = 2 ** 63;
const TWO64 = 2 ** 64;

// --- float -> integer ----------------------------------------------------------------------------
// The source value is passed in the scratch d64 (binary32 sources are widened exactly).

/**
 * Rounds the finite double in d64 to an integral double in mode rm, leaving it in d64.
 * Returns NX if that was inexact, else 0.
 */
function roundIntScratch(rm: number): number {
  const x = d64[0];
  const t = Math.trunc(x);
  const f = x - t; // exact
  if (f === 0) return 0;
  let r = t;
  switch (rm) {
    case 0: {
      const af = Math.abs(f);
      if (af > 0.5 || (af === 0.5 && t % 2 !== 0)) r = t + Math.sign(f);
      break;
    }
    case 1:
      break;
    case 2:
      if (f < 0) r = t - 1;
      break;
    case 3:
      if (f > 0) r = t + 1;
      break;
    default:
      if (Math.abs(f) >= 0.5) r = t + Math.sign(f);
  }
  d64[0] = r;
  return FLAG_NX;
}

/** Sign of the saturated result for a NaN or infinite d64: 1 for +inf and NaN, 0 for -inf. */
function nonFiniteIsPositive(): boolean {
  const x = d64[0];
  return Number.isNaN(x) || x > 0;
}

function cvtToI32(rm: number): number {
  const x = d64[0];
  let pos: boolean;
  if (x - x !== 0) pos = nonFiniteIsPositive();
  else {
    const nx = roundIntScratch(rm);
    const r = d64[0];
    if (r <= 2147483647 && r >= -2147483648) {
      const v = r | 0;
      fpResult[0] = v;
      fpResult[1] = v >> 31;
      return nx;
    }
    pos = r > 0;
  }
  if (pos) {
    fpResult[0] = 0x7fffffff;
    fpResult[1] = 0;
  } else {
    fpResult[0] = 0x80000000 | 0;
    fpResult[1] = -1;
  }
  return FLAG_NV;
}

function cvtToU32(rm: number): number {
  const x = d64[0];
  let pos: boolean;
  if (x - x !== 0) pos = nonFiniteIsPositive();
  else {
    const nx = roundIntScratch(rm);
    const r = d64[0];
    if (r <= 4294967295 && r >= 0) {
      const v = r | 0;
      fpResult[0] = v;
      fpResult[1] = v >> 31;
      return nx;
    }
    pos = r > 0;
  }
  const v = pos ? -1 : 0;
  fpResult[0] = v;
  fpResult[1] = v;
  return FLAG_NV;
}

function cvtToI64(rm: number): number {
  const x = d64[0];
  let pos: boolean;
  if (x - x !== 0) pos = nonFiniteIsPositive();
  else {
    const nx = roundIntScratch(rm);
    const r = d64[0];
    if (r < TWO63 && r >= -TWO63) {
      const hi = Math.floor(r / TWO32);
      fpResult[0] = (r - hi * TWO32) | 0;
      fpResult[1] = hi | 0;
      return nx;
    }
    pos = r > 0;
  }
  if (pos) {
    fpResult[0] = -1;
    fpResult[1] = 0x7fffffff;
  } else {
    fpResult[0] = 0;
    fpResult[1] = 0x80000000 | 0;
  }
  return FLAG_NV;
}

function cvtToU64(rm: number): number {
  const x = d64[0];
  let pos: boolean;
  if (x - x !== 0) pos = nonFiniteIsPositive();
  else {
    const nx = roundIntScratch(rm);
    const r = d64[0];
    if (r < TWO64 && r >= 0) {
      const hi = Math.floor(r / TWO32);
      fpResult[0] = (r - hi * TWO32) | 0;
      fpResult[1] = hi | 0;
      return nx;
    }
    pos = r > 0;
  }
  const v = pos ? -1 : 0;
  fpResult[0] = v;
  fpResult[1] = v;
  return FLAG_NV;
}

/** fcvt.w.d: to int32 (sign-extended to 64 bits in fpResult). */
export function f64ToI32(lo: number, hi: number, rm: number): number {
  i64[LO] = lo;
  i64[HI] = hi;
  return cvtToI32(rm);
}

/** fcvt.wu.d: to uint32 (sign-extended to 64 bits in fpResult, as RV64 writes it). */
export function f64ToU32(lo: number, hi: number, rm: number): number {
  i64[LO] = lo;
  i64[HI] = hi;
  return cvtToU32(rm);
}

/** fcvt.l.d: to int64. */
export function f64ToI64(lo: number, hi: number, rm: number): number {
  i64[LO] = lo;
  i64[HI] = hi;
  return cvtToI64(rm);
}

/** fcvt.lu.d: to uint64. */
export function f64ToU64(lo: number, hi: number, rm: number): number {
  i64[LO] = lo;
  i64[HI] = hi;
  return cvtToU64(rm);
}

/** fcvt.w.s: to int32 (sign-extended to 64 bits in fpResult). */
export function f32ToI32(a: number, rm: number): number {
  i32[0] = a;
  d64[0] = d32[0];
  return cvtToI32(rm);
}

/** fcvt.wu.s: to uint32 (sign-extended to 64 bits in fpResult). */
export function f32ToU32(a: number, rm: number): number {
  i32[0] = a;
  d64[0] = d32[0];
  return cvtToU32(rm);
}

/** fcvt.l.s: to int64. */
export function f32ToI64(a: number, rm: number): number {
  i32[0] = a;
  d64[0] = d32[0];
  return cvtToI64(rm);
}

/** fcvt.lu.s: to uint64. */
export function f32ToU64(a: number, rm: number): number {
  i32[0] = a;
  d64[0] = d32[0];
  return cvtToU64(rm);
}

// --- integer -> float ----------------------------------------------------------------------------

/** fcvt.d.w: always exact (rm unused). */
export function i32ToF64(a: number, _rm: number): number {
  d64[0] = a | 0;
  fpResult[0] = i64[LO];
  fpResult[1] = i64[HI];
  return 0;
}

/** fcvt.d.wu: always exact (rm unused). */
export function u32ToF64(a: number, _rm: number): number {
  d64[0] = a >>> 0;
  fpResult[0] = i64[LO];
  fpResult[1] = i64[HI];
  return 0;
}

/** fcvt.d.l: int64 (lo, hi) to binary64. */
export function i64ToF64(lo: number, hi: number, rm: number): number {
  // hp + lp is the exact integer (both exact doubles); s = RN(hp + lp), e the exact error.
  const hp = (hi | 0) * TWO32;
  const lp = lo >>> 0;
  const s = hp + lp;
  const bv = s - hp;
  d64[0] = s;
  fpResult[0] = i64[LO];
  fpResult[1] = i64[HI];
  errBuf[0] = hp - (s - bv) + (lp - bv);
  return applyError64(rm);
}

/** fcvt.d.lu: uint64 (lo, hi) to binary64. */
export function u64ToF64(lo: number, hi: number, rm: number): number {
  const hp = (hi >>> 0) * TWO32;
  const lp = lo >>> 0;
  const s = hp + lp;
  const bv = s - hp;
  d64[0] = s;
  fpResult[0] = i64[LO];
  fpResult[1] = i64[HI];
  errBuf[0] = hp - (s - bv) + (lp - bv);
  return applyError64(rm);
}

/** fcvt.s.w */
export function i32ToF32(a: number, rm: number): number {
  d64[0] = a | 0;
  return roundScratchToF32(rm);
}

/** fcvt.s.wu */
export function u32ToF32(a: number, rm: number): number {
  d64[0] = a >>> 0;
  return roundScratchToF32(rm);
}

/** fcvt.s.l: int64 (lo, hi) to binary32 (via a round-to-odd double). */
export function i64ToF32(lo: number, hi: number, rm: number): number {
  const hp = (hi | 0) * TWO32;
  const lp = lo >>> 0;
  const s = hp + lp;
  const bv = s - hp;
  const e = hp - (s - bv) + (lp - bv);
  d64[0] = s;
  if (e !== 0) toOddScratch(s > 0 === e > 0);
  return roundScratchToF32(rm);
}

/** fcvt.s.lu: uint64 (lo, hi) to binary32 (via a round-to-odd double). */
export function u64ToF32(lo: number, hi: number, rm: number): number {
  const hp = (hi >>> 0) * TWO32;
  const lp = lo >>> 0;
  const s = hp + lp;
  const bv = s - hp;
  const e = hp - (s - bv) + (lp - bv);
  d64[0] = s;
  if (e !== 0) toOddScratch(e > 0);
  return roundScratchToF32(rm);
}

// --- binary64 <-> binary32 -----------------------------------------------------------------------

/** fcvt.s.d: narrowing with rounding; NaN -> canonical 0x7fc00000 (NV for sNaN). */
export function f64ToF32(lo: number, hi: number, rm: number): number {
  if (isNaN64(lo, hi)) {
    putCanonicalNaN32();
    return isSNaN64(lo, hi) ? FLAG_NV : 0;
  }
  i64[LO] = lo;
  i64[HI] = hi;
  return roundScratchToF32(rm);
}

/** fcvt.d.s: exact widening; NaN -> canonical 0x7ff8000000000000 (NV for sNaN). */
export function f32ToF64(a: number, _rm?: number): number {
  if (isNaN32(a)) {
    putCanonicalNaN64();
    return isSNaN32(a) ? FLAG_NV : 0;
  }
  i32[0] = a;
  d64[0] = d32[0];
  fpResult[0] = i64[LO];
  fpResult[1] = i64[HI];
  return 0;
}

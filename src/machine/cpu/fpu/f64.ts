/**
 * binary64 arithmetic (RISC-V D extension): add, sub, mul, div, sqrt, fused multiply-add,
 * min/max, comparisons and classify. See common.ts for the calling conventions.
 *
 * Strategy: the host's IEEE double arithmetic computes the round-to-nearest-even result and
 * error-free transforms (TwoSum, Dekker's TwoProduct, exact division/sqrt residuals) give the
 * exact rounding error, from which the other modes, the inexact flag and ties are derived. The
 * transforms are only used where their exactness preconditions hold (checked from the exponents);
 * results that fall in the subnormal range are re-rounded from an exact integer significand by
 * roundPack64, and fused multiply-add falls back to a 128-bit integer datapath whenever the
 * double-based path cannot prove its result.
 */

import {
  applyError64,
  d64,
  errBuf,
  FLAG_DZ,
  FLAG_NV,
  FLAG_NX,
  fpResult,
  HI,
  i64,
  isNaN64,
  isSNaN64,
  LO,
  magMode,
  nanResult64,
  POW2,
  putCanonicalNaN64,
  putOverflow64,
  roundPack64,
  TWO32,
  TWO52,
  value64,
} from "./common.ts";

const SPLIT = 134217729; // 2^27 + 1, Veltkamp splitter
const TWO64 = 2 ** 64;

// Operands are decoded arithmetically (see POW2): x = (frac + hidden) * 2^(e - 1075) * sign.

// --- add / sub -----------------------------------------------------------------------------------

export function f64Add(aLo: number, aHi: number, bLo: number, bHi: number, rm: number): number {
  const x = value64(aLo, aHi);
  const y = value64(bLo, bHi);
  const s = x + y; // NaN or infinite for NaN/infinite operands (they decode as infinities)
  if (s - s !== 0) return addSpecial(aLo, aHi, bLo, bHi, rm);
  if (s === 0) {
    // Exact zero: x + x keeps the sign of x; opposite signs give +0 (-0 when rounding down).
    const neg = x === 0 && y === 0 && aHi >>> 31 === bHi >>> 31 ? aHi >>> 31 : rm === 2 ? 1 : 0;
    fpResult[0] = 0;
    fpResult[1] = neg << 31;
    return 0;
  }
  // Fast2Sum on the operands ordered by magnitude: s + e == x + y exactly, and unlike TwoSum no
  // intermediate can overflow. A non-zero e implies |s| >= 2^-1021 (smaller sums are exact).
  const e = Math.abs(x) >= Math.abs(y) ? y - (s - x) : x - (s - y);
  d64[0] = s;
  fpResult[0] = i64[LO];
  fpResult[1] = i64[HI];
  if (e === 0) return 0;
  if (rm === 0) return FLAG_NX;
  errBuf[0] = e;
  return applyError64(rm);
}

export function f64Sub(aLo: number, aHi: number, bLo: number, bHi: number, rm: number): number {
  return f64Add(aLo, aHi, bLo, bHi ^ 0x80000000, rm);
}

function addSpecial(aLo: number, aHi: number, bLo: number, bHi: number, rm: number): number {
  i64[LO] = aLo;
  i64[HI] = aHi;
  const x = d64[0];
  i64[LO] = bLo;
  i64[HI] = bHi;
  const y = d64[0];
  const aNaN = isNaN64(aLo, aHi);
  const bNaN = isNaN64(bLo, bHi);
  if (aNaN || bNaN) {
    putCanonicalNaN64();
    return isSNaN64(aLo, aHi) || isSNaN64(bLo, bHi) ? FLAG_NV : 0;
  }
  const aInf = x - x !== 0;
  const bInf = y - y !== 0;
  if (aInf || bInf) {
    if (aInf && bInf && x !== y) {
      putCanonicalNaN64();
      return FLAG_NV;
    }
    fpResult[0] = aInf ? aLo : bLo;
    fpResult[1] = aInf ? aHi : bHi;
    return 0;
  }
  // Finite operands whose sum overflowed in round-to-nearest. Both are then >= 2^970 in magnitude,
  // so halving is exact; round the exact half-sum with an unbounded exponent and scale back.
  const hx = x * 0.5;
  const hy = y * 0.5;
  const h = hx + hy;
  const bv = h - hx;
  d64[0] = h;
  fpResult[0] = i64[LO];
  fpResult[1] = i64[HI];
  errBuf[0] = hx - (h - bv) + (hy - bv);
  applyError64(rm);
  const hi = fpResult[1];
  // |rounded half-sum| >= 2^1023 (exponent field 2046, or infinity after stepping): overflow.
  if ((hi & 0x7ff00000) >= 0x7fe00000) return putOverflow64(hi >>> 31, rm);
  fpResult[1] = hi + 0x100000; // times 2
  return FLAG_NX;
}

// --- scaled-significand helpers (slow paths of mul / div / sqrt) ---------------------------------

/** Exponent of the last unpack (an int; doubles go through scratch typed arrays). */
let uE = 0;
/** Scratch doubles of the slow paths: [0] significand of the last unpackDbl; [1], [2] = p, e. */
const sc = new Float64Array(3);

/**
 * Sets uE to the unbiased exponent of a finite non-zero binary64 and leaves
 * its bits in i64 with a subnormal scaled up by 2^64 (so the significand
 * has its implicit bit), ready for the unpackers below.
 */
function normalize(lo: number, hi: number): void {
  i64[LO] = lo;
  i64[HI] = hi;
  let adj = 0;
  if (((hi >>> 20) & 0x7ff) === 0) {
    d64[0] *= TWO64;
    adj = 64;
  }
  uE = ((i64[HI] >>> 20) & 0x7ff) - 1023 - adj;
}

/** Unpacks a finite non-zero binary64: sc[0] = significand in [1, 2), uE = exponent. */
function unpackDbl(lo: number, hi: number): void {
  normalize(lo, hi);
  i64[HI] = (i64[HI] & 0xfffff) | 0x3ff00000;
  sc[0] = d64[0];
}

/**
 * Rounds sign * (p + e) * 2^E to binary64, with p = sc[1] and e = sc[2]: p in [1, 4) is RN(p + e)
 * and e is the exact (or a faithful stand-in for the) rounding error: |e| <= ulp(p) / 2, on the
 * same side of p as the exact value, and an exact half-ulp only when the exact value is a tie.
 */
function finishScaled(sign: number, E: number, rm: number): number {
  const p = sc[1];
  const e = sc[2];
  d64[0] = p;
  fpResult[0] = i64[LO];
  fpResult[1] = i64[HI];
  errBuf[0] = e;
  const flags = applyError64(magMode(sign, rm)); // round to 53 bits (unbounded exponent)
  const hi = fpResult[1];
  const be = ((hi >>> 20) & 0x7ff) + E; // biased exponent of the result
  if (be > 2046) return putOverflow64(sign, rm);
  if (be >= 1) {
    fpResult[1] = (sign << 31) | (be << 20) | (hi & 0xfffff);
    return flags;
  }
  // Tiny even after rounding to 53 bits: re-round the exact value onto the subnormal grid.
  d64[0] = p;
  const phi = i64[HI];
  const plo = i64[LO] >>> 0;
  const pe = (phi >>> 20) & 0x7ff; // 1023 or 1024
  const mhi = (phi & 0xfffff) | 0x100000;
  // sig = P * 2^shift + floor(e / ulp(p) * 2^shift), with a sticky bit when the floor is inexact
  // (|frac| <= 512). roundPack64 needs the leading one at bit 62: when P is a power of two and the
  // exact value lies below it (then |e| <= ulp(p)/4), use one more bit so sig stays normalized.
  const shift = e < 0 && (phi & 0xfffff) === 0 && plo === 0 ? 11 : 10;
  const frac = e * (pe === 1023 ? 2 ** 52 : 2 ** 51) * (1 << shift);
  const fi = Math.floor(frac);
  let sigHi = ((mhi << shift) | (plo >>> (32 - shift))) >>> 0;
  let sigLo = ((plo << shift) >>> 0) + fi;
  if (sigLo < 0) {
    // borrow (the low word of P << shift has >= 10 zero bits and fi <= 512, so it cannot carry)
    sigLo += TWO32;
    sigHi -= 1;
  }
  if (frac !== fi) sigLo |= 1;
  return roundPack64(sign, pe + E + 9 - shift, sigHi | 0, sigLo | 0, rm); // int32 args: no boxing
}

// --- mul -----------------------------------------------------------------------------------------

export function f64Mul(aLo: number, aHi: number, bLo: number, bHi: number, rm: number): number {
  const ea = (aHi >>> 20) & 0x7ff;
  const eb = (bHi >>> 20) & 0x7ff;
  // Fast path: both normal, |a|,|b| < 2^996 (no overflow in the splitter) and the exponent sum in
  // [-968, 1021]: the product is normal, finite, and Dekker's error term is exact.
  if ((ea - 1) >>> 0 < 2018 && (eb - 1) >>> 0 < 2018 && (ea + eb - 1078) >>> 0 <= 1989) {
    const x = ((aHi & 0xfffff) * TWO32 + (aLo >>> 0) + TWO52) * POW2[ea] * ((aHi >> 31) | 1);
    const y = ((bHi & 0xfffff) * TWO32 + (bLo >>> 0) + TWO52) * POW2[eb] * ((bHi >> 31) | 1);
    const p = x * y;
    let t = SPLIT * x;
    const xh = t - (t - x);
    const xl = x - xh;
    t = SPLIT * y;
    const yh = t - (t - y);
    const yl = y - yh;
    const e = xl * yl - (p - xh * yh - xl * yh - xh * yl);
    d64[0] = p;
    fpResult[0] = i64[LO];
    fpResult[1] = i64[HI];
    if (e === 0) return 0;
    if (rm === 0) return FLAG_NX;
    errBuf[0] = e;
    return applyError64(rm);
  }
  return mulSlow(aLo, aHi, bLo, bHi, rm);
}

function mulSlow(aLo: number, aHi: number, bLo: number, bHi: number, rm: number): number {
  const sign = (aHi ^ bHi) >>> 31;
  const nan = nanResult64(aLo, aHi, bLo, bHi);
  if (nan >= 0) return nan;
  const aInf = (aHi & 0x7ff00000) === 0x7ff00000;
  const bInf = (bHi & 0x7ff00000) === 0x7ff00000;
  const aZero = ((aHi & 0x7fffffff) | aLo) === 0;
  const bZero = ((bHi & 0x7fffffff) | bLo) === 0;
  if (aInf || bInf) {
    if (aZero || bZero) {
      putCanonicalNaN64();
      return FLAG_NV;
    }
    fpResult[0] = 0;
    fpResult[1] = (sign << 31) | 0x7ff00000;
    return 0;
  }
  if (aZero || bZero) {
    fpResult[0] = 0;
    fpResult[1] = sign << 31;
    return 0;
  }
  unpackDbl(aLo, aHi);
  const x = sc[0];
  const ex = uE;
  unpackDbl(bLo, bHi);
  const y = sc[0];
  const p = x * y;
  let t = SPLIT * x;
  const xh = t - (t - x);
  const xl = x - xh;
  t = SPLIT * y;
  const yh = t - (t - y);
  const yl = y - yh;
  sc[1] = p;
  sc[2] = xl * yl - (p - xh * yh - xl * yh - xh * yl);
  return finishScaled(sign, ex + uE, rm);
}

// --- div -----------------------------------------------------------------------------------------

export function f64Div(aLo: number, aHi: number, bLo: number, bHi: number, rm: number): number {
  const ea = (aHi >>> 20) & 0x7ff;
  const eb = (bHi >>> 20) & 0x7ff;
  // Fast path: |a|,|b| in [2^-969, 2^996) and |ea - eb| <= 990: the quotient q is normal, q and b
  // split without overflow, and the residual a - q*b is exact (Sterbenz + exact TwoProduct).
  if ((ea - 54) >>> 0 < 1965 && (eb - 54) >>> 0 < 1965 && (ea - eb + 990) >>> 0 <= 1980) {
    const x = ((aHi & 0xfffff) * TWO32 + (aLo >>> 0) + TWO52) * POW2[ea] * ((aHi >> 31) | 1);
    const y = ((bHi & 0xfffff) * TWO32 + (bLo >>> 0) + TWO52) * POW2[eb] * ((bHi >> 31) | 1);
    const q = x / y;
    let t = SPLIT * q;
    const qh = t - (t - q);
    const ql = q - qh;
    t = SPLIT * y;
    const yh = t - (t - y);
    const yl = y - yh;
    const ph = q * y;
    const pl = ql * yl - (ph - qh * yh - ql * yh - qh * yl);
    // r has the sign of x - q*y (exact up to the final rounding, which keeps the sign); the exact
    // quotient minus q is r / y.
    const r = x - ph - pl;
    d64[0] = q;
    fpResult[0] = i64[LO];
    fpResult[1] = i64[HI];
    if (r === 0) return 0;
    // No ties are possible in division, so RMM behaves as RNE; directed modes use the sign only.
    if (rm === 0 || rm === 4) return FLAG_NX;
    errBuf[0] = y > 0 ? r : -r;
    return applyError64(rm);
  }
  return divSlow(aLo, aHi, bLo, bHi, rm);
}

function divSlow(aLo: number, aHi: number, bLo: number, bHi: number, rm: number): number {
  const sign = (aHi ^ bHi) >>> 31;
  const nan = nanResult64(aLo, aHi, bLo, bHi);
  if (nan >= 0) return nan;
  const aInf = (aHi & 0x7ff00000) === 0x7ff00000;
  const bInf = (bHi & 0x7ff00000) === 0x7ff00000;
  const aZero = ((aHi & 0x7fffffff) | aLo) === 0;
  const bZero = ((bHi & 0x7fffffff) | bLo) === 0;
  if (aInf) {
    if (bInf) {
      putCanonicalNaN64();
      return FLAG_NV;
    }
    fpResult[0] = 0;
    fpResult[1] = (sign << 31) | 0x7ff00000;
    return 0;
  }
  if (bInf) {
    fpResult[0] = 0;
    fpResult[1] = sign << 31;
    return 0;
  }
  if (bZero) {
    if (aZero) {
      putCanonicalNaN64();
      return FLAG_NV;
    }
    fpResult[0] = 0;
    fpResult[1] = (sign << 31) | 0x7ff00000;
    return FLAG_DZ;
  }
  if (aZero) {
    fpResult[0] = 0;
    fpResult[1] = sign << 31;
    return 0;
  }
  unpackDbl(aLo, aHi);
  let x = sc[0];
  let ex = uE;
  unpackDbl(bLo, bHi);
  const y = sc[0];
  if (x < y) {
    x *= 2;
    ex -= 1;
  }
  const q = x / y; // in [1, 2)
  let t = SPLIT * q;
  const qh = t - (t - q);
  const ql = q - qh;
  t = SPLIT * y;
  const yh = t - (t - y);
  const yl = y - yh;
  const ph = q * y;
  const pl = ql * yl - (ph - qh * yh - ql * yh - qh * yl);
  const r = x - ph - pl;
  // Stand-in error of +-ulp(q)/8: same side as the exact quotient, never a tie.
  sc[1] = q;
  sc[2] = r === 0 ? 0 : r > 0 ? 2.7755575615628914e-17 : -2.7755575615628914e-17;
  return finishScaled(sign, ex - uE, rm);
}

// --- sqrt ----------------------------------------------------------------------------------------

export function f64Sqrt(aLo: number, aHi: number, rm: number): number {
  aHi |= 0;
  const ea = (aHi >>> 20) & 0x7ff;
  if (aHi < 0 || ea === 0x7ff || ea < 54) {
    if (isNaN64(aLo, aHi)) {
      putCanonicalNaN64();
      return isSNaN64(aLo, aHi) ? FLAG_NV : 0;
    }
    if (((aHi & 0x7fffffff) | aLo) === 0) {
      fpResult[0] = 0;
      fpResult[1] = aHi & 0x80000000;
      return 0;
    }
    if (aHi < 0) {
      putCanonicalNaN64();
      return FLAG_NV;
    }
    if (ea === 0x7ff) {
      fpResult[0] = 0;
      fpResult[1] = 0x7ff00000;
      return 0;
    }
  }
  let x = ((aHi & 0xfffff) * TWO32 + (aLo >>> 0) + (ea === 0 ? 0 : TWO52)) * POW2[ea];
  // Below 2^-969 scale by 2^108 so that the residual's TwoProduct is exact, above 2^967 by 2^-108
  // so that the split halves of s cannot overflow when squared; the root is always normal, so
  // scaling it back by 2^-+54 (on the exponent field) after rounding is exact.
  let scale = 0;
  if (ea < 54) {
    x *= 3.2451855365842673e32; // 2^108
    scale = -54 << 20;
  } else if (ea > 1990) {
    x *= 3.0814879110195774e-33; // 2^-108
    scale = 54 << 20;
  }
  const s = Math.sqrt(x);
  const t = SPLIT * s;
  const sh = t - (t - s);
  const sl = s - sh;
  const ph = s * s;
  const pl = sl * sl - (ph - sh * sh - 2 * (sh * sl));
  const r = x - ph - pl; // sign of sqrt(x) - s
  d64[0] = s;
  fpResult[0] = i64[LO];
  let flags = 0;
  if (r !== 0) {
    flags = FLAG_NX;
    if (rm !== 0 && rm !== 4) {
      // no ties in sqrt, so RMM behaves as RNE
      fpResult[1] = i64[HI];
      errBuf[0] = r;
      applyError64(rm);
      fpResult[1] += scale;
      return flags;
    }
  }
  fpResult[1] = i64[HI] + scale;
  return flags;
}

// --- fused multiply-add --------------------------------------------------------------------------

/**
 * Fused multiply-add with a single rounding: (negProduct ? -(a*b) : a*b) + (negAddend ? -c : c).
 * fmadd = (false,false), fmsub = (false,true), fnmsub = (true,false), fnmadd = (true,true).
 */
export function f64MulAdd(
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  cLo: number,
  cHi: number,
  rm: number,
  negProduct: boolean,
  negAddend: boolean,
): number {
  const ea = (aHi >>> 20) & 0x7ff;
  const eb = (bHi >>> 20) & 0x7ff;
  if ((ea - 1) >>> 0 < 2018 && (eb - 1) >>> 0 < 2018 && (ea + eb - 1078) >>> 0 <= 1989) {
    // a*b = ph + pl exactly (as in f64Mul). Then a cascade of TwoSums gives
    // a*b + c == F + R + z2 exactly, with F = RN(F + R).
    let x = ((aHi & 0xfffff) * TWO32 + (aLo >>> 0) + TWO52) * POW2[ea] * ((aHi >> 31) | 1);
    const y = ((bHi & 0xfffff) * TWO32 + (bLo >>> 0) + TWO52) * POW2[eb] * ((bHi >> 31) | 1);
    const ec = (cHi >>> 20) & 0x7ff;
    let z = ((cHi & 0xfffff) * TWO32 + (cLo >>> 0) + (ec === 0 ? 0 : TWO52)) * POW2[ec] * ((cHi >> 31) | 1);
    if (negProduct) x = -x;
    if (negAddend) z = -z;
    const ph = x * y;
    let t = SPLIT * x;
    const xh = t - (t - x);
    const xl = x - xh;
    t = SPLIT * y;
    const yh = t - (t - y);
    const yl = y - yh;
    const pl = xl * yl - (ph - xh * yh - xl * yh - xh * yl);
    const s = ph + z;
    let bv = s - ph;
    const s1 = ph - (s - bv) + (z - bv);
    const w = s1 + pl;
    bv = w - s1;
    const w1 = s1 - (w - bv) + (pl - bv);
    const f = s + w;
    bv = f - s;
    const g = s - (f - bv) + (w - bv);
    const g2 = g + w1;
    bv = g2 - g;
    const z2 = g - (g2 - bv) + (w1 - bv);
    const F = f + g2;
    bv = F - f;
    const R = f - (F - bv) + (g2 - bv);
    const aF = Math.abs(F);
    // Accept only a normal, non-overflowing F with a tail far below it: then R (and z2) sit on a
    // grid fine enough that z2 can change the rounding only when R is exactly at a rounding
    // threshold (tie point), a case left to the exact integer path.
    if (
      aF >= 9.332636185032189e-302 /* 2^-1000 */ &&
      aF < 8.98846567431158e307 &&
      Math.abs(g2) <= aF * 8.881784197001252e-16
    ) {
      let ok = true;
      if (z2 !== 0) {
        // ulp(F): the gap to the next larger double. R === 0 with z2 !== 0 needs F a power of two
        // and is left to the integer path as well.
        d64[0] = aF;
        const lo1 = (i64[LO] + 1) | 0;
        if (lo1 === 0) i64[HI] = i64[HI] + 1;
        i64[LO] = lo1;
        const ulp = d64[0] - aF;
        const u = Math.abs(R) * 4;
        ok = u !== 0 && u !== ulp * 2 && u !== ulp;
      }
      if (ok) {
        d64[0] = F;
        fpResult[0] = i64[LO];
        fpResult[1] = i64[HI];
        if (R === 0) return 0;
        if (rm === 0) return FLAG_NX;
        errBuf[0] = R;
        return applyError64(rm);
      }
    }
  }
  return mulAddSlow(aLo, aHi, bLo, bHi, cLo, cHi, rm, negProduct, negAddend);
}

// 128-bit integer datapath for the general fused multiply-add. Limbs little-endian, uint32.
const W = new Uint32Array(4);
const V = new Uint32Array(4);
/** Significand words of the last unpackInt: [0] = high 21 bits, [1] = low 32 bits. */
const um = new Int32Array(2);

/** Unpacks a finite non-zero binary64: significand um (53 bits), value = sig * 2^(uE - 52). */
function unpackInt(lo: number, hi: number): void {
  normalize(lo, hi);
  um[0] = (i64[HI] & 0xfffff) | 0x100000;
  um[1] = i64[LO];
}

function shl128(X: Uint32Array, n: number): void {
  if (n === 0) return;
  const q = n >>> 5;
  const r = n & 31;
  for (let i = 3; i >= 0; i--) {
    const src = i - q;
    const v = src >= 0 ? X[src] : 0;
    if (r === 0) X[i] = v;
    else {
      const low = src >= 1 ? X[src - 1] : 0;
      X[i] = (v << r) | (low >>> (32 - r));
    }
  }
}

function shrJam128(X: Uint32Array, n: number): void {
  if (n === 0) return;
  if (n >= 128) {
    const nz = (X[0] | X[1] | X[2] | X[3]) !== 0;
    X[0] = nz ? 1 : 0;
    X[1] = 0;
    X[2] = 0;
    X[3] = 0;
    return;
  }
  const q = n >>> 5;
  const r = n & 31;
  let sticky = 0;
  for (let i = 0; i < q; i++) sticky |= X[i];
  if (r !== 0) sticky |= X[q] << (32 - r);
  for (let i = 0; i < 4; i++) {
    const src = i + q;
    const v = src < 4 ? X[src] : 0;
    if (r === 0) X[i] = v;
    else {
      const up = src + 1 < 4 ? X[src + 1] : 0;
      X[i] = (v >>> r) | (up << (32 - r));
    }
  }
  if (sticky !== 0) X[0] |= 1;
}

function mulAddSlow(
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  cLo: number,
  cHi: number,
  rm: number,
  negProduct: boolean,
  negAddend: boolean,
): number {
  const sp = ((aHi ^ bHi) >>> 31) ^ (negProduct ? 1 : 0);
  const sc = (cHi >>> 31) ^ (negAddend ? 1 : 0);
  const aNaN = isNaN64(aLo, aHi);
  const bNaN = isNaN64(bLo, bHi);
  const aInf = !aNaN && (aHi & 0x7ff00000) === 0x7ff00000;
  const bInf = !bNaN && (bHi & 0x7ff00000) === 0x7ff00000;
  const aZero = ((aHi & 0x7fffffff) | aLo) === 0;
  const bZero = ((bHi & 0x7fffffff) | bLo) === 0;
  const invalidProd = (aInf && bZero) || (aZero && bInf);
  if (aNaN || bNaN || isNaN64(cLo, cHi)) {
    putCanonicalNaN64();
    return invalidProd || isSNaN64(aLo, aHi) || isSNaN64(bLo, bHi) || isSNaN64(cLo, cHi) ? FLAG_NV : 0;
  }
  if (invalidProd) {
    putCanonicalNaN64();
    return FLAG_NV;
  }
  const cInf = (cHi & 0x7ff00000) === 0x7ff00000;
  if (aInf || bInf) {
    if (cInf && sc !== sp) {
      putCanonicalNaN64();
      return FLAG_NV;
    }
    fpResult[0] = 0;
    fpResult[1] = (sp << 31) | 0x7ff00000;
    return 0;
  }
  if (cInf) {
    fpResult[0] = 0;
    fpResult[1] = (sc << 31) | 0x7ff00000;
    return 0;
  }
  const cZero = ((cHi & 0x7fffffff) | cLo) === 0;
  if (aZero || bZero) {
    if (cZero) {
      fpResult[0] = 0;
      fpResult[1] = (sp === sc ? sp : rm === 2 ? 1 : 0) << 31;
    } else {
      fpResult[0] = cLo;
      fpResult[1] = (cHi & 0x7fffffff) | (sc << 31);
    }
    return 0;
  }

  // Exact 106-bit product of the significands into W.
  unpackInt(aLo, aHi);
  const ah = um[0];
  const al = um[1] >>> 0;
  const ea = uE;
  unpackInt(bLo, bHi);
  const bh = um[0];
  const bl = um[1] >>> 0;
  const eb = uE;
  const ll = Math.imul(al, bl) >>> 0;
  const llh = Math.round((al * bl - ll) / TWO32); // exact: the double product errs by < 2^12
  const m1 = ah * bl; // < 2^53, exact
  const m2 = al * bh;
  const hh = ah * bh; // < 2^42
  const m1h = Math.floor(m1 / TWO32);
  const m2h = Math.floor(m2 / TWO32);
  const hhh = Math.floor(hh / TWO32);
  let w1 = llh + (m1 - m1h * TWO32) + (m2 - m2h * TWO32);
  let carry = Math.floor(w1 / TWO32);
  w1 -= carry * TWO32;
  let w2 = hh - hhh * TWO32 + m1h + m2h + carry;
  carry = Math.floor(w2 / TWO32);
  w2 -= carry * TWO32;
  W[0] = ll;
  W[1] = w1;
  W[2] = w2;
  W[3] = hhh + carry;
  // Product MSB at bit 104 or 105; move it to 125/126. Value = W * 2^fe.
  shl128(W, 21);
  let fe = ea + eb - 125;
  let sign = sp;
  if (!cZero) {
    unpackInt(cLo, cHi);
    V[0] = um[1];
    V[1] = um[0];
    V[2] = 0;
    V[3] = 0;
    // C = Cm * 2^(uE - 52) = (Cm << k) * 2^fe.
    const k = uE - 52 - fe;
    if (k > 73) {
      // The addend dominates: put its MSB at bit 125 and shift the product right (jamming bits
      // that land far below the rounding position).
      shl128(V, 73);
      shrJam128(W, k - 73);
      fe += k - 73;
    } else if (k >= 0) {
      shl128(V, k);
    } else {
      shrJam128(V, -k);
    }
    if (sp === sc) {
      let c = 0;
      for (let i = 0; i < 4; i++) {
        const v = W[i] + V[i] + c;
        W[i] = v;
        c = v >= TWO32 ? 1 : 0;
      }
    } else {
      let cmp = 0;
      for (let i = 3; i >= 0; i--) {
        if (W[i] !== V[i]) {
          cmp = W[i] > V[i] ? 1 : -1;
          break;
        }
      }
      if (cmp === 0) {
        fpResult[0] = 0;
        fpResult[1] = rm === 2 ? 0x80000000 | 0 : 0;
        return 0;
      }
      const X = cmp > 0 ? W : V;
      const Y = cmp > 0 ? V : W;
      let bw = 0;
      for (let i = 0; i < 4; i++) {
        const v = X[i] - Y[i] - bw;
        W[i] = v;
        bw = v < 0 ? 1 : 0;
      }
      if (cmp < 0) sign = sc;
    }
  }
  // Normalize: MSB to bit 126, then round the top 64 bits with the rest jammed into bit 0.
  let msb = 127;
  for (let i = 3; i >= 0; i--) {
    if (W[i] !== 0) {
      msb = i * 32 + 31 - Math.clz32(W[i]);
      break;
    }
  }
  if (msb === 127) {
    shrJam128(W, 1);
    fe += 1;
  } else {
    shl128(W, 126 - msb);
    fe -= 126 - msb;
  }
  return roundPack64(sign, fe + 1148, W[3] | 0, W[2] | ((W[1] | W[0]) !== 0 ? 1 : 0), rm);
}

// --- min / max / compare / classify --------------------------------------------------------------

export function f64Min(aLo: number, aHi: number, bLo: number, bHi: number): number {
  return minMax(aLo, aHi, bLo, bHi, false);
}

export function f64Max(aLo: number, aHi: number, bLo: number, bHi: number): number {
  return minMax(aLo, aHi, bLo, bHi, true);
}

function minMax(aLo: number, aHi: number, bLo: number, bHi: number, max: boolean): number {
  aHi |= 0;
  const aNaN = isNaN64(aLo, aHi);
  const bNaN = isNaN64(bLo, bHi);
  if (aNaN || bNaN) {
    const flags = isSNaN64(aLo, aHi) || isSNaN64(bLo, bHi) ? FLAG_NV : 0;
    if (aNaN && bNaN) putCanonicalNaN64();
    else if (aNaN) {
      fpResult[0] = bLo;
      fpResult[1] = bHi;
    } else {
      fpResult[0] = aLo;
      fpResult[1] = aHi;
    }
    return flags;
  }
  const x = value64(aLo, aHi);
  const y = value64(bLo, bHi);
  // Equal values differ only for +-0: min prefers -0, max prefers +0.
  const pickA = max ? x > y || (x === y && aHi >= 0) : x < y || (x === y && aHi < 0);
  if (pickA) {
    fpResult[0] = aLo;
    fpResult[1] = aHi;
  } else {
    fpResult[0] = bLo;
    fpResult[1] = bHi;
  }
  return 0;
}

/** Quiet equality (feq.d): NV only for signaling NaN operands. fpResult[0] = 0 or 1. */
export function f64Eq(aLo: number, aHi: number, bLo: number, bHi: number): number {
  fpResult[1] = 0;
  if (isNaN64(aLo, aHi) || isNaN64(bLo, bHi)) {
    fpResult[0] = 0;
    return isSNaN64(aLo, aHi) || isSNaN64(bLo, bHi) ? FLAG_NV : 0;
  }
  const x = value64(aLo, aHi);
  const y = value64(bLo, bHi);
  fpResult[0] = x === y ? 1 : 0;
  return 0;
}

/** Signaling less-than (flt.d): NV for any NaN operand. */
export function f64Lt(aLo: number, aHi: number, bLo: number, bHi: number): number {
  fpResult[1] = 0;
  if (isNaN64(aLo, aHi) || isNaN64(bLo, bHi)) {
    fpResult[0] = 0;
    return FLAG_NV;
  }
  const x = value64(aLo, aHi);
  const y = value64(bLo, bHi);
  fpResult[0] = x < y ? 1 : 0;
  return 0;
}

/** Signaling less-or-equal (fle.d): NV for any NaN operand. */
export function f64Le(aLo: number, aHi: number, bLo: number, bHi: number): number {
  fpResult[1] = 0;
  if (isNaN64(aLo, aHi) || isNaN64(bLo, bHi)) {
    fpResult[0] = 0;
    return FLAG_NV;
  }
  const x = value64(aLo, aHi);
  const y = value64(bLo, bHi);
  fpResult[0] = x <= y ? 1 : 0;
  return 0;
}

/** fclass.d: one-hot 10-bit class mask in fpResult[0] (fpResult[1] = 0). Never raises flags. */
export function f64Class(aLo: number, aHi: number): number {
  const neg = (aHi | 0) < 0;
  const bexp = (aHi >>> 20) & 0x7ff;
  const frac = (aHi & 0xfffff) | aLo;
  let m: number;
  if (bexp === 0x7ff) {
    if (frac === 0) m = neg ? 1 : 1 << 7;
    else m = (aHi & 0x80000) !== 0 ? 1 << 9 : 1 << 8;
  } else if (bexp === 0) {
    if (frac === 0) m = neg ? 1 << 3 : 1 << 4;
    else m = neg ? 1 << 2 : 1 << 5;
  } else m = neg ? 1 << 1 : 1 << 6;
  fpResult[0] = m;
  fpResult[1] = 0;
  return 0;
}

/**
 * Shared state and primitives of the IEEE 754 soft-float library (RISC-V F/D).
 *
 * Conventions used throughout the library:
 * - binary64 values travel as two int32 halves (lo, hi) of the bit pattern, binary32 values as one
 *   int32 bit pattern.
 * - Rounding modes use the RISC-V encoding: 0=RNE, 1=RTZ, 2=RDN, 3=RUP, 4=RMM.
 * - Every operation writes its result to `fpResult` ([0] = lo word or 32-bit result, [1] = hi word)
 *   and returns the accrued RISC-V fflags bits (NV=16, DZ=8, OF=4, UF=2, NX=1).
 * - Nothing on the common paths allocates: JS doubles carry exact intermediate values (proved
 *   exact with error-free transforms), bit patterns move through the preallocated aliases below.
 */

export const FLAG_NV = 16;
export const FLAG_DZ = 8;
export const FLAG_OF = 4;
export const FLAG_UF = 2;
export const FLAG_NX = 1;

export const RM_RNE = 0;
export const RM_RTZ = 1;
export const RM_RDN = 2;
export const RM_RUP = 3;
export const RM_RMM = 4;

/** Result registers of the last operation: [0] = low word (or 32-bit result), [1] = high word. */
export const fpResult = new Int32Array(2);

// --- bit-pattern aliases -------------------------------------------------------------------------

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Index of the low / high 32-bit word of a float64 inside `i64`. */
export const LO = LITTLE_ENDIAN ? 0 : 1;
export const HI = LITTLE_ENDIAN ? 1 : 0;

/** Scratch float64 and its two 32-bit words. */
export const d64 = new Float64Array(1);
export const i64 = new Int32Array(d64.buffer);
/** Scratch float32 and its bit pattern. */
export const d32 = new Float32Array(1);
export const i32 = new Int32Array(d32.buffer);

/*
 * Hot-path rule: helpers never take or return doubles (a call that V8 does not inline would box
 * them into heap numbers). Doubles travel through the typed-array scratch instead: `d64` (with its
 * words `i64`), `errBuf` and `fpResult`.
 */

/** Rounding error that goes with the binary64 value held in fpResult (see applyError64). */
export const errBuf = new Float64Array(1);

/**
 * POW2[e] = 2^(e - 1075) for e >= 1 and POW2[0] = 2^-1074, so that a binary64 with exponent field
 * e, fraction f and sign s equals (f + (e ? 2^52 : 0)) * POW2[e] * (s ? -1 : 1) exactly (infinity
 * for e = 2047). Decoding operands this way avoids the store-forwarding stall of writing two int32
 * words and reading them back as one float64. (Built from bit patterns, not Math.pow.)
 */
export const POW2 = new Float64Array(2048);
for (let e = 0; e < 2048; e++) {
  const k = e === 0 ? 1 : e; // 2^(k - 1075)
  if (k > 52) {
    i64[LO] = 0;
    i64[HI] = (k - 52) << 20;
  } else if (k > 32) {
    i64[LO] = 0;
    i64[HI] = 1 << (k - 33);
  } else {
    i64[LO] = 1 << (k - 1);
    i64[HI] = 0;
  }
  POW2[e] = d64[0];
}
export const TWO32 = 4294967296;
export const TWO52 = 4503599627370496;

/** The exact value of the binary64 (lo, hi), with the POW2 table (infinity and NaN come out infinite). */
export function value64(lo: number, hi: number): number {
  const e = (hi >>> 20) & 0x7ff;
  return ((hi & 0xfffff) * TWO32 + (lo >>> 0) + (e === 0 ? 0 : TWO52)) * POW2[e] * ((hi >> 31) | 1);
}

export function putCanonicalNaN64(): void {
  fpResult[0] = 0;
  fpResult[1] = 0x7ff80000;
}

export function putCanonicalNaN32(): void {
  fpResult[0] = 0x7fc00000;
}

export function isNaN64(lo: number, hi: number): boolean {
  return (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0;
}

export function isSNaN64(lo: number, hi: number): boolean {
  return (hi & 0x7ff80000) === 0x7ff00000 && ((hi & 0x7ffff) | lo) !== 0;
}

/**
 * A NaN operand gives the canonical NaN (unpriv spec 11.3), with NV only if
 * one is signaling: the flags, or -1 when neither operand is a NaN.
 */
export function nanResult64(aLo: number, aHi: number, bLo: number, bHi: number): number {
  if (!isNaN64(aLo, aHi) && !isNaN64(bLo, bHi)) return -1;
  putCanonicalNaN64();
  return isSNaN64(aLo, aHi) || isSNaN64(bLo, bHi) ? FLAG_NV : 0;
}

/** nanResult64 for binary32 operands. */
export function nanResult32(a: number, b: number): number {
  if (!isNaN32(a) && !isNaN32(b)) return -1;
  putCanonicalNaN32();
  return isSNaN32(a) || isSNaN32(b) ? FLAG_NV : 0;
}

export function isNaN32(a: number): boolean {
  return (a & 0x7fffffff) > 0x7f800000;
}

export function isSNaN32(a: number): boolean {
  return (a & 0x7fc00000) === 0x7f800000 && (a & 0x3fffff) !== 0;
}

/**
 * Completes the rounding of a binary64 result in any mode. On entry fpResult holds s and errBuf[0]
 * holds e, where s + e is the exact result, s = RN(s + e) (as produced by an error-free transform),
 * s is finite, non-zero, |s| >= 2^-1021 (so the 53-bit grid around s is the binary64 grid). Steps
 * fpResult by one ulp where the mode requires it and returns the flags: 0 (exact), NX, or OF|NX
 * when stepping past the largest finite value.
 */
export function applyError64(rm: number): number {
  const e = errBuf[0];
  if (e === 0) return 0;
  if (rm === 0) return FLAG_NX;
  let hi = fpResult[1];
  let lo = fpResult[0];
  const neg = hi < 0;
  const eNeg = e < 0;
  let dir = 0; // +1: one ulp away from zero, -1: one ulp towards zero
  switch (rm) {
    case 1: // RTZ
      if (neg !== eNeg) dir = -1;
      break;
    case 2: // RDN
      if (eNeg) dir = neg ? 1 : -1;
      break;
    case 3: // RUP
      if (!eNeg) dir = neg ? -1 : 1;
      break;
    default: {
      // RMM differs from RNE only on an exact tie that RNE resolved towards zero:
      // e on the far side of s with |e| = ulp(s)/2 = 2^(E - 1076), E the exponent field of s.
      if (neg === eNeg) {
        d64[0] = e;
        const eh = i64[HI] & 0x7fffffff;
        const el = i64[LO];
        const E = (hi >>> 20) & 0x7ff;
        let th = 0;
        let tl = 0;
        if (E > 53) th = (E - 53) << 20;
        else if (E >= 34) th = 1 << (E - 34);
        else tl = 1 << (E - 2);
        if (eh === th && el === tl) dir = 1;
      }
    }
  }
  if (dir === 0) return FLAG_NX;
  if (dir > 0) {
    lo = (lo + 1) | 0;
    if (lo === 0) hi = (hi + 1) | 0;
  } else {
    if (lo === 0) hi = (hi - 1) | 0;
    lo = (lo - 1) | 0;
  }
  fpResult[0] = lo;
  fpResult[1] = hi;
  return (hi & 0x7ff00000) === 0x7ff00000 ? FLAG_OF | FLAG_NX : FLAG_NX;
}

/**
 * Round-to-odd on the scratch double: d64 holds s = RN(s + e) with e != 0; `up` tells whether the
 * exact value lies further from zero than s. If the last significand bit of s is 0, moves s one ulp
 * towards the exact value (making it odd). Rounding the result once more to a format of at most 51
 * bits gives the correctly rounded exact value in every mode.
 */
export function toOddScratch(up: boolean): void {
  const lo = i64[LO];
  if ((lo & 1) !== 0) return;
  if (up) i64[LO] = lo | 1;
  else {
    if (lo === 0) i64[HI] = i64[HI] - 1;
    i64[LO] = lo - 1;
  }
}

/** The rounding mode on magnitudes for a result of the given sign (RDN/RUP swap for negatives). */
export function magMode(sign: number, rm: number): number {
  if (sign !== 0) {
    if (rm === 2) return 3;
    if (rm === 3) return 2;
  }
  return rm;
}

// --- round and pack (Berkeley SoftFloat conventions, tininess after rounding) ---------------------

/**
 * Rounds sign * sig * 2^(exp - 156) to binary32 in mode rm, writing fpResult[0].
 * `sig` is a non-negative integer < 2^31 with its leading one at bit 30 (bits 6..0 are rounding
 * bits; bit 0 may be a sticky "jam" bit). `exp` is the biased exponent minus one.
 */
export function roundPack32(sign: number, exp: number, sig: number, rm: number): number {
  let inc = 0x40;
  if (rm !== 0 && rm !== 4) inc = rm === (sign !== 0 ? 2 : 3) ? 0x7f : 0;
  let roundBits = sig & 0x7f;
  let flags = 0;
  if (exp >= 0xfd || exp < 0) {
    if (exp < 0) {
      const tiny = exp < -1 || sig + inc < 0x80000000;
      const dist = -exp;
      if (dist >= 31) sig = sig !== 0 ? 1 : 0;
      else sig = (sig >>> dist) | ((sig & ((1 << dist) - 1)) !== 0 ? 1 : 0);
      exp = 0;
      roundBits = sig & 0x7f;
      if (tiny && roundBits !== 0) flags = FLAG_UF;
    } else if (exp > 0xfd || sig + inc >= 0x80000000) {
      fpResult[0] = ((sign << 31) | 0x7f800000) - (inc === 0 ? 1 : 0);
      return FLAG_OF | FLAG_NX;
    }
  }
  sig = (sig + inc) >>> 7;
  if (roundBits !== 0) flags |= FLAG_NX;
  if (roundBits === 0x40 && rm === 0) sig &= ~1;
  if (sig === 0) exp = 0;
  fpResult[0] = (sign << 31) | ((exp << 23) + sig);
  return flags;
}

/**
 * Rounds sign * sig * 2^(exp - 1084) to binary64 in mode rm, writing fpResult.
 * `sig` = sigHi * 2^32 + sigLo (both uint32 or int32 bit patterns; pass int32 to avoid boxing)
 * must have its leading one at bit 62 (tininess and packing depend on it); bits 9..0 are rounding
 * bits, bit 0 may be a sticky bit. `exp` is the biased exponent minus one.
 */
export function roundPack64(sign: number, exp: number, sigHi: number, sigLo: number, rm: number): number {
  sigHi >>>= 0;
  sigLo >>>= 0;
  let inc = 0x200;
  if (rm !== 0 && rm !== 4) inc = rm === (sign !== 0 ? 2 : 3) ? 0x3ff : 0;
  let roundBits = sigLo & 0x3ff;
  let flags = 0;
  if (exp >= 0x7fd || exp < 0) {
    if (exp < 0) {
      const tiny = exp < -1 || sigHi + (sigLo + inc >= 4294967296 ? 1 : 0) < 0x80000000;
      const dist = -exp;
      if (dist < 32) {
        const sticky = sigLo << (32 - dist) !== 0 ? 1 : 0;
        sigLo = ((sigLo >>> dist) | (sigHi << (32 - dist)) | sticky) >>> 0;
        sigHi >>>= dist;
      } else if (dist < 64) {
        const d = dist - 32;
        const sticky = sigLo !== 0 || (d !== 0 && sigHi << (32 - d) !== 0) ? 1 : 0;
        sigLo = ((sigHi >>> d) | sticky) >>> 0;
        sigHi = 0;
      } else {
        sigLo = sigHi !== 0 || sigLo !== 0 ? 1 : 0;
        sigHi = 0;
      }
      exp = 0;
      roundBits = sigLo & 0x3ff;
      if (tiny && roundBits !== 0) flags = FLAG_UF;
    } else if (exp > 0x7fd || sigHi + (sigLo + inc >= 4294967296 ? 1 : 0) >= 0x80000000) {
      if (inc === 0) {
        fpResult[0] = -1;
        fpResult[1] = (sign << 31) | 0x7fefffff;
      } else {
        fpResult[0] = 0;
        fpResult[1] = (sign << 31) | 0x7ff00000;
      }
      return FLAG_OF | FLAG_NX;
    }
  }
  let lo = sigLo + inc;
  let hi = sigHi;
  if (lo >= 4294967296) {
    lo -= 4294967296;
    hi += 1;
  }
  let rLo = (lo >>> 10) | (hi << 22);
  const rHi = hi >>> 10;
  if (roundBits !== 0) flags |= FLAG_NX;
  if (roundBits === 0x200 && rm === 0) rLo &= ~1;
  if (rLo === 0 && rHi === 0) exp = 0;
  fpResult[0] = rLo;
  fpResult[1] = (sign << 31) | ((exp << 20) + rHi);
  return flags;
}

/** Overflowed binary64 result for the sign and mode: infinity, or the largest finite value. */
export function putOverflow64(sign: number, rm: number): number {
  const toMax = rm === 1 || (rm === 2 && sign === 0) || (rm === 3 && sign !== 0);
  if (toMax) {
    fpResult[0] = -1;
    fpResult[1] = (sign << 31) | 0x7fefffff;
  } else {
    fpResult[0] = 0;
    fpResult[1] = (sign << 31) | 0x7ff00000;
  }
  return FLAG_OF | FLAG_NX;
}

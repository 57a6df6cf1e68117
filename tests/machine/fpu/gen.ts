/**
 * Seeded operand generators for the soft-float tests, biased towards the cases that break
 * floating-point implementations: signed zeros, infinities, quiet/signaling NaNs, subnormals,
 * extreme exponents, significands near rounding boundaries (ties), cancellation, overflow and
 * underflow of products/quotients, and integers near conversion limits.
 */

import { fpResult } from "../../../src/machine/cpu/fpu/index.ts";
import { Sfc32 } from "../../support/prng.ts";
import { F64, type Fmt, div as refDiv } from "./ref.ts";

/** sfc32 PRNG. The seed can be overridden with FPU_SEED to reproduce or vary a run. */
export class Rng extends Sfc32 {
  constructor(seed: number) {
    const env = typeof process !== "undefined" ? process.env.FPU_SEED : undefined;
    const s = env !== undefined ? Number(env) ^ seed : seed;
    super(0x9e3779b9, 0x243f6a88, 0xb7e15162, s >>> 0, 16);
  }

  /** Uniform random BigInt of `bits` bits. */
  bits(bits: number): bigint {
    let v = 0n;
    for (let i = 0; i < bits; i += 32) v = (v << 32n) | BigInt(this.u32());
    const extra = Math.ceil(bits / 32) * 32 - bits;
    return v >> BigInt(extra);
  }
}

const mask = (n: number): bigint => (1n << BigInt(n)) - 1n;

export function pack(sign: number, biasedExp: number, frac: bigint, f: Fmt): bigint {
  return (
    (BigInt(sign & 1) << BigInt(f.width - 1)) |
    (BigInt(biasedExp) << BigInt(f.fbits)) |
    (frac & mask(f.fbits))
  );
}

export function expOf(bits: bigint, f: Fmt): number {
  return Number((bits >> BigInt(f.fbits)) & mask(f.ebits));
}

export function fracOf(bits: bigint, f: Fmt): bigint {
  return bits & mask(f.fbits);
}

/** A fraction field with structure: ties, runs of ones/zeros, few significant bits. */
export function fraction(r: Rng, f: Fmt): bigint {
  const n = f.fbits;
  switch (r.int(9)) {
    case 0:
      return 0n;
    case 1:
      return mask(n);
    case 2: {
      // only the top k bits random: short significands give exact products and ties
      const k = r.range(1, n);
      return (r.bits(k) << BigInt(n - k)) & mask(n);
    }
    case 3: {
      // trailing ones / near all ones
      const k = r.range(1, n);
      return ((mask(n) << BigInt(k)) & mask(n)) | r.bits(r.range(0, 3));
    }
    case 4: {
      // single bit set
      return 1n << BigInt(r.int(n));
    }
    case 5: {
      // low bits form a half / near-half pattern at a random position
      const k = r.range(1, n - 1);
      return ((r.bits(n) >> BigInt(k)) << BigInt(k)) | (1n << BigInt(k - 1)) | BigInt(r.int(2));
    }
    default:
      return r.bits(n);
  }
}

/** A random floating-point bit pattern biased towards special and boundary values. */
export function randFloat(r: Rng, f: Fmt): bigint {
  const sign = r.int(2);
  const emax = (1 << f.ebits) - 1;
  const k = r.int(100);
  if (k < 4) return r.bits(f.width);
  if (k < 16) {
    switch (r.int(12)) {
      case 0:
        return pack(sign, 0, 0n, f); // zero
      case 1:
        return pack(sign, emax, 0n, f); // inf
      case 2:
        return pack(sign, emax, 1n << BigInt(f.fbits - 1), f); // canonical-ish qNaN
      case 3:
        return pack(sign, emax, (1n << BigInt(f.fbits - 1)) | r.bits(f.fbits - 1), f); // qNaN payload
      case 4:
        return pack(sign, emax, r.bits(f.fbits - 1) | 1n, f); // sNaN
      case 5:
        return pack(sign, 0, 1n, f); // min subnormal
      case 6:
        return pack(sign, 0, mask(f.fbits), f); // max subnormal
      case 7:
        return pack(sign, 1, 0n, f); // min normal
      case 8:
        return pack(sign, emax - 1, mask(f.fbits), f); // max finite
      case 9:
        return pack(sign, f.bias, 0n, f); // 1.0
      case 10:
        return pack(sign, f.bias + r.range(-3, 3), fraction(r, f), f);
      default:
        return pack(sign, r.pick([1, 2, emax - 2, emax - 1]), fraction(r, f), f);
    }
  }
  if (k < 28) {
    // subnormal with a random number of leading zeros
    const frac = r.bits(f.fbits) >> BigInt(r.int(f.fbits));
    return pack(sign, 0, frac === 0n ? 1n : frac, f);
  }
  if (k < 38) return pack(sign, r.range(emax - 1 - 70, emax - 1), fraction(r, f), f);
  if (k < 48) return pack(sign, r.range(1, 70), fraction(r, f), f);
  if (k < 70) return pack(sign, r.range(1, emax - 1), fraction(r, f), f);
  return pack(sign, f.bias + r.range(-80, 80), fraction(r, f), f);
}

/** A finite non-zero value with the given biased exponent clamped into the format's range. */
export function withExp(r: Rng, biased: number, f: Fmt): bigint {
  const emax = (1 << f.ebits) - 1;
  if (biased <= 0) {
    // subnormal: shift a normal significand right
    const sh = 1 - biased;
    const m = ((1n << BigInt(f.fbits)) | fraction(r, f)) >> BigInt(Math.min(sh, f.fbits + 8));
    return pack(r.int(2), 0, m === 0n ? BigInt(r.int(2)) : m, f);
  }
  if (biased >= emax) return pack(r.int(2), emax - 1, fraction(r, f), f);
  return pack(r.int(2), biased, fraction(r, f), f);
}

/** Moves a finite bit pattern by a few ulps (staying within finite values of the same sign). */
export function nudge(r: Rng, bits: bigint, f: Fmt): bigint {
  const signMask = 1n << BigInt(f.width - 1);
  const sign = bits & signMask;
  let mag = bits & ~signMask;
  const d = BigInt(r.range(-3, 3));
  mag += d;
  const maxMag = ((mask(f.ebits) - 1n) << BigInt(f.fbits)) | mask(f.fbits);
  if (mag < 0n) mag = 0n;
  if (mag > maxMag) mag = maxMag;
  return sign | mag;
}

const flipSign = (bits: bigint, f: Fmt): bigint => bits ^ (1n << BigInt(f.width - 1));

/** Second operand for add/sub: often close to +-a (cancellation) or at an alignment boundary. */
export function addPartner(r: Rng, a: bigint, f: Fmt): bigint {
  const ea = expOf(a, f);
  const emax = (1 << f.ebits) - 1;
  if (ea === emax) return randFloat(r, f);
  switch (r.int(7)) {
    case 6: {
      // same sign, about half an ulp of a: rounding boundaries (and overflow just above the max)
      const b = withExp(r, ea - f.p + r.range(-1, 1), f);
      return (b & ~(1n << BigInt(f.width - 1))) | (a & (1n << BigInt(f.width - 1)));
    }
    case 0:
      return randFloat(r, f);
    case 1:
      return nudge(r, flipSign(a, f), f);
    case 2:
      return nudge(r, a, f);
    case 3:
      return withExp(r, ea - r.range(0, f.p + 3), f);
    case 4:
      return withExp(r, ea + r.range(-2, 2), f);
    default:
      return withExp(r, ea - r.range(0, 2 * f.p + 8), f);
  }
}

/** Second operand for mul/div so that the result lands near overflow / underflow. */
export function mulPartner(r: Rng, a: bigint, f: Fmt, isDiv: boolean): bigint {
  const ea = expOf(a, f);
  const emax = (1 << f.ebits) - 1;
  if (ea === emax || r.int(4) === 0) return randFloat(r, f);
  if (r.int(3) === 0 && (a & ~(1n << BigInt(f.width - 1))) !== 0n) {
    // result within a few ulps of a power of two (or the largest finite value) at the edges of
    // the exponent range: b = T / a (mul) or a / T (div), nudged
    const T = r.pick([
      pack(0, 1, 0n, f),
      pack(0, 2, 0n, f),
      pack(0, emax - 1, 0n, f),
      pack(0, emax - 1, mask(f.fbits), f),
    ]);
    const q = isDiv ? refDiv(a, T, r.int(5), f).bits : refDiv(T, a, r.int(5), f).bits;
    if (expOf(q, f) === emax) return randFloat(r, f);
    return nudge(r, q ^ (BigInt(r.int(2)) << BigInt(f.width - 1)), f);
  }
  const target = r.bool()
    ? f.bias + f.emax + r.range(-3, 2) // result exponent near the top
    : 1 - r.range(-3, f.p + 4); // near / below the smallest normal
  // mul: ea + eb - bias = target; div: ea - eb + bias = target
  const eb = isDiv ? ea + f.bias - target : target - ea + f.bias;
  if (r.int(3) === 0) return nudge(r, a, f); // a*a, a/a ~ 1
  return withExp(r, eb, f);
}

/** Bits of the double nearest to a binary64 bit pattern's negated product a*b (test helper). */
function f64Value(bits: bigint): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, bits);
  return dv.getFloat64(0);
}

function f64Bits(x: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  return dv.getBigUint64(0);
}

function f32Value(bits: bigint): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setUint32(0, Number(bits));
  return dv.getFloat32(0);
}

function f32Bits(x: number): bigint {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, x);
  return BigInt(dv.getUint32(0));
}

export function toNumber(bits: bigint, f: Fmt): number {
  return f === F64 ? f64Value(bits) : f32Value(bits);
}

export function fromNumber(x: number, f: Fmt): bigint {
  return f === F64 ? f64Bits(x) : f32Bits(x);
}

/** Addend for fma: cancels the product, sits at alignment boundaries, or is special. */
export function fmaAddend(r: Rng, a: bigint, b: bigint, f: Fmt): bigint {
  const k = r.int(8);
  if (k === 0) return randFloat(r, f);
  const prod = toNumber(a, f) * toNumber(b, f);
  const emax = (1 << f.ebits) - 1;
  if (Number.isNaN(prod) || ((prod === Infinity || prod === -Infinity) && r.bool())) {
    return pack(r.int(2), emax, r.int(4) === 0 ? r.bits(f.fbits) : 0n, f); // inf (or NaN) addend
  }
  if (!Number.isFinite(prod) || prod === 0 || k === 1) {
    const pe = expOf(a, f) + expOf(b, f) - f.bias;
    return withExp(r, pe + r.range(-2 * f.p - 6, f.p + 4), f);
  }
  // nearest representable to -(a*b) (or +(a*b)), then nudged: massive cancellation
  let c = fromNumber(r.bool() ? -prod : prod, f);
  if (expOf(c, f) === emax) return randFloat(r, f);
  if (k <= 4) c = nudge(r, c, f);
  else if (k === 5) {
    const ec = expOf(c, f);
    c = withExp(r, ec - r.range(0, f.p + 2), f);
  }
  return c;
}

/** An integer (as BigInt) of the given kind, biased towards rounding and range boundaries. */
export function randInt(r: Rng, signed: boolean, width: number): bigint {
  const k = r.int(6);
  let v: bigint;
  if (k === 0) v = r.bits(width);
  else if (k === 1) {
    // exactly representable or tie patterns: p+1 significant bits
    const len = r.range(1, width);
    const p = r.pick([24, 25, 26, 53, 54, 55]);
    const top = r.bits(Math.min(len, p)) | 1n;
    v = top << BigInt(Math.max(0, len - p));
  } else if (k === 2)
    v = r.pick([0n, 1n, 2n, (1n << BigInt(width - 1)) - 1n, 1n << BigInt(width - 1), mask(width)]);
  else {
    const len = r.range(1, width);
    v = r.bits(len) | (1n << BigInt(len - 1));
  }
  v &= mask(width);
  return signed ? BigInt.asIntN(width, v) : v;
}

/** A float near integer / conversion boundaries (for fcvt to integer). */
export function cvtOperand(r: Rng, f: Fmt): bigint {
  const k = r.int(5);
  if (k === 0) return randFloat(r, f);
  const sign = r.bool() ? -1 : 1;
  let x: number;
  if (k === 1) {
    const base = r.pick([2 ** 31, 2 ** 32, 2 ** 63, 2 ** 64, 1, 0, 2 ** 53, 2 ** 24]);
    x = base + r.pick([0, 0.5, -0.5, 1, -1, 0.25, -0.75, 1.5, -1.5]);
  } else if (k === 2) {
    x = r.int(8) + r.pick([0, 0.25, 0.5, 0.75, 0.125, 0.999]);
  } else {
    const e = r.range(-3, 66);
    x = Math.floor((r.u32() / 4294967296) * 2 ** e * 4) / 4;
  }
  const bits = fromNumber(sign * x, f);
  return r.int(3) === 0 ? nudge(r, bits, f) : bits;
}

// --- adapters between BigInt bit patterns and the library's int32 calling convention -----------

export function lo32(bits: bigint): number {
  return Number(bits & 0xffffffffn) | 0;
}

export function hi32(bits: bigint): number {
  return Number((bits >> 32n) & 0xffffffffn) | 0;
}

export function result64(): bigint {
  return (BigInt(fpResult[1] >>> 0) << 32n) | BigInt(fpResult[0] >>> 0);
}

export function result32(): bigint {
  return BigInt(fpResult[0] >>> 0);
}

export function hex(bits: bigint, f: Fmt | number): string {
  const w = typeof f === "number" ? f : f.width;
  return `0x${bits.toString(16).padStart(w / 4, "0")}`;
}

/** Random sign bit (0 or 1). */
function rsign(r: Rng): number {
  return r.int(2);
}

/** Encodes sign * M * 2^x (M with exactly f.p significant bits) if it is a normal value. */
function encodeNormal(sign: number, M: bigint, x: number, f: Fmt): bigint | undefined {
  const be = x + f.p - 1 + f.bias;
  if (be < 1 || be >= (1 << f.ebits) - 1) return undefined;
  return pack(sign, be, M - (1n << BigInt(f.fbits)), f);
}

/**
 * fma operands whose exact result lies at, or within a tiny distance of, a rounding midpoint of the
 * addend c: the product is +-ulp(c)/2 or +-ulp(c)/4 (the latter is the midpoint below a power of
 * two) times (1 + d/2^(2p-1)) with a small integer d (possibly 0). Returns [a, b, c].
 */
export function fmaNearTie(r: Rng, f: Fmt): [bigint, bigint, bigint] {
  const p = f.p;
  for (;;) {
    const emaxB = (1 << f.ebits) - 2;
    const cbe = r.int(5) === 0 ? r.range(1, 3 * p) : r.range(2 * p + 2, emaxB);
    const c = pack(rsign(r), cbe, r.int(3) === 0 ? 0n : fraction(r, f), f);
    const ulpExp = cbe - f.bias - f.fbits; // unbiased exponent of ulp(c)
    const ep = ulpExp - r.range(1, 2) + (r.int(6) === 0 ? r.range(-2, 2) : 0);
    const T = 1n << BigInt(2 * p - 1);
    const A = (1n << BigInt(p - 1)) | r.bits(p - 1);
    let B = T / A + BigInt(r.range(0, 1));
    if (r.int(8) === 0) B = (1n << BigInt(p - 1)) | r.bits(p - 1); // unrelated product
    if (B < 1n << BigInt(p - 1) || B >= 1n << BigInt(p)) continue;
    // a = A * 2^xa, b = B * 2^xb with xa + xb + 2p - 1 = ep
    const sum = ep - (2 * p - 1);
    const xaLo = f.emin - (p - 1);
    const xaHi = f.emax - (p - 1);
    const lo = Math.max(xaLo, sum - xaHi);
    const hi = Math.min(xaHi, sum - xaLo);
    if (lo > hi) continue;
    const xa = r.range(lo, hi);
    const a = encodeNormal(rsign(r), A, xa, f);
    const b = encodeNormal(rsign(r), B, sum - xa, f);
    if (a === undefined || b === undefined) continue;
    return [a, b, c];
  }
}

/**
 * fma operands with an exactly representable product (short significands) and an addend at an
 * arbitrary distance (often a power of two), stressing alignment shifts and sticky bits.
 */
export function fmaExactProduct(r: Rng, f: Fmt): [bigint, bigint, bigint] {
  const p = f.p;
  const short = (): bigint => {
    const k = r.range(0, (p >> 1) - 1);
    return k === 0 ? 0n : (r.bits(k) << BigInt(f.fbits - k)) & mask(f.fbits);
  };
  const emaxB = (1 << f.ebits) - 2;
  const mid = f.bias;
  // product exponent mostly mid-range; operand exponents anywhere (extreme ones take slow paths)
  const pe = r.int(4) === 0 ? r.range(1, emaxB) : r.range(mid - (mid >> 1), mid + (mid >> 1));
  const ea = r.range(Math.max(1, pe + f.bias - emaxB), Math.min(emaxB, pe + f.bias - 1));
  const eb = pe + f.bias - ea;
  const a = pack(rsign(r), ea, short(), f);
  const b = pack(rsign(r), eb, short(), f);
  const ce = pe + r.range(-3 * p, 3 * p);
  const cfrac = r.int(2) === 0 ? 0n : r.int(2) === 0 ? short() : fraction(r, f);
  const c = ce >= 1 && ce <= emaxB ? pack(rsign(r), ce, cfrac, f) : withExp(r, ce, f);
  return [a, b, c];
}

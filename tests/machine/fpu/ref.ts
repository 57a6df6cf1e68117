/**
 * Exact BigInt reference model of IEEE 754 binary32/binary64 arithmetic with RISC-V semantics
 * (canonical NaNs, tininess after rounding, fmin/fmax of RISC-V 2.2, fcvt saturation).
 *
 * Every finite operand is decoded to sign * m * 2^e with a BigInt m, the operation is computed
 * exactly (division and square root as an integer quotient/root with a sticky remainder flag and
 * enough extra bits), then rounded once by `roundExact`. Only used by the tests.
 */

export interface Fmt {
  readonly name: string;
  readonly p: number; // precision incl. hidden bit
  readonly fbits: number;
  readonly ebits: number;
  readonly bias: number;
  readonly emin: number;
  readonly emax: number;
  readonly width: number;
  readonly canonicalNaN: bigint;
}

export const F64: Fmt = {
  name: "f64",
  p: 53,
  fbits: 52,
  ebits: 11,
  bias: 1023,
  emin: -1022,
  emax: 1023,
  width: 64,
  canonicalNaN: 0x7ff8000000000000n,
};

export const F32: Fmt = {
  name: "f32",
  p: 24,
  fbits: 23,
  ebits: 8,
  bias: 127,
  emin: -126,
  emax: 127,
  width: 32,
  canonicalNaN: 0x7fc00000n,
};

export const NV = 16;
export const DZ = 8;
export const OF = 4;
export const UF = 2;
export const NX = 1;

export interface Res {
  bits: bigint;
  flags: number;
}

type Kind = "zero" | "fin" | "inf" | "nan";

export interface Dec {
  kind: Kind;
  sign: number;
  snan: boolean;
  m: bigint;
  e: number;
}

export function decode(bits: bigint, f: Fmt): Dec {
  const sign = Number((bits >> BigInt(f.width - 1)) & 1n);
  const E = Number((bits >> BigInt(f.fbits)) & ((1n << BigInt(f.ebits)) - 1n));
  const F = bits & ((1n << BigInt(f.fbits)) - 1n);
  const emask = (1 << f.ebits) - 1;
  if (E === emask) {
    if (F === 0n) return { kind: "inf", sign, snan: false, m: 0n, e: 0 };
    return { kind: "nan", sign, snan: ((F >> BigInt(f.fbits - 1)) & 1n) === 0n, m: 0n, e: 0 };
  }
  if (E === 0) {
    if (F === 0n) return { kind: "zero", sign, snan: false, m: 0n, e: 0 };
    return { kind: "fin", sign, snan: false, m: F, e: f.emin - f.fbits };
  }
  return { kind: "fin", sign, snan: false, m: F | (1n << BigInt(f.fbits)), e: E - f.bias - f.fbits };
}

export function bitlen(m: bigint): number {
  return m === 0n ? 0 : m.toString(2).length;
}

function signBit(sign: number, f: Fmt): bigint {
  return BigInt(sign) << BigInt(f.width - 1);
}

export function zero(sign: number, f: Fmt): bigint {
  return signBit(sign, f);
}

export function inf(sign: number, f: Fmt): bigint {
  return signBit(sign, f) | (((1n << BigInt(f.ebits)) - 1n) << BigInt(f.fbits));
}

function maxFinite(sign: number, f: Fmt): bigint {
  return inf(sign, f) - 1n;
}

function nan(flags: number, f: Fmt): Res {
  return { bits: f.canonicalNaN, flags };
}

/**
 * Rounds m * 2^e to an integer multiple of 2^q (returns the multiple count and inexactness);
 * `sticky` means the exact value is strictly above m * 2^e (by less than 2^e).
 */
function roundAt(
  m: bigint,
  e: number,
  sticky: boolean,
  q: number,
  sign: number,
  rm: number,
): [bigint, boolean] {
  const sh = q - e;
  if (sh <= 0) {
    if (sticky) throw new Error("reference: sticky bit without rounding position");
    return [m << BigInt(-sh), false];
  }
  const R = m >> BigInt(sh);
  const rem = m & ((1n << BigInt(sh)) - 1n);
  const half = 1n << BigInt(sh - 1);
  if (sticky && sh < 2) throw new Error("reference: not enough guard bits");
  const inexact = rem !== 0n || sticky;
  let up = false;
  switch (rm) {
    case 0:
      up = rem > half || (rem === half && (sticky || (R & 1n) === 1n));
      break;
    case 1:
      up = false;
      break;
    case 2:
      up = inexact && sign === 1;
      break;
    case 3:
      up = inexact && sign === 0;
      break;
    case 4:
      up = rem >= half;
      break;
    default:
      throw new Error(`bad rm ${rm}`);
  }
  return [up ? R + 1n : R, inexact];
}

/** Rounds the exact non-zero value (-1)^sign * (m + (sticky ? eps : 0)) * 2^e to format f. */
export function roundExact(sign: number, m: bigint, e: number, sticky: boolean, rm: number, f: Fmt): Res {
  if (m <= 0n) throw new Error("reference: roundExact needs m > 0");
  const lead = e + bitlen(m) - 1;
  const qU = lead - (f.p - 1);
  const q = Math.max(qU, f.emin - (f.p - 1));
  const [RU] = roundAt(m, e, sticky, qU, sign, rm);
  const tiny = bitlen(RU) - 1 + qU < f.emin;
  let [R, inexact] = roundAt(m, e, sticky, q, sign, rm);
  let qq = q;
  if (bitlen(R) > f.p) {
    R >>= 1n;
    qq += 1;
  }
  if (R !== 0n && bitlen(R) - 1 + qq > f.emax) {
    const toMax = rm === 1 || (rm === 2 && sign === 0) || (rm === 3 && sign === 1);
    return { bits: toMax ? maxFinite(sign, f) : inf(sign, f), flags: OF | NX };
  }
  let flags = 0;
  if (inexact) flags |= NX;
  if (inexact && tiny) flags |= UF;
  if (R === 0n) return { bits: zero(sign, f), flags };
  if (bitlen(R) < f.p) {
    if (qq !== f.emin - (f.p - 1)) throw new Error("reference: bad subnormal exponent");
    return { bits: signBit(sign, f) | R, flags };
  }
  const biased = BigInt(qq + f.p - 1 + f.bias);
  return { bits: signBit(sign, f) | (biased << BigInt(f.fbits)) | (R - (1n << BigInt(f.fbits))), flags };
}

/** Exact sum of signed finite values (m may be 0), rounded; exact zero gets `zeroSign`. */
function roundSum(
  s1: number,
  m1: bigint,
  e1: number,
  s2: number,
  m2: bigint,
  e2: number,
  zeroSign: number,
  rm: number,
  f: Fmt,
): Res {
  const e = Math.min(m1 === 0n ? e2 : e1, m2 === 0n ? e1 : e2);
  const v1 = m1 === 0n ? 0n : (s1 ? -m1 : m1) << BigInt(e1 - e);
  const v2 = m2 === 0n ? 0n : (s2 ? -m2 : m2) << BigInt(e2 - e);
  const sum = v1 + v2;
  if (sum === 0n) return { bits: zero(zeroSign, f), flags: 0 };
  return roundExact(sum < 0n ? 1 : 0, sum < 0n ? -sum : sum, e, false, rm, f);
}

export function add(a: bigint, b: bigint, rm: number, f: Fmt): Res {
  const A = decode(a, f);
  const B = decode(b, f);
  if (A.kind === "nan" || B.kind === "nan") return nan(A.snan || B.snan ? NV : 0, f);
  if (A.kind === "inf" && B.kind === "inf") return A.sign !== B.sign ? nan(NV, f) : { bits: a, flags: 0 };
  if (A.kind === "inf") return { bits: a, flags: 0 };
  if (B.kind === "inf") return { bits: b, flags: 0 };
  if (A.kind === "zero" && B.kind === "zero") {
    return { bits: zero(A.sign === B.sign ? A.sign : rm === 2 ? 1 : 0, f), flags: 0 };
  }
  return roundSum(A.sign, A.m, A.e, B.sign, B.m, B.e, rm === 2 ? 1 : 0, rm, f);
}

export function sub(a: bigint, b: bigint, rm: number, f: Fmt): Res {
  return add(a, b ^ (1n << BigInt(f.width - 1)), rm, f);
}

export function mul(a: bigint, b: bigint, rm: number, f: Fmt): Res {
  const A = decode(a, f);
  const B = decode(b, f);
  const sign = A.sign ^ B.sign;
  if (A.kind === "nan" || B.kind === "nan") return nan(A.snan || B.snan ? NV : 0, f);
  if (A.kind === "inf" || B.kind === "inf") {
    if (A.kind === "zero" || B.kind === "zero") return nan(NV, f);
    return { bits: inf(sign, f), flags: 0 };
  }
  if (A.kind === "zero" || B.kind === "zero") return { bits: zero(sign, f), flags: 0 };
  return roundExact(sign, A.m * B.m, A.e + B.e, false, rm, f);
}

export function div(a: bigint, b: bigint, rm: number, f: Fmt): Res {
  const A = decode(a, f);
  const B = decode(b, f);
  const sign = A.sign ^ B.sign;
  if (A.kind === "nan" || B.kind === "nan") return nan(A.snan || B.snan ? NV : 0, f);
  if (A.kind === "inf") return B.kind === "inf" ? nan(NV, f) : { bits: inf(sign, f), flags: 0 };
  if (B.kind === "inf") return { bits: zero(sign, f), flags: 0 };
  if (B.kind === "zero") return A.kind === "zero" ? nan(NV, f) : { bits: inf(sign, f), flags: DZ };
  if (A.kind === "zero") return { bits: zero(sign, f), flags: 0 };
  const K = Math.max(0, f.p + 4 + bitlen(B.m) - bitlen(A.m));
  const num = A.m << BigInt(K);
  return roundExact(sign, num / B.m, A.e - B.e - K, num % B.m !== 0n, rm, f);
}

export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitlen(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x -= 1n;
  while ((x + 1n) * (x + 1n) <= n) x += 1n;
  return x;
}

export function sqrt(a: bigint, rm: number, f: Fmt): Res {
  const A = decode(a, f);
  if (A.kind === "nan") return nan(A.snan ? NV : 0, f);
  if (A.kind === "zero") return { bits: a, flags: 0 };
  if (A.sign === 1) return nan(NV, f);
  if (A.kind === "inf") return { bits: a, flags: 0 };
  let s = Math.max(0, 2 * f.p + 8 - bitlen(A.m));
  if ((A.e - s) % 2 !== 0) s += 1;
  const N = A.m << BigInt(s);
  const r = isqrt(N);
  return roundExact(0, r, (A.e - s) / 2, r * r !== N, rm, f);
}

/** (negProduct ? -(a*b) : a*b) + (negAddend ? -c : c), single rounding, RISC-V NaN/NV rules. */
export function fma(a: bigint, b: bigint, c: bigint, rm: number, negP: boolean, negC: boolean, f: Fmt): Res {
  const A = decode(a, f);
  const B = decode(b, f);
  const C = decode(c, f);
  const sp = A.sign ^ B.sign ^ (negP ? 1 : 0);
  const sc = C.sign ^ (negC ? 1 : 0);
  const invalidProd = (A.kind === "inf" && B.kind === "zero") || (A.kind === "zero" && B.kind === "inf");
  if (A.kind === "nan" || B.kind === "nan" || C.kind === "nan") {
    return nan(A.snan || B.snan || C.snan || invalidProd ? NV : 0, f);
  }
  if (invalidProd) return nan(NV, f);
  if (A.kind === "inf" || B.kind === "inf") {
    if (C.kind === "inf" && sc !== sp) return nan(NV, f);
    return { bits: inf(sp, f), flags: 0 };
  }
  if (C.kind === "inf") return { bits: inf(sc, f), flags: 0 };
  const pm = A.kind === "zero" || B.kind === "zero" ? 0n : A.m * B.m;
  const pe = A.e + B.e;
  if (pm === 0n && C.kind === "zero") {
    return { bits: zero(sp === sc ? sp : rm === 2 ? 1 : 0, f), flags: 0 };
  }
  return roundSum(sp, pm, pe, sc, C.m, C.e, rm === 2 ? 1 : 0, rm, f);
}

/** Compares two non-NaN decoded values: -1, 0, 1. */
function cmp(A: Dec, B: Dec): number {
  const val = (D: Dec): [number, bigint, number] => {
    if (D.kind === "zero") return [0, 0n, 0];
    if (D.kind === "inf") return [D.sign ? -1 : 1, 1n, 100000];
    return [D.sign ? -1 : 1, D.m, D.e];
  };
  const [sa, ma, ea] = val(A);
  const [sb, mb, eb] = val(B);
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (sa === 0) return 0;
  const e = Math.min(ea, eb);
  const va = ma << BigInt(ea - e);
  const vb = mb << BigInt(eb - e);
  const c = va === vb ? 0 : va < vb ? -1 : 1;
  return sa < 0 ? -c : c;
}

export function minmax(a: bigint, b: bigint, max: boolean, f: Fmt): Res {
  const A = decode(a, f);
  const B = decode(b, f);
  const flags = A.snan || B.snan ? NV : 0;
  if (A.kind === "nan" && B.kind === "nan") return nan(flags, f);
  if (A.kind === "nan") return { bits: b, flags };
  if (B.kind === "nan") return { bits: a, flags };
  let c = cmp(A, B);
  if (c === 0) c = A.sign === B.sign ? 0 : A.sign ? -1 : 1; // -0 < +0
  const pickA = max ? c >= 0 : c <= 0;
  return { bits: pickA ? a : b, flags };
}

export function compare(a: bigint, b: bigint, op: "eq" | "lt" | "le", f: Fmt): Res {
  const A = decode(a, f);
  const B = decode(b, f);
  if (A.kind === "nan" || B.kind === "nan") {
    const flags = op === "eq" ? (A.snan || B.snan ? NV : 0) : NV;
    return { bits: 0n, flags };
  }
  const c = cmp(A, B);
  const r = op === "eq" ? c === 0 : op === "lt" ? c < 0 : c <= 0;
  return { bits: r ? 1n : 0n, flags: 0 };
}

export function classify(a: bigint, f: Fmt): Res {
  const A = decode(a, f);
  const subnormal = A.kind === "fin" && bitlen(A.m) <= f.fbits;
  let bit: number;
  switch (A.kind) {
    case "inf":
      bit = A.sign ? 0 : 7;
      break;
    case "zero":
      bit = A.sign ? 3 : 4;
      break;
    case "nan":
      bit = A.snan ? 8 : 9;
      break;
    default:
      bit = subnormal ? (A.sign ? 2 : 5) : A.sign ? 1 : 6;
  }
  return { bits: BigInt(1 << bit), flags: 0 };
}

export type IntKind = "i32" | "u32" | "i64" | "u64";

const INT_RANGE: Record<IntKind, [bigint, bigint]> = {
  i32: [-(1n << 31n), (1n << 31n) - 1n],
  u32: [0n, (1n << 32n) - 1n],
  i64: [-(1n << 63n), (1n << 63n) - 1n],
  u64: [0n, (1n << 64n) - 1n],
};

/** The 64-bit register image of an integer result (32-bit results sign-extended). */
function intImage(v: bigint, k: IntKind): bigint {
  if (k === "i32" || k === "u32") return BigInt.asUintN(64, BigInt.asIntN(32, v));
  return BigInt.asUintN(64, v);
}

/** fcvt.{w,wu,l,lu}.{s,d}: result is the 64-bit register image. */
export function toInt(a: bigint, k: IntKind, rm: number, f: Fmt): Res {
  const A = decode(a, f);
  const [lo, hi] = INT_RANGE[k];
  if (A.kind === "nan") return { bits: intImage(hi, k), flags: NV };
  if (A.kind === "inf") return { bits: intImage(A.sign ? lo : hi, k), flags: NV };
  if (A.kind === "zero") return { bits: 0n, flags: 0 };
  const [R, inexact] = roundAt(A.m, A.e, false, 0, A.sign, rm);
  const v = A.sign ? -R : R;
  if (v < lo) return { bits: intImage(lo, k), flags: NV };
  if (v > hi) return { bits: intImage(hi, k), flags: NV };
  return { bits: intImage(v, k), flags: inexact ? NX : 0 };
}

/** fcvt.{s,d}.{w,wu,l,lu}: v is the mathematical integer value. */
export function fromInt(v: bigint, rm: number, f: Fmt): Res {
  if (v === 0n) return { bits: 0n, flags: 0 };
  return roundExact(v < 0n ? 1 : 0, v < 0n ? -v : v, 0, false, rm, f);
}

/** fcvt.s.d / fcvt.d.s */
export function convertFloat(a: bigint, from: Fmt, to: Fmt, rm: number): Res {
  const A = decode(a, from);
  if (A.kind === "nan") return nan(A.snan ? NV : 0, to);
  if (A.kind === "inf") return { bits: inf(A.sign, to), flags: 0 };
  if (A.kind === "zero") return { bits: zero(A.sign, to), flags: 0 };
  return roundExact(A.sign, A.m, A.e, false, rm, to);
}

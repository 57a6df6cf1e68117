/**
 * 64-bit integer helpers over 32-bit halves (design 2.3: JavaScript has no
 * fast 64-bit integers and BigInt allocates). Results go to `r64` to avoid
 * allocating: r64[0] low word, r64[1] high word.
 */
export const r64 = new Int32Array(2);

/** Unsigned 32x32 → 64 product of a and b into r64. */
export function mulu32(a: number, b: number): void {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  r64[0] = (p00 & 0xffff) | (mid << 16);
  r64[1] = (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

/** Low 64 bits of a * b into r64. */
export function mul64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  mulu32(aLo, bLo);
  r64[1] = (r64[1] + Math.imul(aHi, bLo) + Math.imul(aLo, bHi)) | 0;
}

/** High 64 bits of the unsigned 128-bit product a * b into r64. */
export function mulhu64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  mulu32(aLo, bLo);
  const llHi = r64[1] >>> 0;
  mulu32(aLo, bHi);
  const lhLo = r64[0] >>> 0;
  const lhHi = r64[1] >>> 0;
  mulu32(aHi, bLo);
  const hlLo = r64[0] >>> 0;
  const hlHi = r64[1] >>> 0;
  mulu32(aHi, bHi);
  const hhLo = r64[0] >>> 0;
  const hhHi = r64[1] >>> 0;
  const t1 = llHi + lhLo + hlLo; // < 3 * 2^32: exact
  const t2 = hhLo + lhHi + hlHi + Math.floor(t1 / 4294967296);
  r64[0] = t2 | 0;
  r64[1] = (hhHi + Math.floor(t2 / 4294967296)) | 0;
}

/** High 64 bits of signed a * signed b (sb = true) or signed a * unsigned b (sb = false). */
export function mulh64(aLo: number, aHi: number, bLo: number, bHi: number, bSigned: boolean): void {
  mulhu64(aLo, aHi, bLo, bHi);
  let lo = r64[0];
  let hi = r64[1];
  // (a - 2^64·[a<0]) · b: subtract b from the high half when a is negative; likewise for b.
  if (aHi < 0) {
    const nlo = (lo - bLo) | 0;
    hi = (hi - bHi - (lo >>> 0 < bLo >>> 0 ? 1 : 0)) | 0;
    lo = nlo;
  }
  if (bSigned && bHi < 0) {
    const nlo = (lo - aLo) | 0;
    hi = (hi - aHi - (lo >>> 0 < aLo >>> 0 ? 1 : 0)) | 0;
    lo = nlo;
  }
  r64[0] = lo;
  r64[1] = hi;
}

const TWO32 = 4294967296;
const FAST = 2 ** 50;

function toBig(lo: number, hi: number, signed: boolean): bigint {
  const v = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return signed ? BigInt.asIntN(64, v) : v;
}

function fromBig(v: bigint): void {
  r64[0] = Number(BigInt.asIntN(32, v));
  r64[1] = Number(BigInt.asIntN(32, v >> 32n));
}

function fromNumber(v: number): void {
  // v is an integer with |v| < 2^53.
  const hi = Math.floor(v / TWO32);
  r64[0] = (v - hi * TWO32) | 0;
  r64[1] = hi | 0;
}

/**
 * 64-bit division and remainder (unpriv spec 7.2): x/0 = -1 (all ones), x%0 = x;
 * MIN/-1 = MIN, MIN%-1 = 0. Operands below 2^50 in magnitude use exact
 * double arithmetic; larger ones take a BigInt slow path.
 */
export function div64(
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  signed: boolean,
  rem: boolean,
): void {
  if (bLo === 0 && bHi === 0) {
    if (rem) {
      r64[0] = aLo;
      r64[1] = aHi;
    } else r64[0] = r64[1] = -1;
    return;
  }
  const a = signed ? aHi * TWO32 + (aLo >>> 0) : (aHi >>> 0) * TWO32 + (aLo >>> 0);
  const b = signed ? bHi * TWO32 + (bLo >>> 0) : (bHi >>> 0) * TWO32 + (bLo >>> 0);
  if (Math.abs(a) < FAST && Math.abs(b) < FAST) {
    const q = Math.trunc(a / b);
    fromNumber(rem ? a - q * b : q);
    return;
  }
  const A = toBig(aLo, aHi, signed);
  const B = toBig(bLo, bHi, signed);
  if (signed && B === -1n) {
    fromBig(rem ? 0n : -A);
    return;
  }
  fromBig(rem ? A % B : A / B);
}

/** Signed 64-bit a < b. */
export function lt(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  return aHi < bHi || (aHi === bHi && aLo >>> 0 < bLo >>> 0);
}

/** Unsigned 64-bit a < b. */
export function ltu(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  return aHi >>> 0 < bHi >>> 0 || (aHi === bHi && aLo >>> 0 < bLo >>> 0);
}

/** x[rd] = a << sh (0 <= sh < 64). */
export function sll(x: Int32Array, rd: number, lo: number, hi: number, sh: number): void {
  if (sh === 0) {
    x[rd] = lo;
    x[rd + 1] = hi;
  } else if (sh < 32) {
    x[rd + 1] = (hi << sh) | (lo >>> (32 - sh));
    x[rd] = lo << sh;
  } else {
    x[rd + 1] = lo << (sh - 32);
    x[rd] = 0;
  }
}

/** x[rd] = a >>> sh (logical). */
export function srl(x: Int32Array, rd: number, lo: number, hi: number, sh: number): void {
  if (sh === 0) {
    x[rd] = lo;
    x[rd + 1] = hi;
  } else if (sh < 32) {
    x[rd] = (lo >>> sh) | (hi << (32 - sh));
    x[rd + 1] = hi >>> sh;
  } else {
    x[rd] = hi >>> (sh - 32);
    x[rd + 1] = 0;
  }
}

/** x[rd] = a >> sh (arithmetic). */
export function sra(x: Int32Array, rd: number, lo: number, hi: number, sh: number): void {
  if (sh === 0) {
    x[rd] = lo;
    x[rd + 1] = hi;
  } else if (sh < 32) {
    x[rd] = (lo >>> sh) | (hi << (32 - sh));
    x[rd + 1] = hi >> sh;
  } else {
    x[rd] = hi >> (sh - 32);
    x[rd + 1] = hi >> 31;
  }
}

/**
 * Hand-written vectors from the IEEE 754 / RISC-V rules: canonical NaNs, invalid operations,
 * signed zeros, fmin/fmax, comparisons, fclass, fcvt saturation, overflow/underflow and
 * tininess-after-rounding boundaries. Expected values are written out literally, except in the
 * last two (systematic) tests, which compare with the BigInt reference.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import * as fp from "../../../src/machine/cpu/fpu/index.ts";
import { fpResult } from "../../../src/machine/cpu/fpu/index.ts";
import { nudge, Rng } from "./gen.ts";
import * as ref from "./ref.ts";
import { F64 } from "./ref.ts";

const NV = 16;
const DZ = 8;
const OF = 4;
const UF = 2;
const NX = 1;
const [RNE, RTZ, RDN, RUP, RMM] = [0, 1, 2, 3, 4];

// binary64 constants (as BigInt bit patterns)
const D = {
  zero: 0x0000000000000000n,
  negZero: 0x8000000000000000n,
  one: 0x3ff0000000000000n,
  negOne: 0xbff0000000000000n,
  two: 0x4000000000000000n,
  half: 0x3fe0000000000000n,
  inf: 0x7ff0000000000000n,
  negInf: 0xfff0000000000000n,
  qnan: 0x7ff8000000000000n,
  qnanPayload: 0xfff8000000001234n,
  snan: 0x7ff0000000000001n,
  max: 0x7fefffffffffffffn,
  negMax: 0xffefffffffffffffn,
  minNormal: 0x0010000000000000n,
  maxSub: 0x000fffffffffffffn,
  minSub: 0x0000000000000001n,
};
const CNAN64 = 0x7ff8000000000000n;

// binary32 constants (int32 bit patterns)
const S = {
  zero: 0,
  negZero: 0x80000000 | 0,
  one: 0x3f800000,
  negOne: 0xbf800000 | 0,
  inf: 0x7f800000,
  negInf: 0xff800000 | 0,
  qnan: 0x7fc00000,
  qnanPayload: 0xffc01234 | 0,
  snan: 0x7f800001,
  max: 0x7f7fffff,
  minNormal: 0x00800000,
  maxSub: 0x007fffff,
  minSub: 0x00000001,
};
const CNAN32 = 0x7fc00000;

function dbits(x: number): bigint {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x);
  return v.getBigUint64(0);
}

function lo(b: bigint): number {
  return Number(b & 0xffffffffn) | 0;
}

function hi(b: bigint): number {
  return Number(b >> 32n) | 0;
}

function r64(): bigint {
  return (BigInt(fpResult[1] >>> 0) << 32n) | BigInt(fpResult[0] >>> 0);
}

function hex(b: bigint): string {
  return `0x${b.toString(16).padStart(16, "0")}`;
}

type Op2 = (aLo: number, aHi: number, bLo: number, bHi: number, rm: number) => number;

function d2(op: Op2, a: bigint, b: bigint, rm: number, bits: bigint, flags: number): void {
  const f = op(lo(a), hi(a), lo(b), hi(b), rm);
  assert.equal(hex(r64()), hex(bits), `${op.name}(${hex(a)}, ${hex(b)}) rm=${rm} result`);
  assert.equal(f, flags, `${op.name}(${hex(a)}, ${hex(b)}) rm=${rm} flags`);
}

function d1(
  op: (l: number, h: number, rm: number) => number,
  a: bigint,
  rm: number,
  bits: bigint,
  flags: number,
): void {
  const f = op(lo(a), hi(a), rm);
  assert.equal(hex(r64()), hex(bits), `${op.name}(${hex(a)}) rm=${rm} result`);
  assert.equal(f, flags, `${op.name}(${hex(a)}) rm=${rm} flags`);
}

function dfma(
  a: bigint,
  b: bigint,
  c: bigint,
  rm: number,
  np: boolean,
  nc: boolean,
  bits: bigint,
  flags: number,
): void {
  const f = fp.f64MulAdd(lo(a), hi(a), lo(b), hi(b), lo(c), hi(c), rm, np, nc);
  const what = `fma(${hex(a)}, ${hex(b)}, ${hex(c)}, rm=${rm}, ${np}, ${nc})`;
  assert.equal(hex(r64()), hex(bits), `${what} result`);
  assert.equal(f, flags, `${what} flags`);
}

function s32(fn: () => number, bits: number, flags: number, what: string): void {
  const f = fn();
  assert.equal((fpResult[0] >>> 0).toString(16), (bits >>> 0).toString(16), `${what} result`);
  assert.equal(f, flags, `${what} flags`);
}

test("arithmetic NaN results are canonical; NV only for sNaN operands and invalid operations", () => {
  d2(fp.f64Add, D.qnanPayload, D.one, RNE, CNAN64, 0);
  d2(fp.f64Add, D.one, D.snan, RNE, CNAN64, NV);
  d2(fp.f64Sub, D.inf, D.inf, RNE, CNAN64, NV);
  d2(fp.f64Add, D.inf, D.negInf, RNE, CNAN64, NV);
  d2(fp.f64Add, D.inf, D.inf, RNE, D.inf, 0);
  d2(fp.f64Mul, D.zero, D.inf, RNE, CNAN64, NV);
  d2(fp.f64Mul, D.qnan, D.zero, RNE, CNAN64, 0);
  d2(fp.f64Div, D.zero, D.negZero, RNE, CNAN64, NV);
  d2(fp.f64Div, D.inf, D.negInf, RNE, CNAN64, NV);
  d2(fp.f64Div, D.one, D.zero, RNE, D.inf, DZ);
  d2(fp.f64Div, D.negOne, D.zero, RNE, D.negInf, DZ);
  d2(fp.f64Div, D.one, D.negZero, RNE, D.negInf, DZ);
  d2(fp.f64Div, D.inf, D.zero, RNE, D.inf, 0);
  d2(fp.f64Div, D.qnan, D.zero, RNE, CNAN64, 0);
  d1(fp.f64Sqrt, D.negOne, RNE, CNAN64, NV);
  d1(fp.f64Sqrt, D.negInf, RNE, CNAN64, NV);
  d1(fp.f64Sqrt, D.negZero, RNE, D.negZero, 0);
  d1(fp.f64Sqrt, D.snan, RNE, CNAN64, NV);
  d1(fp.f64Sqrt, D.qnanPayload, RNE, CNAN64, 0);
  d1(fp.f64Sqrt, D.inf, RNE, D.inf, 0);

  s32(() => fp.f32Add(S.qnanPayload, S.one, RNE), CNAN32, 0, "f32Add(qNaN, 1)");
  s32(() => fp.f32Add(S.one, S.snan, RNE), CNAN32, NV, "f32Add(1, sNaN)");
  s32(() => fp.f32Sub(S.inf, S.inf, RNE), CNAN32, NV, "f32Sub(inf, inf)");
  s32(() => fp.f32Mul(S.inf, S.negZero, RNE), CNAN32, NV, "f32Mul(inf, -0)");
  s32(() => fp.f32Div(S.zero, S.zero, RNE), CNAN32, NV, "f32Div(0, 0)");
  s32(() => fp.f32Div(S.one, S.negZero, RNE), S.negInf, DZ, "f32Div(1, -0)");
  s32(() => fp.f32Sqrt(S.negOne, RNE), CNAN32, NV, "f32Sqrt(-1)");
  s32(() => fp.f32Sqrt(S.negZero, RNE), S.negZero, 0, "f32Sqrt(-0)");
});

test("fused multiply-add: inf*0 is invalid even with a quiet NaN addend; signs of all variants", () => {
  dfma(D.zero, D.inf, D.qnan, RNE, false, false, CNAN64, NV);
  dfma(D.inf, D.negZero, D.qnanPayload, RNE, false, false, CNAN64, NV);
  dfma(D.inf, D.zero, D.one, RNE, false, false, CNAN64, NV);
  dfma(D.qnan, D.zero, D.inf, RNE, false, false, CNAN64, 0);
  dfma(D.one, D.one, D.snan, RNE, false, false, CNAN64, NV);
  dfma(D.inf, D.one, D.negInf, RNE, false, false, CNAN64, NV);
  dfma(D.inf, D.one, D.inf, RNE, false, true, CNAN64, NV); // fmsub: inf - inf
  dfma(D.inf, D.one, D.inf, RNE, true, false, CNAN64, NV); // fnmsub: -inf + inf
  dfma(D.inf, D.one, D.inf, RNE, true, true, D.negInf, 0); // fnmadd: -inf - inf
  dfma(D.one, D.one, D.negInf, RNE, false, false, D.negInf, 0);
  // fmadd/fmsub/fnmsub/fnmadd of 2*3 and 1
  const two = D.two;
  const three = dbits(3);
  dfma(two, three, D.one, RNE, false, false, dbits(7), 0);
  dfma(two, three, D.one, RNE, false, true, dbits(5), 0);
  dfma(two, three, D.one, RNE, true, false, dbits(-5), 0);
  dfma(two, three, D.one, RNE, true, true, dbits(-7), 0);
  // exact zero results: +0 except when rounding down; -(0*0) - 0 is -0 in every mode
  dfma(D.one, D.one, D.one, RNE, false, true, D.zero, 0);
  dfma(D.one, D.one, D.one, RDN, false, true, D.negZero, 0);
  dfma(D.one, D.one, D.one, RDN, true, false, D.negZero, 0);
  dfma(D.one, D.negZero, D.zero, RNE, false, false, D.zero, 0);
  dfma(D.one, D.negZero, D.zero, RDN, false, false, D.negZero, 0);
  dfma(D.zero, D.zero, D.zero, RNE, true, true, D.negZero, 0);
  dfma(D.zero, D.zero, D.zero, RUP, true, true, D.negZero, 0);
  dfma(D.negZero, D.zero, D.negZero, RNE, false, false, D.negZero, 0);
  // the single rounding: (1 + 2^-52)(1 - 2^-52) - 1 = -2^-104 exactly (a separate multiply would give 0)
  dfma(0x3ff0000000000001n, 0x3feffffffffffffen, D.one, RNE, false, true, 0xb970000000000000n, 0);
  s32(() => fp.f32MulAdd(S.zero, S.inf, S.qnan, RNE, false, false), CNAN32, NV, "f32 fma(0, inf, qNaN)");
  s32(() => fp.f32MulAdd(S.inf, S.one, S.inf, RNE, true, false), CNAN32, NV, "f32 fnmsub(inf, 1, inf)");
  s32(() => fp.f32MulAdd(S.zero, S.zero, S.zero, RNE, true, true), S.negZero, 0, "f32 fnmadd(0, 0, 0)");
  s32(() => fp.f32MulAdd(S.one, S.one, S.one, RDN, false, true), S.negZero, 0, "f32 fmsub(1, 1, 1) RDN");
});

test("exact zero sums: sign rules per rounding mode", () => {
  d2(fp.f64Sub, D.one, D.one, RNE, D.zero, 0);
  d2(fp.f64Sub, D.one, D.one, RDN, D.negZero, 0);
  d2(fp.f64Sub, D.one, D.one, RUP, D.zero, 0);
  d2(fp.f64Add, D.negZero, D.negZero, RNE, D.negZero, 0);
  d2(fp.f64Add, D.negZero, D.zero, RNE, D.zero, 0);
  d2(fp.f64Add, D.negZero, D.zero, RDN, D.negZero, 0);
  d2(fp.f64Add, D.zero, D.zero, RDN, D.zero, 0);
  d2(fp.f64Sub, D.negZero, D.zero, RNE, D.negZero, 0);
  d2(fp.f64Mul, D.negZero, D.negOne, RNE, D.zero, 0);
  s32(() => fp.f32Sub(S.one, S.one, RDN), S.negZero, 0, "f32Sub(1, 1) RDN");
  s32(() => fp.f32Add(S.negZero, S.negZero, RUP), S.negZero, 0, "f32Add(-0, -0) RUP");
});

test("fmin/fmax (RISC-V 2.2): -0 < +0, one NaN returns the other, NV on sNaN", () => {
  d2(fp.f64Min, D.negZero, D.zero, 0, D.negZero, 0);
  d2(fp.f64Min, D.zero, D.negZero, 0, D.negZero, 0);
  d2(fp.f64Max, D.negZero, D.zero, 0, D.zero, 0);
  d2(fp.f64Max, D.zero, D.negZero, 0, D.zero, 0);
  d2(fp.f64Min, D.qnan, D.one, 0, D.one, 0);
  d2(fp.f64Max, D.negOne, D.qnanPayload, 0, D.negOne, 0);
  d2(fp.f64Min, D.snan, D.one, 0, D.one, NV);
  d2(fp.f64Max, D.two, D.snan, 0, D.two, NV);
  d2(fp.f64Min, D.qnanPayload, D.qnan, 0, CNAN64, 0);
  d2(fp.f64Max, D.snan, D.qnanPayload, 0, CNAN64, NV);
  d2(fp.f64Min, D.negInf, D.negMax, 0, D.negInf, 0);
  d2(fp.f64Max, D.minSub, D.zero, 0, D.minSub, 0);
  s32(() => fp.f32Min(S.zero, S.negZero), S.negZero, 0, "f32Min(+0, -0)");
  s32(() => fp.f32Max(S.negZero, S.zero), S.zero, 0, "f32Max(-0, +0)");
  s32(() => fp.f32Min(S.snan, S.negOne), S.negOne, NV, "f32Min(sNaN, -1)");
  s32(() => fp.f32Max(S.qnanPayload, S.snan), CNAN32, NV, "f32Max(qNaN, sNaN)");
});

test("comparisons: feq is quiet, flt/fle signal on any NaN; -0 == +0", () => {
  d2(fp.f64Eq, D.qnan, D.one, 0, 0n, 0);
  d2(fp.f64Eq, D.snan, D.one, 0, 0n, NV);
  d2(fp.f64Lt, D.qnan, D.one, 0, 0n, NV);
  d2(fp.f64Le, D.one, D.qnan, 0, 0n, NV);
  d2(fp.f64Eq, D.negZero, D.zero, 0, 1n, 0);
  d2(fp.f64Lt, D.negZero, D.zero, 0, 0n, 0);
  d2(fp.f64Le, D.negZero, D.zero, 0, 1n, 0);
  d2(fp.f64Lt, D.negInf, D.negMax, 0, 1n, 0);
  d2(fp.f64Le, D.inf, D.max, 0, 0n, 0);
  s32(() => fp.f32Eq(S.qnan, S.qnan), 0, 0, "f32Eq(qNaN, qNaN)");
  s32(() => fp.f32Eq(S.snan, S.one), 0, NV, "f32Eq(sNaN, 1)");
  s32(() => fp.f32Lt(S.one, S.qnan), 0, NV, "f32Lt(1, qNaN)");
  s32(() => fp.f32Le(S.negZero, S.zero), 1, 0, "f32Le(-0, +0)");
});

test("fclass: one bit per class", () => {
  const cases: [bigint, number][] = [
    [D.negInf, 1 << 0],
    [D.negOne, 1 << 1],
    [D.maxSub | D.negZero, 1 << 2],
    [D.negZero, 1 << 3],
    [D.zero, 1 << 4],
    [D.minSub, 1 << 5],
    [D.one, 1 << 6],
    [D.inf, 1 << 7],
    [D.snan, 1 << 8],
    [D.qnan, 1 << 9],
    [D.qnanPayload, 1 << 9],
  ];
  for (const [v, m] of cases) {
    assert.equal(fp.f64Class(lo(v), hi(v)), 0);
    assert.equal(fpResult[0], m, `fclass.d(${hex(v)})`);
  }
  const cases32: [number, number][] = [
    [S.negInf, 1 << 0],
    [S.negOne, 1 << 1],
    [S.maxSub | S.negZero, 1 << 2],
    [S.negZero, 1 << 3],
    [S.zero, 1 << 4],
    [S.minSub, 1 << 5],
    [S.one, 1 << 6],
    [S.inf, 1 << 7],
    [S.snan, 1 << 8],
    [S.qnan, 1 << 9],
  ];
  for (const [v, m] of cases32) {
    assert.equal(fp.f32Class(v), 0);
    assert.equal(fpResult[0], m, `fclass.s(${v.toString(16)})`);
  }
});

test("fcvt to integer: RISC-V saturation, NaN -> max, NV xor NX, sign-extended 32-bit results", () => {
  const W = (
    op: (l: number, h: number, rm: number) => number,
    x: number,
    rm: number,
    res: bigint,
    flags: number,
  ) => d1(op, dbits(x), rm, res, flags);
  const ones = 0xffffffffffffffffn;
  W(fp.f64ToI32, 2 ** 31, RNE, 0x7fffffffn, NV);
  W(fp.f64ToI32, Number.NaN, RNE, 0x7fffffffn, NV);
  W(fp.f64ToI32, -(2 ** 31), RNE, 0xffffffff80000000n, 0);
  W(fp.f64ToI32, -(2 ** 31) - 1, RNE, 0xffffffff80000000n, NV);
  W(fp.f64ToI32, -(2 ** 31) - 0.5, RTZ, 0xffffffff80000000n, NX);
  W(fp.f64ToI32, -(2 ** 31) - 0.5, RNE, 0xffffffff80000000n, NX);
  W(fp.f64ToI32, -(2 ** 31) - 0.5, RMM, 0xffffffff80000000n, NV);
  W(fp.f64ToI32, 2 ** 31 - 0.5, RNE, 0x7fffffffn, NV);
  W(fp.f64ToI32, 2 ** 31 - 0.5, RTZ, 0x7fffffffn, NX);
  W(fp.f64ToI32, Number.POSITIVE_INFINITY, RNE, 0x7fffffffn, NV);
  W(fp.f64ToI32, Number.NEGATIVE_INFINITY, RNE, 0xffffffff80000000n, NV);
  W(fp.f64ToI32, -0, RNE, 0n, 0);
  W(fp.f64ToI32, 0.5, RNE, 0n, NX);
  W(fp.f64ToI32, 1.5, RNE, 2n, NX);
  W(fp.f64ToI32, 2.5, RNE, 2n, NX);
  W(fp.f64ToI32, 2.5, RMM, 3n, NX);
  W(fp.f64ToI32, -2.5, RMM, ones - 2n, NX);
  W(fp.f64ToI32, -2.5, RDN, ones - 2n, NX);
  W(fp.f64ToI32, -2.5, RUP, ones - 1n, NX);
  W(fp.f64ToU32, -1, RNE, 0n, NV);
  W(fp.f64ToU32, -0.5, RTZ, 0n, NX);
  W(fp.f64ToU32, -0.5, RNE, 0n, NX);
  W(fp.f64ToU32, -0.5, RDN, 0n, NV);
  W(fp.f64ToU32, -0.5, RMM, 0n, NV);
  W(fp.f64ToU32, Number.NaN, RNE, ones, NV);
  W(fp.f64ToU32, 4294967295.5, RTZ, ones, NX);
  W(fp.f64ToU32, 4294967295.5, RNE, ones, NV);
  W(fp.f64ToU32, 3e9, RNE, 0xffffffffb2d05e00n, 0);
  W(fp.f64ToU32, Number.NEGATIVE_INFINITY, RNE, 0n, NV);
  W(fp.f64ToI64, 2 ** 63, RNE, 0x7fffffffffffffffn, NV);
  W(fp.f64ToI64, -(2 ** 63), RNE, 0x8000000000000000n, 0);
  W(fp.f64ToI64, Number.NaN, RNE, 0x7fffffffffffffffn, NV);
  W(fp.f64ToI64, -1e300, RNE, 0x8000000000000000n, NV);
  W(fp.f64ToI64, -3.75, RTZ, ones - 2n, NX);
  W(fp.f64ToU64, 2 ** 64, RNE, ones, NV);
  W(fp.f64ToU64, 2 ** 64 - 2048, RNE, ones - 2047n, 0);
  W(fp.f64ToU64, Number.NaN, RNE, ones, NV);
  W(fp.f64ToU64, Number.NEGATIVE_INFINITY, RNE, 0n, NV);
  W(fp.f64ToU64, -0.25, RUP, 0n, NX);
  // binary32 sources
  const F = (op: (a: number, rm: number) => number, a: number, rm: number, res: bigint, flags: number) => {
    const f = op(a, rm);
    assert.equal(hex(r64()), hex(res), `${op.name}(${(a >>> 0).toString(16)}) rm=${rm}`);
    assert.equal(f, flags, `${op.name}(${(a >>> 0).toString(16)}) rm=${rm} flags`);
  };
  F(fp.f32ToI32, 0x4f000000, RNE, 0x7fffffffn, NV); // 2^31
  F(fp.f32ToI32, 0xcf000000 | 0, RNE, 0xffffffff80000000n, 0); // -2^31
  F(fp.f32ToI32, S.qnan, RNE, 0x7fffffffn, NV);
  F(fp.f32ToU32, S.negOne, RNE, 0n, NV);
  F(fp.f32ToU32, 0xbf000000 | 0, RTZ, 0n, NX); // -0.5
  F(fp.f32ToU32, S.snan, RNE, ones, NV);
  F(fp.f32ToI64, S.negInf, RNE, 0x8000000000000000n, NV);
  F(fp.f32ToU64, 0x5f800000, RNE, ones, NV); // 2^64
  F(fp.f32ToU64, 0x5f7fffff, RNE, 0xffffff0000000000n, 0);
});

test("fcvt from integer and between formats", () => {
  const two53p1 = (1n << 53n) + 1n;
  const I = (
    op: (l: number, h: number, rm: number) => number,
    v: bigint,
    rm: number,
    res: bigint,
    flags: number,
  ) => d1(op, BigInt.asUintN(64, v), rm, res, flags);
  I(fp.i64ToF64, two53p1, RNE, dbits(2 ** 53), NX);
  I(fp.i64ToF64, two53p1, RUP, dbits(2 ** 53 + 2), NX);
  I(fp.i64ToF64, -two53p1, RUP, dbits(-(2 ** 53)), NX);
  I(fp.i64ToF64, (1n << 53n) + 3n, RNE, dbits(2 ** 53 + 4), NX); // tie to even
  I(fp.i64ToF64, (1n << 53n) + 3n, RTZ, dbits(2 ** 53 + 2), NX);
  I(fp.i64ToF64, (1n << 53n) + 1n, RMM, dbits(2 ** 53 + 2), NX); // tie away
  I(fp.i64ToF64, -(1n << 63n), RNE, dbits(-(2 ** 63)), 0);
  I(fp.u64ToF64, (1n << 64n) - 1n, RNE, dbits(2 ** 64), NX);
  I(fp.u64ToF64, (1n << 64n) - 1n, RTZ, dbits(2 ** 64 - 2048), NX);
  assert.equal(fp.i32ToF64(-7, RNE), 0);
  assert.equal(hex(r64()), hex(dbits(-7)));
  assert.equal(fp.u32ToF64(-1, RNE), 0);
  assert.equal(hex(r64()), hex(dbits(4294967295)));
  s32(() => fp.i32ToF32(0x7fffffff, RNE), 0x4f000000, NX, "fcvt.s.w(2^31-1)");
  s32(() => fp.i32ToF32(0x7fffffff, RTZ), 0x4effffff, NX, "fcvt.s.w(2^31-1) RTZ");
  s32(() => fp.u32ToF32(-1, RDN), 0x4f7fffff, NX, "fcvt.s.wu(2^32-1) RDN");
  s32(() => fp.i64ToF32(1, 1 << 24, RNE), 0x5b800000, NX, "fcvt.s.l(2^56+1)");
  s32(() => fp.u64ToF32(-1, -1, RUP), 0x5f800000, NX, "fcvt.s.lu(2^64-1) RUP");

  // narrowing
  const N = (a: bigint, rm: number, res: number, flags: number) =>
    s32(() => fp.f64ToF32(lo(a), hi(a), rm), res, flags, `fcvt.s.d(${hex(a)}) rm=${rm}`);
  N(D.qnanPayload, RNE, CNAN32, 0);
  N(D.snan, RNE, CNAN32, NV);
  N(D.negInf, RNE, S.negInf, 0);
  N(dbits(1e300), RNE, S.inf, OF | NX);
  N(dbits(1e300), RTZ, S.max, OF | NX);
  N(dbits(-1e300), RUP, S.max | S.negZero, OF | NX);
  N(dbits(2 ** -150), RNE, 0, UF | NX); // tie between 0 and the smallest subnormal: even
  N(dbits(2 ** -150), RUP, S.minSub, UF | NX);
  N(dbits(2 ** -150 * 3), RNE, 2, UF | NX); // 1.5 ulp -> 2
  N(dbits(2 ** -149), RNE, S.minSub, 0); // exact subnormal: no flags
  N(D.minSub, RDN, 0, UF | NX);
  N(D.minSub | D.negZero, RDN, S.minSub | S.negZero, UF | NX);
  N(dbits(1 + 2 ** -24), RNE, S.one, NX);
  N(dbits(1 + 2 ** -24), RMM, S.one + 1, NX);
  // widening
  const Wd = (a: number, res: bigint, flags: number) => {
    assert.equal(fp.f32ToF64(a), flags);
    assert.equal(hex(r64()), hex(res), `fcvt.d.s(${(a >>> 0).toString(16)})`);
  };
  Wd(S.snan, CNAN64, NV);
  Wd(S.qnanPayload, CNAN64, 0);
  Wd(S.minSub, dbits(2 ** -149), 0);
  Wd(S.negZero, D.negZero, 0);
});

test("overflow: OF|NX with infinity or the largest finite value depending on mode and sign", () => {
  const halfUlp = dbits(2 ** 970);
  for (const [rm, pos, neg] of [
    [RNE, D.inf, D.negInf],
    [RTZ, D.max, D.negMax],
    [RDN, D.max, D.negInf],
    [RUP, D.inf, D.negMax],
    [RMM, D.inf, D.negInf],
  ] as [number, bigint, bigint][]) {
    d2(fp.f64Add, D.max, D.max, rm, pos, OF | NX);
    d2(fp.f64Add, D.negMax, D.negMax, rm, neg, OF | NX);
    d2(fp.f64Mul, D.max, D.two, rm, pos, OF | NX);
    d2(fp.f64Div, D.max, D.half, rm, pos, OF | NX);
    dfma(D.max, D.two, D.negMax, rm, false, false, D.max, 0);
  }
  // MAX + half an ulp: a tie that RNE rounds up (MAX is odd) to overflow; towards zero it is merely
  // inexact (the unbounded-exponent result is MAX, so no overflow).
  d2(fp.f64Add, D.max, halfUlp, RNE, D.inf, OF | NX);
  d2(fp.f64Add, D.max, halfUlp, RMM, D.inf, OF | NX);
  d2(fp.f64Add, D.max, halfUlp, RTZ, D.max, NX);
  d2(fp.f64Add, D.max, halfUlp, RDN, D.max, NX);
  d2(fp.f64Add, D.max, halfUlp, RUP, D.inf, OF | NX);
  d2(fp.f64Add, D.max, dbits(2 ** 969), RNE, D.max, NX);
  d2(fp.f64Add, D.max, dbits(2 ** 969), RUP, D.inf, OF | NX);
  s32(() => fp.f32Mul(S.max, 0x40000000, RNE), S.inf, OF | NX, "f32Mul(max, 2)");
  s32(() => fp.f32Mul(S.max, 0x40000000, RTZ), S.max, OF | NX, "f32Mul(max, 2) RTZ");
  s32(() => fp.f32Add(S.max, 0x73000000, RNE), S.inf, OF | NX, "f32Add(max, half ulp)");
  s32(() => fp.f32Add(S.max, 0x73000000, RTZ), S.max, NX, "f32Add(max, half ulp) RTZ");
});

test("underflow: UF only when tiny after rounding and inexact", () => {
  d2(fp.f64Mul, D.minNormal, D.half, RNE, 0x0008000000000000n, 0); // exact subnormal
  d2(fp.f64Mul, D.minSub, D.half, RNE, D.zero, UF | NX); // tie to even -> 0
  d2(fp.f64Mul, D.minSub, D.half, RUP, D.minSub, UF | NX);
  d2(fp.f64Mul, D.minSub | D.negZero, D.half, RDN, D.minSub | D.negZero, UF | NX);
  d2(fp.f64Div, D.minSub, D.two, RMM, D.minSub, UF | NX);
  // -(2^-1022 - 2^-1126), just below a power of two (whose 53-bit rounding to nearest is 2^-1022):
  // RTZ gives the largest subnormal and is tiny after rounding (UF); RNE/RDN reach 2^-1022 (NX).
  d2(fp.f64Mul, D.maxSub, 0xbff0000000000001n, RTZ, D.maxSub | D.negZero, UF | NX);
  d2(fp.f64Mul, D.maxSub, 0xbff0000000000001n, RNE, D.minNormal | D.negZero, NX);
  d2(fp.f64Mul, D.maxSub, 0xbff0000000000001n, RDN, D.minNormal | D.negZero, NX);
  d2(fp.f64Div, D.maxSub, 0x3ff0000000000001n, RTZ, D.maxSub - 1n, UF | NX);
  // (1 - 2^-53) * 2^-1022 rounds to 2^-1022 on the subnormal grid, but with an unbounded exponent
  // it is representable and below 2^-1022: tiny after rounding -> UF.
  d2(fp.f64Mul, 0x3fefffffffffffffn, D.minNormal, RNE, D.minNormal, UF | NX);
  // 2^-1022 - 2^-1077: rounds to 2^-1022 even with an unbounded exponent -> not tiny, NX only.
  const tinyProdA = dbits(2 ** -600);
  const tinyProdB = dbits(-(2 ** -477));
  dfma(tinyProdA, tinyProdB, D.minNormal, RNE, false, false, D.minNormal, NX);
  dfma(tinyProdA, tinyProdB, D.minNormal, RUP, false, false, D.minNormal, NX);
  dfma(tinyProdA, tinyProdB, D.minNormal, RTZ, false, false, D.maxSub, UF | NX);
  dfma(tinyProdA, tinyProdB, D.minNormal, RDN, false, false, D.maxSub, UF | NX);
  // binary32: 2^-126 - 2^-152 (product 2^-70 * -2^-82 plus the smallest normal)
  s32(
    () => fp.f32MulAdd(0x1c800000, 0x96800000 | 0, S.minNormal, RNE, false, false),
    S.minNormal,
    NX,
    "f32 fma 2^-126 - 2^-152 RNE",
  );
  s32(
    () => fp.f32MulAdd(0x1c800000, 0x96800000 | 0, S.minNormal, RTZ, false, false),
    S.maxSub,
    UF | NX,
    "f32 fma 2^-126 - 2^-152 RTZ",
  );
  s32(() => fp.f32Mul(S.minSub, 0x3f000000, RNE), 0, UF | NX, "f32Mul(minSub, 0.5)");
  s32(() => fp.f32Mul(S.minNormal, 0x3f000000, RNE), 0x00400000, 0, "f32Mul(minNormal, 0.5)");
});

test("rounding modes on ties and near ties", () => {
  const onePlusHalfUlp = dbits(2 ** -53);
  d2(fp.f64Add, D.one, onePlusHalfUlp, RNE, D.one, NX);
  d2(fp.f64Add, D.one, onePlusHalfUlp, RMM, 0x3ff0000000000001n, NX);
  d2(fp.f64Add, D.one, onePlusHalfUlp, RUP, 0x3ff0000000000001n, NX);
  d2(fp.f64Add, D.one, onePlusHalfUlp, RTZ, D.one, NX);
  d2(fp.f64Add, 0x3ff0000000000001n, onePlusHalfUlp, RNE, 0x3ff0000000000002n, NX);
  d2(fp.f64Add, 0x3ff0000000000001n, onePlusHalfUlp, RMM, 0x3ff0000000000002n, NX);
  d2(fp.f64Sub, D.one, dbits(2 ** -54), RNE, D.one, NX); // quarter ulp below 1 (ulp below is half)
  d2(fp.f64Sub, D.one, dbits(2 ** -54), RDN, 0x3fefffffffffffffn, NX);
  d2(fp.f64Sub, D.negOne, dbits(2 ** -53), RMM, 0xbff0000000000001n, NX);
  // 1/3 in every mode
  const third = [
    0x3fd5555555555555n,
    0x3fd5555555555555n,
    0x3fd5555555555555n,
    0x3fd5555555555556n,
    0x3fd5555555555555n,
  ];
  for (let rm = 0; rm < 5; rm++) d2(fp.f64Div, D.one, dbits(3), rm, third[rm], NX);
  // sqrt(2) in every mode
  const sqrt2 = [
    0x3ff6a09e667f3bcdn,
    0x3ff6a09e667f3bccn,
    0x3ff6a09e667f3bccn,
    0x3ff6a09e667f3bcdn,
    0x3ff6a09e667f3bcdn,
  ];
  for (let rm = 0; rm < 5; rm++) d1(fp.f64Sqrt, D.two, rm, sqrt2[rm], NX);
  d1(fp.f64Sqrt, dbits(4), RUP, D.two, 0);
  d1(fp.f64Sqrt, D.minSub, RNE, dbits(2 ** -537), 0);
  s32(() => fp.f32Sqrt(0x40000000, RUP), 0x3fb504f4, NX, "f32Sqrt(2) RUP");
  s32(() => fp.f32Sqrt(0x40000000, RDN), 0x3fb504f3, NX, "f32Sqrt(2) RDN");
  s32(() => fp.f32Div(S.one, 0x40400000, RUP), 0x3eaaaaab, NX, "f32Div(1, 3) RUP");
  s32(() => fp.f32Div(S.one, 0x40400000, RNE), 0x3eaaaaab, NX, "f32Div(1, 3) RNE");
  s32(() => fp.f32Div(S.one, 0x40400000, RTZ), 0x3eaaaaaa, NX, "f32Div(1, 3) RTZ");
});

test("exact ties at every small exponent (RMM tie detection with subnormal half-ulps)", () => {
  // s = 2^(E-1023) (even) plus exactly half an ulp of s, for every exponent field E in [2, 70]
  for (let E = 2; E <= 70; E++) {
    const s = BigInt(E) << 52n;
    const half = BigInt(E - 53) << 52n; // valid while E - 53 >= 1
    const halfBits = E - 53 >= 1 ? half : 1n << BigInt(E - 2); // subnormal half-ulp
    for (const sign of [0n, 1n]) {
      const a = s | (sign << 63n);
      const b = halfBits | (sign << 63n);
      for (let rm = 0; rm < 5; rm++) {
        const exp = ref.add(a, b, rm, F64);
        d2(fp.f64Add, a, b, rm, exp.bits, exp.flags);
      }
    }
  }
});

test("fma integer datapath: 32x32-bit partial products whose low word is near 0 or 2^32", () => {
  const r = new Rng(0xfa11);
  const inv32 = (x: bigint): bigint => {
    // inverse of an odd x modulo 2^32 (Newton iteration)
    let y = x;
    for (let i = 0; i < 5; i++) y = (y * (2n - x * y)) & 0xffffffffn;
    return y;
  };
  for (let i = 0; i < 4000; i++) {
    const al = BigInt(r.u32() | 1) & 0xffffffffn;
    const k = BigInt(r.range(-3, 3));
    // bl * al == k (mod 2^32): the 64-bit partial product has a low word of k mod 2^32
    const bl = (((k & 0xffffffffn) * inv32(al)) & 0xffffffffn) | 0n;
    const ah = BigInt(r.u32() & 0xfffff);
    const bh = BigInt(r.u32() & 0xfffff);
    // extreme exponent fields force the integer datapath; keep the product in range
    const ea = BigInt(r.pick([2030, 2040, 3, 10]));
    const eb = ea > 1000n ? BigInt(r.range(3, 40)) : BigInt(r.range(2000, 2040));
    const a = (BigInt(r.int(2)) << 63n) | (ea << 52n) | (ah << 32n) | al;
    const b = (BigInt(r.int(2)) << 63n) | (eb << 52n) | (bh << 32n) | bl;
    const pe = Number(ea + eb) - 1023;
    let c: bigint;
    const kind = r.int(3);
    if (kind === 0) c = 0n;
    else if (kind === 1) {
      const ce = BigInt(Math.max(1, Math.min(2046, pe + r.range(-60, 3))));
      c = (BigInt(r.int(2)) << 63n) | (ce << 52n) | r.bits(52);
    } else {
      // the product rounded, then nudged: massive cancellation exposes the product's low words
      c = nudge(r, ref.mul(a, b, r.int(5), F64).bits ^ (BigInt(r.int(2)) << 63n), F64);
    }
    const rm = r.int(5);
    const [np, nc] = [r.bool(), r.bool()];
    const exp = ref.fma(a, b, c, rm, np, nc, F64);
    dfma(a, b, c, rm, np, nc, exp.bits, exp.flags);
  }
});

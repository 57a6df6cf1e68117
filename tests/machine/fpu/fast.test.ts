/**
 * The round-to-nearest-even fast paths (src/machine/cpu/fpu/fast.ts) against the softfloat:
 * whenever a fast path claims an operation (returns flags >= 0) its result bits and flags must be
 * the softfloat's, on about 1.4 million random operand sets biased towards the cases where a
 * native-double shortcut goes wrong (ties, double rounding, results a hair away from a double,
 * cancellation, overflow/underflow thresholds, exact results), plus 786k binary32 square roots
 * exhaustively. The fast paths must also claim all but a few percent of ordinary operands (a
 * quarter of the cases: moderate exponents, random significands), or they are useless.
 *
 * FPU_SEED varies the operands (see gen.ts); FAST_N sets the number of cases per operation (three
 * times that for the fused ops); FAST_STATS=1 prints how many cases each fast path claimed.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { HI, LO } from "../../../src/machine/cpu/fpu/common.ts";
import * as fast from "../../../src/machine/cpu/fpu/fast.ts";
import * as fp from "../../../src/machine/cpu/fpu/index.ts";
import { fmaExactProduct, fmaNearTie, hi32, lo32, Rng } from "./gen.ts";
import * as ref from "./ref.ts";

const N = Number(process.env.FAST_N ?? 120_000);
const NEG = 0x80000000 | 0;

// --- value <-> bits -------------------------------------------------------------------------------

const dv = new Float64Array(1);
const dw = new Int32Array(dv.buffer);
const fv = new Float32Array(1);
const fw = new Int32Array(fv.buffer);

function dbl(lo: number, hi: number): number {
  dw[LO] = lo;
  dw[HI] = hi;
  return dv[0];
}
function flt(bits: number): number {
  fw[0] = bits;
  return fv[0];
}
function bitsF(x: number): number {
  fv[0] = x;
  return fw[0];
}

// --- binary64 operands (written to gLo, gHi) -----------------------------------------------------

let gLo = 0;
let gHi = 0;

function setD(x: number): void {
  dv[0] = x;
  gLo = dw[LO];
  gHi = dw[HI];
}

/** Sets gLo/gHi from sign, biased exponent and a 52-bit fraction with structure. */
function pack64(r: Rng, sign: number, be: number): void {
  let fhi: number;
  let flo: number;
  switch (r.int(8)) {
    case 0: // short significand: exact products, sums, quotients
      {
        const k = r.range(0, 26);
        fhi = k === 0 ? 0 : (r.u32() >>> 12) & ~((1 << Math.max(0, 20 - k)) - 1);
        flo = k > 20 ? r.u32() & ~(2 ** (52 - k) - 1) : 0;
      }
      break;
    case 1: // power of two and a few ulps above
      fhi = 0;
      flo = r.int(4);
      break;
    case 2: // just below the next power of two
      fhi = 0xfffff;
      flo = -1 - r.int(4);
      break;
    case 3: // half-ulp patterns at a random position
      {
        const k = r.range(1, 51);
        fhi = r.u32() >>> 12;
        flo = r.u32();
        if (k < 32) flo = ((flo >>> k) << k) | (1 << (k - 1));
        else if (k === 32) flo = NEG;
        else {
          flo = 0;
          fhi = ((fhi >>> (k - 32)) << (k - 32)) | (1 << (k - 33));
        }
      }
      break;
    default:
      fhi = r.u32() >>> 12;
      flo = r.u32();
  }
  gLo = flo | 0;
  gHi = (sign << 31) | (be << 20) | (fhi & 0xfffff);
}

/** Special and boundary values. */
function special64(r: Rng): void {
  const s = r.int(2) << 31;
  switch (r.int(10)) {
    case 0:
      gLo = 0;
      gHi = s; // +-0
      break;
    case 1:
      gLo = 0;
      gHi = s | 0x7ff00000; // +-inf
      break;
    case 2:
      gLo = r.u32() | 0;
      gHi = s | 0x7ff80000 | (r.u32() & 0x7ffff); // qNaN
      break;
    case 3:
      gLo = r.u32() | 1;
      gHi = s | 0x7ff00000 | (r.u32() & 0x7ffff); // sNaN
      break;
    case 4: // subnormal
      gLo = r.u32() | 0;
      gHi = s | ((r.u32() >>> 12) >>> r.int(21));
      break;
    case 5:
      gLo = -1;
      gHi = s | 0x7fefffff; // max finite
      break;
    default:
      pack64(r, s >>> 31, r.bool() ? r.range(1, 80) : r.range(1966, 2046));
  }
}

/** A binary64 operand: mostly ordinary, with specials, extremes and exact small values mixed in. */
function operand64(r: Rng, ordinary: boolean): void {
  const k = ordinary ? 0 : r.int(16);
  if (k < 6) pack64(r, r.int(2), 1023 + r.range(-40, 40));
  else if (k < 8) setD((r.range(-4000, 4000) / 2 ** r.int(8)) * (r.int(4) === 0 ? 2 ** r.range(-30, 30) : 1));
  else if (k < 10) special64(r);
  else if (k < 11) {
    gLo = r.u32() | 0;
    gHi = r.u32() | 0;
  } else pack64(r, r.int(2), r.range(1, 2046));
}

/** A few ulps away from (lo, hi), staying finite (the caller's operands are finite). */
function nudge64(r: Rng, lo: number, hi: number): void {
  const d = r.range(-3, 3);
  let l = (lo >>> 0) + d;
  let h = hi & 0x7fffffff;
  if (l < 0) {
    l += 2 ** 32;
    h -= 1;
  } else if (l >= 2 ** 32) {
    l -= 2 ** 32;
    h += 1;
  }
  if (h < 0 || h >= 0x7ff00000) {
    gLo = lo;
    gHi = hi;
    return;
  }
  gLo = l | 0;
  gHi = (hi & NEG) | h;
}

/** A value with random significand and the given biased exponent, clamped to the finite range. */
function withExp64(r: Rng, be: number): void {
  if (be >= 2047) be = 2046;
  if (be >= 1) return pack64(r, r.int(2), be);
  // subnormal (or zero): shift a normal significand right
  pack64(r, r.int(2), 1);
  const sh = Math.min(1 - be, 60);
  const v = dbl(gLo, gHi) * 2 ** -sh;
  setD(v);
}

function expOf64(hi: number): number {
  return (hi >>> 20) & 0x7ff;
}

/** Second operand for mul (as fma factors) or div related to a = (aLo, aHi). */
function partner64(r: Rng, op: string, aLo: number, aHi: number, ordinary: boolean): void {
  const ea = expOf64(aHi);
  if (ordinary || ea === 0x7ff || r.int(4) === 0) return operand64(r, ordinary);
  const k = r.int(6);
  if (op === "mul") {
    if (k === 0) return withExp64(r, 2046 - ea + 1023 + r.range(-2, 2)); // product near overflow
    if (k === 1) return withExp64(r, 1 - ea + 1023 + r.range(-54, 3)); // near / below underflow
    if (k === 2) return withExp64(r, 2 * 1023 - 969 - ea + r.range(-3, 3)); // fast-path edge
    if (k === 3) {
      const x = dbl(aLo, aHi);
      if (x === 0) return operand64(r, false);
      setD(1 / x); // product near 1: exactness boundary
      return nudge64(r, gLo, gHi);
    }
    return withExp64(r, 1023 + r.range(-40, 40));
  }
  // div: quotient near the thresholds, near 1, or exact
  if (k === 0) return withExp64(r, ea - 1023 + r.range(-2, 2)); // quotient near overflow
  if (k === 1) return withExp64(r, ea + 1022 + r.range(-3, 54)); // near / below underflow
  if (k === 2) return nudge64(r, aLo, aHi);
  if (k === 3) {
    // a = q * b exactly for short q and b: make b = a / q with a short q
    const q = r.range(1, 1 << 12) / 2 ** r.int(12);
    const x = dbl(aLo, aHi) / q;
    if (!Number.isFinite(x) || x === 0) return operand64(r, false);
    return setD(x);
  }
  return withExp64(r, 1023 + r.range(-40, 40));
}

/** Addend for a*b + c. */
function addend64(r: Rng, aLo: number, aHi: number, bLo: number, bHi: number, ordinary: boolean): void {
  const prod = dbl(aLo, aHi) * dbl(bLo, bHi);
  const k = ordinary ? 9 : r.int(10);
  if (k === 0 || !Number.isFinite(prod)) return operand64(r, false);
  if (k === 1) {
    gLo = 0;
    gHi = r.int(2) << 31;
    return;
  }
  setD(r.bool() ? -prod : prod);
  if (!Number.isFinite(dbl(gLo, gHi)) || prod === 0) return operand64(r, false);
  if (k <= 4) return nudge64(r, gLo, gHi); // massive cancellation
  const ep = expOf64(gHi);
  if (k <= 6) return withExp64(r, ep - r.range(0, 110)); // tails, below the product's error
  if (k === 7) return withExp64(r, ep + r.range(1, 60)); // product is the tail
  if (k === 8) return withExp64(r, r.bool() ? r.range(1, 60) : r.range(1986, 2046));
  return withExp64(r, ep + r.range(-30, 30));
}

/** The factors made by nearRepresentable64 (the addend is left in gLo/gHi). */
let tA0 = 0;
let tA1 = 0;
let tB0 = 0;
let tB1 = 0;

/**
 * fma whose exact result lies within 2^-100 or so of a double, or of a midpoint: a*b is an exact
 * tie (p + ulp(p)/2, from a = 1 + 2^-i, b = 1 + 2^-(53-i)) and c is a quarter, half or whole ulp of
 * p, give or take one ulp of its own. E.g. c just below ulp(p)/2 makes the first TwoSum exact but
 * the exact result ulp(p)*2^-54 short of p + ulp(p): inexact although v = 0 (only w says so).
 */
function nearRepresentable64(r: Rng): void {
  const i = r.range(1, 52);
  const ex = r.range(-300, 300);
  const ey = r.range(-300, 300);
  setD((1 + 2 ** -i) * 2 ** ex * (r.bool() ? -1 : 1));
  tA0 = gLo;
  tA1 = gHi;
  setD((1 + 2 ** (i - 53)) * 2 ** ey * (r.bool() ? -1 : 1));
  tB0 = gLo;
  tB1 = gHi;
  setD(dbl(tA0, tA1) * dbl(tB0, tB1)); // p = RN(a*b)
  const ulp = 2 ** (expOf64(gHi) - 1075);
  setD(ulp * r.pick([0.25, 0.5, 1, 0.75]) * r.pick([1, 1 - 2 ** -53, 1 + 2 ** -52, 1 - 2 ** -52]));
  if (r.bool()) gHi ^= NEG;
}

// --- binary32 operands -----------------------------------------------------------------------------

function frac32(r: Rng): number {
  switch (r.int(7)) {
    case 0: {
      const k = r.range(0, 12);
      return k === 0 ? 0 : (r.u32() >>> 9) & ~((1 << (23 - k)) - 1);
    }
    case 1:
      return r.int(4);
    case 2:
      return 0x7fffff - r.int(4);
    case 3: {
      const k = r.range(1, 22);
      return (((r.u32() >>> 9) >>> k) << k) | (1 << (k - 1));
    }
    default:
      return r.u32() >>> 9;
  }
}

function pack32(r: Rng, be: number): number {
  return (r.int(2) << 31) | (be << 23) | frac32(r);
}

function special32(r: Rng): number {
  const s = r.int(2) << 31;
  switch (r.int(10)) {
    case 0:
      return s;
    case 1:
      return s | 0x7f800000;
    case 2:
      return s | 0x7fc00000 | (r.u32() & 0x3fffff);
    case 3:
      return s | 0x7f800000 | (r.u32() & 0x3fffff) | 1;
    case 4:
      return s | ((r.u32() >>> 9) >>> r.int(24));
    case 5:
      return s | 0x7f7fffff;
    default:
      return pack32(r, r.bool() ? r.range(1, 40) : r.range(214, 254));
  }
}

function operand32(r: Rng, ordinary: boolean): number {
  const k = ordinary ? 0 : r.int(16);
  if (k < 6) return pack32(r, 127 + r.range(-20, 20));
  if (k < 8)
    return bitsF((r.range(-2000, 2000) / 2 ** r.int(6)) * (r.int(4) === 0 ? 2 ** r.range(-20, 20) : 1));
  if (k < 10) return special32(r);
  if (k < 11) return r.u32() | 0;
  return pack32(r, r.range(1, 254));
}

function withExp32(r: Rng, be: number): number {
  if (be >= 255) be = 254;
  if (be >= 1) return pack32(r, be);
  return bitsF(flt(pack32(r, 1)) * 2 ** -Math.min(1 - be, 30));
}

function nudge32(r: Rng, a: number): number {
  const m = (a & 0x7fffffff) + r.range(-3, 3);
  if (m < 0 || m >= 0x7f800000) return a;
  return (a & NEG) | m;
}

function partner32(r: Rng, op: string, a: number, ordinary: boolean): number {
  const ea = (a >>> 23) & 0xff;
  if (ordinary || ea === 0xff || r.int(4) === 0) return operand32(r, ordinary);
  const k = r.int(6);
  if (op === "add" || op === "sub") {
    if (k === 0) return nudge32(r, a ^ NEG);
    if (k === 1) return nudge32(r, a);
    if (k === 2) return withExp32(r, ea - r.range(0, 60)); // beyond double's 53 bits too
    if (k === 3) return withExp32(r, ea - r.range(23, 26));
    return withExp32(r, ea + r.range(-2, 2));
  }
  if (op === "mul") {
    if (k === 0) return withExp32(r, 254 - ea + 127 + r.range(-2, 2));
    if (k === 1) return withExp32(r, 1 - ea + 127 + r.range(-25, 3));
    if (k === 2) {
      const x = flt(a);
      return x === 0 ? operand32(r, false) : nudge32(r, bitsF(1 / x));
    }
    return withExp32(r, 127 + r.range(-20, 20));
  }
  if (k === 0) return withExp32(r, ea - 127 + r.range(-2, 2));
  if (k === 1) return withExp32(r, ea + 126 + r.range(-3, 25));
  if (k === 2) return nudge32(r, a);
  if (k === 3) {
    const x = flt(a) / (r.range(1, 1 << 8) / 2 ** r.int(8));
    return Math.fround(x) === x && x !== 0 ? bitsF(x) : operand32(r, false);
  }
  return withExp32(r, 127 + r.range(-20, 20));
}

function addend32(r: Rng, a: number, b: number, ordinary: boolean): number {
  const prod = flt(a) * flt(b);
  const k = ordinary ? 9 : r.int(10);
  if (k === 0 || !Number.isFinite(prod) || prod === 0) return operand32(r, false);
  if (k === 1) return r.int(2) << 31;
  let c = bitsF(r.bool() ? -prod : prod);
  if ((c & 0x7f800000) === 0x7f800000) return operand32(r, false);
  const ep = (c >>> 23) & 0xff;
  if (k <= 4) c = nudge32(r, c);
  else if (k <= 6) c = withExp32(r, ep - r.range(0, 60));
  else if (k === 7) c = withExp32(r, ep + r.range(1, 40));
  else if (k === 8) c = withExp32(r, r.bool() ? r.range(1, 30) : r.range(224, 254));
  else c = withExp32(r, ep + r.range(-12, 12));
  return c;
}

/**
 * binary32 fma whose double sum p + c is inexact and rounds to a binary32 midpoint: p is half an
 * ulp of c (or a quarter, below a power of two) times (1 +- 2^-2j), from a = 1 + 2^-j, b = 1 - 2^-j.
 */
function f32DoubleRoundingTrap(r: Rng): [number, number, number] {
  const c = pack32(r, r.range(60, 190));
  const ec = (c >>> 23) & 0xff;
  const j = r.range(12, 23);
  const sh = ec - 127 - 24 - r.int(2) + r.range(-1, 1);
  const a = bitsF((1 + 2 ** -j) * 2 ** Math.trunc(sh / 2)) ^ (r.int(2) << 31);
  const b = bitsF((r.bool() ? 1 - 2 ** -j : 1 + 2 ** -j) * 2 ** (sh - Math.trunc(sh / 2))) ^ (r.int(2) << 31);
  return [a, b, c];
}

// --- the comparison ---------------------------------------------------------------------------------

class Tally {
  readonly failures: string[] = [];
  claimed = 0;
  total = 0;
  ordinary = 0;
  ordinaryClaimed = 0;
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }

  /** Compares a claim (fastFlags >= 0) with the softfloat's result recorded by soft(). */
  check(ordinary: boolean, fastFlags: number, got0: number, got1: number, ops: number[], w: number): void {
    this.total++;
    if (ordinary) this.ordinary++;
    if (fastFlags < 0) return;
    this.claimed++;
    if (ordinary) this.ordinaryClaimed++;
    // binary32 results leave fpResult[1] alone (still poisoned by soft())
    const want1 = w === 64 ? exp1 : 0x5a5a5a5a;
    if (got0 === exp0 && got1 === want1 && fastFlags === expFlags) return;
    if (this.failures.length >= 10) return;
    const h = (v: number) => (v >>> 0).toString(16).padStart(8, "0");
    const opsS =
      w === 64
        ? ops
            .map((_, i) => (i % 2 === 0 ? `0x${h(ops[i + 1])}${h(ops[i])}` : ""))
            .filter(Boolean)
            .join(", ")
        : ops.map((o) => `0x${h(o)}`).join(", ");
    this.failures.push(
      `${this.name}(${opsS}): softfloat ${w === 64 ? h(exp1) : ""}${h(exp0)} flags ${expFlags}, ` +
        `fast ${w === 64 ? h(got1) : ""}${h(got0)} flags ${fastFlags}`,
    );
  }

  done(minOrdinaryShare: number): void {
    if (process.env.FAST_STATS) {
      const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)}%`;
      console.log(
        `${this.name}: claimed ${pct(this.claimed, this.total)} of ${this.total}, ` +
          `${pct(this.ordinaryClaimed, this.ordinary)} of the ordinary ones`,
      );
    }
    assert.equal(this.failures.length, 0, `\n${this.failures.join("\n")}`);
    const share = this.ordinaryClaimed / this.ordinary;
    assert.ok(
      share >= minOrdinaryShare,
      `${this.name}: fast path claimed only ${(share * 100).toFixed(1)}% of ordinary operands`,
    );
    assert.ok(this.claimed > this.total * 0.3, `${this.name}: claimed only ${this.claimed} of ${this.total}`);
  }
}

let exp0 = 0;
let exp1 = 0;
let expFlags = 0;

/**
 * Records the softfloat's flags (its return value) and result, then poisons fpResult so that a
 * fast path claiming a case without writing its result cannot pass.
 */
function soft(flags: number): void {
  expFlags = flags;
  exp0 = fp.fpResult[0];
  exp1 = fp.fpResult[1];
  fp.fpResult[0] = 0x5a5a5a5a;
  fp.fpResult[1] = 0x5a5a5a5a;
}

type Fast64 = (aLo: number, aHi: number, bLo: number, bHi: number) => number;
type Soft64 = (aLo: number, aHi: number, bLo: number, bHi: number, rm: number) => number;

function binary64(name: string, op: string, fastFn: Fast64, softFn: Soft64, seed: number): void {
  test(`f64 ${name}: the RNE fast path matches the softfloat whenever it claims a case`, () => {
    const r = new Rng(seed);
    const t = new Tally(`f64.${name}`);
    for (let i = 0; i < N; i++) {
      const ordinary = i % 4 === 0;
      operand64(r, ordinary);
      const aLo = gLo;
      const aHi = gHi;
      partner64(r, op, aLo, aHi, ordinary);
      const [p0, p1, q0, q1] = r.bool() ? [aLo, aHi, gLo, gHi] : [gLo, gHi, aLo, aHi];
      soft(softFn(p0, p1, q0, q1, 0));
      const fl = fastFn(p0, p1, q0, q1);
      t.check(ordinary, fl, fp.fpResult[0], fp.fpResult[1], [p0, p1, q0, q1], 64);
    }
    t.done(0.95);
  });
}

// (binary64 add, sub and mul have no fast path: the softfloat's own is native; see fast.ts.)
binary64("div", "div", fast.fastDiv64, fp.f64Div, 0xfa04);

test("f64 sqrt: the RNE fast path matches the softfloat whenever it claims a case", () => {
  const r = new Rng(0xfa05);
  const t = new Tally("f64.sqrt");
  for (let i = 0; i < N; i++) {
    const ordinary = i % 4 === 0;
    operand64(r, ordinary);
    let aLo = gLo;
    let aHi = gHi;
    const k = r.int(4);
    if (ordinary || k === 0) aHi &= 0x7fffffff;
    else if (k === 1) {
      // exact squares of short significands, and their neighbours
      const x = r.range(1, 1 << 26) * 2 ** r.range(-540, 480);
      setD(x * x);
      if (r.bool()) nudge64(r, gLo, gHi);
      aLo = gLo;
      aHi = gHi;
    }
    soft(fp.f64Sqrt(aLo, aHi, 0));
    const fl = fast.fastSqrt64(aLo, aHi);
    t.check(ordinary, fl, fp.fpResult[0], fp.fpResult[1], [aLo, aHi], 64);
  }
  t.done(0.95);
});

test("f64 fused multiply-add (all four variants): the RNE fast path matches the softfloat", () => {
  const r = new Rng(0xfa06);
  const t = new Tally("f64.mulAdd");
  const f64 = ref.F64;
  let refChecked = 0;
  for (let i = 0; i < 3 * N; i++) {
    const ordinary = i % 4 === 0;
    const kind = ordinary ? 9 : r.int(12);
    let aLo: number;
    let aHi: number;
    let bLo: number;
    let bHi: number;
    let cLo: number;
    let cHi: number;
    if (kind === 2) {
      nearRepresentable64(r);
      [aLo, aHi, bLo, bHi, cLo, cHi] = [tA0, tA1, tB0, tB1, gLo, gHi];
    } else if (kind < 2) {
      // midpoint and exact-product constructions from gen.ts (BigInt, so fewer of them)
      const [a, b, c] = kind === 0 ? fmaNearTie(r, f64) : fmaExactProduct(r, f64);
      [aLo, aHi, bLo, bHi, cLo, cHi] = [lo32(a), hi32(a), lo32(b), hi32(b), lo32(c), hi32(c)];
    } else {
      operand64(r, ordinary);
      aLo = gLo;
      aHi = gHi;
      if (kind < 5) partner64(r, "mul", aLo, aHi, false);
      else operand64(r, ordinary);
      bLo = gLo;
      bHi = gHi;
      addend64(r, aLo, aHi, bLo, bHi, ordinary);
      cLo = gLo;
      cHi = gHi;
    }
    const negP = r.bool();
    const negC = r.bool();
    soft(fp.f64MulAdd(aLo, aHi, bLo, bHi, cLo, cHi, 0, negP, negC));
    const fl = fast.fastMulAdd64(aLo, negP ? aHi ^ NEG : aHi, bLo, bHi, cLo, negC ? cHi ^ NEG : cHi);
    t.check(ordinary, fl, fp.fpResult[0], fp.fpResult[1], [aLo, aHi, bLo, bHi, cLo, cHi], 64);
    if (kind === 0 && fl >= 0 && refChecked < 20000) {
      // and the constructed near-ties against the exact BigInt reference too
      refChecked++;
      const big = (lo: number, hi: number) => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
      const e = ref.fma(big(aLo, aHi), big(bLo, bHi), big(cLo, cHi), 0, negP, negC, f64);
      const got = big(fp.fpResult[0], fp.fpResult[1]);
      assert.ok(got === e.bits && fl === e.flags, `reference mismatch ${got} ${e.bits}`);
    }
  }
  t.done(0.95);
});

type Fast32 = (a: number, b: number) => number;
type Soft32 = (a: number, b: number, rm: number) => number;

function binary32(name: string, op: string, fastFn: Fast32, softFn: Soft32, seed: number): void {
  test(`f32 ${name}: the RNE fast path matches the softfloat whenever it claims a case`, () => {
    const r = new Rng(seed);
    const t = new Tally(`f32.${name}`);
    for (let i = 0; i < N; i++) {
      const ordinary = i % 4 === 0;
      const a = operand32(r, ordinary);
      const b = partner32(r, op, a, ordinary);
      const [p, q] = r.bool() ? [a, b] : [b, a];
      soft(softFn(p, q, 0));
      const fl = fastFn(p, q);
      t.check(ordinary, fl, fp.fpResult[0], fp.fpResult[1], [p, q], 32);
    }
    t.done(0.95);
  });
}

binary32("add", "add", fast.fastAdd32, fp.f32Add, 0xfb01);
binary32("sub", "sub", fast.fastSub32, fp.f32Sub, 0xfb02);
binary32("mul", "mul", fast.fastMul32, fp.f32Mul, 0xfb03);
binary32("div", "div", fast.fastDiv32, fp.f32Div, 0xfb04);

test("f32 sqrt: the RNE fast path matches the softfloat whenever it claims a case", () => {
  const r = new Rng(0xfb05);
  const t = new Tally("f32.sqrt");
  for (let i = 0; i < N; i++) {
    const ordinary = i % 4 === 0;
    let a = operand32(r, ordinary);
    const k = r.int(4);
    if (ordinary || k === 0) a &= 0x7fffffff;
    else if (k === 1) {
      const x = r.range(1, 1 << 12) * 2 ** r.range(-70, 50);
      a = nudge32(r, bitsF(x * x));
      if (r.bool()) a &= 0x7fffffff;
    }
    soft(fp.f32Sqrt(a, 0));
    const fl = fast.fastSqrt32(a);
    t.check(ordinary, fl, fp.fpResult[0], fp.fpResult[1], [a], 32);
  }
  // every binary32 square root near 1 and around the subnormals is cheap to cover exhaustively
  for (const base of [0x3f000000, 0x00000000, 0x7f000000]) {
    for (let a = base; a < base + 0x40000; a++) {
      soft(fp.f32Sqrt(a, 0));
      const fl = fast.fastSqrt32(a);
      t.check(false, fl, fp.fpResult[0], fp.fpResult[1], [a], 32);
    }
  }
  t.done(0.95);
});

test("f32 fused multiply-add (all four variants): the RNE fast path matches the softfloat", () => {
  const r = new Rng(0xfb06);
  const t = new Tally("f32.mulAdd");
  const f32 = ref.F32;
  let traps = 0;
  for (let i = 0; i < 3 * N; i++) {
    const ordinary = i % 4 === 0;
    const kind = ordinary ? 9 : r.int(12);
    let a: number;
    let b: number;
    let c: number;
    if (kind === 0) {
      const [x, y, z] = fmaNearTie(r, f32);
      [a, b, c] = [Number(x) | 0, Number(y) | 0, Number(z) | 0];
    } else if (kind === 1) {
      const [x, y, z] = fmaExactProduct(r, f32);
      [a, b, c] = [Number(x) | 0, Number(y) | 0, Number(z) | 0];
    } else if (kind === 2) {
      [a, b, c] = f32DoubleRoundingTrap(r);
    } else {
      a = operand32(r, ordinary);
      b = kind < 5 ? partner32(r, "mul", a, false) : operand32(r, ordinary);
      c = addend32(r, a, b, ordinary);
    }
    const negP = r.bool();
    const negC = r.bool();
    soft(fp.f32MulAdd(a, b, c, 0, negP, negC));
    const fl = fast.fastMulAdd32(negP ? a ^ NEG : a, b, negC ? c ^ NEG : c);
    if (kind === 2) {
      // double rounding would go wrong here whenever p + c lands on a midpoint
      const s = flt(a) * flt(b) * (negP ? -1 : 1) + flt(c) * (negC ? -1 : 1);
      if (Math.fround(s) !== s && bitsF(s) !== exp0) traps++;
    }
    t.check(ordinary, fl, fp.fpResult[0], fp.fpResult[1], [a, b, c], 32);
  }
  assert.ok(traps > 1000, `only ${traps} double-rounding traps generated`);
  t.done(0.95);
});

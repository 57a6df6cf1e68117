/**
 * The JIT's inline F/D arithmetic (src/machine/jit/emit-fp.ts) against the
 * interpreter's softfloat and the BigInt reference model, bits and flags,
 * on operands chosen to break it: ties and near-ties, double-rounding
 * traps, results a hair from a representable value, exact results,
 * cancellation, the exponent guards (+-480 for binary64 products, with
 * exponent sums where Dekker's product would underflow; +-960 for fused
 * addends), results in the smallest normal binade and near overflow,
 * NaN-boxing violations, NaNs, infinities, zeros and subnormals (which
 * must reach the helper).
 *
 * The harness is a bare-metal loop written into RAM as machine code:
 *
 *   loop: fld f0..f3 from a0        operands as raw 64-bit images (singles boxed or not); junk in f3
 *         csrrc zero, mstatus, s1   FS Dirty -> Clean (or Off), so each op must dirty it again
 *         <op> rd, f0, f1, f2       rd = f3, or f0 for rm = dyn
 *         fsd rd, 0(a1); csrrs t1, mstatus, zero; csrrw t0, fflags, s0 (the flags to start the next op with)
 *         sd t0, 8(a1); sd t1, 16(a1); advance a0, a1; bnez --a2, loop
 *         j .
 *
 * run over an operand table on two machines: the interpreter alone, and the
 * JIT with jitHot 1, where from the second or third entry on every op runs
 * in a translated block that starts at the op and ends at the csrrs. Every
 * entry's rd image, fflags and mstatus must agree, with each other and
 * with the reference model, and so must the final registers and CSRs.
 *
 * Each op runs with rm = RNE and rm = dyn (frm = RNE), where the fast path
 * must actually be taken (asserted on ordinary operands through the
 * helper-call count); with static RNE under frm = RUP (inline regardless);
 * with rm = dyn under frm = RTZ/RDN/RUP/RMM (the blocks, compiled by then,
 * must refuse to run: no helper call, the interpreter's results); with
 * static RTZ..RMM (the helper); and into illegal-instruction traps: rm =
 * dyn with frm = 5, 6, 7, static rm = 5, 6, and FS = Off.
 * Seeds are fixed (FPU_SEED varies them, as for the softfloat tests;
 * JIT_FP_N sets the size of the main runs, JIT_FP_STATS=1 prints a summary).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OP_NAMES } from "../../src/isa/decoder.generated.ts";
import { encodeB, encodeI, encodeS } from "../../src/isa/encode.ts";
import { Machine } from "../../src/machine/board/machine.ts";
import { MSTATUS_FS } from "../../src/machine/cpu/constants.ts";
import { S_FCSR, S_MCAUSE, S_MEPC, S_MSTATUS, S_MTVAL, S_MTVEC } from "../../src/machine/cpu/csr-slots.ts";
import type { Jit } from "../../src/machine/jit/jit.ts";
import { MAX_BLOCK } from "../../src/machine/jit/plan.ts";
import { JitProfile } from "../../src/machine/jit/profile.ts";
import {
  addPartner,
  expOf,
  fmaAddend,
  fmaExactProduct,
  fmaNearTie,
  fraction,
  fromNumber,
  hex,
  mulPartner,
  nudge,
  pack,
  Rng,
  randFloat,
  toNumber,
  withExp,
} from "./fpu/gen.ts";
import { add, F32, F64, type Fmt, fma, mul, type Res, div as refDiv, sqrt, sub } from "./fpu/ref.ts";

// ---------------------------------------------------------------- machine code

const A0 = 10;
const A1 = 11;
const A2 = 12;
const T0 = 5;
const T1 = 6;
const S0 = 8;
const S1 = 9;

type Kind = "add" | "mul" | "div" | "sqrt" | "fma";

interface FpOp {
  name: string;
  fmt: Fmt;
  kind: Kind;
  /** The instruction word with rounding mode `rm`, rd, and sources f0, f1, f2. */
  word(rm: number, rd: number): number;
}

/** OP-FP (funct7, rs2 fixed for fsqrt) with rs1 = f0, rs2 = f1. */
const opFp =
  (funct7: number, rs2 = 1) =>
  (rm: number, rd: number) =>
    (funct7 << 25) | (rs2 << 20) | (0 << 15) | (rm << 12) | (rd << 7) | 0x53;
/** R4 (fmadd 0x43, fmsub 0x47, fnmsub 0x4b, fnmadd 0x4f) with rs1 = f0, rs2 = f1, rs3 = f2. */
const r4 = (opc: number, fmt: number) => (rm: number, rd: number) =>
  (2 << 27) | (fmt << 25) | (1 << 20) | (0 << 15) | (rm << 12) | (rd << 7) | opc;

const OPS: FpOp[] = [
  { name: "fadd.d", fmt: F64, kind: "add", word: opFp(0x01) },
  { name: "fsub.d", fmt: F64, kind: "add", word: opFp(0x05) },
  { name: "fmul.d", fmt: F64, kind: "mul", word: opFp(0x09) },
  { name: "fdiv.d", fmt: F64, kind: "div", word: opFp(0x0d) },
  { name: "fsqrt.d", fmt: F64, kind: "sqrt", word: opFp(0x2d, 0) },
  { name: "fmadd.d", fmt: F64, kind: "fma", word: r4(0x43, 1) },
  { name: "fmsub.d", fmt: F64, kind: "fma", word: r4(0x47, 1) },
  { name: "fnmsub.d", fmt: F64, kind: "fma", word: r4(0x4b, 1) },
  { name: "fnmadd.d", fmt: F64, kind: "fma", word: r4(0x4f, 1) },
  { name: "fadd.s", fmt: F32, kind: "add", word: opFp(0x00) },
  { name: "fsub.s", fmt: F32, kind: "add", word: opFp(0x04) },
  { name: "fmul.s", fmt: F32, kind: "mul", word: opFp(0x08) },
  { name: "fdiv.s", fmt: F32, kind: "div", word: opFp(0x0c) },
  { name: "fsqrt.s", fmt: F32, kind: "sqrt", word: opFp(0x2c, 0) },
  { name: "fmadd.s", fmt: F32, kind: "fma", word: r4(0x43, 0) },
  { name: "fmsub.s", fmt: F32, kind: "fma", word: r4(0x47, 0) },
  { name: "fnmsub.s", fmt: F32, kind: "fma", word: r4(0x4b, 0) },
  { name: "fnmadd.s", fmt: F32, kind: "fma", word: r4(0x4f, 0) },
];

/** Bytes per entry: in, the register images of f0..f3; out, rd's image, fflags, mstatus. */
const ENTRY_IN = 32;
const ENTRY_OUT = 24;

/** The loop (see the header) around `opWord`, which writes `rd`. */
function program(opWord: number, rd: number): number[] {
  return [
    encodeI(0, A0, 3, 0, 0x07), // fld f0, 0(a0)
    encodeI(8, A0, 3, 1, 0x07), // fld f1, 8(a0)
    encodeI(16, A0, 3, 2, 0x07), // fld f2, 16(a0)
    encodeI(24, A0, 3, 3, 0x07), // fld f3, 24(a0): junk, not NaN-boxed, in rd unless it is f0
    encodeI(0x300, S1, 3, 0, 0x73), // csrrc zero, mstatus, s1: FS Dirty -> Clean (or Off)
    opWord,
    encodeS(0, rd, A1, 3, 0x27), // fsd rd, 0(a1)
    encodeI(0x300, 0, 2, T1, 0x73), // csrrs t1, mstatus, zero
    encodeI(0x001, S0, 1, T0, 0x73), // csrrw t0, fflags, s0 (s0: the flags each op starts with)
    encodeS(8, T0, A1, 3, 0x23), // sd t0, 8(a1)
    encodeS(16, T1, A1, 3, 0x23), // sd t1, 16(a1)
    encodeI(ENTRY_IN, A0, 0, A0, 0x13), // addi a0, a0, 32
    encodeI(ENTRY_OUT, A1, 0, A1, 0x13), // addi a1, a1, 24
    encodeI(-1, A2, 0, A2, 0x13), // addi a2, a2, -1
    encodeB(-14 * 4, 0, A2, 1), // bne a2, zero, loop
    0x6f, // j .
  ];
}
/** Instructions per entry; offsets of the op and of the final `j .`. */
const LOOP_INSNS = 15;
const OP_AT = 5 * 4;
const END = 15 * 4;

/** Entries per op and run: static RNE and dyn/RNE on the hard mix; every other run. */
const N_RNE = Number(process.env.JIT_FP_N ?? 30_000);
const N_OTHER = Math.max(100, N_RNE >> 3);

const RAM = 0x8000_0000;
const CODE = RAM; // one 0x100-byte slot per program variant
const TRAP = CODE + 0xf00; // the trap vector: j .
const IN = RAM + 0x1_0000;
const OUT = IN + N_RNE * ENTRY_IN;
const RAM_SIZE = Math.ceil((OUT - RAM + N_RNE * ENTRY_OUT) / 0x10_0000) * 0x10_0000;

/** Program variants, by slot: static RNE (rd f3), dyn (rd f0), then static RTZ..RMM and reserved 5, 6 (rd f3). */
const SLOT_RNE = 0;
const SLOT_DYN = 1;
const slotStatic = (rm: number) => 1 + rm;
const RM_NAMES = ["RNE", "RTZ", "RDN", "RUP", "RMM", "5", "6", "DYN"];

// ---------------------------------------------------------------- operands

const box = (bits: bigint) => 0xffff_ffff_0000_0000n | bits;
const neg = (bits: bigint, f: Fmt) => bits ^ (1n << BigInt(f.width - 1));
const emaxOf = (f: Fmt) => (1 << f.ebits) - 1;

/** A normal number with biased exponent in [lo, hi] (clamped), a structured fraction and a random sign. */
function normal(r: Rng, f: Fmt, lo: number, hi: number): bigint {
  const e = Math.min(Math.max(r.range(lo, hi), 1), emaxOf(f) - 1);
  return pack(r.int(2), e, fraction(r, f), f);
}

/** An ordinary operand: exponent within +-40 of the bias, uniformly random fraction. */
function ordinary(r: Rng, f: Fmt): bigint {
  return pack(r.int(2), f.bias + r.range(-40, 40), r.bits(f.fbits), f);
}

/** Rounds a host double to the format (binary32 through Math.fround). */
const rn = (x: number, f: Fmt) => fromNumber(f === F64 ? x : Math.fround(x), f);
const val = (bits: bigint, f: Fmt) => toNumber(bits, f);
const isFiniteBits = (bits: bigint, f: Fmt) => expOf(bits, f) !== emaxOf(f);

/** A value with few significant bits (exact products and quotients). */
function short(r: Rng, f: Fmt, e: number, maxBits: number): bigint {
  const k = r.range(0, maxBits);
  const frac = k === 0 ? 0n : (r.bits(k) << BigInt(f.fbits - k)) & ((1n << BigInt(f.fbits)) - 1n);
  return pack(r.int(2), Math.min(Math.max(e, 1), emaxOf(f) - 1), frac, f);
}

/**
 * Binary64 exponent guards of the fast path: product operands within bias
 * +-480, fused addends within +-960. An exponent at or next to one, or up
 * to 12% beyond either side.
 */
function guardExp(r: Rng, reach: number): number {
  const d = r.bool() ? r.range(-2, 2) : r.range(-(reach >> 3), reach >> 3);
  return F64.bias + r.pick([-1, 1]) * (reach + d);
}

/**
 * Binary64 product operands around the +-480 guard: at its edges, or both
 * small with exponents summing to around -1000, where a looser guard would
 * let Dekker's product lose error bits to underflow. Often with the lowest
 * significand bit set in both, above a short top part, so that the error
 * is all in those bits' product (2^-104 of the product).
 */
function guardOperands(r: Rng): [bigint, bigint] {
  const f = F64;
  const low = r.bool();
  const frac = () =>
    low ? (r.bool() ? short(r, f, 1, 20) & ((1n << 52n) - 1n) : fraction(r, f)) | 1n : fraction(r, f);
  const k = r.int(10);
  let ea = guardExp(r, 480);
  let eb = k < 4 ? guardExp(r, 480) : r.range(543, 1503);
  if (k >= 4 && k < 8) {
    const sum = r.range(950, 1000); // -(ea + eb), unbiased
    const x = r.range(Math.max(440, sum - 520), Math.min(520, sum - 440));
    ea = f.bias - x;
    eb = f.bias - (sum - x);
  }
  return [pack(r.int(2), ea, frac(), f), pack(r.int(2), eb, frac(), f)];
}

function genAdd(r: Rng, f: Fmt): bigint[] {
  const emax = emaxOf(f);
  const k = r.int(100);
  if (k < 12) return [randFloat(r, f), randFloat(r, f)];
  if (k < 45) {
    const a = r.bool() ? normal(r, f, 1, emax - 1) : randFloat(r, f);
    return r.bool() ? [a, addPartner(r, a, f)] : [addPartner(r, a, f), a];
  }
  if (k < 57) {
    // results in or next to the smallest normal binades: cancellation or tiny sums
    const a = normal(r, f, 1, f.p + 4);
    const b = r.int(3) === 0 ? addPartner(r, a, f) : nudge(r, neg(a, f), f);
    return [a, b];
  }
  if (k < 67) {
    // near overflow: same-sign sums around the largest finite value
    const a =
      r.int(4) === 0
        ? pack(r.int(2), emax - 1, (1n << BigInt(f.fbits)) - 1n, f)
        : normal(r, f, emax - 3, emax - 1);
    const b = withExp(r, expOf(a, f) - r.range(0, f.p + 2), f);
    return [a, (b & ~(1n << BigInt(f.width - 1))) | (a & (1n << BigInt(f.width - 1)))];
  }
  if (k < 80) {
    // a hair from a representable value t: b = RN(t - a), nudged
    const a = normal(r, f, f.bias - 60, f.bias + 60);
    const t = withExp(r, expOf(a, f) + r.range(-f.p - 2, 2), f);
    let b = rn(val(t, f) - val(a, f), f);
    if (!isFiniteBits(b, f) || expOf(b, f) === 0) b = addPartner(r, a, f);
    return [a, r.int(3) === 0 ? b : nudge(r, b, f)];
  }
  return [ordinary(r, f), ordinary(r, f)];
}

function genMul(r: Rng, f: Fmt): bigint[] {
  const emax = emaxOf(f);
  const k = r.int(100);
  if (k < 12) return [randFloat(r, f), randFloat(r, f)];
  if (k < 40) {
    const a = r.bool() ? normal(r, f, 1, emax - 1) : randFloat(r, f);
    return [a, mulPartner(r, a, f, false)];
  }
  if (k < 55) {
    if (f === F64) {
      const [a, b] = guardOperands(r);
      return r.bool() ? [a, b] : [b, a];
    }
    // binary32: products in the smallest normal binades and near overflow
    const target = r.bool() ? r.range(-2, f.p + 2) : r.range(emax - 4, emax + 1);
    const ea = r.range(Math.max(1, target - (emax - 1) + f.bias), Math.min(emax - 1, target + f.bias - 1));
    return [normal(r, f, ea, ea), withExp(r, target - ea + f.bias, f)];
  }
  if (k < 72) {
    // a hair from a representable t: b = RN(t / a), nudged
    const a = normal(r, f, f.bias - 100, f.bias + 100);
    const t = normal(r, f, f.bias - 100, f.bias + 100);
    let b = rn(val(t, f) / val(a, f), f);
    if (!isFiniteBits(b, f) || expOf(b, f) === 0) b = ordinary(r, f);
    return [a, r.int(3) === 0 ? b : nudge(r, b, f)];
  }
  if (k < 85) {
    // exact products: short significands
    const bits = f === F64 ? 26 : 12;
    return [short(r, f, f.bias + r.range(-200, 200), bits), short(r, f, f.bias + r.range(-200, 200), bits)];
  }
  return [ordinary(r, f), ordinary(r, f)];
}

function genDiv(r: Rng, f: Fmt): bigint[] {
  const emax = emaxOf(f);
  const k = r.int(100);
  if (k < 12) return [randFloat(r, f), randFloat(r, f)];
  if (k < 40) {
    const a = r.bool() ? normal(r, f, 1, emax - 1) : randFloat(r, f);
    return [a, mulPartner(r, a, f, true)];
  }
  if (k < 70) {
    // quotients at or a hair from a short value q: a = RN(q * b), maybe nudged
    const b = normal(r, f, f.bias - 50, f.bias + 50);
    const q = short(r, f, f.bias + r.range(-50, 50), r.pick([3, 8, 12, 23]));
    const a = rn(val(q, f) * val(b, f), f);
    if (!isFiniteBits(a, f) || expOf(a, f) === 0) return [ordinary(r, f), b];
    return [r.int(3) === 0 ? a : nudge(r, a, f), b];
  }
  return [ordinary(r, f), ordinary(r, f)];
}

function genSqrt(r: Rng, f: Fmt): bigint[] {
  const emax = emaxOf(f);
  const k = r.int(100);
  const pos = (bits: bigint) => bits & ~(1n << BigInt(f.width - 1));
  if (k < 15) return [randFloat(r, f)];
  if (k < 25) return [normal(r, f, 1, emax - 1)]; // half negative: invalid
  if (k < 40) return [pos(r.bool() ? normal(r, f, 1, 30) : normal(r, f, emax - 30, emax - 1))];
  if (k < 75) {
    // squares of short values, exact or nudged by an ulp or three
    const q = short(r, f, f.bias + r.range(-60, 60), r.pick([5, 11, 23]));
    const a = pos(rn(val(q, f) * val(q, f), f));
    return [r.int(3) === 0 ? a : nudge(r, a, f)];
  }
  return [pos(ordinary(r, f))];
}

function genFma(r: Rng, f: Fmt): bigint[] {
  const emax = emaxOf(f);
  const k = r.int(100);
  if (k < 10) return [randFloat(r, f), randFloat(r, f), randFloat(r, f)];
  if (k < 35) {
    const a = r.int(4) === 0 ? randFloat(r, f) : normal(r, f, f.bias - 200, f.bias + 200);
    const b = r.int(3) === 0 ? mulPartner(r, a, f, false) : normal(r, f, f.bias - 200, f.bias + 200);
    return [a, b, fmaAddend(r, a, b, f)];
  }
  if (k < 48) return fmaNearTie(r, f);
  if (k < 60) return fmaExactProduct(r, f);
  if (k < 72) {
    if (f === F64) {
      // the guards: product operands around +-480, addend at +-960 or cancelling the product
      const [a, b] = guardOperands(r);
      const k = r.int(3);
      if (k === 0) return [a, b, pack(r.int(2), guardExp(r, 960), fraction(r, f), f)];
      if (k === 1) return [a, b, fmaAddend(r, a, b, f)];
      // c = 2^x - RN(a*b): the exact result is 2^x plus the product's rounding error
      const p = val(a, f) * val(b, f);
      const c = fromNumber(2 ** (Math.floor(Math.log2(Math.abs(p))) - r.range(1, 60)) - p, f);
      return [a, b, isFiniteBits(c, f) && expOf(c, f) !== 0 ? c : fmaAddend(r, a, b, f)];
    }
    // binary32: results in the smallest normal binades or near overflow
    const high = r.bool();
    const target = high ? r.range(emax - 3, emax) : r.range(-1, f.p + 2);
    const ea = r.range(Math.max(1, target - (emax - 1) + f.bias), Math.min(emax - 1, target + f.bias - 1));
    const a = normal(r, f, ea, ea);
    const b = withExp(r, target - ea + f.bias, f);
    return [a, b, r.bool() ? fmaAddend(r, a, b, f) : withExp(r, target + r.range(-3, 1), f)];
  }
  if (k < 85) {
    // a hair from a representable t: c = RN(t - a*b), nudged
    const a = normal(r, f, f.bias - 60, f.bias + 60);
    const b = normal(r, f, f.bias - 60, f.bias + 60);
    const t = withExp(r, expOf(a, f) + expOf(b, f) - f.bias + r.range(-f.p, 2), f);
    let c = rn(val(t, f) - val(a, f) * val(b, f), f);
    if (!isFiniteBits(c, f) || expOf(c, f) === 0) c = fmaAddend(r, a, b, f);
    return [a, b, r.int(3) === 0 ? c : nudge(r, c, f)];
  }
  const a = ordinary(r, f);
  const b = ordinary(r, f);
  return [
    a,
    b,
    pack(r.int(2), Math.max(1, expOf(a, f) + expOf(b, f) - f.bias + r.range(-8, 8)), r.bits(f.fbits), f),
  ];
}

/** Ordinary operands only (the fast path's bread and butter). */
function genOrdinary(r: Rng, op: FpOp): bigint[] {
  const f = op.fmt;
  if (op.kind === "sqrt") return [ordinary(r, f) & ~(1n << BigInt(f.width - 1))];
  const a = ordinary(r, f);
  const b = ordinary(r, f);
  if (op.kind !== "fma") return [a, b];
  const pe = expOf(a, f) + expOf(b, f) - f.bias;
  return [a, b, pack(r.int(2), pe + r.range(-8, 8), r.bits(f.fbits), f)];
}

const GEN: Record<Kind, (r: Rng, f: Fmt) => bigint[]> = {
  add: genAdd,
  mul: genMul,
  div: genDiv,
  sqrt: genSqrt,
  fma: genFma,
};

/**
 * Register images of f0..f3 for operands `ops`: binary32 values NaN-boxed,
 * now and then not (upper word not all ones); junk in the others.
 */
function images(r: Rng, ops: bigint[], f: Fmt, hard: boolean): bigint[] {
  const out = [0n, 0n, 0n, (BigInt(r.u32() >>> 1) << 32n) | BigInt(r.u32())];
  for (let i = 0; i < ops.length; i++) {
    if (f === F64) out[i] = ops[i];
    else if (hard && r.int(40) === 0) {
      const upper = r.pick([0n, 0xffff_fffen, 0x7fff_ffffn, 0xffff_0000n, BigInt(r.u32())]);
      out[i] = (upper << 32n) | ops[i];
    } else out[i] = box(ops[i]);
  }
  // unused source registers still get loaded: leave them random, not zero
  for (let i = ops.length; i < 3; i++) out[i] = BigInt(r.u32()) << 32n;
  return out;
}

function table(op: FpOp, seed: number, n: number, ordinaryOnly: boolean): BigUint64Array {
  const r = new Rng(seed);
  const t = new BigUint64Array(n * 4);
  for (let i = 0; i < n; i++) {
    const ops = ordinaryOnly ? genOrdinary(r, op) : GEN[op.kind](r, op.fmt);
    t.set(images(r, ops, op.fmt, !ordinaryOnly), 4 * i);
  }
  return t;
}

/**
 * The BigInt reference model's answer (tests/machine/fpu/ref.ts) for the
 * entry with register images `img` in mode `rm`, as the register image written:
 * an independent check, since the interpreter has native-double fast paths
 * of its own in RNE (cpu/fpu/fast.ts).
 */
function reference(op: FpOp, img: ArrayLike<bigint>, rm: number): Res {
  const f = op.fmt;
  const x = (i: number) =>
    f === F64 ? img[i] : img[i] >> 32n === 0xffff_ffffn ? img[i] & 0xffff_ffffn : f.canonicalNaN;
  let res: Res;
  if (op.kind === "fma") {
    const opc = op.word(0, 0) & 0x7f;
    res = fma(x(0), x(1), x(2), rm, opc === 0x4b || opc === 0x4f, opc === 0x47 || opc === 0x4f, f);
  } else if (op.kind === "sqrt") res = sqrt(x(0), rm, f);
  else {
    const fn = { "fadd.": add, "fsub.": sub, "fmul.": mul, "fdiv.": refDiv }[op.name.slice(0, 5)];
    assert.ok(fn, op.name);
    res = fn(x(0), x(1), rm, f);
  }
  return { bits: f === F64 ? res.bits : box(res.bits), flags: res.flags };
}

// ---------------------------------------------------------------- runs

interface Pair {
  op: FpOp;
  interp: Machine;
  jit: Machine;
  /** The JIT machine's profile: its helper calls by op. */
  profile: JitProfile;
}

function newPair(op: FpOp): Pair {
  const profile = new JitProfile();
  const make = (jit: boolean) => {
    const m = new Machine({
      ramSize: RAM_SIZE,
      jit,
      jitHot: jit ? 1 : undefined,
      jitProfile: jit ? profile : undefined,
    });
    const words = new Uint32Array(0x1000 / 4);
    words.set(program(op.word(0, 3), 3), (SLOT_RNE * 256) / 4);
    words.set(program(op.word(7, 0), 0), (SLOT_DYN * 256) / 4);
    for (let rm = 1; rm <= 6; rm++) words.set(program(op.word(rm, 3), 3), (slotStatic(rm) * 256) / 4);
    words[(TRAP - CODE) / 4] = 0x6f; // j .
    m.mem.writePhys(CODE, new Uint8Array(words.buffer));
    return m;
  };
  return { op, interp: make(false), jit: make(true), profile };
}

const lo = (v: number) => v | 0;
const hi = (v: number) => Math.floor(v / 2 ** 32) | 0;

interface Run {
  /** Program slot (SLOT_RNE, SLOT_DYN, slotStatic(rm)). */
  slot: number;
  frm: number;
  /** fflags each op starts with (and the run's initial fflags). */
  flags0: number;
  table: BigUint64Array;
  label: string;
  /** mstatus bits cleared before each op: FS Dirty -> Clean (default), or Off (0x6000). */
  fsClear?: number;
}

/** Sets `m` up to run `run`'s program over its table. */
function start(m: Machine, run: Run): void {
  const h = m.harts[0];
  const t = run.table;
  m.mem.writePhys(IN, new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  const set = (r: number, v: number) => {
    h.x[2 * r] = lo(v);
    h.x[2 * r + 1] = hi(v);
  };
  set(A0, IN);
  set(A1, OUT);
  set(A2, t.length / 4);
  set(S0, run.flags0);
  set(S1, run.fsClear ?? 1 << 13);
  h.c[2 * S_MSTATUS] |= MSTATUS_FS;
  h.c[2 * S_FCSR] = (run.frm << 5) | run.flags0;
  h.c[2 * S_FCSR + 1] = 0;
  h.c[2 * S_MTVEC] = lo(TRAP);
  h.c[2 * S_MTVEC + 1] = hi(TRAP);
  const pc = CODE + run.slot * 256;
  h.setPc(lo(pc), hi(pc));
}

/** Runs the whole table; the outputs (rd's image, fflags, mstatus per entry). */
function runOn(m: Machine, run: Run): BigUint64Array {
  const n = run.table.length / 4;
  start(m, run);
  const before = m.retired();
  m.run(n * LOOP_INSNS);
  const h = m.harts[0];
  assert.equal(m.retired() - before, n * LOOP_INSNS, "retired count");
  assert.equal(
    (h.pcLo >>> 0).toString(16),
    (CODE + run.slot * 256 + END).toString(16),
    "the loop did not finish",
  );
  const out = m.mem.readPhys(OUT, n * ENTRY_OUT);
  return new BigUint64Array(out.buffer, out.byteOffset, n * 3);
}

const rmOf = (slot: number) => (slot === SLOT_DYN ? 7 : slot === SLOT_RNE ? 0 : slot - 1);
const arityOf = (op: FpOp) => (op.kind === "sqrt" ? 1 : op.kind === "fma" ? 3 : 2);

/** Every mismatch found, for the summary (each test also fails on its own). */
const mismatches: string[] = [];

/** Asserts that the JIT machine's hart has the interpreter's registers, fcsr, mstatus and trap CSRs. */
function assertSameState(p: Pair, what: string): void {
  const ha = p.interp.harts[0];
  const hb = p.jit.harts[0];
  assert.equal(hb.pcLo, ha.pcLo, `${what}: pc`);
  assert.deepEqual(Array.from(hb.f), Array.from(ha.f), `${what}: f registers`);
  assert.deepEqual(Array.from(hb.x), Array.from(ha.x), `${what}: x registers`);
  for (const [s, name] of [
    [S_FCSR, "fcsr"],
    [S_MSTATUS, "mstatus"],
    [S_MEPC, "mepc"],
    [S_MCAUSE, "mcause"],
    [S_MTVAL, "mtval"],
  ] as const)
    assert.deepEqual([hb.c[2 * s], hb.c[2 * s + 1]], [ha.c[2 * s], ha.c[2 * s + 1]], `${what}: ${name}`);
}

const FS_DIRTY = BigInt(MSTATUS_FS) | (1n << 63n); // FS = Dirty, and SD

/** The JIT machine's helper calls for the pair's op (the loop's CSR reads run through the helper too). */
function opCalls(p: Pair): number {
  return p.profile.helperOps.get(OP_NAMES.indexOf(p.op.name)) ?? 0;
}

/**
 * Runs `run` on both machines and compares every entry (with each other,
 * and the JIT's with the BigInt reference) and the final state; returns
 * the JIT's helper calls.
 */
function compare(p: Pair, run: Run): number {
  const n = run.table.length / 4;
  const calls0 = opCalls(p);
  const want = runOn(p.interp, run);
  const got = runOn(p.jit, run);
  const calls = opCalls(p) - calls0;
  const what = `${p.op.name} rm=${RM_NAMES[rmOf(run.slot)]} frm=${RM_NAMES[run.frm]} ${run.label}`;
  const rm = rmOf(run.slot) === 7 ? run.frm : rmOf(run.slot);
  const fails: string[] = [];
  const entry = (i: number) =>
    `${what} #${i} (${Array.from(run.table.subarray(4 * i, 4 * i + arityOf(p.op)), (v) => hex(v, 64)).join(", ")})`;
  const out = (o: BigUint64Array, i: number) => `${hex(o[3 * i], 64)} flags ${o[3 * i + 1]}`;
  for (let i = 0; i < n && fails.length < 8; i++) {
    const [bits, flags, mstatus] = got.subarray(3 * i, 3 * i + 3);
    if (bits !== want[3 * i] || flags !== want[3 * i + 1])
      fails.push(`${entry(i)}: interpreter ${out(want, i)}, JIT ${out(got, i)}`);
    const ref = reference(p.op, run.table.subarray(4 * i, 4 * i + 3), rm);
    if (bits !== ref.bits || flags !== BigInt(ref.flags | run.flags0))
      fails.push(
        `${entry(i)}: reference ${hex(ref.bits, 64)} flags ${ref.flags | run.flags0}, JIT ${out(got, i)}`,
      );
    if (mstatus !== want[3 * i + 2] || (mstatus & FS_DIRTY) !== FS_DIRTY)
      fails.push(`${entry(i)}: mstatus ${hex(mstatus, 64)}, interpreter ${hex(want[3 * i + 2], 64)}`);
  }
  mismatches.push(...fails);
  assert.deepEqual(fails, [], fails.join("\n"));
  assertSameState(p, what);
  return calls;
}

// ---------------------------------------------------------------- the tests

/**
 * The most of a run on ordinary operands that may go to the helper: fused
 * binary64 falls back whenever the product's error and the sum's do not
 * add exactly (about a fifth of random operands), fused binary32 when
 * p + c is inexact in binary64 (an addend far below the product).
 */
function maxSlow(op: FpOp): number {
  if (op.kind !== "fma") return 0.01;
  return op.fmt === F64 ? 0.4 : 0.1;
}

const summary: string[] = [];

describe("inline F/D arithmetic in JIT blocks matches the softfloat", () => {
  OPS.forEach((op, index) => {
    test(op.name, () => {
      const t0 = performance.now();
      const p = newPair(op);
      const seed = 0x5eed_0000 + index * 64;
      let cases = 0;
      const go = (slot: number, frm: number, n: number, kind: "ordinary" | "hard", flags0 = 0) => {
        const r: Run = {
          slot,
          frm,
          flags0,
          table: table(op, seed + cases, n, kind === "ordinary"),
          label: `${kind}${flags0 ? ` fflags0=${flags0}` : ""}`,
        };
        cases += n;
        return compare(p, r);
      };
      // Ordinary operands, static RNE and dyn (frm = RNE, other flags already set): mostly inline.
      let fastOrdinary = 0;
      for (const [slot, flags0] of [
        [SLOT_RNE, 0],
        [SLOT_DYN, 0x1e],
      ]) {
        const slow = go(slot, 0, N_OTHER, "ordinary", flags0);
        assert.ok(
          slow <= N_OTHER * maxSlow(op),
          `${op.name} rm=${RM_NAMES[rmOf(slot)]}: ${slow} of ${N_OTHER} ordinary operands went to the helper`,
        );
        fastOrdinary += N_OTHER - slow;
      }
      // The hard mix, static RNE and dyn with frm = RNE.
      let fastHard = 0;
      for (const slot of [SLOT_RNE, SLOT_DYN]) fastHard += N_RNE - go(slot, 0, N_RNE, "hard");
      // Static RNE ignores frm: still inline under frm = RUP (and keeps frm and the flags set before).
      {
        const slow = go(SLOT_RNE, 3, N_OTHER, "ordinary", 0x1e);
        assert.ok(slow <= N_OTHER * maxSlow(op), `${op.name}: static RNE under frm = RUP did not run inline`);
      }
      // rm = dyn with frm = RTZ/RDN/RUP/RMM: the blocks compiled above refuse; nothing reaches the helper.
      for (let frm = 1; frm <= 4; frm++) {
        const slow = go(SLOT_DYN, frm, N_OTHER, "hard");
        assert.equal(slow, 0, `${op.name}: a dyn block ran with frm = ${RM_NAMES[frm]}`);
      }
      // Static non-RNE modes: through the helper (every op in a block; a few run interpreted, at the
      // start and where the block does not fit in what is left of a slice).
      for (let rm = 1; rm <= 4; rm++) {
        const slow = go(slotStatic(rm), 0, N_OTHER, "hard");
        assert.ok(
          slow >= N_OTHER * 0.95,
          `${op.name} rm=${RM_NAMES[rm]}: only ${slow} of ${N_OTHER} ops went to the helper`,
        );
      }
      // Illegal instruction at the op, the same on both machines, three times over (the block at the
      // op compiles on the second): dyn with frm = 5, 6, 7 and FS = Off (blocks refuse), static rm = 5, 6
      // (raised by the helper from inside the block).
      const traps: [string, Run][] = [];
      for (const frm of [5, 6, 7])
        traps.push([
          `frm=${frm}`,
          { slot: SLOT_DYN, frm, flags0: 0, table: table(op, seed, 1, true), label: "" },
        ]);
      for (const rm of [5, 6])
        traps.push([
          `rm=${rm}`,
          { slot: slotStatic(rm), frm: 0, flags0: 0, table: table(op, seed, 1, true), label: "" },
        ]);
      for (const slot of [SLOT_RNE, SLOT_DYN])
        traps.push([
          `FS=Off rm=${RM_NAMES[rmOf(slot)]}`,
          { slot, frm: 0, flags0: 0, table: table(op, seed, 1, true), label: "", fsClear: MSTATUS_FS },
        ]);
      for (const [what, r] of traps) {
        const calls0 = opCalls(p);
        for (let pass = 0; pass < 3; pass++) {
          for (const m of [p.interp, p.jit]) {
            start(m, r);
            // Enough budget that the block at the op may run (blocks need a whole pass's worth);
            // after the trap the vector's `j .` spins in place.
            m.run(OP_AT / 4 + 10 + MAX_BLOCK);
          }
          assertSameState(p, `${op.name} ${what} pass ${pass}`);
          const h = p.jit.harts[0];
          assert.equal(h.pcLo >>> 0, TRAP, `${op.name} ${what}: no trap`);
          assert.equal(h.c[2 * S_MCAUSE], 2, `${op.name} ${what}: not an illegal instruction`);
          assert.equal(h.c[2 * S_MEPC] >>> 0, CODE + r.slot * 256 + OP_AT, `${op.name} ${what}: mepc`);
        }
        const calls = opCalls(p) - calls0;
        if (r.slot === SLOT_DYN || r.fsClear) assert.equal(calls, 0, `${op.name} ${what}: a block ran`);
        else assert.ok(calls > 0, `${op.name} ${what}: the trap was never raised from a block`);
      }
      // At least the block at the op of each of the six programs.
      assert.ok((p.jit.jit as Jit).compiled >= 6, `${op.name}: blocks were not compiled`);
      const ms = performance.now() - t0;
      const pct = (k: number, n: number) => `${((100 * k) / n).toFixed(1)}%`;
      summary.push(
        `${op.name.padEnd(9)} ${cases} cases in ${ms.toFixed(0)} ms; inline: ${pct(fastOrdinary, 2 * N_OTHER)} ` +
          `of ordinary, ${pct(fastHard, 2 * N_RNE)} of the hard mix (RNE)`,
      );
    });
  });

  test("summary", () => {
    if (process.env.JIT_FP_STATS) console.log(summary.join("\n"));
    assert.deepEqual(mismatches, []);
  });
});

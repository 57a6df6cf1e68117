/**
 * The JIT's inline F/D instructions that are not arithmetic (emit-fp-cvt.ts,
 * emit-fp-sign.ts: conversions, sign injection, moves, compares, min/max,
 * fclass) against the interpreter, result and flags of every operation on
 * its own, over operands chosen to break them: NaNs quiet and signalling,
 * +-0, subnormals, infinities, the largest and smallest normals, halves and
 * near-halves (ties of RNE), values at and a few ulps around the conversion
 * limits 2^31, 2^32, 2^63, 2^64 and the significands' 2^24 and 2^53,
 * singles not properly NaN-boxed, the extreme integers and integers of
 * every bit length; each rounding op in every static mode and in dyn under
 * every frm. (Arithmetic has its own test, jit-fp.test.ts, with a BigInt
 * reference.) The harness, one bare-metal loop per op and mode in RAM:
 *
 *   loop: fld f0, 0(a0); fld f1, 8(a0); ld t2, 16(a0)   operand images, integer source
 *         csrrc zero, mstatus, s1                    FS Dirty -> Clean: each op must dirty it again
 *         <op> (f3 or t3), (f0 or t2), f1            the op starts a block that ends at the csrrs
 *         fsd f3, 0(a1); sd t3, 8(a1)
 *         csrrs t1, mstatus, zero; csrrw t0, fflags, zero
 *         sd t0, 16(a1); sd t1, 24(a1); advance a0, a1; bnez --a2, loop
 *         j .
 *
 * on two machines, the interpreter and the JIT with jitHot 1 (blocks from
 * the loop's second pass on). Every entry's outputs and the final state
 * must agree; ordinary operands must run inline (no helper call).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OP_NAMES } from "../../src/isa/decoder.generated.ts";
import { encodeB, encodeI, encodeS } from "../../src/isa/encode.ts";
import { INSTRUCTIONS } from "../../src/isa/table.ts";
import { Machine } from "../../src/machine/board/machine.ts";
import { MSTATUS_FS } from "../../src/machine/cpu/constants.ts";
import { S_FCSR, S_MSTATUS } from "../../src/machine/cpu/csr-slots.ts";
import type { Jit } from "../../src/machine/jit/jit.ts";
import { JitProfile } from "../../src/machine/jit/profile.ts";
import { F32_SPECIALS, F64_SPECIALS, INT_SPECIALS, Rng } from "../diff/gen.ts";

const A0 = 10;
const A1 = 11;
const A2 = 12;
const T0 = 5;
const T1 = 6;
const T2 = 7;
const T3 = 28;
const S1 = 9;

type Src = "f" | "x";
interface OpCase {
  name: string;
  /** Register files of the destination and of the first source. */
  dst: Src;
  src: Src;
  rounds: boolean;
  /** Operand images: f0, f1 (64-bit images), t2. */
  gen(r: Rng, ordinary: boolean): [bigint, bigint, bigint];
}

const table = new Map(INSTRUCTIONS.map(([name, , match]) => [name, match]));

/** The instruction word: rd (f3 or t3), rs1 (f0 or t2), rs2 = f1, the rounding mode if it has one. */
function word(c: OpCase, rm: number): number {
  const match = table.get(c.name);
  assert.ok(match !== undefined, c.name);
  const rd = c.dst === "f" ? 3 : T3;
  const rs1 = c.src === "f" ? 0 : T2;
  const rs2 = /^f(sgnj|min|max|eq|lt|le)/.test(c.name) ? 1 << 20 : 0;
  return (match | (rd << 7) | (rs1 << 15) | rs2 | (c.rounds ? rm << 12 : 0)) >>> 0;
}

function program(opWord: number): number[] {
  return [
    encodeI(0, A0, 3, 0, 0x07), // fld f0, 0(a0)
    encodeI(8, A0, 3, 1, 0x07), // fld f1, 8(a0)
    encodeI(16, A0, 3, T2, 0x03), // ld t2, 16(a0)
    encodeI(0x300, S1, 3, 0, 0x73), // csrrc zero, mstatus, s1
    opWord,
    encodeS(0, 3, A1, 3, 0x27), // fsd f3, 0(a1)
    encodeS(8, T3, A1, 3, 0x23), // sd t3, 8(a1)
    encodeI(0x300, 0, 2, T1, 0x73), // csrrs t1, mstatus, zero
    encodeI(0x001, 0, 1, T0, 0x73), // csrrw t0, fflags, zero
    encodeS(16, T0, A1, 3, 0x23), // sd t0, 16(a1)
    encodeS(24, T1, A1, 3, 0x23), // sd t1, 24(a1)
    encodeI(ENTRY_IN, A0, 0, A0, 0x13), // addi a0, a0, 24
    encodeI(ENTRY_OUT, A1, 0, A1, 0x13), // addi a1, a1, 32
    encodeI(-1, A2, 0, A2, 0x13), // addi a2, a2, -1
    encodeB(-14 * 4, 0, A2, 1), // bne a2, zero, loop
    0x6f, // j .
  ];
}
const LOOP_INSNS = 15;
const END = 15 * 4;
const ENTRY_IN = 24;
const ENTRY_OUT = 32;
const N = Number(process.env.JIT_FP_OPS_N ?? 4000);

const RAM = 0x8000_0000;
const IN = RAM + 0x1_0000;
const OUT = IN + N * ENTRY_IN;
const RAM_SIZE = Math.ceil((OUT - RAM + N * ENTRY_OUT) / 0x10_0000) * 0x10_0000;

// ---------------------------------------------------------------- operands

const BOX = 0xffff_ffff_0000_0000n;
const M64 = (1n << 64n) - 1n;
const f64Bits = (x: number) => new BigUint64Array(new Float64Array([x]).buffer)[0];
const f32Bits = (x: number) => BigInt(new Uint32Array(new Float32Array([x]).buffer)[0]);
const boxed = (bits: bigint) => BOX | bits;

/** A binary64 a few ulps around `x` (by the bit pattern). */
function near64(r: Rng, x: number): bigint {
  return (f64Bits(x) + BigInt(r.range(-3, 3))) & M64;
}
function near32(r: Rng, x: number): bigint {
  return (f32Bits(x) + BigInt(r.range(-3, 3))) & 0xffff_ffffn;
}

/** Conversion limits and ties, as numbers. */
const LIMITS = [2 ** 31, 2 ** 32, 2 ** 63, 2 ** 64, 2 ** 24, 2 ** 53, 0.5, 1.5, 2.5, 1, 0];

/** An FP operand (binary64 image, or a binary32 one boxed, sometimes not) for conversions and the rest. */
function fpOperand(r: Rng, double: boolean, ordinary: boolean): bigint {
  const sign = r.bool() ? -1 : 1;
  if (ordinary) {
    const x = sign * r.range(0, 1 << 20) * 2 ** r.range(-12, 8);
    return double ? f64Bits(x) : boxed(f32Bits(x));
  }
  const k = r.int(10);
  if (k < 3) return double ? r.pick(F64_SPECIALS) : boxed(BigInt(r.pick(F32_SPECIALS) >>> 0));
  if (k < 6) {
    const x = sign * r.pick(LIMITS) * (r.bool() ? 1 : r.pick([0.5, 0.75, 1.25, 3]));
    return double ? near64(r, x) : boxed(near32(r, x));
  }
  if (k < 8) {
    // halves: n + 0.5 for small n, exact in both formats
    const x = sign * (r.range(0, 1000) + 0.5);
    return double ? f64Bits(x) : boxed(f32Bits(x));
  }
  if (!double && r.int(4) === 0) return (BigInt(r.u32()) << 32n) | f32Bits(1.5); // not boxed
  return double ? r.u64() : boxed(BigInt(r.u32()));
}

/** An integer source: extreme values, a random bit length, near 2^24 and 2^53 (rounding ties). */
function intOperand(r: Rng, ordinary: boolean): bigint {
  if (ordinary) return BigInt(r.range(-(1 << 20), 1 << 20)) & M64;
  const k = r.int(8);
  if (k < 2) return r.pick(INT_SPECIALS);
  if (k < 4) {
    const bits = r.range(1, 64);
    const v = r.u64() >> BigInt(64 - bits);
    return r.bool() ? -v & M64 : v;
  }
  if (k < 6) {
    // 2^p + small, 2^(p+1) - small: the binary32/binary64 significand edges, with ties
    const p = BigInt(r.pick([24, 25, 53, 54, 31, 32, 62, 63]));
    const v = (1n << p) + BigInt(r.range(-5, 5));
    return r.bool() ? -v & M64 : v & M64;
  }
  return r.u64();
}

const CASES: OpCase[] = [];
const add = (name: string, dst: Src, src: Src, double: boolean, rounds: boolean) => {
  const gen = (r: Rng, ordinary: boolean): [bigint, bigint, bigint] =>
    src === "x"
      ? [r.u64(), r.u64(), intOperand(r, ordinary)]
      : [fpOperand(r, double, ordinary), fpOperand(r, double, ordinary), r.u64()];
  CASES.push({ name, dst, src, rounds, gen });
};
for (const [p, double] of [
  ["s", false],
  ["d", true],
] as const) {
  for (const t of ["w", "wu", "l", "lu"]) {
    add(`fcvt.${t}.${p}`, "x", "f", double, true);
    add(`fcvt.${p}.${t}`, "f", "x", double, true);
  }
  for (const n of ["fsgnj", "fsgnjn", "fsgnjx", "fmin", "fmax"]) add(`${n}.${p}`, "f", "f", double, false);
  for (const n of ["feq", "flt", "fle", "fclass"]) add(`${n}.${p}`, "x", "f", double, false);
}
add("fcvt.s.d", "f", "f", true, true);
add("fcvt.d.s", "f", "f", false, true);
add("fmv.x.w", "x", "f", false, false);
add("fmv.x.d", "x", "f", true, false);
add("fmv.w.x", "f", "x", false, false);
add("fmv.d.x", "f", "x", true, false);

// ---------------------------------------------------------------- runs

const lo = (v: number) => v | 0;
const hi = (v: number) => Math.floor(v / 2 ** 32) | 0;

function machine(c: OpCase, rm: number, jit: boolean, profile?: JitProfile): Machine {
  const m = new Machine({ ramSize: RAM_SIZE, jit, jitHot: jit ? 1 : undefined, jitProfile: profile });
  const words = new Uint32Array(program(word(c, rm)));
  m.mem.writePhys(RAM, new Uint8Array(words.buffer));
  return m;
}

/** Runs the table on `m` with frm; the outputs (f3, t3, fflags, mstatus per entry). */
function run(m: Machine, input: BigUint64Array, frm: number): BigUint64Array {
  const n = input.length / 3;
  const h = m.harts[0];
  m.mem.writePhys(IN, new Uint8Array(input.buffer));
  const set = (r: number, v: number) => {
    h.x[2 * r] = lo(v);
    h.x[2 * r + 1] = hi(v);
  };
  set(A0, IN);
  set(A1, OUT);
  set(A2, n);
  set(S1, 1 << 13); // FS Dirty -> Clean
  h.c[2 * S_MSTATUS] |= MSTATUS_FS;
  h.c[2 * S_FCSR] = frm << 5;
  h.setPc(lo(RAM), hi(RAM));
  m.run(n * LOOP_INSNS);
  assert.equal((h.pcLo >>> 0).toString(16), (RAM + END).toString(16), "the loop did not finish");
  const out = m.mem.readPhys(OUT, n * ENTRY_OUT);
  return new BigUint64Array(out.buffer, out.byteOffset, n * 4);
}

const hex = (v: bigint) => `0x${v.toString(16).padStart(16, "0")}`;

/** Both machines over `n` entries; the JIT's helper calls. */
function compare(c: OpCase, rm: number, frm: number, seed: number, ordinary: boolean): number {
  const r = new Rng(seed);
  const input = new BigUint64Array(N * 3);
  for (let i = 0; i < N; i++) input.set(c.gen(r, ordinary), 3 * i);
  const a = machine(c, rm, false);
  const profile = new JitProfile();
  const b = machine(c, rm, true, profile);
  const want = run(a, input, frm);
  const got = run(b, input, frm);
  const fails: string[] = [];
  const fields = ["f3", "t3", "fflags", "mstatus"];
  for (let i = 0; i < N && fails.length < 6; i++)
    for (let k = 0; k < 4; k++)
      if (got[4 * i + k] !== want[4 * i + k])
        fails.push(
          `${c.name} rm=${rm} frm=${frm} #${i} (${hex(input[3 * i])}, ${hex(input[3 * i + 1])}, ${hex(input[3 * i + 2])}): ` +
            `${fields[k]} interpreter ${hex(want[4 * i + k])}, JIT ${hex(got[4 * i + k])}`,
        );
  assert.deepEqual(fails, [], fails.join("\n"));
  const ha = a.harts[0];
  const hb = b.harts[0];
  assert.deepEqual(Array.from(hb.x), Array.from(ha.x), `${c.name}: x registers`);
  assert.deepEqual(Array.from(hb.f), Array.from(ha.f), `${c.name}: f registers`);
  assert.deepEqual(Array.from(hb.c), Array.from(ha.c), `${c.name}: CSRs`);
  // the op's own helper calls (the loop's mstatus read runs through the helper too)
  return profile.helperOps.get(OP_NAMES.indexOf(c.name)) ?? 0;
}

/** Rounding modes the JIT translates inline for this op (plan.ts fpInline): its ordinary operands must not reach the helper. */
function inlineModes(c: OpCase): number[] {
  if (!c.rounds) return [0];
  if (/^fcvt\.(w|wu|l|lu)\./.test(c.name)) return [0, 1, 2, 3];
  if (c.name === "fcvt.d.w" || c.name === "fcvt.d.wu") return [0, 1, 2, 3, 4];
  return [0];
}

describe("inline F/D conversions, sign injection, moves, compares, min/max and fclass match the interpreter", () => {
  CASES.forEach((c, index) => {
    test(c.name, () => {
      const seed = 0xf0_0000 + index * 97;
      // Ordinary operands in the inline modes: no helper call.
      for (const rm of inlineModes(c)) {
        const calls = compare(c, rm, 0, seed + rm, true);
        assert.equal(calls, 0, `${c.name} rm=${rm}: ordinary operands went to the helper`);
      }
      // The hard mix: static modes, and dyn under each frm (blocks refuse unless frm = RNE).
      const modes = c.rounds ? [0, 1, 2, 3, 4] : [0];
      for (const rm of modes) compare(c, rm, 0, seed + 16 + rm, false);
      if (c.rounds) for (let frm = 0; frm <= 4; frm++) compare(c, 7, frm, seed + 32 + frm, false);
    });
  });
});

test("frflags, frrm and frcsr inside a block read the flags the block's own FP ops raised", () => {
  const csrRead = (csr: number, rd: number) => encodeI(csr, 0, 2, rd, 0x73); // csrrs rd, csr, zero
  const A3 = 13;
  const A4 = 14;
  const A5 = 15;
  const body = [
    encodeI(0x300, S1, 3, 0, 0x73), // csrrc zero, mstatus, s1 (FS Dirty -> Clean)
    encodeI(0, A0, 3, 0, 0x07), // fld f0, 0(a0)
    encodeI(8, A0, 3, 1, 0x07), // fld f1, 8(a0)
    (0x01 << 25) | (1 << 20) | (0 << 15) | (7 << 12) | (3 << 7) | 0x53, // fadd.d f3, f0, f1 (dyn)
    csrRead(0x001, A3), // frflags a3
    csrRead(0x002, A4), // frrm a4
    csrRead(0x003, A5), // frcsr a5
    encodeS(0, A3, A1, 3, 0x23), // sd a3, 0(a1)
    encodeS(8, A4, A1, 3, 0x23), // sd a4, 8(a1)
    encodeS(16, A5, A1, 3, 0x23), // sd a5, 16(a1)
    encodeI(0x001, 0, 1, 0, 0x73), // csrrw zero, fflags, zero
    encodeI(16, A0, 0, A0, 0x13), // addi a0, a0, 16
    encodeI(24, A1, 0, A1, 0x13), // addi a1, a1, 24
    encodeI(-1, A2, 0, A2, 0x13), // addi a2, a2, -1
    encodeB(-14 * 4, 0, A2, 1), // bne a2, zero, loop
    0x6f, // j .
  ];
  const r = new Rng(0xf5c5);
  const n = 200;
  const input = new BigUint64Array(n * 2);
  for (let i = 0; i < n; i++) {
    // exact sums (no flags), inexact ones (NX) and invalid ones (inf - inf, NV through the helper)
    const k = i % 3;
    input[2 * i] = k === 2 ? f64Bits(Number.POSITIVE_INFINITY) : f64Bits(1 + r.range(0, 100));
    input[2 * i + 1] =
      k === 2 ? f64Bits(Number.NEGATIVE_INFINITY) : k === 0 ? f64Bits(0.5) : f64Bits(2 ** -60);
  }
  const outs: BigUint64Array[] = [];
  const machines = [false, true].map((jit) => {
    const m = new Machine({ ramSize: RAM_SIZE, jit, jitHot: jit ? 1 : undefined });
    m.mem.writePhys(RAM, new Uint8Array(new Uint32Array(body).buffer));
    m.mem.writePhys(IN, new Uint8Array(input.buffer));
    const h = m.harts[0];
    const set = (reg: number, v: number) => {
      h.x[2 * reg] = lo(v);
      h.x[2 * reg + 1] = hi(v);
    };
    set(A0, IN);
    set(A1, OUT);
    set(A2, n);
    set(S1, 1 << 13);
    h.c[2 * S_MSTATUS] |= MSTATUS_FS;
    h.setPc(lo(RAM), hi(RAM));
    m.run(n * (body.length - 1));
    assert.equal(h.pcLo >>> 0, RAM + 4 * (body.length - 1), "the loop did not finish");
    const out = m.mem.readPhys(OUT, n * 24);
    outs.push(new BigUint64Array(out.buffer, out.byteOffset, n * 3));
    return m;
  });
  assert.deepEqual(Array.from(outs[1]), Array.from(outs[0]));
  assert.deepEqual(Array.from(machines[1].harts[0].c), Array.from(machines[0].harts[0].c));
  // The reads saw both: NX (1) for the inexact sums, NV (16) for inf - inf.
  const flags = new Set(Array.from(outs[0].filter((_, i) => i % 3 === 0)));
  assert.deepEqual([...flags].sort(), [0n, 1n, 16n]);
  // The reads ran inside blocks: the helper only ran the invalid sums and the two CSR writes of
  // each pass (csrrc mstatus, csrrw fflags: inside the block too, jit/csr-leave.ts).
  const jit = machines[1].jit as Jit;
  assert.ok(jit.helperCalls <= n / 3 + 2 * n + 2, `${jit.helperCalls} helper calls`);
});

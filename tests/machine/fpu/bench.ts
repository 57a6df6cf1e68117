/**
 * Micro-benchmark of the soft-float library (run by hand, not part of the test suite):
 *
 *   node tests/machine/fpu/bench.ts [rm=0] [normal|extreme]
 *
 * Reports the best-of-10 ns per call in a tight loop over 4096 pseudo-random operands.
 * "extreme" makes every other binary64 operand subnormal or huge (slow paths).
 * With rm=0 the "rne ..." lines time what exec/fp.ts runs in round-to-nearest-even: the fast path
 * of fast.ts, falling back to the softfloat when it declines (binary64 add/sub/mul have none).
 */

import * as fast from "../../../src/machine/cpu/fpu/fast.ts";
import * as fp from "../../../src/machine/cpu/fpu/index.ts";

const rm = Number(process.argv[2] ?? 0);
const extreme = process.argv[3] === "extreme";
const N = 1 << 12;
const lo = new Int32Array(N);
const hi = new Int32Array(N);
const s32 = new Int32Array(N);
{
  const d = new Float64Array(1);
  const w = new Int32Array(d.buffer);
  const f = new Float32Array(s32.buffer);
  let seed = 1;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  for (let i = 0; i < N; i++) {
    const sign = rnd() < 0.5 ? -1 : 1;
    const e = extreme && (i & 1) === 1 ? (rnd() < 0.5 ? -1040 : 1000) : Math.floor(rnd() * 40 - 20);
    d[0] = sign * (rnd() + 0.5) * 2 ** e;
    lo[i] = w[0];
    hi[i] = w[1];
    f[i] = sign * (rnd() + 0.5) * 2 ** (extreme && (i & 1) === 1 ? -140 : Math.floor(rnd() * 20 - 10));
  }
}

type Body = (i: number, j: number, k: number) => number;

function bench(name: string, body: Body): void {
  const iters = 2_000_000;
  let best = Number.POSITIVE_INFINITY;
  let acc = 0;
  for (let round = 0; round < 12; round++) {
    const t0 = process.hrtime.bigint();
    for (let n = 0; n < iters; n++) {
      const i = n & (N - 1);
      acc ^= body(i, (i * 7 + 3) & (N - 1), (i * 13 + 5) & (N - 1));
    }
    const ns = Number(process.hrtime.bigint() - t0) / iters;
    if (round >= 2 && ns < best) best = ns; // first rounds warm up the JIT
  }
  console.log(`${name.padEnd(24)} ${best.toFixed(1).padStart(6)} ns/op  (${acc & 1})`);
}

console.log(`rm=${rm} operands=${extreme ? "extreme" : "normal"}`);
bench("loop overhead", (i, j) => lo[i] ^ hi[j]);
bench("f64Add", (i, j) => fp.f64Add(lo[i], hi[i], lo[j], hi[j], rm));
bench("f64Sub", (i, j) => fp.f64Sub(lo[i], hi[i], lo[j], hi[j], rm));
bench("f64Mul", (i, j) => fp.f64Mul(lo[i], hi[i], lo[j], hi[j], rm));
bench("f64Div", (i, j) => fp.f64Div(lo[i], hi[i], lo[j], hi[j], rm));
bench("f64Sqrt", (i) => fp.f64Sqrt(lo[i], hi[i] & 0x7fffffff, rm));
bench("f64MulAdd", (i, j, k) => fp.f64MulAdd(lo[i], hi[i], lo[j], hi[j], lo[k], hi[k], rm, false, false));
bench("f64Min", (i, j) => fp.f64Min(lo[i], hi[i], lo[j], hi[j]));
bench("f64Lt", (i, j) => fp.f64Lt(lo[i], hi[i], lo[j], hi[j]));
bench("f32Add", (i, j) => fp.f32Add(s32[i], s32[j], rm));
bench("f32Mul", (i, j) => fp.f32Mul(s32[i], s32[j], rm));
bench("f32Div", (i, j) => fp.f32Div(s32[i], s32[j], rm));
bench("f32Sqrt", (i) => fp.f32Sqrt(s32[i] & 0x7fffffff, rm));
bench("f32MulAdd", (i, j, k) => fp.f32MulAdd(s32[i], s32[j], s32[k], rm, false, false));
bench("f64ToI64", (i) => fp.f64ToI64(lo[i], hi[i], rm));
bench("f64ToI32", (i) => fp.f64ToI32(lo[i], hi[i], rm));
bench("i64ToF64", (i, j) => fp.i64ToF64(lo[i], hi[j], rm));
bench("f64ToF32", (i) => fp.f64ToF32(lo[i], hi[i], rm));
bench("f32ToF64", (i) => fp.f32ToF64(s32[i]));
if (rm === 0) {
  const or = (flags: number, slow: () => number): number => (flags >= 0 ? flags : slow());
  bench("rne fdiv.d", (i, j) =>
    or(fast.fastDiv64(lo[i], hi[i], lo[j], hi[j]), () => fp.f64Div(lo[i], hi[i], lo[j], hi[j], 0)),
  );
  bench("rne fsqrt.d", (i) =>
    or(fast.fastSqrt64(lo[i], hi[i] & 0x7fffffff), () => fp.f64Sqrt(lo[i], hi[i] & 0x7fffffff, 0)),
  );
  bench("rne fmadd.d", (i, j, k) =>
    or(fast.fastMulAdd64(lo[i], hi[i], lo[j], hi[j], lo[k], hi[k]), () =>
      fp.f64MulAdd(lo[i], hi[i], lo[j], hi[j], lo[k], hi[k], 0, false, false),
    ),
  );
  bench("rne fadd.s", (i, j) => or(fast.fastAdd32(s32[i], s32[j]), () => fp.f32Add(s32[i], s32[j], 0)));
  bench("rne fmul.s", (i, j) => or(fast.fastMul32(s32[i], s32[j]), () => fp.f32Mul(s32[i], s32[j], 0)));
  bench("rne fdiv.s", (i, j) => or(fast.fastDiv32(s32[i], s32[j]), () => fp.f32Div(s32[i], s32[j], 0)));
  bench("rne fsqrt.s", (i) =>
    or(fast.fastSqrt32(s32[i] & 0x7fffffff), () => fp.f32Sqrt(s32[i] & 0x7fffffff, 0)),
  );
  bench("rne fmadd.s", (i, j, k) =>
    or(fast.fastMulAdd32(s32[i], s32[j], s32[k]), () =>
      fp.f32MulAdd(s32[i], s32[j], s32[k], 0, false, false),
    ),
  );
}

import { test } from "node:test";
import * as fp from "../../../src/machine/cpu/fpu/index.ts";
import { cvtOperand, fraction, hi32, lo32, pack, randFloat, randInt } from "./gen.ts";
import { Checker, MODES, N, Rng, resultOf } from "./harness.ts";
import * as ref from "./ref.ts";
import { F32, F64, type Fmt } from "./ref.ts";

type IntKind = ref.IntKind;
const KINDS: IntKind[] = ["i32", "u32", "i64", "u64"];

const toIntLib: Record<string, (...a: number[]) => number> = {
  "f64.i32": fp.f64ToI32,
  "f64.u32": fp.f64ToU32,
  "f64.i64": fp.f64ToI64,
  "f64.u64": fp.f64ToU64,
  "f32.i32": fp.f32ToI32,
  "f32.u32": fp.f32ToU32,
  "f32.i64": fp.f32ToI64,
  "f32.u64": fp.f32ToU64,
};

const fromIntLib: Record<string, (...a: number[]) => number> = {
  "f64.i32": fp.i32ToF64,
  "f64.u32": fp.u32ToF64,
  "f64.i64": fp.i64ToF64,
  "f64.u64": fp.u64ToF64,
  "f32.i32": fp.i32ToF32,
  "f32.u32": fp.u32ToF32,
  "f32.i64": fp.i64ToF32,
  "f32.u64": fp.u64ToF32,
};

function floatArgs(bits: bigint, f: Fmt): number[] {
  return f === F64 ? [lo32(bits), hi32(bits)] : [Number(bits) | 0];
}

for (const f of [F64, F32]) {
  for (const k of KINDS) {
    test(`fcvt.${k}.${f.name}: ${f.name} -> ${k} matches the reference (saturation, NV/NX)`, () => {
      const r = new Rng(0xc0de + KINDS.indexOf(k) * 16 + f.width);
      const c = new Checker(`${f.name}To${k}`, f.width, 64);
      const lib = toIntLib[`${f.name}.${k}`];
      for (const rm of MODES) {
        for (let i = 0; i < N / 2; i++) {
          const a = cvtOperand(r, f);
          const flags = lib(...floatArgs(a, f), rm);
          c.check([a], rm, ref.toInt(a, k, rm, f), resultOf(64), flags);
        }
      }
      c.done((N / 2) * 5);
    });

    test(`fcvt.${f.name}.${k}: ${k} -> ${f.name} matches the reference`, () => {
      const r = new Rng(0xf00d + KINDS.indexOf(k) * 16 + f.width);
      const width = k === "i32" || k === "u32" ? 32 : 64;
      const signed = k[0] === "i";
      const c = new Checker(`${k}To${f.name}`, 64, f.width);
      const lib = fromIntLib[`${f.name}.${k}`];
      for (const rm of MODES) {
        for (let i = 0; i < N / 2; i++) {
          const v = randInt(r, signed, width);
          const bits = BigInt.asUintN(64, v);
          const flags =
            width === 32 ? lib(Number(bits & 0xffffffffn) | 0, rm) : lib(lo32(bits), hi32(bits), rm);
          c.check([bits], rm, ref.fromInt(v, rm, f), resultOf(f), flags);
        }
      }
      c.done((N / 2) * 5);
    });
  }
}

test("fcvt.s.d narrowing matches the reference in all rounding modes", () => {
  const r = new Rng(0x5d);
  const c = new Checker("f64ToF32", 64, 32);
  for (const rm of MODES) {
    for (let i = 0; i < N; i++) {
      let a: bigint;
      if (r.int(3) === 0) a = randFloat(r, F64);
      else {
        // exponents around the binary32 range, including its subnormals, overflow and ties
        const e = F64.bias + r.range(-126 - 30, 130);
        a = pack(r.int(2), e, fraction(r, F64), F64);
      }
      const flags = fp.f64ToF32(lo32(a), hi32(a), rm);
      c.check([a], rm, ref.convertFloat(a, F64, F32, rm), resultOf(F32), flags);
    }
  }
  c.done(N * 5);
});

test("fcvt.d.s widening is exact and canonicalizes NaNs", () => {
  const r = new Rng(0xd5);
  const c = new Checker("f32ToF64", 32, 64);
  for (let i = 0; i < N; i++) {
    const a = randFloat(r, F32);
    const flags = fp.f32ToF64(Number(a) | 0);
    c.check([a], 0, ref.convertFloat(a, F32, F64, 0), resultOf(F64), flags);
  }
  c.done(N);
});

/**
 * Randomized differential tests of the arithmetic operations of one format against the BigInt
 * reference, for every rounding mode.
 */

import { test } from "node:test";
import {
  addPartner,
  expOf,
  fmaAddend,
  fmaExactProduct,
  fmaNearTie,
  mulPartner,
  nudge,
  randFloat,
  withExp,
} from "./gen.ts";
import { argsOf, Checker, MODES, N, Rng, resultOf } from "./harness.ts";
import type { Fmt } from "./ref.ts";
import * as ref from "./ref.ts";

type LibFn = (...args: number[]) => number;
type LibFma = (...args: (number | boolean)[]) => number;

export interface ArithLib {
  add: LibFn;
  sub: LibFn;
  mul: LibFn;
  div: LibFn;
  sqrt: LibFn;
  mulAdd: LibFma;
  min: LibFn;
  max: LibFn;
  eq: LibFn;
  lt: LibFn;
  le: LibFn;
  cls: LibFn;
}

export function defineArithTests(f: Fmt, lib: ArithLib, seed: number): void {
  const w = f.width;
  const swap = (r: Rng, a: bigint, b: bigint): [bigint, bigint] => (r.bool() ? [a, b] : [b, a]);

  const binary = (
    name: string,
    refFn: (a: bigint, b: bigint, rm: number, f: Fmt) => ref.Res,
    libFn: LibFn,
    partner: (r: Rng, a: bigint) => bigint,
    s: number,
  ): void => {
    test(`${f.name} ${name} matches the exact reference in all rounding modes`, () => {
      const r = new Rng(seed + s);
      const c = new Checker(`${f.name}.${name}`, w, w);
      for (const rm of MODES) {
        for (let i = 0; i < N; i++) {
          const x = randFloat(r, f);
          const [p, q] = swap(r, x, partner(r, x));
          const exp = refFn(p, q, rm, f);
          const flags = libFn(...argsOf([p, q], f), rm);
          c.check([p, q], rm, exp, resultOf(f), flags);
        }
      }
      c.done(N * 5);
    });
  };

  binary("add", ref.add, lib.add, (r, a) => addPartner(r, a, f), 1);
  binary("sub", ref.sub, lib.sub, (r, a) => addPartner(r, a, f), 2);
  binary("mul", ref.mul, lib.mul, (r, a) => mulPartner(r, a, f, false), 3);
  binary("div", ref.div, lib.div, (r, a) => mulPartner(r, a, f, true), 4);

  test(`${f.name} sqrt matches the exact reference in all rounding modes`, () => {
    const r = new Rng(seed + 5);
    const c = new Checker(`${f.name}.sqrt`, w, w);
    for (const rm of MODES) {
      for (let i = 0; i < N; i++) {
        let a = randFloat(r, f);
        const k = r.int(4);
        if (k === 0)
          a &= ~(1n << BigInt(w - 1)); // mostly positive operands
        else if (k === 1) {
          // exact squares (short significands) and their neighbours
          const x = withExp(r, f.bias + r.range(-((f.bias + f.p) >> 1), f.bias >> 1), f);
          a = nudge(r, ref.mul(x, x, 0, f).bits & ~(1n << BigInt(w - 1)), f);
          if (expOf(a, f) === (1 << f.ebits) - 1) a = randFloat(r, f);
        }
        const exp = ref.sqrt(a, rm, f);
        const flags = lib.sqrt(...argsOf([a], f), rm);
        c.check([a], rm, exp, resultOf(f), flags);
      }
      // the largest finite values (where s*s can round past the overflow threshold)
      const maxBits = ((1n << BigInt(w - 1)) - 1n) ^ (1n << BigInt(f.fbits));
      for (let i = 0n; i < 300n; i++) {
        const a = maxBits - i * 7919n;
        const flags = lib.sqrt(...argsOf([a], f), rm);
        c.check([a], rm, ref.sqrt(a, rm, f), resultOf(f), flags);
      }
    }
    c.done(N * 5);
  });

  const variants: [boolean, boolean, string][] = [
    [false, false, "fmadd"],
    [false, true, "fmsub"],
    [true, false, "fnmsub"],
    [true, true, "fnmadd"],
  ];
  test(`${f.name} fused multiply-add (all four variants) matches the exact reference`, () => {
    const r = new Rng(seed + 6);
    const c = new Checker(`${f.name}.mulAdd`, w, w);
    for (const rm of MODES) {
      for (let i = 0; i < 2 * N; i++) {
        let a: bigint;
        let b: bigint;
        let cc: bigint;
        const kind = r.int(10);
        if (kind < 2) [a, b, cc] = fmaNearTie(r, f);
        else if (kind < 4) [a, b, cc] = fmaExactProduct(r, f);
        else {
          a = randFloat(r, f);
          const k = r.int(4);
          if (k === 0) b = randFloat(r, f);
          else if (k === 1) b = mulPartner(r, a, f, false);
          else b = withExp(r, f.bias + r.range(-40, 40), f);
          cc = fmaAddend(r, a, b, f);
        }
        const [negP, negC, label] = variants[r.int(4)];
        const exp = ref.fma(a, b, cc, rm, negP, negC, f);
        const flags = lib.mulAdd(...argsOf([a, b, cc], f), rm, negP, negC);
        c.check([a, b, cc], rm, exp, resultOf(f), flags, `/${label}`);
      }
    }
    c.done(N * 10);
  });

  test(`${f.name} min/max/eq/lt/le/class match the reference`, () => {
    const r = new Rng(seed + 7);
    const checks = {
      min: new Checker(`${f.name}.min`, w, w),
      max: new Checker(`${f.name}.max`, w, w),
      eq: new Checker(`${f.name}.eq`, w, w),
      lt: new Checker(`${f.name}.lt`, w, w),
      le: new Checker(`${f.name}.le`, w, w),
      cls: new Checker(`${f.name}.class`, w, 64),
    };
    for (let i = 0; i < 2 * N; i++) {
      const a = randFloat(r, f);
      const k = r.int(4);
      const b =
        k === 0 ? a : k === 1 ? a ^ (1n << BigInt(w - 1)) : k === 2 ? nudge(r, a, f) : randFloat(r, f);
      const ab = argsOf([a, b], f);
      let fl = lib.min(...ab);
      checks.min.check([a, b], 0, ref.minmax(a, b, false, f), resultOf(f), fl);
      fl = lib.max(...ab);
      checks.max.check([a, b], 0, ref.minmax(a, b, true, f), resultOf(f), fl);
      fl = lib.eq(...ab);
      checks.eq.check([a, b], 0, ref.compare(a, b, "eq", f), resultOf(64), fl);
      fl = lib.lt(...ab);
      checks.lt.check([a, b], 0, ref.compare(a, b, "lt", f), resultOf(64), fl);
      fl = lib.le(...ab);
      checks.le.check([a, b], 0, ref.compare(a, b, "le", f), resultOf(64), fl);
      fl = lib.cls(...argsOf([a], f));
      checks.cls.check([a], 0, ref.classify(a, f), resultOf(64), fl);
    }
    for (const ch of Object.values(checks)) ch.done(2 * N);
  });
}

import * as fp from "../../../src/machine/cpu/fpu/index.ts";
import { defineArithTests } from "./arith-suite.ts";
import { F32 } from "./ref.ts";

defineArithTests(
  F32,
  {
    add: fp.f32Add,
    sub: fp.f32Sub,
    mul: fp.f32Mul,
    div: fp.f32Div,
    sqrt: fp.f32Sqrt,
    mulAdd: fp.f32MulAdd as (...args: (number | boolean)[]) => number,
    min: fp.f32Min,
    max: fp.f32Max,
    eq: fp.f32Eq,
    lt: fp.f32Lt,
    le: fp.f32Le,
    cls: fp.f32Class,
  } as never,
  0x32000,
);

import * as fp from "../../../src/machine/cpu/fpu/index.ts";
import { defineArithTests } from "./arith-suite.ts";
import { F64 } from "./ref.ts";

defineArithTests(
  F64,
  {
    add: fp.f64Add,
    sub: fp.f64Sub,
    mul: fp.f64Mul,
    div: fp.f64Div,
    sqrt: fp.f64Sqrt,
    mulAdd: fp.f64MulAdd as (...args: (number | boolean)[]) => number,
    min: fp.f64Min,
    max: fp.f64Max,
    eq: fp.f64Eq,
    lt: fp.f64Lt,
    le: fp.f64Le,
    cls: fp.f64Class,
  } as never,
  0x64000,
);

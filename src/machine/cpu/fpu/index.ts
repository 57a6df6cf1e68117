/**
 * Bit-exact IEEE 754 binary32/binary64 arithmetic for the RISC-V F and D extensions.
 *
 * - binary64 operands are passed as (lo, hi) int32 halves of the bit pattern, binary32 as one
 *   int32 bit pattern; integers likewise (64-bit as lo, hi).
 * - rm: 0=RNE, 1=RTZ, 2=RDN, 3=RUP, 4=RMM (the caller resolves dynamic rm and rejects invalid ones).
 * - Each function writes its result to `fpResult` and returns the raised fflags (NV=16, DZ=8,
 *   OF=4, UF=2, NX=1). binary64 results: [0] = lo, [1] = hi. binary32 results: [0] only ([1] is
 *   left untouched; NaN-boxing is the caller's job). Integer results (fcvt to integer): [0], [1]
 *   always, 32-bit ones sign-extended. Comparisons / fclass: [0] = 0/1 or the mask, [1] = 0.
 *   NaN results are always the canonical NaN.
 * - The common paths allocate nothing (no BigInt, objects, arrays or heap numbers per call).
 */

export {
  FLAG_DZ,
  FLAG_NV,
  FLAG_NX,
  FLAG_OF,
  FLAG_UF,
  fpResult,
  RM_RDN,
  RM_RMM,
  RM_RNE,
  RM_RTZ,
  RM_RUP,
} from "./common.ts";
export {
  f32ToF64,
  f32ToI32,
  f32ToI64,
  f32ToU32,
  f32ToU64,
  f64ToF32,
  f64ToI32,
  f64ToI64,
  f64ToU32,
  f64ToU64,
  i32ToF32,
  i32ToF64,
  i64ToF32,
  i64ToF64,
  u32ToF32,
  u32ToF64,
  u64ToF32,
  u64ToF64,
} from "./convert.ts";
export {
  f32Add,
  f32Class,
  f32Div,
  f32Eq,
  f32Le,
  f32Lt,
  f32Max,
  f32Min,
  f32Mul,
  f32MulAdd,
  f32Sqrt,
  f32Sub,
} from "./f32.ts";
export {
  f64Add,
  f64Class,
  f64Div,
  f64Eq,
  f64Le,
  f64Lt,
  f64Max,
  f64Min,
  f64Mul,
  f64MulAdd,
  f64Sqrt,
  f64Sub,
} from "./f64.ts";

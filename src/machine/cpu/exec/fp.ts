import { S_FCSR } from "../csr-slots.ts";
import {
  fastAdd32,
  fastDiv32,
  fastDiv64,
  fastMul32,
  fastMulAdd32,
  fastMulAdd64,
  fastSqrt32,
  fastSqrt64,
  fastSub32,
} from "../fpu/fast.ts";
import {
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
  f32ToF64,
  f32ToI32,
  f32ToI64,
  f32ToU32,
  f32ToU64,
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
  f64ToF32,
  f64ToI32,
  f64ToI64,
  f64ToU32,
  f64ToU64,
  fpResult,
  i32ToF32,
  i32ToF64,
  i64ToF32,
  i64ToF64,
  u32ToF32,
  u32ToF64,
  u64ToF32,
  u64ToF64,
} from "../fpu/index.ts";
import type { Hart } from "../hart.ts";

/** binary32 canonical NaN: what an improperly NaN-boxed single reads as (unpriv spec 12.2). */
const CANONICAL_NAN32 = 0x7fc00000;
/** Sign bit of a binary32 value or of the high word of a binary64 one. */
const SIGN = 0x80000000 | 0;

/**
 * F and D extensions (unpriv spec chapters 11 and 12) on the bit-exact
 * softfloat in ../fpu. In round-to-nearest-even, the binary32 arithmetic and
 * binary64 div, sqrt and the fused ops first try the native-double fast paths
 * of ../fpu/fast.ts (-1: not provable, run the softfloat; binary64 add, sub
 * and mul need none). Singles live NaN-boxed in the 64-bit f registers:
 * writes set the upper word to all ones; reads of a value that is not
 * properly boxed see the canonical NaN. fflags accumulate into fcsr; any
 * write to an f register or fflags marks mstatus.FS dirty.
 */
export function execFp(h: Hart, op: number, insn: number): void {
  if (!h.fpEnabled()) h.illegal();
  const f = h.f;
  const x = h.x;
  const rd = (insn >>> 6) & 62;
  const rs1 = (insn >>> 14) & 62;
  const rs2 = (insn >>> 19) & 62;
  const rs3 = (insn >>> 26) & 62;
  const c = h.c;
  // Rounding mode: static from the instruction or dynamic from frm; 5, 6 and a bad frm are illegal.
  let rm = (insn >>> 12) & 7;
  if (rm === 7) rm = (c[S_FCSR * 2] >>> 5) & 7;
  let flags = 0;
  switch (op) {
    // ---- loads and stores (no rounding mode)
    case 139 /* flw */:
      {
        const imm = insn >> 20;
        const lo = (x[rs1] + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < x[rs1] >>> 0 ? 1 : 0)) | 0;
        f[rd] = h.load(lo, hi, 4, true);
        f[rd + 1] = -1;
        h.fpDirty();
        return;
      }
    case 169 /* fld */:
      {
        const imm = insn >> 20;
        const lo = (x[rs1] + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < x[rs1] >>> 0 ? 1 : 0)) | 0;
        f[rd] = h.load(lo, hi, 8, false);
        f[rd + 1] = h.ldHi;
        h.fpDirty();
        return;
      }
    case 140 /* fsw */:
    case 170 /* fsd */:
      {
        const imm = ((insn >> 25) << 5) | ((insn >>> 7) & 31);
        const lo = (x[rs1] + imm) | 0;
        const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < x[rs1] >>> 0 ? 1 : 0)) | 0;
        h.store(lo, hi, op === 140 /* fsw */ ? 4 : 8, f[rs2], f[rs2 + 1]);
        return;
      }
    // ---- sign injection, moves, classify, compares: no rounding
    case 150 /* fsgnj.s */:
    case 151 /* fsgnjn.s */:
    case 152 /* fsgnjx.s */:
      {
        const a = s32(f, rs1);
        const b = s32(f, rs2);
        const sign = op === 150 /* fsgnj.s */ ? b : op === 151 /* fsgnjn.s */ ? ~b : a ^ b;
        return setS(h, rd, (a & 0x7fffffff) | (sign & 0x80000000));
      }
    case 180 /* fsgnj.d */:
    case 181 /* fsgnjn.d */:
    case 182 /* fsgnjx.d */:
      {
        const a = f[rs1 + 1];
        const b = f[rs2 + 1];
        const sign = op === 180 /* fsgnj.d */ ? b : op === 181 /* fsgnjn.d */ ? ~b : a ^ b;
        return setD(h, rd, f[rs1], (a & 0x7fffffff) | (sign & 0x80000000));
      }
    case 159 /* fmv.x.w */:
      x[rd] = f[rs1];
      x[rd + 1] = f[rs1] >> 31;
      return;
    case 199 /* fmv.x.d */:
      x[rd] = f[rs1];
      x[rd + 1] = f[rs1 + 1];
      return;
    case 168 /* fmv.w.x */:
      return setS(h, rd, x[rs1]);
    case 200 /* fmv.d.x */:
      return setD(h, rd, x[rs1], x[rs1 + 1]);
    case 160 /* fclass.s */:
      f32Class(s32(f, rs1));
      return setX(x, rd, fpResult[0], 0);
    case 190 /* fclass.d */:
      f64Class(f[rs1], f[rs1 + 1]);
      return setX(x, rd, fpResult[0], 0);
    case 161 /* feq.s */:
    case 162 /* flt.s */:
    case 163 /* fle.s */:
      {
        const a = s32(f, rs1);
        const b = s32(f, rs2);
        flags = op === 161 /* feq.s */ ? f32Eq(a, b) : op === 162 /* flt.s */ ? f32Lt(a, b) : f32Le(a, b);
        setX(x, rd, fpResult[0], 0);
        return accrue(h, flags);
      }
    case 187 /* feq.d */:
    case 188 /* flt.d */:
    case 189 /* fle.d */:
      {
        const aLo = f[rs1];
        const aHi = f[rs1 + 1];
        const bLo = f[rs2];
        const bHi = f[rs2 + 1];
        flags =
          op === 187 /* feq.d */
            ? f64Eq(aLo, aHi, bLo, bHi)
            : op === 188 /* flt.d */
              ? f64Lt(aLo, aHi, bLo, bHi)
              : f64Le(aLo, aHi, bLo, bHi);
        setX(x, rd, fpResult[0], 0);
        return accrue(h, flags);
      }
    case 153 /* fmin.s */:
    case 154 /* fmax.s */:
      flags = op === 153 /* fmin.s */ ? f32Min(s32(f, rs1), s32(f, rs2)) : f32Max(s32(f, rs1), s32(f, rs2));
      setS(h, rd, fpResult[0]);
      return accrue(h, flags);
    case 183 /* fmin.d */:
    case 184 /* fmax.d */:
      flags =
        op === 183 /* fmin.d */
          ? f64Min(f[rs1], f[rs1 + 1], f[rs2], f[rs2 + 1])
          : f64Max(f[rs1], f[rs1 + 1], f[rs2], f[rs2 + 1]);
      setD(h, rd, fpResult[0], fpResult[1]);
      return accrue(h, flags);
  }
  // Everything below rounds.
  if (rm > 4) h.illegal();
  switch (op) {
    case 141 /* fmadd.s */:
    case 142 /* fmsub.s */:
    case 143 /* fnmsub.s */:
    case 144 /* fnmadd.s */:
      {
        const negProduct = op >= 143 /* fnmsub.s, fnmadd.s */;
        const negAddend = op === 142 /* fmsub.s */ || op === 144 /* fnmadd.s */;
        const a = s32(f, rs1);
        const b = s32(f, rs2);
        const c = s32(f, rs3);
        flags = rm === 0 ? fastMulAdd32(negProduct ? a ^ SIGN : a, b, negAddend ? c ^ SIGN : c) : -1;
        if (flags < 0) flags = f32MulAdd(a, b, c, rm, negProduct, negAddend);
        setS(h, rd, fpResult[0]);
      }
      break;
    case 171 /* fmadd.d */:
    case 172 /* fmsub.d */:
    case 173 /* fnmsub.d */:
    case 174 /* fnmadd.d */:
      {
        const negProduct = op >= 173 /* fnmsub.d, fnmadd.d */;
        const negAddend = op === 172 /* fmsub.d */ || op === 174 /* fnmadd.d */;
        const aLo = f[rs1];
        const aHi = f[rs1 + 1];
        const bLo = f[rs2];
        const bHi = f[rs2 + 1];
        const cLo = f[rs3];
        const cHi = f[rs3 + 1];
        flags =
          rm === 0
            ? fastMulAdd64(aLo, negProduct ? aHi ^ SIGN : aHi, bLo, bHi, cLo, negAddend ? cHi ^ SIGN : cHi)
            : -1;
        if (flags < 0) flags = f64MulAdd(aLo, aHi, bLo, bHi, cLo, cHi, rm, negProduct, negAddend);
        setD(h, rd, fpResult[0], fpResult[1]);
      }
      break;
    case 145 /* fadd.s */:
      {
        const a = s32(f, rs1);
        const b = s32(f, rs2);
        flags = rm === 0 ? fastAdd32(a, b) : -1;
        if (flags < 0) flags = f32Add(a, b, rm);
        setS(h, rd, fpResult[0]);
      }
      break;
    case 146 /* fsub.s */:
      {
        const a = s32(f, rs1);
        const b = s32(f, rs2);
        flags = rm === 0 ? fastSub32(a, b) : -1;
        if (flags < 0) flags = f32Sub(a, b, rm);
        setS(h, rd, fpResult[0]);
      }
      break;
    case 147 /* fmul.s */:
      {
        const a = s32(f, rs1);
        const b = s32(f, rs2);
        flags = rm === 0 ? fastMul32(a, b) : -1;
        if (flags < 0) flags = f32Mul(a, b, rm);
        setS(h, rd, fpResult[0]);
      }
      break;
    case 148 /* fdiv.s */:
      {
        const a = s32(f, rs1);
        const b = s32(f, rs2);
        flags = rm === 0 ? fastDiv32(a, b) : -1;
        if (flags < 0) flags = f32Div(a, b, rm);
        setS(h, rd, fpResult[0]);
      }
      break;
    case 149 /* fsqrt.s */:
      {
        const a = s32(f, rs1);
        flags = rm === 0 ? fastSqrt32(a) : -1;
        if (flags < 0) flags = f32Sqrt(a, rm);
        setS(h, rd, fpResult[0]);
      }
      break;
    case 175 /* fadd.d */:
      flags = f64Add(f[rs1], f[rs1 + 1], f[rs2], f[rs2 + 1], rm);
      setD(h, rd, fpResult[0], fpResult[1]);
      break;
    case 176 /* fsub.d */:
      flags = f64Sub(f[rs1], f[rs1 + 1], f[rs2], f[rs2 + 1], rm);
      setD(h, rd, fpResult[0], fpResult[1]);
      break;
    case 177 /* fmul.d */:
      flags = f64Mul(f[rs1], f[rs1 + 1], f[rs2], f[rs2 + 1], rm);
      setD(h, rd, fpResult[0], fpResult[1]);
      break;
    case 178 /* fdiv.d */:
      flags = rm === 0 ? fastDiv64(f[rs1], f[rs1 + 1], f[rs2], f[rs2 + 1]) : -1;
      if (flags < 0) flags = f64Div(f[rs1], f[rs1 + 1], f[rs2], f[rs2 + 1], rm);
      setD(h, rd, fpResult[0], fpResult[1]);
      break;
    case 179 /* fsqrt.d */:
      flags = rm === 0 ? fastSqrt64(f[rs1], f[rs1 + 1]) : -1;
      if (flags < 0) flags = f64Sqrt(f[rs1], f[rs1 + 1], rm);
      setD(h, rd, fpResult[0], fpResult[1]);
      break;
    case 185 /* fcvt.s.d */:
      flags = f64ToF32(f[rs1], f[rs1 + 1], rm);
      setS(h, rd, fpResult[0]);
      break;
    case 186 /* fcvt.d.s */:
      flags = f32ToF64(s32(f, rs1), rm);
      setD(h, rd, fpResult[0], fpResult[1]);
      break;
    // fp → int: results (sign-extended for the 32-bit ones) are in fpResult
    case 155 /* fcvt.w.s */:
      flags = f32ToI32(s32(f, rs1), rm);
      return intResult(h, rd, flags);
    case 156 /* fcvt.wu.s */:
      flags = f32ToU32(s32(f, rs1), rm);
      return intResult(h, rd, flags);
    case 157 /* fcvt.l.s */:
      flags = f32ToI64(s32(f, rs1), rm);
      return intResult(h, rd, flags);
    case 158 /* fcvt.lu.s */:
      flags = f32ToU64(s32(f, rs1), rm);
      return intResult(h, rd, flags);
    case 191 /* fcvt.w.d */:
      flags = f64ToI32(f[rs1], f[rs1 + 1], rm);
      return intResult(h, rd, flags);
    case 192 /* fcvt.wu.d */:
      flags = f64ToU32(f[rs1], f[rs1 + 1], rm);
      return intResult(h, rd, flags);
    case 193 /* fcvt.l.d */:
      flags = f64ToI64(f[rs1], f[rs1 + 1], rm);
      return intResult(h, rd, flags);
    case 194 /* fcvt.lu.d */:
      flags = f64ToU64(f[rs1], f[rs1 + 1], rm);
      return intResult(h, rd, flags);
    // int → fp
    case 164 /* fcvt.s.w */:
      flags = i32ToF32(x[rs1], rm);
      setS(h, rd, fpResult[0]);
      break;
    case 165 /* fcvt.s.wu */:
      flags = u32ToF32(x[rs1], rm);
      setS(h, rd, fpResult[0]);
      break;
    case 166 /* fcvt.s.l */:
      flags = i64ToF32(x[rs1], x[rs1 + 1], rm);
      setS(h, rd, fpResult[0]);
      break;
    case 167 /* fcvt.s.lu */:
      flags = u64ToF32(x[rs1], x[rs1 + 1], rm);
      setS(h, rd, fpResult[0]);
      break;
    case 195 /* fcvt.d.w */:
      flags = i32ToF64(x[rs1], rm);
      setD(h, rd, fpResult[0], fpResult[1]);
      break;
    case 196 /* fcvt.d.wu */:
      flags = u32ToF64(x[rs1], rm);
      setD(h, rd, fpResult[0], fpResult[1]);
      break;
    case 197 /* fcvt.d.l */:
      flags = i64ToF64(x[rs1], x[rs1 + 1], rm);
      setD(h, rd, fpResult[0], fpResult[1]);
      break;
    case 198 /* fcvt.d.lu */:
      flags = u64ToF64(x[rs1], x[rs1 + 1], rm);
      setD(h, rd, fpResult[0], fpResult[1]);
      break;
    default:
      h.illegal();
  }
  accrue(h, flags);
}

/** Reads f[r] as a binary32, unboxing (r is 2 * register number). */
function s32(f: Int32Array, r: number): number {
  return f[r + 1] === -1 ? f[r] : CANONICAL_NAN32;
}

function setS(h: Hart, rd: number, v: number): void {
  h.f[rd] = v;
  h.f[rd + 1] = -1;
  h.fpDirty();
}

function setD(h: Hart, rd: number, lo: number, hi: number): void {
  h.f[rd] = lo;
  h.f[rd + 1] = hi;
  h.fpDirty();
}

function setX(x: Int32Array, rd: number, lo: number, hi: number): void {
  x[rd] = lo;
  x[rd + 1] = hi;
}

function intResult(h: Hart, rd: number, flags: number): void {
  h.x[rd] = fpResult[0];
  h.x[rd + 1] = fpResult[1];
  accrue(h, flags);
}

/** ORs exception flags into fflags; setting any marks the FP state dirty. */
function accrue(h: Hart, flags: number): void {
  if (flags !== 0) {
    h.c[S_FCSR * 2] |= flags;
    h.fpDirty();
  }
}

import { type BlockEmitter, forOps, type OpEmitters, P_HART } from "./emit.ts";
import { type FpOp, fpEmitter, fpEmitterNoSlow, fReg } from "./emit-fp-common.ts";
import { I32, Op } from "./wasm.ts";

/**
 * The F/D instructions that do not round (unpriv spec 11.6-11.9, 12.4-12.6):
 * sign injection, moves between register files and fclass on the bits,
 * always inline; compares and min/max on the host's doubles (the same
 * answers as IEEE's for numbers, -0 below +0 for min/max as RISC-V wants),
 * with a NaN operand (signalling or not, flags and the canonical NaN) going
 * to the exec helper.
 */

const SIGN64 = -0x8000000000000000n;
const SIGN32 = 0x80000000 | 0;

/** fsgnj, fsgnjn, fsgnjx: funct3 0, 1, 2. */
const injectD = fpEmitterNoSlow((o) => {
  const c = o.c;
  const kind = o.rm;
  o.storeBits(() => {
    o.loadBits(o.rs1);
    if (kind === 2) {
      o.loadBits(o.rs2).i64Const(SIGN64).op(Op.i64And, Op.i64Xor);
      return;
    }
    c.i64Const(~SIGN64).op(Op.i64And);
    o.loadBits(o.rs2);
    if (kind === 1) c.i64Const(-1).op(Op.i64Xor);
    c.i64Const(SIGN64).op(Op.i64And, Op.i64Or);
  });
});

const injectS = fpEmitterNoSlow((o) => {
  const c = o.c;
  const kind = o.rm;
  o.storeSBits(() => {
    o.loadSBits(o.rs1);
    if (kind === 2) {
      o.loadSBits(o.rs2).i32Const(SIGN32).op(Op.i32And, Op.i32Xor);
      return;
    }
    c.i32Const(~SIGN32).op(Op.i32And);
    o.loadSBits(o.rs2);
    if (kind === 1) c.i32Const(-1).op(Op.i32Xor);
    c.i32Const(SIGN32).op(Op.i32And, Op.i32Or);
  });
});

/** fmv.x.d / fmv.x.w: the register's bits (the low word sign-extended for .w, boxed or not). */
const moveToX = (e: BlockEmitter) => {
  const rs1 = (e.ins.insn >>> 15) & 31;
  const double = e.ins.op === 199 /* fmv.x.d */;
  e.c.get(P_HART).mem(double ? Op.i64Load : Op.i64Load32S, double ? 3 : 2, fReg(rs1));
  e.setRd(e.rd);
};

/** fmv.d.x / fmv.w.x: rs1's bits (the low word NaN-boxed for .w). */
const moveFromX = fpEmitterNoSlow((o) => {
  const double = o.op === 200 /* fmv.d.x */;
  o.storeBits(() => {
    o.e.val(o.rs1);
    if (!double) o.c.i64Const(0xffffffff).op(Op.i64And).i64Const(-0x100000000n).op(Op.i64Or);
  });
});

/** Loads both operands into the first two scratch locals, going slow if either is NaN. */
function numbers(o: FpOp, double: boolean): [number, number] {
  const [A, B] = o.f;
  o.load(o.rs1, double).set(A);
  o.load(o.rs2, double).set(B);
  o.isNaN(A);
  o.isNaN(B).op(Op.i32Or);
  o.slowIf();
  return [A, B];
}

/** feq, flt, fle (funct3 2, 1, 0): no flags for numbers. */
const compare = (double: boolean) =>
  fpEmitter((o) => {
    const [A, B] = numbers(o, double);
    o.c.get(A).get(B).op([Op.f64Le, Op.f64Lt, Op.f64Eq][o.rm], Op.i64ExtendI32U);
    o.e.setRd(o.rd);
  });

/** fmin, fmax (funct3 0, 1). */
const minMax = (double: boolean) =>
  fpEmitter((o) => {
    const [A, B] = numbers(o, double);
    o.c
      .get(A)
      .get(B)
      .op(o.rm === 0 ? Op.f64Min : Op.f64Max)
      .set(A);
    o.store(A, double);
  });

/**
 * fclass: one bit of ten from the sign, exponent and fraction fields:
 * -inf 0, -normal 1, -subnormal 2, -0 3, +0 4, +subnormal 5, +normal 6,
 * +inf 7, signalling NaN 8, quiet NaN 9.
 */
const classify = (double: boolean) =>
  fpEmitterNoSlow((o) => {
    const c = o.c;
    const e = o.e;
    const t = e.t; // i64 scratch: the bits
    const fracBits = double ? 52 : 23;
    const expMax = double ? 0x7ff : 0xff;
    if (double) o.loadBits(o.rs1).set(t);
    else o.loadSBits(o.rs1).op(Op.i64ExtendI32U).set(t);
    const exp = () =>
      c.get(t).i64Const(fracBits).op(Op.i64ShrU, Op.i32WrapI64).i32Const(expMax).op(Op.i32And);
    const fracZero = () =>
      c
        .get(t)
        .i64Const((1n << BigInt(fracBits)) - 1n)
        .op(Op.i64And, Op.i64Eqz);
    const negative = () =>
      c
        .get(t)
        .i64Const(double ? 63 : 31)
        .op(Op.i64ShrU, Op.i32WrapI64)
        .i32Const(1)
        .op(Op.i32And);
    // k: 0 zero, 1 subnormal, 2 normal, 3 infinity; bit 4 + k if positive, 3 - k if negative
    const byK = () => {
      negative();
      c.op(Op.if, I32).i32Const(3);
      c.op(Op.else).i32Const(4).op(Op.end);
    };
    exp().i32Const(expMax).op(Op.i32Eq, Op.if, I32);
    fracZero().op(Op.if, I32);
    negative().op(Op.if, I32).i32Const(0).op(Op.else).i32Const(7).op(Op.end);
    c.op(Op.else);
    // NaN: the quiet bit (the fraction's top) decides
    c.get(t)
      .i64Const(fracBits - 1)
      .op(Op.i64ShrU, Op.i32WrapI64)
      .i32Const(1)
      .op(Op.i32And)
      .i32Const(8)
      .op(Op.i32Add);
    c.op(Op.end);
    c.op(Op.else);
    // finite: k = exp == 0 ? (frac == 0 ? 0 : 1) : 2; index = negative ? 3 - k : 4 + k
    exp().op(Op.i32Eqz, Op.if, I32);
    fracZero().op(Op.i32Eqz);
    c.op(Op.else).i32Const(2).op(Op.end);
    c.set(e.ent); // k (i32 scratch)
    byK();
    negative().op(Op.if, I32).i32Const(0).get(e.ent).op(Op.i32Sub);
    c.op(Op.else).get(e.ent).op(Op.end, Op.i32Add);
    c.op(Op.end);
    c.set(e.ent);
    c.i64Const(1).get(e.ent).op(Op.i64ExtendI32U, Op.i64Shl);
    e.setRd(o.rd);
  });

export const FP_SIGN_EMITTERS: OpEmitters = {
  ...forOps([180 /* fsgnj.d */, 181 /* fsgnjn.d */, 182 /* fsgnjx.d */], injectD),
  ...forOps([150 /* fsgnj.s */, 151 /* fsgnjn.s */, 152 /* fsgnjx.s */], injectS),
  ...forOps([199 /* fmv.x.d */, 159 /* fmv.x.w */], moveToX),
  ...forOps([200 /* fmv.d.x */, 168 /* fmv.w.x */], moveFromX),
  ...forOps([187 /* feq.d */, 188 /* flt.d */, 189 /* fle.d */], compare(true)),
  ...forOps([161 /* feq.s */, 162 /* flt.s */, 163 /* fle.s */], compare(false)),
  ...forOps([183 /* fmin.d */, 184 /* fmax.d */], minMax(true)),
  ...forOps([153 /* fmin.s */, 154 /* fmax.s */], minMax(false)),
  190 /* fclass.d */: classify(true),
  160 /* fclass.s */: classify(false),
};

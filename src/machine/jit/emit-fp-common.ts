import { HART_F } from "../memory/layout.ts";
import { type BlockEmitter, P_HART } from "./emit.ts";
import { FP_HELPER, fpInline } from "./plan.ts";
import { type Code, Op, VOID } from "./wasm.ts";

/**
 * What the F/D emitters (emit-fp.ts, emit-fp-sign.ts, emit-fp-cvt.ts)
 * share: f registers in the hart's memory, binary32 values NaN-boxed in
 * them, fflags raised into the block's pending flags (emit.ts raiseFp), and
 * the shape of an op with a slow path: inline code that proves its result
 * or branches to `$slow`, which runs the instruction through the exec
 * helper (the interpreter's softfloat) from inside the block.
 */

export const FLAG_NV = 16;
export const FLAG_NX = 1;
/** binary32's canonical NaN: what an improperly boxed single reads as (unpriv spec 12.2). */
const CANONICAL_NAN32 = 0x7fc00000;
/** The upper word of a NaN-boxed binary32. */
const BOX = -0x100000000n;
/** 2^-1022 and 2^-126: the smallest normal binary64 and binary32. */
export const MIN64 = 2.2250738585072014e-308;
export const MIN32 = 1.1754943508222875e-38;

export const fReg = (r: number) => HART_F + 8 * r;

/** An FP op being emitted: its fields, scratch locals, and the branch depth of `$slow`. */
export class FpOp {
  readonly e: BlockEmitter;
  readonly c: Code;
  readonly op: number;
  readonly rd: number;
  readonly rs1: number;
  readonly rs2: number;
  readonly rs3: number;
  /** funct3: the rounding mode of ops that round. */
  readonly rm: number;
  /** The emitter's FP scratch f64 locals (emit.ts FP_SCRATCH). */
  readonly f: number[];
  /** wasm blocks and ifs opened inside `$slow` so far. */
  private depth = 0;

  constructor(e: BlockEmitter) {
    this.e = e;
    this.c = e.c;
    const insn = e.ins.insn;
    this.op = e.ins.op;
    this.rd = (insn >>> 7) & 31;
    this.rs1 = (insn >>> 15) & 31;
    this.rs2 = (insn >>> 20) & 31;
    this.rs3 = insn >>> 27;
    this.rm = (insn >>> 12) & 7;
    this.f = Array.from({ length: 8 }, (_, i) => e.fp0 + i);
  }

  /** Branches to the slow path if the i32 on the stack is non-zero. */
  slowIf(): void {
    this.c.op(Op.brIf).u32(this.depth);
  }

  /** Opens an `if` (condition on the stack; `ty` its result type) inside the op's code. */
  ifOpen(ty: number = VOID): void {
    this.c.op(Op.if, ty);
    this.depth++;
  }

  else(): void {
    this.c.op(Op.else);
  }

  ifClose(): void {
    this.c.op(Op.end);
    this.depth--;
  }

  /** Pushes f[r] as an f64. */
  loadD(r: number): Code {
    return this.c.get(P_HART).mem(Op.f64Load, 3, fReg(r));
  }

  /** Pushes f[r] as the raw i64 image. */
  loadBits(r: number): Code {
    return this.c.get(P_HART).mem(Op.i64Load, 3, fReg(r));
  }

  /** Pushes the binary32 bits f[r] holds: the canonical NaN unless properly boxed. */
  loadSBits(r: number): Code {
    const c = this.c;
    c.get(P_HART).mem(Op.i32Load, 2, fReg(r)).i32Const(CANONICAL_NAN32);
    c.get(P_HART)
      .mem(Op.i32Load, 2, fReg(r) + 4)
      .i32Const(-1)
      .op(Op.i32Eq, Op.select);
    return c;
  }

  /** Pushes f[r]'s binary32 value, widened (exactly) to an f64. */
  loadS(r: number): Code {
    return this.loadSBits(r).op(Op.f32ReinterpretI32, Op.f64PromoteF32);
  }

  /** Pushes f[r] as an f64: binary64, or binary32 widened. */
  load(r: number, double: boolean): Code {
    return double ? this.loadD(r) : this.loadS(r);
  }

  /** Writes the i64 image that `value` pushes to f[rd]. */
  storeBits(value: () => void): void {
    this.c.get(P_HART);
    value();
    this.c.mem(Op.i64Store, 3, fReg(this.rd));
    this.e.fpDirty();
  }

  /** Writes the f64 in `local` to f[rd]. */
  storeD(local: number): void {
    this.c.get(P_HART).get(local).mem(Op.f64Store, 3, fReg(this.rd));
    this.e.fpDirty();
  }

  /** Writes the binary32 bits that `bits` pushes (an i32) to f[rd], NaN-boxed. */
  storeSBits(bits: () => void): void {
    this.storeBits(() => {
      bits();
      this.c.op(Op.i64ExtendI32U).i64Const(BOX).op(Op.i64Or);
    });
  }

  /** Writes the f64 in `local`, a binary32 value, to f[rd] NaN-boxed. */
  storeS(local: number): void {
    this.storeSBits(() => this.c.get(local).op(Op.f32DemoteF64, Op.i32ReinterpretF32));
  }

  /** Writes the f64 in `local` to f[rd] as a binary64 or (a binary32 value) a boxed binary32. */
  store(local: number, double: boolean): void {
    if (double) this.storeD(local);
    else this.storeS(local);
  }

  /** ORs the fflags bits that `bits` pushes (an i32) into the block's pending flags. */
  raise(bits: () => void): void {
    this.e.raiseFp(bits);
  }

  /** Pushes an i32: 1 if the f64 in `local` is NaN. */
  isNaN(local: number): Code {
    return this.c.get(local).get(local).op(Op.f64Ne);
  }

  /** Pushes an i32: 1 if the f64 in `local` is NaN or infinite. */
  notFinite(local: number): Code {
    return this.c.get(local).get(local).op(Op.f64Sub).f64Const(0).op(Op.f64Ne);
  }

  /** Pushes an i32: 1 unless MIN < |local| < infinity (a normal result, not in the smallest binade's reach of tininess). */
  notSafeNormal(local: number, min: number): Code {
    const c = this.c;
    c.get(local).op(Op.f64Abs).f64Const(min).op(Op.f64Gt);
    c.get(local).op(Op.f64Abs).f64Const(Number.POSITIVE_INFINITY).op(Op.f64Lt);
    return c.op(Op.i32And, Op.i32Eqz);
  }

  /** Pushes the biased exponent field (i32) of the f64 in `local`. */
  expOf(local: number): Code {
    return this.c
      .get(local)
      .op(Op.i64ReinterpretF64)
      .i64Const(52)
      .op(Op.i64ShrU, Op.i32WrapI64)
      .i32Const(0x7ff)
      .op(Op.i32And);
  }

  /** Pushes an i32: 1 unless the biased exponent of the f64 in `local` lies in [lo, hi]. */
  expOutside(local: number, lo: number, hi: number): Code {
    return this.expOf(local)
      .i32Const(lo)
      .op(Op.i32Sub)
      .i32Const(hi - lo + 1)
      .op(Op.i32GeU);
  }
}

/**
 * The emitter of an F/D op: `body` when fpInline says the op has inline
 * code for its rounding mode, else the exec helper. With `slow`, the body
 * may branch to a slow path (FpOp.slowIf) that runs the helper.
 */
export function fpEmitter(body: (o: FpOp) => void, slow = true): (e: BlockEmitter) => void {
  return (e) => {
    if (fpInline(e.ins.op, (e.ins.insn >>> 12) & 7) === FP_HELPER) {
      e.helper();
      return;
    }
    const o = new FpOp(e);
    if (!slow) {
      body(o);
      return;
    }
    const c = e.c;
    c.op(Op.block, VOID, Op.block, VOID); // $done, $slow
    body(o);
    c.op(Op.br).u32(1); // $done
    c.op(Op.end); // $slow
    e.helper();
    c.op(Op.end); // $done
  };
}

/** The emitter of an F/D op whose inline code is complete (no slow path). */
export const fpEmitterNoSlow = (body: (o: FpOp) => void) => fpEmitter(body, false);

import { MSTATUS_FS, MSTATUS_SIE, MSTATUS_SUM } from "../cpu/constants.ts";
import { SSTATUS_R, SSTATUS_W } from "../cpu/csr.ts";
import { S_MIE, S_MIP, S_MIP_HW, S_MSTATUS, S_PRIV } from "../cpu/csr-slots.ts";
import { HART_CSR } from "../memory/layout.ts";
import { type BlockEmitter, forOps, type OpEmitters, P_HART } from "./emit.ts";
import { isCsrRead, isFpCsrRead } from "./plan.ts";
import { Op } from "./wasm.ts";

/**
 * Zicsr in blocks. Reads (plan.ts isCsrRead): fflags, frm and fcsr inline,
 * from the hart's fcsr with the flags the block has raised but not yet
 * written back; any other CSR (time, sstatus, ...) through the exec helper,
 * whose privilege and counter-enable checks may trap. Writes through the
 * `csr` helper, after which the block leaves when the write has an effect
 * the interpreter must see before the next instruction (csr-leave.ts);
 * but the kernel's sstatus SIE and SUM toggles run inline (sstatusInline).
 */
const zicsr = (e: BlockEmitter) => {
  const { op, insn } = e.ins;
  if (!isCsrRead(op, insn)) {
    const setting = op === 59 /* csrrs */ || op === 62 /* csrrsi */;
    const imm = op === 62 /* csrrsi */ || op === 63 /* csrrci */;
    if (sstatusSetOrClear(op, insn) && e.fpFlags < 0) sstatusInline(e, setting, imm);
    else e.csrWrite();
    return;
  }
  if (!isFpCsrRead(op, insn)) {
    e.helper();
    return;
  }
  const c = e.fcsrNow();
  const csr = insn >>> 20;
  if (csr === 0x001 /* fflags */) c.i32Const(0x1f).op(Op.i32And);
  else if (csr === 0x002 /* frm */) c.i32Const(5).op(Op.i32ShrU).i32Const(7).op(Op.i32And);
  else c.i32Const(0xff).op(Op.i32And); // fcsr
  c.op(Op.i64ExtendI32U);
  e.setRd(e.rd);
};

/** csrrs, csrrc, csrrsi or csrrci (59, 60, 62, 63) of sstatus, which sstatusInline handles. */
const sstatusSetOrClear = (op: number, insn: number) =>
  insn >>> 20 === 0x100 /* sstatus */ && op !== 58 /* csrrw */ && op !== 61 /* csrrwi */;

const MSTATUS = HART_CSR + 8 * S_MSTATUS;
const PRIV = HART_CSR + 8 * S_PRIV;
const MIP = HART_CSR + 8 * S_MIP;
const MIP_HW = HART_CSR + 8 * S_MIP_HW;
const MIE = HART_CSR + 8 * S_MIE;
/** Writable sstatus bits whose change inline code may skip the helper for: clearing SIE, setting SUM. */
const CLEAR_INLINE = MSTATUS_SIE;
const SET_INLINE = MSTATUS_SUM | MSTATUS_SIE;

/**
 * csrrs/csrrc(i) on sstatus as Linux uses them around every critical
 * section and user copy (local_irq_save/disable: csrrci sstatus, SIE;
 * local_irq_restore: csrs sstatus, flags & SIE; uaccess: csrs sstatus, SUM),
 * inline when at run time the write only clears SIE, sets SUM, or sets SIE
 * while it is set already or no interrupt is pending, in S or M: then
 * mstatus's low word changes as the interpreter's writeMstatus would change
 * it, with nothing else to do (no TLB flush, no interrupt let in:
 * csr-leave.ts stays). rd gets sstatus as read before the write (csr.ts:
 * SSTATUS_R, UXL, SD from FS). Anything else (a U-mode access that must
 * trap, SIE newly set with an interrupt pending, SUM cleared, other bits)
 * goes through the csr helper as before. Blocks with FP ops are left to the
 * helper: their FS may be pending (emit.ts flushFp).
 */
function sstatusInline(e: BlockEmitter, set: boolean, imm: boolean): void {
  const c = e.c;
  const v = e.ent; // i32: the bits written (zimm, or rs1's low word)
  const old = e.t; // i64: mstatus before
  const uimm = (e.ins.insn >>> 15) & 31;
  if (imm) c.i32Const(uimm).set(v);
  else e.val(uimm).op(Op.i32WrapI64).set(v);
  c.get(P_HART).mem(Op.i64Load, 3, MSTATUS).set(old);
  // Fast when priv != U and v's writable bits are only the harmless ones...
  c.get(P_HART).mem(Op.i32Load, 2, PRIV).i32Const(0).op(Op.i32Ne);
  c.get(v)
    .i32Const(SSTATUS_W & ~(set ? SET_INLINE : CLEAR_INLINE))
    .op(Op.i32And, Op.i32Eqz, Op.i32And);
  // ... and SIE, if set, was set already or lets in nothing: no interrupt pending and enabled at all
  // (mip | hardware lines) & mie = 0, so writeMstatus's pendingInterrupt() check finds none either.
  if (set) {
    c.get(v)
      .get(old)
      .op(Op.i32WrapI64)
      .i32Const(-1)
      .op(Op.i32Xor, Op.i32And)
      .i32Const(MSTATUS_SIE)
      .op(Op.i32And, Op.i32Eqz);
    c.get(P_HART).mem(Op.i32Load, 2, MIP).get(P_HART).mem(Op.i32Load, 2, MIP_HW).op(Op.i32Or);
    c.get(P_HART).mem(Op.i32Load, 2, MIE).op(Op.i32And, Op.i32Eqz, Op.i32Or, Op.i32And);
  }
  e.ifOpen();
  // rd = sstatus before: the readable low bits, UXL, and SD when FS is Dirty.
  c.get(old)
    .i64Const(BigInt(SSTATUS_R) | (3n << 32n))
    .op(Op.i64And);
  c.get(old).i64Const(BigInt(MSTATUS_FS)).op(Op.i64And).i64Const(BigInt(MSTATUS_FS)).op(Op.i64Eq);
  c.op(Op.i64ExtendI32U).i64Const(63).op(Op.i64Shl, Op.i64Or);
  e.setRd(e.rd);
  c.get(P_HART).get(old).op(Op.i32WrapI64).get(v).i32Const(SSTATUS_W).op(Op.i32And);
  if (set) c.op(Op.i32Or);
  else c.i32Const(-1).op(Op.i32Xor, Op.i32And);
  c.mem(Op.i32Store, 2, MSTATUS);
  c.op(Op.else);
  e.csrWrite();
  e.ifClose();
}

export const CSR_EMITTERS: OpEmitters = forOps(
  [58 /* csrrw */, 59 /* csrrs */, 60 /* csrrc */, 61 /* csrrwi */, 62 /* csrrsi */, 63 /* csrrci */],
  zicsr,
);

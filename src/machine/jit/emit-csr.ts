import { type BlockEmitter, forOps, type OpEmitters } from "./emit.ts";
import { isCsrRead, isFpCsrRead } from "./plan.ts";
import { Op } from "./wasm.ts";

/**
 * Zicsr in blocks. Reads (plan.ts isCsrRead): fflags, frm and fcsr inline,
 * from the hart's fcsr with the flags the block has raised but not yet
 * written back; any other CSR (time, sstatus, ...) through the exec helper,
 * whose privilege and counter-enable checks may trap. Writes through the
 * `csr` helper, after which the block leaves when the write has an effect
 * the interpreter must see before the next instruction (csr-leave.ts).
 */
const zicsr = (e: BlockEmitter) => {
  const { op, insn } = e.ins;
  if (!isCsrRead(op, insn)) {
    e.csrWrite();
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

export const CSR_EMITTERS: OpEmitters = forOps(
  [58 /* csrrw */, 59 /* csrrs */, 60 /* csrrc */, 61 /* csrrwi */, 62 /* csrrsi */, 63 /* csrrci */],
  zicsr,
);

import { type BlockEmitter, forOps, type OpEmitters } from "./emit.ts";
import { Op } from "./wasm.ts";

/**
 * Zicsr inline where it is a plain read of FP state (plan.ts isFpCsrRead:
 * frflags, frrm, frcsr and their csrrc/immediate twins): fcsr from the
 * hart with the flags the block has raised but not yet written back. Every
 * other CSR access stops the block, for the interpreter's privilege checks
 * and side effects.
 */
const readFpCsr = (e: BlockEmitter) => {
  const c = e.fcsrNow();
  const csr = e.ins.insn >>> 20;
  if (csr === 0x001 /* fflags */) c.i32Const(0x1f).op(Op.i32And);
  else if (csr === 0x002 /* frm */) c.i32Const(5).op(Op.i32ShrU).i32Const(7).op(Op.i32And);
  else c.i32Const(0xff).op(Op.i32And); // fcsr
  c.op(Op.i64ExtendI32U);
  e.setRd(e.rd);
};

export const CSR_EMITTERS: OpEmitters = forOps(
  [59 /* csrrs */, 60 /* csrrc */, 62 /* csrrsi */, 63 /* csrrci */],
  readFpCsr,
);

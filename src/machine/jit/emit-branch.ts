import { type BlockEmitter, forOps, type OpEmitters } from "./emit.ts";
import { EXIT_KIND_DIRECT, EXIT_KIND_INDIRECT } from "./profile.ts";
import { Op } from "./wasm.ts";

/**
 * jal, jalr and the conditional branches. A jump ends its block; a branch
 * to the block's first instruction loops (while the budget lasts), one to
 * a later instruction of the block jumps there, any other leaves the block
 * when taken.
 */

/** wasm's i64 comparison for a branch's funct3 (2 and 3 are not branches). */
const BRANCH_CMP = [Op.i64Eq, Op.i64Ne, 0, 0, Op.i64LtS, Op.i64GeS, Op.i64LtU, Op.i64GeU];

const branch = (e: BlockEmitter) => {
  const { off, insn } = e.ins;
  const { k, imm } = e;
  e.val(e.rs1);
  e.val(e.rs2);
  e.c.op(BRANCH_CMP[(insn >>> 12) & 7]);
  e.ifOpen();
  if (e.forwardTarget(k) >= 0) e.forwardEdge(k, e.forwardTarget(k));
  else if (!e.jumpInside(k, off + imm)) {
    e.pcConst(off + imm);
    e.exitWith(k + 1, EXIT_KIND_DIRECT);
  }
  e.ifClose();
};

export const BRANCH_EMITTERS: OpEmitters = {
  3 /* jal */: (e) => {
    const { off, len } = e.ins;
    const imm = e.imm;
    if (e.rd !== 0) {
      e.pcConst(off + len);
      e.setRd(e.rd);
    }
    if (!e.jumpInside(e.k, off + imm)) {
      e.pcConst(off + imm);
      e.exitWith(e.k + 1, EXIT_KIND_DIRECT);
    }
    e.jumped();
  },
  4 /* jalr */: (e) => {
    const { off, len } = e.ins;
    e.val(e.rs1).i64Const(e.imm).op(Op.i64Add).i64Const(-2).op(Op.i64And).set(e.t);
    if (e.rd !== 0) {
      e.pcConst(off + len);
      e.setRd(e.rd);
    }
    e.c.get(e.t);
    e.exitWith(e.k + 1, EXIT_KIND_INDIRECT);
    e.jumped();
  },
  ...forOps([5 /* beq */, 6 /* bne */, 7 /* blt */, 8 /* bge */, 9 /* bltu */, 10 /* bgeu */], branch),
};

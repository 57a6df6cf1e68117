import type { Hart } from "../hart.ts";
import { execFp } from "./fp.ts";
import { execPriv } from "./priv.ts";
import { execRva } from "./rva.ts";
import { execRvh } from "./rvh.ts";
import { execRvm } from "./rvm.ts";
import { execZb } from "./zb.ts";
import { execZicsr } from "./zicsr.ts";

/**
 * Runs one instruction that is not executed inline by its extension's exec
 * function (op ranges from the instruction table's order). Op 0 is illegal.
 * The caller has synced pc, next pc, the retired count and the instruction
 * bits on the hart; x0 is re-zeroed after.
 */
export function execOp(h: Hart, op: number, insn: number): void {
  if (op === 0) h.illegal();
  else if (op >= 201 /* hfence.vvma */) execRvh(h, op, insn);
  else if (op >= 139 /* flw */) execFp(h, op, insn);
  else if (op >= 99 /* add.uw */) execZb(h, op, insn);
  else if (op >= 77 /* lr.w */) execRva(h, op, insn);
  else if (op >= 64 /* mul */) execRvm(h, op, insn);
  else if (op >= 58 /* csrrw */) execZicsr(h, op, insn);
  else execPriv(h, op, insn);
  h.x[0] = 0;
  h.x[1] = 0;
}

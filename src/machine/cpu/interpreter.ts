import { decode } from "../../isa/decoder.generated.ts";
import { RVC_EXPANSION } from "../../isa/rvc.ts";
import { execFp } from "./exec/fp.ts";
import { execPriv } from "./exec/priv.ts";
import { execRva } from "./exec/rva.ts";
import { execRvi } from "./exec/rvi.ts";
import { execRvm } from "./exec/rvm.ts";
import { execZb } from "./exec/zb.ts";
import { execZicsr } from "./exec/zicsr.ts";
import { type Hart, TRAP } from "./hart.ts";

/**
 * The interpreter: fetch, expand (C), decode, execute, for at most `budget`
 * instructions or until something ends the slice early (a trap, a CSR
 * write, wfi, a device interrupt line). Pending interrupts are taken at
 * the start of a slice, never mid-instruction (design 2.6).
 *
 * Dispatch goes by op-number range to one function per extension; the
 * range bounds are op numbers kept current by `npm run gen:isa`.
 */
export function runSlice(h: Hart, budget: number): void {
  if (h.checkInterrupts() || h.waiting) return;
  const x = h.x;
  h.sliceEnd = h.icount + budget;
  try {
    while (h.icount < h.sliceEnd) {
      let insn = h.fetch();
      const pcLo = h.pcLo;
      let next: number;
      if ((insn & 3) !== 3) {
        h.insnBits = insn;
        insn = RVC_EXPANSION[insn];
        next = (pcLo + 2) | 0;
      } else {
        h.insnBits = insn;
        next = (pcLo + 4) | 0;
      }
      h.npcLo = next;
      h.npcHi = next >>> 0 < pcLo >>> 0 ? (h.pcHi + 1) | 0 : h.pcHi;
      const op = insn === 0 ? 0 : decode(insn);
      if (op <= 52 /* ebreak */) execRvi(h, op, insn);
      else if (op >= 139 /* flw */) execFp(h, op, insn);
      else if (op >= 99 /* add.uw */) execZb(h, op, insn);
      else if (op >= 77 /* lr.w */) execRva(h, op, insn);
      else if (op >= 64 /* mul */) execRvm(h, op, insn);
      else if (op >= 58 /* csrrw */) execZicsr(h, op, insn);
      else execPriv(h, op, insn);
      x[0] = 0;
      x[1] = 0;
      h.pcLo = h.npcLo;
      h.pcHi = h.npcHi;
      h.icount++;
    }
  } catch (e) {
    if (e !== TRAP) throw e;
    x[0] = 0;
    x[1] = 0;
    h.takeTrap();
  }
}

import { decode } from "../../isa/decoder.generated.ts";
import { RVC_EXPANSION } from "../../isa/rvc.ts";
import { OP_MASK, OPW_COMPRESSED, OPW_VALID, SLOT_WORDS } from "../memory/code-cache.ts";
import { execFp } from "./exec/fp.ts";
import { execPriv } from "./exec/priv.ts";
import { execRva } from "./exec/rva.ts";
import { execRvi } from "./exec/rvi.ts";
import { execRvm } from "./exec/rvm.ts";
import { execZb } from "./exec/zb.ts";
import { execZicsr } from "./exec/zicsr.ts";
import { type Hart, TRAP } from "./hart.ts";

/**
 * The interpreter: for at most `budget` instructions, or until something
 * ends the slice early (a trap, a CSR write, wfi, a device interrupt line, a
 * TLB flush, a store into the page being executed), look up the decoded
 * instruction at pc and execute it. Pending interrupts are taken at the start
 * of a slice, never mid-instruction (design 2.6).
 *
 * Decoding happens once per physical instruction slot (memory/code-cache.ts);
 * the translation of the current virtual code page is cached in locals for
 * the slice (translation changes flush the TLB, which ends the slice).
 * Dispatch goes by op-number range to one function per extension; the range
 * bounds are op numbers kept current by `npm run gen:isa`.
 */
export function runSlice(h: Hart, budget: number): void {
  if (h.checkInterrupts() || h.waiting) return;
  const x = h.x;
  const code = h.mem.code;
  const ramLinear = h.mem.ramLinear;
  let dec: Int32Array = EMPTY;
  let pageLo = 1; // virtual page of `dec` (1 = none: real page bases have 12 zero bits)
  let pageHi = 0;
  h.sliceEnd = h.icount + budget;
  try {
    while (h.icount < h.sliceEnd) {
      const pcLo = h.pcLo;
      const pcHi = h.pcHi;
      if ((pcLo & ~0xfff) !== pageLo || pcHi !== pageHi) {
        const at = h.fetchLinear(pcLo, pcHi);
        dec = code.page((at - ramLinear) >>> 12);
        pageLo = pcLo & ~0xfff;
        pageHi = pcHi;
      }
      const s = ((pcLo & 0xfff) >>> 1) * SLOT_WORDS;
      let opw = dec[s + 1];
      let insn = dec[s];
      if (opw === 0) {
        // First execution of this slot: fetch (may fault, may cross into the next page), expand, decode.
        const raw = h.fetch();
        const compressed = (raw & 3) !== 3;
        insn = compressed ? RVC_EXPANSION[raw] : raw;
        const op = insn === 0 ? 0 : decode(insn);
        opw = op | OPW_VALID | (compressed ? OPW_COMPRESSED : 0);
        // A 32-bit instruction straddling the page end is not cached: its upper half lives elsewhere.
        if (op !== 0 && (compressed || (pcLo & 0xfff) !== 0xffe)) {
          dec[s] = insn;
          dec[s + 1] = opw;
          dec[s + 2] = raw;
        }
        h.insnBits = raw;
      } else h.insnBits = dec[s + 2];
      const next = (pcLo + (opw & OPW_COMPRESSED ? 2 : 4)) | 0;
      h.npcLo = next;
      h.npcHi = next >>> 0 < pcLo >>> 0 ? (pcHi + 1) | 0 : pcHi;
      const op = opw & OP_MASK;
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

const EMPTY = new Int32Array(2048 * SLOT_WORDS);

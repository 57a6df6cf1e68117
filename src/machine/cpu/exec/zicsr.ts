import { CSRS, csrCheck, csrOut, VS_ALIAS } from "../csr.ts";
import { S_VIRT } from "../csr-slots.ts";
import type { Hart } from "../hart.ts";

/**
 * Zicsr (unpriv spec chapter 9): atomic read-modify-write of a CSR. csrrs
 * and csrrc with rs1 = x0 (or zimm = 0) do not write, so they may read
 * read-only CSRs. Unknown or inaccessible CSRs raise illegal instruction.
 */
export function execZicsr(h: Hart, op: number, insn: number): void {
  const x = h.x;
  const rd = (insn >>> 6) & 62;
  const rs1 = (insn >>> 15) & 31;
  let def = CSRS[insn >>> 20];
  const imm = op >= 61 /* csrrwi */;
  const srcLo = imm ? rs1 : x[rs1 * 2];
  const srcHi = imm ? 0 : x[rs1 * 2 + 1];
  const kind = op - (imm ? 61 /* csrrwi */ : 58) /* csrrw */; // 0 rw, 1 rs, 2 rc
  const writes = kind === 0 || rs1 !== 0;
  if (def === undefined) h.illegal();
  const cause = csrCheck(h, def, writes);
  if (cause !== 0) h.raise(cause, h.insnBits, 0);
  // With V=1, supervisor CSRs are their VS counterparts (H extension).
  if (h.c[S_VIRT * 2] !== 0) def = VS_ALIAS[insn >>> 20] ?? def;
  if (writes && def.write === undefined) h.illegal();
  const oldLo = def.read(h);
  const oldHi = csrOut.hi;
  if (writes) {
    let lo = srcLo;
    let hi = srcHi;
    if (kind !== 0) {
      let bLo = oldLo;
      let bHi = oldHi;
      if (def.rmwRead !== undefined) {
        bLo = def.rmwRead(h);
        bHi = csrOut.hi;
      }
      lo = kind === 1 ? bLo | srcLo : bLo & ~srcLo;
      hi = kind === 1 ? bHi | srcHi : bHi & ~srcHi;
    }
    def.write!(h, lo, hi);
    // Writers whose effect must be seen before the next instruction (interrupt enables and
    // pending bits, translation) end the slice themselves (csr.ts).
  }
  x[rd] = oldLo;
  x[rd + 1] = oldHi;
}

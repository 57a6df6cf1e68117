import { HSTATUS_HU, MSTATUS_TVM, PRV_S, PRV_U } from "../constants.ts";
import { S_HSTATUS, S_MSTATUS, S_VIRT } from "../csr-slots.ts";
import type { Hart } from "../hart.ts";
import { virtualInstruction } from "./priv.ts";

/**
 * H extension instructions (priv spec, "Hypervisor Instructions"):
 * HFENCE.VVMA/GVMA and the hypervisor virtual-machine loads and stores
 * HLV/HLVX/HSV, which access memory as VS/VU would (hstatus.SPVP) from HS,
 * or from U when hstatus.HU is set. From V=1 they are virtual-instruction
 * exceptions. The fences flush the whole TLB: V=1 entries are not tagged
 * with VMID or ASID, so a flush is what keeps them right.
 */
export function execRvh(h: Hart, op: number, insn: number): void {
  if (!h.hExt) h.illegal();
  if (h.c[S_VIRT * 2] !== 0) virtualInstruction(h);
  const priv = h.priv;
  if (priv === PRV_U && !(h.c[S_HSTATUS * 2] & HSTATUS_HU)) h.illegal();
  const x = h.x;
  const rd = (insn >>> 6) & 62;
  const rs1 = (insn >>> 14) & 62;
  const rs2 = (insn >>> 19) & 62;
  const aLo = x[rs1];
  const aHi = x[rs1 + 1];
  switch (op) {
    case 201 /* hfence.vvma */:
      if (priv === PRV_U) h.illegal();
      h.tlb.flush();
      return;
    case 202 /* hfence.gvma */:
      if (priv === PRV_U || (priv === PRV_S && h.c[S_MSTATUS * 2] & MSTATUS_TVM)) h.illegal();
      h.tlb.flush();
      return;
    case 203 /* hlv.b */:
      load(h, rd, h.hypervisorLoad(aLo, aHi, 1, true, false));
      return;
    case 204 /* hlv.bu */:
      load(h, rd, h.hypervisorLoad(aLo, aHi, 1, false, false));
      return;
    case 205 /* hlv.h */:
      load(h, rd, h.hypervisorLoad(aLo, aHi, 2, true, false));
      return;
    case 206 /* hlv.hu */:
      load(h, rd, h.hypervisorLoad(aLo, aHi, 2, false, false));
      return;
    case 207 /* hlvx.hu */:
      load(h, rd, h.hypervisorLoad(aLo, aHi, 2, false, true));
      return;
    case 208 /* hlv.w */:
      load(h, rd, h.hypervisorLoad(aLo, aHi, 4, true, false));
      return;
    case 209 /* hlv.wu */:
      load(h, rd, h.hypervisorLoad(aLo, aHi, 4, false, false));
      return;
    case 210 /* hlvx.wu */:
      load(h, rd, h.hypervisorLoad(aLo, aHi, 4, false, true));
      return;
    case 211 /* hlv.d */:
      load(h, rd, h.hypervisorLoad(aLo, aHi, 8, false, false));
      return;
    case 212 /* hsv.b */:
      h.hypervisorStore(aLo, aHi, 1, x[rs2], 0);
      return;
    case 213 /* hsv.h */:
      h.hypervisorStore(aLo, aHi, 2, x[rs2], 0);
      return;
    case 214 /* hsv.w */:
      h.hypervisorStore(aLo, aHi, 4, x[rs2], 0);
      return;
    case 215 /* hsv.d */:
      h.hypervisorStore(aLo, aHi, 8, x[rs2], x[rs2 + 1]);
      return;
    default:
      h.illegal();
  }
}

/** Writes a load's result (low word returned, high word in h.ldHi) to rd. */
function load(h: Hart, rd: number, lo: number): void {
  if (rd === 0) return;
  h.x[rd] = lo;
  h.x[rd + 1] = h.ldHi;
}

import {
  CAUSE_VIRTUAL_INSTRUCTION,
  HSTATUS_SPV,
  HSTATUS_VTSR,
  HSTATUS_VTVM,
  HSTATUS_VTW,
  MSTATUS_HI_MPV,
  MSTATUS_MIE,
  MSTATUS_MPIE,
  MSTATUS_MPP,
  MSTATUS_MPP_SHIFT,
  MSTATUS_MPRV,
  MSTATUS_SIE,
  MSTATUS_SPIE,
  MSTATUS_SPP,
  MSTATUS_TSR,
  MSTATUS_TVM,
  MSTATUS_TW,
  PRV_M,
  PRV_S,
  PRV_U,
} from "../constants.ts";
import { S_HSTATUS, S_MEPC, S_MSTATUS, S_SEPC, S_VIRT, S_VSATP, S_VSEPC, S_VSSTATUS } from "../csr-slots.ts";
import type { Hart } from "../hart.ts";

/**
 * Privileged instructions (priv spec 3.3, 4.2) and fence.i. With H (priv
 * spec, "Hypervisor Instructions" and "Virtual-Instruction Exceptions"):
 * sret from HS returns to V = hstatus.SPV, mret to V = mstatus.MPV; in
 * V=1 sret uses vsstatus/vsepc, and what HS-mode could do but VS/VU may
 * not (VTSR, VTW, VTVM, anything from VU) is a virtual-instruction
 * exception.
 */
export function execPriv(h: Hart, op: number, insn: number): void {
  const c = h.c;
  const priv = h.priv;
  const virt = c[S_VIRT * 2] !== 0;
  const st = c[S_MSTATUS * 2];
  const hs = c[S_HSTATUS * 2];
  switch (op) {
    case 53 /* fence.i */:
      h.onFenceI();
      return;
    case 54 /* sret */:
      {
        if (virt) {
          if (priv === PRV_U || hs & HSTATUS_VTSR) virtualInstruction(h);
          const vs = c[S_VSSTATUS * 2];
          c[S_VSSTATUS * 2] =
            (vs & ~(MSTATUS_SIE | MSTATUS_SPP)) | MSTATUS_SPIE | (vs & MSTATUS_SPIE ? MSTATUS_SIE : 0);
          h.setPriv(vs & MSTATUS_SPP ? PRV_S : PRV_U);
          h.npcLo = c[S_VSEPC * 2];
          h.npcHi = c[S_VSEPC * 2 + 1];
          h.resValid = false;
          h.sliceEnd = 0;
          return;
        }
        if (priv === PRV_U || (priv === PRV_S && st & MSTATUS_TSR)) h.illegal();
        const spp = st & MSTATUS_SPP ? PRV_S : PRV_U;
        let v = (st & ~(MSTATUS_SIE | MSTATUS_SPP)) | MSTATUS_SPIE | (st & MSTATUS_SPIE ? MSTATUS_SIE : 0);
        v &= ~MSTATUS_MPRV; // returning below M clears MPRV (priv spec 3.1.6.3)
        c[S_MSTATUS * 2] = v;
        if (h.hExt) {
          c[S_HSTATUS * 2] = hs & ~HSTATUS_SPV;
          h.setVirt(hs & HSTATUS_SPV ? 1 : 0);
        }
        h.setPriv(spp);
        h.npcLo = c[S_SEPC * 2];
        h.npcHi = c[S_SEPC * 2 + 1];
        h.resValid = false;
        h.sliceEnd = 0;
        return;
      }
    case 55 /* mret */:
      {
        if (priv !== PRV_M) h.illegal();
        const mpp = (st & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT;
        let v = (st & ~(MSTATUS_MIE | MSTATUS_MPP)) | MSTATUS_MPIE | (st & MSTATUS_MPIE ? MSTATUS_MIE : 0);
        if (mpp !== PRV_M) v &= ~MSTATUS_MPRV;
        c[S_MSTATUS * 2] = v;
        if (h.hExt) {
          const mpv = mpp !== PRV_M && (c[S_MSTATUS * 2 + 1] & MSTATUS_HI_MPV) !== 0;
          c[S_MSTATUS * 2 + 1] &= ~MSTATUS_HI_MPV;
          h.setVirt(mpv ? 1 : 0);
        }
        h.setPriv(mpp);
        h.npcLo = c[S_MEPC * 2];
        h.npcHi = c[S_MEPC * 2 + 1];
        h.resValid = false;
        h.sliceEnd = 0;
        // MPRV may have changed the translation of data accesses.
        h.tlb.flush();
        return;
      }
    case 56 /* wfi */:
      // U-mode wfi is illegal; so is S-mode wfi when mstatus.TW is set (priv spec 3.1.6.5).
      // With V=1: VU, or VS with hstatus.VTW, raise virtual instruction when TW is clear.
      if (priv === PRV_U && !virt) h.illegal();
      if (priv !== PRV_M && st & MSTATUS_TW) h.illegal();
      if (virt && (priv === PRV_U || hs & HSTATUS_VTW)) virtualInstruction(h);
      h.waiting = true;
      h.sliceEnd = 0;
      return;
    case 57 /* sfence.vma */:
      if (virt && (priv === PRV_U || hs & HSTATUS_VTVM)) virtualInstruction(h);
      if (priv === PRV_U || (priv === PRV_S && !virt && st & MSTATUS_TVM)) h.illegal();
      sfenceVma(h, insn, virt);
      return;
    default:
      h.illegal();
  }
}

/**
 * sfence.vma (priv spec 4.2.1; in V=1 it names VS-level translations):
 * with rs1 an address, that page's translations go (TLB and chained JIT
 * jumps); with only rs2, an ASID: everything, if an address space the TLB
 * keeps (mmu/tlb.ts switchSpace; with V=1 the current vsatp) has that ASID,
 * else nothing (global pages may stay); with neither, everything.
 */
function sfenceVma(h: Hart, insn: number, virt: boolean): void {
  const x = h.x;
  const rs1 = (insn >>> 14) & 62;
  const rs2 = (insn >>> 19) & 62;
  if (rs1 !== 0) h.tlb.flushPage(x[rs1], x[rs1 + 1]);
  else if (rs2 === 0 || holdsAsid(h, virt, x[rs2], x[rs2 + 1])) h.tlb.flush();
}

/**
 * Whether ASID value (lo, hi) may have TLB entries: an address space the
 * TLB keeps has it (with V=1: the current vsatp's), or it is not a valid 16-bit ASID.
 */
function holdsAsid(h: Hart, virt: boolean, lo: number, hi: number): boolean {
  if (hi !== 0 || lo >>> 16 !== 0) return true;
  return virt ? lo === ((h.c[S_VSATP * 2 + 1] >>> 12) & 0xffff) : h.tlb.holdsAsid(lo);
}

export function virtualInstruction(h: Hart): never {
  return h.raise(CAUSE_VIRTUAL_INSTRUCTION, h.insnBits, 0);
}

export { PRV_M };

import {
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
import { S_MEPC, S_MSTATUS, S_SEPC } from "../csr-slots.ts";
import type { Hart } from "../hart.ts";

/** Privileged instructions (priv spec 3.3, 4.2) and fence.i. */
export function execPriv(h: Hart, op: number, _insn: number): void {
  const c = h.c;
  const priv = h.priv;
  const st = c[S_MSTATUS * 2];
  switch (op) {
    case 53 /* fence.i */:
      h.onFenceI();
      return;
    case 54 /* sret */:
      {
        if (priv === PRV_U || (priv === PRV_S && st & MSTATUS_TSR)) h.illegal();
        const spp = st & MSTATUS_SPP ? PRV_S : PRV_U;
        let v = (st & ~(MSTATUS_SIE | MSTATUS_SPP)) | MSTATUS_SPIE | (st & MSTATUS_SPIE ? MSTATUS_SIE : 0);
        v &= ~MSTATUS_MPRV; // returning below M clears MPRV (priv spec 3.1.6.3)
        c[S_MSTATUS * 2] = v;
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
      if (priv === PRV_U || (priv === PRV_S && st & MSTATUS_TW)) h.illegal();
      h.waiting = true;
      h.sliceEnd = 0;
      return;
    case 57 /* sfence.vma */:
      if (priv === PRV_U || (priv === PRV_S && st & MSTATUS_TVM)) h.illegal();
      h.tlb.flush();
      return;
    default:
      h.illegal();
  }
}

export { PRV_M };

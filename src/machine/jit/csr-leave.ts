import { MSTATUS_FS, MSTATUS_HI_SD, MSTATUS_MPP, MSTATUS_MPRV, MSTATUS_MXR } from "../cpu/constants.ts";
import { S_FCSR, S_MSTATUS } from "../cpu/csr-slots.ts";
import type { Hart } from "../cpu/hart.ts";

/**
 * Whether a block must leave right after a CSR write it ran through the
 * `csr` helper (jit.ts), so that the interpreter sees its effect before the
 * next instruction. It leaves after what the interpreter ends its slice for
 * (sliceEnd = 0: an interrupt enable newly set, mie/mip/sie/sip, stimecmp),
 * a change of frm (inline FP with rm = dyn was checked for RNE at entry),
 * FS turned Off (checked at entry), MXR, MPRV, MPP or mstatus's high word
 * but SD (translation: MPV), and after any CSR not named here: satp and the other
 * translation CSRs (the block's own page may map elsewhere now), the
 * delegation and hypervisor CSRs. It stays after the trap-handling scratch
 * and address CSRs, which nothing in a block reads, fflags (its pending
 * flags were written before the helper and start again from 0), and
 * sstatus/mstatus writes that only move SIE/MIE down, SPIE, SPP, SUM or FS
 * between Initial, Clean and Dirty (local_irq_save/restore, Linux's uaccess
 * SUM toggling, context switches): the block's TLB probes read the TLB at
 * each access, so the entries a cleared SUM drops are missed at once.
 * statusLo/statusHi/fcsr: mstatus and fcsr before the write (plain numbers:
 * no allocation per write).
 */
export function csrWriteLeaves(
  h: Hart,
  csr: number,
  statusLo: number,
  statusHi: number,
  fcsr: number,
): boolean {
  if (h.sliceEnd === 0) return true;
  if (STAYS.has(csr)) return false;
  const c = h.c;
  if (csr >= 0x001 && csr <= 0x003) return ((c[S_FCSR * 2] ^ fcsr) & FRM) !== 0;
  if (csr !== 0x100 /* sstatus */ && csr !== 0x300 /* mstatus */) return true;
  const lo = c[S_MSTATUS * 2];
  if ((lo & MSTATUS_FS) === 0 && (statusLo & MSTATUS_FS) !== 0) return true;
  return ((lo ^ statusLo) & TRANSLATION) !== 0 || ((c[S_MSTATUS * 2 + 1] ^ statusHi) & ~MSTATUS_HI_SD) !== 0;
}

const FRM = 7 << 5;
/** mstatus fields that change which translation a block's accesses use. */
const TRANSLATION = MSTATUS_MXR | MSTATUS_MPRV | MSTATUS_MPP;

/** sscratch, sepc, scause, stval, stvec and their M-mode counterparts. */
const STAYS: ReadonlySet<number> = new Set([
  0x140, 0x141, 0x142, 0x143, 0x105, 0x340, 0x341, 0x342, 0x343, 0x305,
]);

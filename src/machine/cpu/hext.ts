/**
 * The H extension's CSRs (priv spec, "Hypervisor Extension"): hstatus,
 * hedeleg, hideleg, hie, hip, hvip, hgeie, hgeip, hcounteren, htval, htinst,
 * hgatp, henvcfg, htimedelta, the vs* CSRs, mtval2 and mtinst. They exist
 * only on a hart with H enabled (`--cpu h=on`). With V=1 the supervisor CSRs
 * sstatus, sie, stvec, sscratch, sepc, scause, stval, sip, satp and
 * stimecmp are the vs* ones (VS_ALIAS), and any hypervisor or VS CSR access
 * is a virtual-instruction exception (csr.ts csrCheck).
 *
 * GEILEN is 0 as on QEMU 7.2's virt board without an IMSIC: no interrupt
 * controller can drive a guest external interrupt line, so hgeie and hgeip
 * read zero and hstatus.VGEIN holds only 0. VS external interrupts come
 * from hvip.VSEIP.
 */
import {
  MIP_SGEIP,
  MIP_VSSIP,
  MIP_VSTIP,
  MSTATUS_FS,
  MSTATUS_HI_SD,
  MSTATUS_MXR,
  MSTATUS_SIE,
  MSTATUS_SPIE,
  MSTATUS_SPP,
  MSTATUS_SUM,
  MSTATUS_TVM,
  PRV_M,
  VS_INTERRUPTS,
} from "./constants.ts";
import { type CsrDef, csrOut, plain, setSlot, slot, zeroCsr } from "./csr-out.ts";
import {
  S_HCOUNTEREN,
  S_HEDELEG,
  S_HENVCFG,
  S_HGATP,
  S_HIDELEG,
  S_HSTATUS,
  S_HTIMEDELTA,
  S_HTINST,
  S_HTVAL,
  S_MENVCFG,
  S_MFS_SAVE,
  S_MIE,
  S_MIP,
  S_MSTATUS,
  S_MTINST,
  S_MTVAL2,
  S_VIRT,
  S_VSATP,
  S_VSCAUSE,
  S_VSEPC,
  S_VSSCRATCH,
  S_VSSTATUS,
  S_VSTIMECMP,
  S_VSTVAL,
  S_VSTVEC,
} from "./csr-slots.ts";
import { combinedFs } from "./fs-state.ts";
import type { Hart } from "./hart.ts";

/** hstatus: GVA SPV SPVP HU VTVM VTW VTSR writable; VGEIN holds 0 (GEILEN = 0); VSXL = 2 read-only. */
const HSTATUS_W = 0x7003c0;
/** hedeleg: exceptions HS may pass on to VS (not ecalls from HS/VS/M, not guest-page faults, not virtual instruction). */
const HEDELEG_W = 0xb1ff;
/** hie/hip bits: VSSI, VSTI, VSEI, SGEI. */
const HIE_W = VS_INTERRUPTS | MIP_SGEIP;
/** vsstatus: SIE SPIE SPP FS SUM MXR (UXL = 2 and SD in the high word). */
const VSSTATUS_W = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR;
/** menvcfg/henvcfg STCE is bit 63. */
const STCE_HI = 1 << 31;

const hOnly = (h: Hart) => h.hExt;

function readVsstatus(h: Hart): number {
  const lo = h.c[S_VSSTATUS * 2];
  csrOut.hi = 2 | ((lo & MSTATUS_FS) === MSTATUS_FS ? MSTATUS_HI_SD : 0);
  return lo;
}

function writeVsstatus(h: Hart, lo: number): void {
  const old = h.c[S_VSSTATUS * 2];
  const v = (old & ~VSSTATUS_W) | (lo & VSSTATUS_W);
  h.c[S_VSSTATUS * 2] = v;
  h.c[S_VSSTATUS * 2 + 1] = 2;
  if (h.c[S_VIRT * 2] !== 0) {
    const st = h.c[S_MSTATUS * 2];
    h.c[S_MSTATUS * 2] = (st & ~MSTATUS_FS) | combinedFs(h.c[S_MFS_SAVE * 2], v & MSTATUS_FS);
  }
  // VS-stage translations depend on SUM and MXR.
  if ((old ^ v) & (MSTATUS_SUM | MSTATUS_MXR)) h.tlb.flush();
  h.sliceEnd = 0;
}

/** Writes a satp-format register if its MODE is supported (Bare, Sv39/48/57 or their x4 forms), else ignores it. */
function writeAtp(h: Hart, s: number, lo: number, hi: number, gstage: boolean): void {
  const mode = hi >>> 28;
  if (mode !== 0 && mode !== 8 && mode !== 9 && mode !== 10) return;
  // hgatp: VMIDLEN = 14 (bits 57:44); the root is 16 KiB, aligned by software.
  const v = gstage ? hi & 0xf3ff_ffff : hi;
  // As for satp (csr.ts): only a change empties the TLB.
  if (h.c[s * 2] === lo && h.c[s * 2 + 1] === v) return;
  setSlot(h, s, lo, v);
  h.tlb.flush();
}

/** VS-level interrupt bits (2, 6, 10) shifted to their S-level places (1, 5, 9) for vsip/vsie. */
function toVs(h: Hart, bits: number): number {
  return ((bits & h.c[S_HIDELEG * 2] & VS_INTERRUPTS) >>> 1) | 0;
}

export const H_CSRS: CsrDef[] = [
  {
    name: "hstatus",
    addr: 0x600,
    allowed: hOnly,
    read: (h) => slot(h, S_HSTATUS),
    write: (h, lo) => setSlot(h, S_HSTATUS, (h.c[S_HSTATUS * 2] & ~HSTATUS_W) | (lo & HSTATUS_W), 2),
  },
  { ...plain("hedeleg", 0x602, S_HEDELEG, HEDELEG_W), allowed: hOnly },
  {
    name: "hideleg",
    addr: 0x603,
    allowed: hOnly,
    read: (h) => slot(h, S_HIDELEG),
    write: (h, lo) => {
      setSlot(h, S_HIDELEG, lo & VS_INTERRUPTS, 0);
      h.sliceEnd = 0;
    },
  },
  {
    name: "hie",
    addr: 0x604,
    allowed: hOnly,
    read: (h) => ((csrOut.hi = 0), h.c[S_MIE * 2] & HIE_W),
    write: (h, lo) => {
      h.c[S_MIE * 2] = (h.c[S_MIE * 2] & ~HIE_W) | (lo & HIE_W);
      h.sliceEnd = 0;
    },
  },
  {
    name: "htimedelta",
    addr: 0x605,
    allowed: hOnly,
    read: (h) => slot(h, S_HTIMEDELTA),
    write: (h, lo, hi) => {
      setSlot(h, S_HTIMEDELTA, lo, hi);
      updateVsTimer(h, h.env.time());
      h.sliceEnd = 0;
    },
  },
  { ...plain("hcounteren", 0x606, S_HCOUNTEREN, -1), allowed: hOnly },
  { name: "hgeie", addr: 0x607, allowed: hOnly, read: zeroCsr, write: () => {} },
  {
    name: "henvcfg",
    addr: 0x60a,
    allowed: hOnly,
    read: (h) => {
      csrOut.hi = h.c[S_HENVCFG * 2 + 1] & h.c[S_MENVCFG * 2 + 1] & STCE_HI;
      return h.c[S_HENVCFG * 2];
    },
    write: (h, lo, hi) => {
      setSlot(h, S_HENVCFG, lo & 1, hi & STCE_HI);
      updateVsTimer(h, h.env.time());
    },
  },
  { ...plain("htval", 0x643, S_HTVAL, -1, -1), allowed: hOnly },
  {
    name: "hip",
    addr: 0x644,
    allowed: hOnly,
    read: (h) => ((csrOut.hi = 0), h.mip() & HIE_W),
    write: (h, lo) => {
      // Only VSSIP is writable through hip (an alias of hvip.VSSIP).
      h.c[S_MIP * 2] = (h.c[S_MIP * 2] & ~MIP_VSSIP) | (lo & MIP_VSSIP);
      h.sliceEnd = 0;
    },
  },
  {
    name: "hvip",
    addr: 0x645,
    allowed: hOnly,
    read: (h) => ((csrOut.hi = 0), h.c[S_MIP * 2] & VS_INTERRUPTS),
    write: (h, lo) => {
      h.c[S_MIP * 2] = (h.c[S_MIP * 2] & ~VS_INTERRUPTS) | (lo & VS_INTERRUPTS);
      h.sliceEnd = 0;
    },
  },
  { ...plain("htinst", 0x64a, S_HTINST, -1, -1), allowed: hOnly },
  {
    name: "hgatp",
    addr: 0x680,
    // mstatus.TVM traps HS-mode hgatp accesses.
    allowed: (h) => h.hExt && (h.priv === PRV_M || (h.c[S_MSTATUS * 2] & MSTATUS_TVM) === 0),
    read: (h) => slot(h, S_HGATP),
    write: (h, lo, hi) => writeAtp(h, S_HGATP, lo, hi, true),
  },
  { name: "hgeip", addr: 0xe12, allowed: hOnly, read: zeroCsr },
  // VS CSRs: what HS-mode sees of the guest's supervisor state, and what VS-mode sees as s*.
  {
    name: "vsstatus",
    addr: 0x200,
    allowed: hOnly,
    read: readVsstatus,
    write: (h, lo) => writeVsstatus(h, lo),
  },
  {
    name: "vsie",
    addr: 0x204,
    allowed: hOnly,
    read: (h) => ((csrOut.hi = 0), toVs(h, h.c[S_MIE * 2])),
    write: (h, lo) => {
      const m = h.c[S_HIDELEG * 2] & VS_INTERRUPTS;
      h.c[S_MIE * 2] = (h.c[S_MIE * 2] & ~m) | ((lo << 1) & m);
      h.sliceEnd = 0;
    },
  },
  {
    name: "vstvec",
    addr: 0x205,
    allowed: hOnly,
    read: (h) => slot(h, S_VSTVEC),
    write: (h, lo, hi) => setSlot(h, S_VSTVEC, (lo & 3) >= 2 ? (lo & ~3) | (h.c[S_VSTVEC * 2] & 3) : lo, hi),
  },
  { ...plain("vsscratch", 0x240, S_VSSCRATCH, -1, -1), allowed: hOnly },
  { ...plain("vsepc", 0x241, S_VSEPC, ~1, -1), allowed: hOnly },
  { ...plain("vscause", 0x242, S_VSCAUSE, -1, -1), allowed: hOnly },
  { ...plain("vstval", 0x243, S_VSTVAL, -1, -1), allowed: hOnly },
  {
    name: "vsip",
    addr: 0x244,
    allowed: hOnly,
    read: (h) => ((csrOut.hi = 0), toVs(h, h.mip())),
    write: (h, lo) => {
      // Only SSIP (= VSSIP) is writable, and only when delegated.
      const m = h.c[S_HIDELEG * 2] & MIP_VSSIP;
      h.c[S_MIP * 2] = (h.c[S_MIP * 2] & ~m) | ((lo << 1) & m);
      h.sliceEnd = 0;
    },
  },
  {
    name: "vstimecmp",
    addr: 0x24d,
    allowed: hOnly,
    read: (h) => slot(h, S_VSTIMECMP),
    write: (h, lo, hi) => {
      setSlot(h, S_VSTIMECMP, lo, hi);
      updateVsTimer(h, h.env.time());
      h.sliceEnd = 0;
    },
  },
  {
    name: "vsatp",
    addr: 0x280,
    allowed: hOnly,
    read: (h) => slot(h, S_VSATP),
    write: (h, lo, hi) => writeAtp(h, S_VSATP, lo, hi, false),
  },
  { ...plain("mtinst", 0x34a, S_MTINST, -1, -1), allowed: hOnly },
  { ...plain("mtval2", 0x34b, S_MTVAL2, -1, -1), allowed: hOnly },
];

/** With V=1, these supervisor CSR numbers reach their VS counterparts (priv spec 8.2). */
export const VS_ALIAS_OF: readonly [number, number][] = [
  [0x100, 0x200],
  [0x104, 0x204],
  [0x105, 0x205],
  [0x140, 0x240],
  [0x141, 0x241],
  [0x142, 0x242],
  [0x143, 0x243],
  [0x144, 0x244],
  [0x14d, 0x24d],
  [0x180, 0x280],
];

/**
 * Sstc for the guest: VSTIP follows (time + htimedelta) >= vstimecmp while
 * menvcfg.STCE and henvcfg.STCE are both set, else it is hvip's alone.
 */
export function updateVsTimer(h: Hart, now: number): void {
  if (!h.hExt) return;
  const c = h.c;
  if (c[S_MENVCFG * 2 + 1] & c[S_HENVCFG * 2 + 1] & STCE_HI) {
    const cmp = (c[S_VSTIMECMP * 2] >>> 0) + (c[S_VSTIMECMP * 2 + 1] >>> 0) * 2 ** 32;
    h.setIrqLine(MIP_VSTIP, now + htimedelta(h) >= cmp);
  } else h.setIrqLine(MIP_VSTIP, false);
}

/** htimedelta as a double (wrapping 64-bit arithmetic is not needed for real clocks below 2^53). */
export function htimedelta(h: Hart): number {
  const lo = h.c[S_HTIMEDELTA * 2] >>> 0;
  const hi = h.c[S_HTIMEDELTA * 2 + 1];
  return hi * 2 ** 32 + lo;
}

/** The time at which VSTIP rises, in host time (for an idle machine's next deadline), or Infinity. */
export function vsTimerDeadline(h: Hart): number {
  const c = h.c;
  if (!h.hExt || !(c[S_MENVCFG * 2 + 1] & c[S_HENVCFG * 2 + 1] & STCE_HI)) return Number.POSITIVE_INFINITY;
  return (c[S_VSTIMECMP * 2] >>> 0) + (c[S_VSTIMECMP * 2 + 1] >>> 0) * 2 ** 32 - htimedelta(h);
}

import {
  CAUSE_ILLEGAL_INSTRUCTION,
  CAUSE_VIRTUAL_INSTRUCTION,
  HSTATUS_VTVM,
  MIP_SEIP,
  MIP_SGEIP,
  MIP_SSIP,
  MIP_STIP,
  MIP_VSSIP,
  MSTATUS_FS,
  MSTATUS_HI_GVA,
  MSTATUS_HI_MPV,
  MSTATUS_HI_SD,
  MSTATUS_MIE,
  MSTATUS_MPP,
  MSTATUS_MPRV,
  MSTATUS_MXR,
  MSTATUS_SIE,
  MSTATUS_SUM,
  MSTATUS_TVM,
  PRV_M,
  PRV_S,
  PRV_U,
  S_INTERRUPTS,
  VS_INTERRUPTS,
} from "./constants.ts";
import { type CsrDef, csrOut, plain, setSlot, slot, zeroCsr } from "./csr-out.ts";
import {
  S_CYCLE_OFF,
  S_FCSR,
  S_HCOUNTEREN,
  S_HENVCFG,
  S_HSTATUS,
  S_INSTRET_OFF,
  S_MCAUSE,
  S_MCOUNTEREN,
  S_MCOUNTINHIBIT,
  S_MEDELEG,
  S_MENVCFG,
  S_MEPC,
  S_MHARTID,
  S_MIDELEG,
  S_MIE,
  S_MIP,
  S_MIP_HW,
  S_MSCRATCH,
  S_MSTATUS,
  S_MTVAL,
  S_MTVEC,
  S_SATP,
  S_SCAUSE,
  S_SCOUNTEREN,
  S_SENVCFG,
  S_SEPC,
  S_SSCRATCH,
  S_STIMECMP,
  S_STVAL,
  S_STVEC,
  S_TDATA1,
  S_TDATA2,
  S_TSELECT,
  S_VIRT,
} from "./csr-slots.ts";
import type { Hart } from "./hart.ts";
import { H_CSRS, htimedelta, updateVsTimer, VS_ALIAS_OF } from "./hext.ts";
import { TINFO, writeTdata1, writeTselect } from "./triggers.ts";

export type { CsrDef } from "./csr-out.ts";
export { csrOut } from "./csr-out.ts";

/** misa: RV64 (MXL=2) with A C D F I M S U (priv spec 3.1.1). */
const MISA_LO = (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20);
const MISA_HI = 2 << 30;

/** mstatus bits software may write (low word). */
const MSTATUS_W = 0x007e19aa | MSTATUS_FS; // SIE MIE SPIE MPIE SPP MPP FS MPRV SUM MXR TVM TW TSR
/** sstatus view of mstatus (priv spec 4.1.1): SIE SPIE SPP VS FS XS SUM MXR; UXL and SD in the high word. */
export const SSTATUS_R = 0x000de722;
export const SSTATUS_W = 0x000c6122;
/** Delegable: all synchronous exceptions except ecall from M (11); interrupts: S-level only. */
const MEDELEG_W = 0xb3ff;
/** With H also ecall from VS (10), guest-page faults (20, 21, 23) and virtual instruction (22). */
const MEDELEG_W_H = (1 << 10) | 0xf00000;
const MISA_H = 1 << 7;
/** menvcfg: FIOM (bit 0) and STCE (bit 63, Sstc). */
const MENVCFG_STCE_HI = 1 << 31;

function readMstatus(h: Hart): number {
  const lo = h.c[S_MSTATUS * 2];
  // SD summarizes FS (VS and XS are always Off here).
  csrOut.hi =
    (h.c[S_MSTATUS * 2 + 1] & ~MSTATUS_HI_SD) | ((lo & MSTATUS_FS) === MSTATUS_FS ? MSTATUS_HI_SD : 0);
  return lo;
}

function writeMstatus(h: Hart, lo: number, hi: number): void {
  const old = h.c[S_MSTATUS * 2];
  const oldHi = h.c[S_MSTATUS * 2 + 1];
  let v = (old & ~MSTATUS_W) | (lo & MSTATUS_W);
  // MPP is WARL over {U, S, M}: the reserved value 2 keeps the old field.
  if ((v & MSTATUS_MPP) === 2 << 11) v = (v & ~MSTATUS_MPP) | (old & MSTATUS_MPP);
  h.c[S_MSTATUS * 2] = v;
  // UXL = SXL = 2; with H, MPV and GVA are writable too.
  // SD stored as FS says, as fpDirty() and the JIT's FP flush store it (reads derive it anyway).
  const sd = (v & MSTATUS_FS) === MSTATUS_FS ? MSTATUS_HI_SD : 0;
  const vHi = 2 | (2 << 2) | (h.hExt ? hi & (MSTATUS_HI_MPV | MSTATUS_HI_GVA) : 0) | sd;
  h.c[S_MSTATUS * 2 + 1] = vHi;
  const changed = old ^ v;
  // Under MPRV, MPV selects two-stage translation for M-mode data accesses.
  if (v & MSTATUS_MPRV && (oldHi ^ vHi) & MSTATUS_HI_MPV) h.tlb.flush();
  // Translation depends on MPRV (and MPP while MPRV is set), SUM and MXR. Setting SUM or MXR
  // only allows more, so the TLB stays; clearing SUM drops just the entries that used it
  // (Linux toggles SUM around every user copy).
  if (
    changed & MSTATUS_MPRV ||
    (v & MSTATUS_MPRV && changed & MSTATUS_MPP) ||
    (changed & MSTATUS_MXR && !(v & MSTATUS_MXR))
  ) {
    h.tlb.flush();
  } else if (changed & MSTATUS_SUM && !(v & MSTATUS_SUM)) h.tlb.flushSumEntries();
  // A newly set interrupt enable lets a pending interrupt in before the next instruction. One that
  // becomes pending later ends the slice where its line or mip bit changes, so with none pending now
  // the slice (and a JIT block: jit/csr-leave.ts) goes on, as after local_irq_restore in Linux.
  if (changed & v & (MSTATUS_SIE | MSTATUS_MIE) && h.pendingInterrupt() >= 0) h.sliceEnd = 0;
}

/**
 * Counter access from S/U (priv spec 3.1.11, 4.1.5): mcounteren, then
 * scounteren for U. With V=1 only mcounteren makes it illegal;
 * hcounteren, and scounteren for VU, make it a virtual-instruction
 * exception (counterVirtual).
 */
function counterAllowed(bit: number) {
  return (h: Hart) => {
    const p = h.priv;
    if (p === PRV_M) return true;
    if (!((h.c[S_MCOUNTEREN * 2] >> bit) & 1)) return false;
    return p === PRV_S || h.c[S_VIRT * 2] !== 0 || ((h.c[S_SCOUNTEREN * 2] >> bit) & 1) === 1;
  };
}

function counterVirtual(bit: number) {
  return (h: Hart) =>
    !((h.c[S_HCOUNTEREN * 2] >> bit) & 1) || (h.priv === PRV_U && !((h.c[S_SCOUNTEREN * 2] >> bit) & 1));
}

/**
 * mcycle / minstret (bits 0 and 2 of mcountinhibit). While counting, the
 * slot holds an offset: value = icount + offset (mod 2^64). While inhibited
 * (priv spec 3.1.12) the slot holds the frozen value itself.
 */
function inhibited(h: Hart, bit: number): boolean {
  return ((h.c[S_MCOUNTINHIBIT * 2] >>> bit) & 1) !== 0;
}

/** The counter's value as seen by the current instruction (or the next one, `ahead` = 1). */
function counterRead(h: Hart, offSlot: number, bit: number, ahead = 0): number {
  if (inhibited(h, bit)) return slot(h, offSlot);
  const n = h.icount + ahead;
  const nLo = (n % 2 ** 32) | 0;
  const nHi = Math.floor(n / 2 ** 32) | 0;
  const oLo = h.c[offSlot * 2];
  const lo = (nLo + oLo) | 0;
  csrOut.hi = (nHi + h.c[offSlot * 2 + 1] + (lo >>> 0 < nLo >>> 0 ? 1 : 0)) | 0;
  return lo;
}

/** Makes the next instruction read (lo, hi): the write replaces the writer's own increment. */
function counterWrite(h: Hart, offSlot: number, bit: number, lo: number, hi: number): void {
  if (inhibited(h, bit)) {
    setSlot(h, offSlot, lo, hi);
    return;
  }
  // offset = value - icount (mod 2^64); the write instruction itself retires afterwards, so count it.
  const n = h.icount + 1;
  const nLo = (n % 2 ** 32) | 0;
  const nHi = Math.floor(n / 2 ** 32) | 0;
  const oLo = (lo - nLo) | 0;
  h.c[offSlot * 2] = oLo;
  h.c[offSlot * 2 + 1] = (hi - nHi - (lo >>> 0 < nLo >>> 0 ? 1 : 0)) | 0;
}

/** mcountinhibit: CY and IR freeze or resume their counter at the value the next instruction would read. */
function writeCountInhibit(h: Hart, v: number): void {
  for (const [bit, s] of [
    [0, S_CYCLE_OFF],
    [2, S_INSTRET_OFF],
  ]) {
    const now = inhibited(h, bit);
    const next = ((v >>> bit) & 1) !== 0;
    if (now === next) continue;
    const lo = counterRead(h, s, bit, 1);
    const hi = csrOut.hi;
    h.c[S_MCOUNTINHIBIT * 2] ^= 1 << bit;
    counterWrite(h, s, bit, lo, hi);
  }
  h.c[S_MCOUNTINHIBIT * 2] = v & ~2; // TM is read-only zero
}

/**
 * Sstc (menvcfg.STCE set): the STIP line follows time >= stimecmp. With
 * STCE clear, stimecmp drives nothing and the line is low (mip.STIP is then
 * the software-written bit only). Called on every stimecmp/menvcfg write and
 * by the machine's timer update with the current time.
 */
export function updateSstcTimer(h: Hart, now: number): void {
  const c = h.c;
  updateVsTimer(h, now);
  if (c[S_MENVCFG * 2 + 1] & MENVCFG_STCE_HI) {
    const cmp = (c[S_STIMECMP * 2] >>> 0) + (c[S_STIMECMP * 2 + 1] >>> 0) * 2 ** 32;
    h.setIrqLine(MIP_STIP, now >= cmp);
  } else h.setIrqLine(MIP_STIP, false);
}

function timeRead(h: Hart): number {
  // With V=1 the guest's time is offset by htimedelta.
  const t = h.c[S_VIRT * 2] !== 0 ? h.env.time() + htimedelta(h) : h.env.time();
  csrOut.hi = Math.floor(t / 2 ** 32) | 0;
  return (t % 2 ** 32) | 0;
}

const fpAllowed = (h: Hart) => h.fpEnabled();

function writeSatp(h: Hart, lo: number, hi: number): void {
  const mode = hi >>> 28;
  // Unsupported modes leave satp unchanged (priv spec 4.1.11). ASIDLEN = 16.
  if (mode !== 0 && mode !== 8 && mode !== 9 && mode !== 10) return;
  // The TLB keeps the U and S translations of a few satp values (mmu/tlb.ts switchSpace): a new
  // value selects its own sets, so translations cached under one root and ASID never serve
  // another; rewriting the same value keeps them (software's sfence.vma orders page-table edits).
  if (h.c[S_SATP * 2] === lo && h.c[S_SATP * 2 + 1] === hi) return;
  h.c[S_SATP * 2] = lo;
  h.c[S_SATP * 2 + 1] = hi;
  if (h.tlb.switchSpace(lo, hi)) h.tlb.onFlush();
  else h.sliceEnd = 0; // the interpreter holds the current set in a local
}

const defs: CsrDef[] = [
  // Unprivileged FP CSRs (unpriv spec 11.2)
  {
    name: "fflags",
    addr: 0x001,
    allowed: fpAllowed,
    read: (h) => ((csrOut.hi = 0), h.c[S_FCSR * 2] & 0x1f),
    write: (h, lo) => {
      h.c[S_FCSR * 2] = (h.c[S_FCSR * 2] & ~0x1f) | (lo & 0x1f);
      h.fpDirty();
    },
  },
  {
    name: "frm",
    addr: 0x002,
    allowed: fpAllowed,
    read: (h) => ((csrOut.hi = 0), (h.c[S_FCSR * 2] >> 5) & 7),
    write: (h, lo) => {
      h.c[S_FCSR * 2] = (h.c[S_FCSR * 2] & 0x1f) | ((lo & 7) << 5);
      h.fpDirty();
    },
  },
  {
    name: "fcsr",
    addr: 0x003,
    allowed: fpAllowed,
    read: (h) => ((csrOut.hi = 0), h.c[S_FCSR * 2] & 0xff),
    write: (h, lo) => {
      h.c[S_FCSR * 2] = lo & 0xff;
      h.fpDirty();
    },
  },
  // Counters (Zicntr, Zihpm: hpmcounters read zero)
  {
    name: "cycle",
    addr: 0xc00,
    allowed: counterAllowed(0),
    virtual: counterVirtual(0),
    read: (h) => counterRead(h, S_CYCLE_OFF, 0),
  },
  { name: "time", addr: 0xc01, allowed: counterAllowed(1), virtual: counterVirtual(1), read: timeRead },
  {
    name: "instret",
    addr: 0xc02,
    allowed: counterAllowed(2),
    virtual: counterVirtual(2),
    read: (h) => counterRead(h, S_INSTRET_OFF, 2),
  },
  // Supervisor
  {
    name: "sstatus",
    addr: 0x100,
    read: (h) => {
      const lo = readMstatus(h) & SSTATUS_R;
      csrOut.hi &= MSTATUS_HI_SD | 3;
      return lo;
    },
    write: (h, lo) =>
      writeMstatus(h, (h.c[S_MSTATUS * 2] & ~SSTATUS_W) | (lo & SSTATUS_W), h.c[S_MSTATUS * 2 + 1]),
  },
  {
    name: "sie",
    addr: 0x104,
    read: (h) => ((csrOut.hi = 0), h.c[S_MIE * 2] & h.c[S_MIDELEG * 2] & S_INTERRUPTS),
    write: (h, lo) => {
      const m = h.c[S_MIDELEG * 2] & S_INTERRUPTS;
      h.c[S_MIE * 2] = (h.c[S_MIE * 2] & ~m) | (lo & m);
      h.sliceEnd = 0;
    },
  },
  {
    name: "stvec",
    addr: 0x105,
    read: (h) => slot(h, S_STVEC),
    write: (h, lo, hi) => setSlot(h, S_STVEC, (lo & 3) >= 2 ? (lo & ~3) | (h.c[S_STVEC * 2] & 3) : lo, hi),
  },
  plain("scounteren", 0x106, S_SCOUNTEREN, -1),
  plain("senvcfg", 0x10a, S_SENVCFG, 1),
  plain("sscratch", 0x140, S_SSCRATCH, -1, -1),
  plain("sepc", 0x141, S_SEPC, ~1, -1),
  plain("scause", 0x142, S_SCAUSE, -1, -1),
  plain("stval", 0x143, S_STVAL, -1, -1),
  {
    name: "sip",
    addr: 0x144,
    read: (h) => ((csrOut.hi = 0), h.mip() & h.c[S_MIDELEG * 2] & S_INTERRUPTS),
    write: (h, lo) => {
      // Only SSIP is writable through sip, and only when delegated.
      const m = h.c[S_MIDELEG * 2] & MIP_SSIP;
      h.c[S_MIP * 2] = (h.c[S_MIP * 2] & ~m) | (lo & m);
      h.sliceEnd = 0;
    },
  },
  {
    name: "stimecmp",
    addr: 0x14d,
    // Sstc: S-mode access needs menvcfg.STCE and mcounteren.TM.
    allowed: (h) =>
      h.priv === PRV_M ||
      ((h.c[S_MENVCFG * 2 + 1] & MENVCFG_STCE_HI) !== 0 && (h.c[S_MCOUNTEREN * 2] & 2) !== 0),
    // With V=1 (vstimecmp): henvcfg.STCE and hcounteren.TM.
    virtual: (h) => (h.c[S_HENVCFG * 2 + 1] & MENVCFG_STCE_HI) === 0 || (h.c[S_HCOUNTEREN * 2] & 2) === 0,
    read: (h) => slot(h, S_STIMECMP),
    write: (h, lo, hi) => {
      setSlot(h, S_STIMECMP, lo, hi);
      updateSstcTimer(h, h.env.time());
      h.sliceEnd = 0;
    },
  },
  {
    name: "satp",
    addr: 0x180,
    // mstatus.TVM traps HS-mode satp accesses; hstatus.VTVM traps VS-mode ones (vsatp).
    allowed: (h) => h.priv === PRV_M || h.c[S_VIRT * 2] !== 0 || (h.c[S_MSTATUS * 2] & MSTATUS_TVM) === 0,
    virtual: (h) => (h.c[S_HSTATUS * 2] & HSTATUS_VTVM) !== 0,
    read: (h) => slot(h, S_SATP),
    write: writeSatp,
  },
  // Machine information (read-only)
  { name: "mvendorid", addr: 0xf11, read: () => ((csrOut.hi = 0), 0) },
  { name: "marchid", addr: 0xf12, read: () => ((csrOut.hi = 0), 0) },
  { name: "mimpid", addr: 0xf13, read: () => ((csrOut.hi = 0), 0) },
  { name: "mhartid", addr: 0xf14, read: (h) => slot(h, S_MHARTID) },
  { name: "mconfigptr", addr: 0xf15, read: () => ((csrOut.hi = 0), 0) },
  // Machine trap setup
  { name: "mstatus", addr: 0x300, read: readMstatus, write: writeMstatus },
  {
    name: "misa",
    addr: 0x301,
    read: (h) => ((csrOut.hi = MISA_HI), MISA_LO | (h.hExt ? MISA_H : 0)),
    write: () => {},
  },
  {
    name: "medeleg",
    addr: 0x302,
    read: (h) => slot(h, S_MEDELEG),
    write: (h, lo) => setSlot(h, S_MEDELEG, lo & (h.hExt ? MEDELEG_W | MEDELEG_W_H : MEDELEG_W), 0),
  },
  {
    name: "mideleg",
    addr: 0x303,
    // With H, the VS-level interrupts and SGEI are always delegated (read-only one).
    read: (h) => ((csrOut.hi = 0), h.c[S_MIDELEG * 2] | (h.hExt ? VS_INTERRUPTS | MIP_SGEIP : 0)),
    write: (h, lo) => {
      setSlot(h, S_MIDELEG, lo & S_INTERRUPTS, 0);
      h.sliceEnd = 0;
    },
  },
  {
    name: "mie",
    addr: 0x304,
    read: (h) => slot(h, S_MIE),
    write: (h, lo) => {
      setSlot(h, S_MIE, lo & (h.hExt ? 0xaaa | VS_INTERRUPTS | MIP_SGEIP : 0xaaa), 0);
      h.sliceEnd = 0;
    },
  },
  {
    name: "mtvec",
    addr: 0x305,
    read: (h) => slot(h, S_MTVEC),
    write: (h, lo, hi) => setSlot(h, S_MTVEC, (lo & 3) >= 2 ? (lo & ~3) | (h.c[S_MTVEC * 2] & 3) : lo, hi),
  },
  plain("mcounteren", 0x306, S_MCOUNTEREN, -1),
  {
    name: "menvcfg",
    addr: 0x30a,
    read: (h) => slot(h, S_MENVCFG),
    write: (h, lo, hi) => {
      const stce = hi & MENVCFG_STCE_HI;
      setSlot(h, S_MENVCFG, lo & 1, stce);
      // Under Sstc mip.STIP is stimecmp's alone: drop a software-written STIP.
      if (stce) h.c[S_MIP * 2] &= ~MIP_STIP;
      updateSstcTimer(h, h.env.time());
    },
  },
  {
    name: "mcountinhibit",
    addr: 0x320,
    read: (h) => slot(h, S_MCOUNTINHIBIT),
    write: (h, lo) => writeCountInhibit(h, lo),
  },
  plain("mscratch", 0x340, S_MSCRATCH, -1, -1),
  plain("mepc", 0x341, S_MEPC, ~1, -1),
  plain("mcause", 0x342, S_MCAUSE, -1, -1),
  plain("mtval", 0x343, S_MTVAL, -1, -1),
  {
    name: "mip",
    addr: 0x344,
    read: (h) => ((csrOut.hi = 0), h.mip()),
    // Reads OR the external SEIP line in, but csrrs/csrrc modify only the software SEIP bit (priv spec 3.1.9).
    rmwRead: (h) => ((csrOut.hi = 0), h.c[S_MIP * 2] | (h.c[S_MIP_HW * 2] & ~MIP_SEIP)),
    write: (h, lo) => {
      // SSIP, STIP and SEIP are writable from M; STIP is read-only under Sstc (menvcfg.STCE).
      // With H, VSSIP too (an alias of hvip.VSSIP).
      const m =
        MIP_SSIP |
        MIP_SEIP |
        (h.hExt ? MIP_VSSIP : 0) |
        ((h.c[S_MENVCFG * 2 + 1] & MENVCFG_STCE_HI) !== 0 ? 0 : MIP_STIP);
      h.c[S_MIP * 2] = (h.c[S_MIP * 2] & ~m) | (lo & m);
      h.sliceEnd = 0;
    },
  },
  // Machine counters
  {
    name: "mcycle",
    addr: 0xb00,
    read: (h) => counterRead(h, S_CYCLE_OFF, 0),
    write: (h, lo, hi) => counterWrite(h, S_CYCLE_OFF, 0, lo, hi),
  },
  {
    name: "minstret",
    addr: 0xb02,
    read: (h) => counterRead(h, S_INSTRET_OFF, 2),
    write: (h, lo, hi) => counterWrite(h, S_INSTRET_OFF, 2, lo, hi),
  },
];

// Sdtrig trigger CSRs as QEMU 7.2 has them (triggers.ts).
defs.push(
  { name: "tselect", addr: 0x7a0, read: (h) => slot(h, S_TSELECT), write: writeTselect },
  {
    name: "tdata1",
    addr: 0x7a1,
    read: (h) => slot(h, S_TDATA1 + h.c[S_TSELECT * 2]),
    write: writeTdata1,
  },
  {
    name: "tdata2",
    addr: 0x7a2,
    read: (h) => slot(h, S_TDATA2 + h.c[S_TSELECT * 2]),
    write: (h, lo, hi) => setSlot(h, S_TDATA2 + h.c[S_TSELECT * 2], lo, hi),
  },
  { name: "tdata3", addr: 0x7a3, read: zeroCsr, write: () => {} },
  { name: "tinfo", addr: 0x7a4, read: () => ((csrOut.hi = 0), TINFO), write: () => {} },
);

// PMP: pmpcfg0 and pmpcfg2 (odd numbers do not exist on RV64), pmpaddr0..15.
for (const n of [0, 2]) {
  defs.push({
    name: `pmpcfg${n}`,
    addr: 0x3a0 + n,
    read: (h) => {
      const cfg = h.pmp.cfg;
      const b = n * 4;
      csrOut.hi = cfg[b + 4] | (cfg[b + 5] << 8) | (cfg[b + 6] << 16) | (cfg[b + 7] << 24);
      return cfg[b] | (cfg[b + 1] << 8) | (cfg[b + 2] << 16) | (cfg[b + 3] << 24);
    },
    write: (h, lo, hi) => {
      for (let k = 0; k < 8; k++) h.pmp.writeCfg(n * 4 + k, ((k < 4 ? lo : hi) >>> (8 * (k & 3))) & 0xff);
      h.tlb.flush();
    },
  });
}
for (let i = 0; i < 16; i++) {
  defs.push({
    name: `pmpaddr${i}`,
    addr: 0x3b0 + i,
    read: (h) => {
      csrOut.hi = h.pmp.addrHi[i] | 0;
      return h.pmp.addrLo[i] | 0;
    },
    write: (h, lo, hi) => {
      h.pmp.writeAddrWords(i, lo, hi);
      h.tlb.flush();
    },
  });
}
// The rest of the 64-entry PMP CSR space: entries past 16 are read-only zero (priv spec 3.7.1).
const zero = zeroCsr;
for (let n = 4; n < 16; n += 2)
  defs.push({ name: `pmpcfg${n}`, addr: 0x3a0 + n, read: zero, write: () => {} });
for (let i = 16; i < 64; i++)
  defs.push({ name: `pmpaddr${i}`, addr: 0x3b0 + i, read: zero, write: () => {} });
// hpmcounter3..31 / mhpmcounter3..31 / mhpmevent3..31: implemented as read-only zero / WARL zero.
for (let i = 3; i < 32; i++) {
  defs.push({
    name: `hpmcounter${i}`,
    addr: 0xc00 + i,
    allowed: counterAllowed(i),
    virtual: counterVirtual(i),
    read: () => ((csrOut.hi = 0), 0),
  });
  defs.push({ name: `mhpmcounter${i}`, addr: 0xb00 + i, read: () => ((csrOut.hi = 0), 0), write: () => {} });
  defs.push({ name: `mhpmevent${i}`, addr: 0x320 + i, read: () => ((csrOut.hi = 0), 0), write: () => {} });
}

defs.push(...H_CSRS);

/** CSR definitions by address (undefined → illegal instruction). */
export const CSRS: readonly (CsrDef | undefined)[] = (() => {
  const t: (CsrDef | undefined)[] = new Array(4096).fill(undefined);
  for (const d of defs) {
    if (t[d.addr]) throw new Error(`CSR 0x${d.addr.toString(16)} defined twice`);
    t[d.addr] = d;
  }
  return t;
})();

/** Name of a CSR for the disassembler, or its hex address. */
export function csrName(addr: number): string {
  return CSRS[addr]?.name ?? `0x${addr.toString(16)}`;
}

/** With V=1, the definition a supervisor CSR number reaches (its VS counterpart), by address. */
export const VS_ALIAS: readonly (CsrDef | undefined)[] = (() => {
  const t: (CsrDef | undefined)[] = new Array(4096).fill(undefined);
  for (const [s, vs] of VS_ALIAS_OF) t[s] = CSRS[vs];
  return t;
})();

/**
 * Whether the current mode may access CSR `def` (address bits + the
 * entry's rules): 0 if so, else the exception to raise. With V=1 (priv
 * spec 8.6.1 "Virtual-Instruction Exceptions"): M-level CSRs are illegal;
 * hypervisor and VS CSRs, and supervisor CSRs from VU, raise a virtual
 * instruction exception where HS-mode could access them; so do the
 * entries' own `virtual` rules (hcounteren, VTVM, henvcfg.STCE).
 */
export function csrCheck(h: Hart, def: CsrDef, write: boolean): number {
  const level = (def.addr >>> 8) & 3;
  if (write && def.addr >>> 10 === 3) return CAUSE_ILLEGAL_INSTRUCTION;
  const priv = h.priv;
  if (h.c[S_VIRT * 2] !== 0) {
    if (level === 3) return CAUSE_ILLEGAL_INSTRUCTION;
    if (def.allowed && !def.allowed(h, write)) return CAUSE_ILLEGAL_INSTRUCTION;
    if (level === 2 || (level === 1 && priv === PRV_U)) return CAUSE_VIRTUAL_INSTRUCTION;
    if (def.virtual?.(h, write)) return CAUSE_VIRTUAL_INSTRUCTION;
    return 0;
  }
  // Hypervisor CSRs (level 2) belong to HS-mode.
  if (priv < (level === 2 ? PRV_S : level)) return CAUSE_ILLEGAL_INSTRUCTION;
  if (def.allowed && !def.allowed(h, write)) return CAUSE_ILLEGAL_INSTRUCTION;
  return 0;
}

/** Whether the current privilege may access CSR `def` (for tools; execution uses csrCheck). */
export function csrAccessible(h: Hart, def: CsrDef, write: boolean): boolean {
  return csrCheck(h, def, write) === 0;
}

export { PRV_U, S_MHARTID };

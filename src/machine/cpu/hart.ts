import type { Bus } from "../bus/mmio.ts";
import type { GuestMemory } from "../memory/guest-memory.ts";
import {
  HART_CSR,
  HART_F,
  HART_PC,
  HART_STRIDE,
  HART_X,
  MAX_HARTS,
  TLB_LINEAR,
  TLB_STRIDE,
} from "../memory/layout.ts";
import { Pmp } from "../mmu/pmp.ts";
import { TLB_FETCH, TLB_LOAD, TLB_STORE, Tlb } from "../mmu/tlb.ts";
import { guestFault, type TwoStageRegs, translateTwoStage } from "../mmu/two-stage.ts";
import { lastLeaf, SATP_BARE, walk } from "../mmu/walker.ts";
import {
  ACCESS_FETCH,
  ACCESS_LOAD,
  ACCESS_STORE,
  CAUSE_BREAKPOINT,
  CAUSE_FETCH_ACCESS,
  CAUSE_FETCH_GUEST_PAGE_FAULT,
  CAUSE_ILLEGAL_INSTRUCTION,
  CAUSE_LOAD_ACCESS,
  CAUSE_LOAD_GUEST_PAGE_FAULT,
  CAUSE_MISALIGNED_LOAD,
  CAUSE_MISALIGNED_STORE,
  CAUSE_STORE_ACCESS,
  CAUSE_STORE_GUEST_PAGE_FAULT,
  CAUSE_SUPERVISOR_ECALL,
  HSTATUS_GVA,
  HSTATUS_HI_VSXL,
  HSTATUS_SPV,
  HSTATUS_SPVP,
  MIP_MEIP,
  MIP_MSIP,
  MIP_MTIP,
  MIP_SEIP,
  MIP_SGEIP,
  MIP_SSIP,
  MIP_STIP,
  MSTATUS_FS,
  MSTATUS_HI_GVA,
  MSTATUS_HI_MPV,
  MSTATUS_HI_SD,
  MSTATUS_MIE,
  MSTATUS_MPIE,
  MSTATUS_MPP,
  MSTATUS_MPP_SHIFT,
  MSTATUS_MPRV,
  MSTATUS_MXR,
  MSTATUS_SIE,
  MSTATUS_SPIE,
  MSTATUS_SPP,
  MSTATUS_SUM,
  PRV_M,
  PRV_S,
  PRV_U,
  VS_INTERRUPTS,
} from "./constants.ts";
import {
  CSR_SLOTS,
  S_HEDELEG,
  S_HGATP,
  S_HIDELEG,
  S_HSTATUS,
  S_HTINST,
  S_HTVAL,
  S_MCAUSE,
  S_MEDELEG,
  S_MEPC,
  S_MFS_SAVE,
  S_MHARTID,
  S_MIDELEG,
  S_MIE,
  S_MIP,
  S_MIP_HW,
  S_MSTATUS,
  S_MTINST,
  S_MTVAL,
  S_MTVAL2,
  S_MTVEC,
  S_PRIV,
  S_SATP,
  S_SCAUSE,
  S_SEPC,
  S_STVAL,
  S_STVEC,
  S_VIRT,
  S_VSATP,
  S_VSCAUSE,
  S_VSEPC,
  S_VSSTATUS,
  S_VSTVAL,
  S_VSTVEC,
} from "./csr-slots.ts";
import { combinedFs } from "./fs-state.ts";
import type { Tier } from "./tier.ts";
import { checkDataTriggers, dataTriggerSet, resetTriggers } from "./triggers.ts";

/**
 * Thrown (never allocated anew) to unwind the current instruction when it
 * raises an exception; the cause is already recorded on the hart. Traps are
 * rare next to instructions, and unwinding keeps the hot paths free of
 * status checks.
 */
export const TRAP = { trap: true } as const;

/**
 * Interrupt priority order (priv spec 3.1.9, and the H chapter's
 * "Interrupts"): MEI, MSI, MTI, SEI, SSI, STI, SGEI, VSEI, VSSI, VSTI.
 */
const IRQ_ORDER = [11, 3, 7, 9, 1, 5, 12, 10, 2, 6];
/** Exception causes whose tval is a memory address (GVA is set for them from V=1). */
const ADDRESS_CAUSES =
  (1 << 0) | (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 12) | (1 << 13) | (1 << 15);

/** Scratch for translateGuest (no allocation per access). */
const twoStageRegs: TwoStageRegs = {
  vsatpLo: 0,
  vsatpHi: 0,
  hgatpLo: 0,
  hgatpHi: 0,
  priv: 0,
  sum: false,
  vsMxr: false,
  mxr: false,
  hlvx: false,
};

/** Services the board gives a hart. */
export interface HartEnv {
  /** The machine's `time` (mtime), in timebase ticks. */
  time(): number;
}

/**
 * One RISC-V hart: register file and CSRs in linear memory (layout.ts),
 * software TLB, PMP, trap entry and the memory access paths. The
 * interpreter (interpreter.ts) and the exec/ files drive it.
 */
export class Hart {
  readonly id: number;
  readonly mem: GuestMemory;
  readonly bus: Bus;
  env: HartEnv;
  /** x0..x31 as lo/hi int32 pairs: x[2r] low word, x[2r+1] high word. */
  readonly x: Int32Array;
  /** f0..f31 as lo/hi pairs (binary32 values NaN-boxed). */
  readonly f: Int32Array;
  /** CSR slots as lo/hi pairs (csr-slots.ts). */
  readonly c: Int32Array;
  /** pc (lo, hi) in linear memory; the interpreter keeps it in pcLo/pcHi while running. */
  readonly pcWords: Int32Array;
  /** Linear address of this hart's register block (layout.ts). */
  readonly linear: number;
  pcLo = 0;
  pcHi = 0;
  /** Address of the next instruction, set before each execution; jumps overwrite it. */
  npcLo = 0;
  npcHi = 0;
  /** Retired instructions (a double: exact to 2^53). */
  icount = 0;
  /** The interpreter runs while icount < sliceEnd; setting it to 0 ends the slice after this instruction. */
  sliceEnd = 0;
  /** Set by wfi; cleared when an interrupt becomes pending. */
  waiting = false;
  readonly tlb: Tlb;
  readonly pmp = new Pmp();
  // Views of linear memory for the RAM fast paths.
  readonly u8: Uint8Array;
  readonly i8: Int8Array;
  readonly u16: Uint16Array;
  readonly i16: Int16Array;
  readonly i32: Int32Array;
  /** High word of the last 64-bit load. */
  ldHi = 0;
  /** LR/SC reservation: address and the value LR read (SC succeeds if memory still holds it). */
  resValid = false;
  resLo = 0;
  resHi = 0;
  resValLo = 0;
  resValHi = 0;
  /** The exception being raised (set by raise(), consumed by takeTrap()). */
  trapCause = 0;
  trapTvalLo = 0;
  trapTvalHi = 0;
  /** Bits of the instruction being executed (for illegal-instruction tval). */
  insnBits = 0;
  /** The H extension is implemented (`--cpu h=on`): configuration, not state. */
  hExt = false;
  /**
   * H: what the exception being raised reports besides tval: that tval is a
   * guest virtual address (hstatus/mstatus.GVA), the guest physical address
   * >> 2 (htval/mtval2) and the transformed instruction (htinst/mtinst).
   * enterTrap consumes and clears them.
   */
  trapGva = false;
  trapGpaLo = 0;
  trapGpaHi = 0;
  trapTinst = 0;
  /** Serves `ecall` from S-mode in the host (built-in SBI); returns false to take the trap instead. */
  sbiHook: ((h: Hart) => boolean) | undefined = undefined;
  /** The machine's second tier (the JIT, injected by the machine); undefined runs the interpreter alone. */
  jit: Tier<Hart> | undefined = undefined;
  /** Physical address of the last translate() (a double). */
  private lastPa = 0;

  constructor(id: number, mem: GuestMemory, bus: Bus, env: HartEnv) {
    if (id < 0 || id >= MAX_HARTS) throw new RangeError(`hart id ${id} out of range`);
    this.id = id;
    this.mem = mem;
    this.bus = bus;
    this.env = env;
    const base = id * HART_STRIDE;
    this.tlb = new Tlb(mem.buffer, TLB_LINEAR + id * TLB_STRIDE);
    this.x = new Int32Array(mem.buffer, base + HART_X, 64);
    this.f = new Int32Array(mem.buffer, base + HART_F, 64);
    this.pcWords = new Int32Array(mem.buffer, base + HART_PC, 2);
    this.linear = base;
    this.c = new Int32Array(mem.buffer, base + HART_CSR, CSR_SLOTS * 2);
    this.u8 = mem.u8;
    this.i8 = mem.i8;
    this.u16 = mem.u16;
    this.i16 = mem.i16;
    this.i32 = mem.i32;
    this.tlb.onFlush = () => {
      this.sliceEnd = 0;
      // Translations changed: chained JIT jumps, keyed by virtual pc, may be stale.
      this.jit?.flushJumpCache(this.id);
    };
    this.tlb.onFlushPage = (vaLo, vaHi, shift) => {
      this.sliceEnd = 0;
      this.jit?.flushJumpCacheRegion(this.id, vaLo, vaHi, shift);
    };
    mem.code.tlbs.push(this.tlb);
    this.reset();
  }

  /** Power-on state: M-mode, pc 0, CSRs zero except the read-only ones. */
  reset(): void {
    this.x.fill(0);
    this.f.fill(0);
    this.c.fill(0);
    this.c[S_PRIV * 2] = PRV_M;
    this.tlb.select(PRV_M, 0);
    this.tlb.resetSpaces(0, 0);
    this.c[S_HSTATUS * 2 + 1] = HSTATUS_HI_VSXL;
    this.c[S_VSSTATUS * 2 + 1] = 2; // UXL = 64-bit
    this.c[S_MHARTID * 2] = this.id;
    this.c[S_MSTATUS * 2 + 1] = 2 | (2 << 2); // UXL = SXL = 64-bit
    resetTriggers(this);
    this.pcLo = this.pcHi = 0;
    this.icount = 0;
    this.waiting = false;
    this.resValid = false;
    this.tlb.flush();
  }

  get priv(): number {
    return this.c[S_PRIV * 2];
  }

  setPc(lo: number, hi: number): void {
    this.pcLo = lo | 0;
    this.pcHi = hi | 0;
  }

  /** Copies pc into linear memory (before a snapshot or a JIT entry). */
  syncPc(): void {
    this.pcWords[0] = this.pcLo;
    this.pcWords[1] = this.pcHi;
  }

  loadPcFromMemory(): void {
    this.pcLo = this.pcWords[0];
    this.pcHi = this.pcWords[1];
  }

  // ------------------------------------------------------------------ traps

  /** Records an exception and unwinds the current instruction. */
  raise(cause: number, tvalLo: number, tvalHi: number): never {
    this.trapCause = cause;
    this.trapTvalLo = tvalLo;
    this.trapTvalHi = tvalHi;
    throw TRAP;
  }

  illegal(): never {
    return this.raise(CAUSE_ILLEGAL_INSTRUCTION, this.insnBits, 0);
  }

  /**
   * Enters the trap handler for an exception (interrupt=false) or interrupt
   * (priv spec 3.1.6.1, 3.1.7, 4.1.1): delegated to S when the hart is not
   * in M and the matching medeleg/mideleg bit is set. With H (priv spec,
   * "Traps" in the H chapter): from V=1, further to VS when hedeleg/hideleg
   * says so; a trap to HS or M leaves V=1 and records it (hstatus.SPV/SPVP,
   * mstatus.MPV) with GVA, htval/mtval2 and htinst/mtinst.
   */
  enterTrap(cause: number, interrupt: boolean, tvalLo: number, tvalHi: number): void {
    const c = this.c;
    const priv = c[S_PRIV * 2];
    const virt = c[S_VIRT * 2];
    const bit = cause < 32 ? 1 << cause : 0;
    const deleg = interrupt
      ? c[S_MIDELEG * 2] | (this.hExt ? VS_INTERRUPTS | MIP_SGEIP : 0)
      : c[S_MEDELEG * 2];
    const causeHi = interrupt ? 0x8000_0000 | 0 : 0;
    const gva =
      this.trapGva ||
      (virt !== 0 &&
        !interrupt &&
        ((ADDRESS_CAUSES & bit) !== 0 || (cause === CAUSE_BREAKPOINT && (tvalLo | tvalHi) !== 0)));
    const gpaLo = this.trapGpaLo;
    const gpaHi = this.trapGpaHi;
    const tinst = this.trapTinst;
    this.trapGva = false;
    this.trapGpaLo = this.trapGpaHi = this.trapTinst = 0;
    let st = c[S_MSTATUS * 2];
    if (
      virt !== 0 &&
      priv <= PRV_S &&
      (deleg & bit) !== 0 &&
      (interrupt ? c[S_HIDELEG * 2] : c[S_HEDELEG * 2]) & bit
    ) {
      this.enterVsTrap(interrupt ? cause - 1 : cause, causeHi, tvalLo, tvalHi);
      return;
    }
    if (priv <= PRV_S && (deleg & bit) !== 0) {
      if (this.hExt) {
        let hs = c[S_HSTATUS * 2] & ~(HSTATUS_SPV | HSTATUS_GVA);
        if (virt !== 0) hs = (hs & ~HSTATUS_SPVP) | HSTATUS_SPV | (priv === PRV_S ? HSTATUS_SPVP : 0);
        if (gva) hs |= HSTATUS_GVA;
        c[S_HSTATUS * 2] = hs;
        c[S_HTVAL * 2] = gpaLo;
        c[S_HTVAL * 2 + 1] = gpaHi;
        c[S_HTINST * 2] = tinst;
        c[S_HTINST * 2 + 1] = 0;
        this.setVirt(0);
        st = c[S_MSTATUS * 2];
      }
      c[S_SCAUSE * 2] = cause;
      c[S_SCAUSE * 2 + 1] = causeHi;
      c[S_SEPC * 2] = this.pcLo;
      c[S_SEPC * 2 + 1] = this.pcHi;
      c[S_STVAL * 2] = tvalLo;
      c[S_STVAL * 2 + 1] = tvalHi;
      st = (st & ~(MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SIE)) | (st & MSTATUS_SIE ? MSTATUS_SPIE : 0);
      if (priv === PRV_S) st |= MSTATUS_SPP;
      c[S_MSTATUS * 2] = st;
      this.setPriv(PRV_S);
      this.jumpToVector(c[S_STVEC * 2], c[S_STVEC * 2 + 1], cause, interrupt);
    } else {
      c[S_MCAUSE * 2] = cause;
      c[S_MCAUSE * 2 + 1] = causeHi;
      c[S_MEPC * 2] = this.pcLo;
      c[S_MEPC * 2 + 1] = this.pcHi;
      c[S_MTVAL * 2] = tvalLo;
      c[S_MTVAL * 2 + 1] = tvalHi;
      if (this.hExt) {
        c[S_MSTATUS * 2 + 1] =
          (c[S_MSTATUS * 2 + 1] & ~(MSTATUS_HI_MPV | MSTATUS_HI_GVA)) |
          (virt !== 0 ? MSTATUS_HI_MPV : 0) |
          (gva ? MSTATUS_HI_GVA : 0);
        c[S_MTVAL2 * 2] = gpaLo;
        c[S_MTVAL2 * 2 + 1] = gpaHi;
        c[S_MTINST * 2] = tinst;
        c[S_MTINST * 2 + 1] = 0;
        this.setVirt(0);
        st = c[S_MSTATUS * 2];
      }
      st = (st & ~(MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MIE)) | (st & MSTATUS_MIE ? MSTATUS_MPIE : 0);
      st |= priv << MSTATUS_MPP_SHIFT;
      // Under MPRV, data accesses translate per MPP, which just changed.
      if (priv === PRV_M && st & MSTATUS_MPRV) this.tlb.flush();
      c[S_MSTATUS * 2] = st;
      this.setPriv(PRV_M);
      this.jumpToVector(c[S_MTVEC * 2], c[S_MTVEC * 2 + 1], cause, interrupt);
    }
    this.resValid = false;
  }

  /** A trap taken in VS-mode (V stays 1): vsstatus, vsepc, vscause, vstval, vstvec. */
  private enterVsTrap(cause: number, causeHi: number, tvalLo: number, tvalHi: number): void {
    const c = this.c;
    c[S_VSCAUSE * 2] = cause;
    c[S_VSCAUSE * 2 + 1] = causeHi;
    c[S_VSEPC * 2] = this.pcLo;
    c[S_VSEPC * 2 + 1] = this.pcHi;
    c[S_VSTVAL * 2] = tvalLo;
    c[S_VSTVAL * 2 + 1] = tvalHi;
    const vs = c[S_VSSTATUS * 2];
    c[S_VSSTATUS * 2] =
      (vs & ~(MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SIE)) |
      (vs & MSTATUS_SIE ? MSTATUS_SPIE : 0) |
      (c[S_PRIV * 2] === PRV_S ? MSTATUS_SPP : 0);
    this.setPriv(PRV_S);
    this.jumpToVector(c[S_VSTVEC * 2], c[S_VSTVEC * 2 + 1], cause, causeHi !== 0);
    this.resValid = false;
  }

  /**
   * Changes the virtualization mode V (H extension). While V=1, mstatus.FS
   * holds the effective FP state of both levels (Off if either is Off), so
   * the interpreter's inline FP paths need no V check; the HS-level value
   * waits in S_MFS_SAVE and comes back when V returns to 0. fpDirty()
   * marks both levels dirty.
   */
  setVirt(v: number): void {
    const c = this.c;
    if (c[S_VIRT * 2] === v) return;
    const st = c[S_MSTATUS * 2];
    if (v !== 0) {
      c[S_MFS_SAVE * 2] = st & MSTATUS_FS;
      c[S_MSTATUS * 2] = (st & ~MSTATUS_FS) | combinedFs(st & MSTATUS_FS, c[S_VSSTATUS * 2] & MSTATUS_FS);
    } else {
      c[S_MSTATUS * 2] = (st & ~MSTATUS_FS) | c[S_MFS_SAVE * 2];
      c[S_MFS_SAVE * 2] = 0;
    }
    c[S_VIRT * 2] = v;
    this.tlb.select(c[S_PRIV * 2], v);
    this.sliceEnd = 0;
  }

  private jumpToVector(lo: number, hi: number, cause: number, interrupt: boolean): void {
    const mode = lo & 3;
    let base = lo & ~3;
    if (mode === 1 && interrupt) base = (base + 4 * cause) | 0; // vectored; no carry: bases are 4 KiB-ish aligned
    this.pcLo = base;
    this.pcHi = hi;
  }

  /** Takes the exception recorded by raise(). */
  takeTrap(): void {
    // Built-in firmware (--bios builtin): SBI calls from S-mode are served by
    // the host instead of M-mode code; the hook returns false to trap as usual.
    if (this.trapCause === CAUSE_SUPERVISOR_ECALL && this.sbiHook !== undefined && this.sbiHook(this)) {
      const lo = (this.pcLo + 4) | 0;
      this.pcHi = lo >>> 0 < this.pcLo >>> 0 ? (this.pcHi + 1) | 0 : this.pcHi;
      this.pcLo = lo;
      this.icount++;
      return;
    }
    this.enterTrap(this.trapCause, false, this.trapTvalLo, this.trapTvalHi);
  }

  /**
   * Changes privilege. Translations and permissions depend on it, so each
   * level has its own TLB set (no flush); the slice ends because the
   * interpreter holds the current set and code page in locals.
   */
  setPriv(p: number): void {
    if (this.c[S_PRIV * 2] !== p) {
      this.c[S_PRIV * 2] = p;
      this.tlb.select(p, this.c[S_VIRT * 2]);
      this.sliceEnd = 0;
    }
  }

  /** mip as software reads it: software bits OR the device lines. */
  mip(): number {
    return this.c[S_MIP * 2] | this.c[S_MIP_HW * 2];
  }

  /** Drives a device interrupt line (MSIP, MTIP, MEIP, SEIP, STIP). */
  setIrqLine(mask: number, level: boolean): void {
    const w = S_MIP_HW * 2;
    const old = this.c[w];
    const v = level ? old | mask : old & ~mask;
    if (v !== old) {
      this.c[w] = v;
      this.sliceEnd = 0;
    }
  }

  /**
   * The highest-priority interrupt that is pending, enabled and not masked
   * by the current privilege (priv spec 3.1.9), or -1.
   */
  pendingInterrupt(): number {
    const c = this.c;
    const pending = this.mip() & c[S_MIE * 2];
    if (pending === 0) return -1;
    const priv = c[S_PRIV * 2];
    const virt = c[S_VIRT * 2];
    const st = c[S_MSTATUS * 2];
    // With H the VS-level interrupts are always delegated past M; hideleg passes them on to VS.
    const deleg = c[S_MIDELEG * 2] | (this.hExt ? VS_INTERRUPTS | MIP_SGEIP : 0);
    const vsDeleg = deleg & c[S_HIDELEG * 2];
    const mEnabled = priv < PRV_M || (st & MSTATUS_MIE) !== 0;
    const sEnabled = virt !== 0 || priv < PRV_S || (priv === PRV_S && (st & MSTATUS_SIE) !== 0);
    const vsEnabled = virt !== 0 && (priv === PRV_U || (c[S_VSSTATUS * 2] & MSTATUS_SIE) !== 0);
    let m = 0;
    if (mEnabled) m = pending & ~deleg;
    if (m === 0 && sEnabled) m = pending & deleg & ~vsDeleg;
    if (m === 0 && vsEnabled) m = pending & vsDeleg;
    if (m === 0) return -1;
    for (const irq of IRQ_ORDER) if (m & (1 << irq)) return irq;
    return -1;
  }

  /** Takes the pending interrupt, if any; returns whether one was taken. Also ends wfi. */
  checkInterrupts(): boolean {
    if (this.waiting && (this.mip() & this.c[S_MIE * 2]) !== 0) this.waiting = false;
    const irq = this.pendingInterrupt();
    if (irq < 0) return false;
    this.waiting = false;
    this.enterTrap(irq, true, 0, 0);
    return true;
  }

  // --------------------------------------------------------- translation

  /**
   * Translates a virtual address for an access of `size` bytes; returns the
   * physical address (double) or raises a page or access fault.
   */
  translate(vaLo: number, vaHi: number, kind: number): number {
    const c = this.c;
    let priv = c[S_PRIV * 2];
    let virt = c[S_VIRT * 2];
    const st = c[S_MSTATUS * 2];
    // priv spec 3.1.6.3: MPRV applies to loads and stores only (with H, MPV selects V for them).
    if (kind !== ACCESS_FETCH && priv === PRV_M && st & MSTATUS_MPRV) {
      priv = (st & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT;
      virt = priv !== PRV_M && c[S_MSTATUS * 2 + 1] & MSTATUS_HI_MPV ? 1 : 0;
    }
    if (virt !== 0) return this.translateGuest(vaLo, vaHi, kind, priv, false);
    const satpHi = c[S_SATP * 2 + 1];
    if (priv === PRV_M || satpHi >>> 28 === SATP_BARE) {
      lastLeaf.user = false;
      lastLeaf.shift = 12;
      return (vaLo >>> 0) + vaHi * 2 ** 32 + (vaHi < 0 ? 2 ** 64 : 0);
    }
    const pa = walk(
      this,
      c[S_SATP * 2],
      satpHi,
      vaLo,
      vaHi,
      kind,
      priv,
      (st & MSTATUS_SUM) !== 0,
      (st & MSTATUS_MXR) !== 0,
    );
    if (pa < 0) this.raise(-pa - 1, vaLo, vaHi);
    return pa;
  }

  /**
   * Two-stage translation (H, mmu/two-stage.ts) for an access from VS/VU
   * (`priv` = S or U), also for HLV/HSV (`hlvx` for HLVX); raises page
   * faults, guest-page faults and access faults, with GVA = 1.
   */
  translateGuest(vaLo: number, vaHi: number, kind: number, priv: number, hlvx: boolean): number {
    const c = this.c;
    const r = twoStageRegs;
    r.vsatpLo = c[S_VSATP * 2];
    r.vsatpHi = c[S_VSATP * 2 + 1];
    r.hgatpLo = c[S_HGATP * 2];
    r.hgatpHi = c[S_HGATP * 2 + 1];
    r.priv = priv;
    const vs = c[S_VSSTATUS * 2];
    r.sum = (vs & MSTATUS_SUM) !== 0;
    r.vsMxr = (vs & MSTATUS_MXR) !== 0;
    r.mxr = (c[S_MSTATUS * 2] & MSTATUS_MXR) !== 0;
    r.hlvx = hlvx;
    lastLeaf.user = false;
    lastLeaf.shift = 12;
    const pa = translateTwoStage(this, r, vaLo, vaHi, kind);
    if (pa < 0) {
      const cause = -pa - 1;
      this.trapGva = true;
      if (
        cause === CAUSE_FETCH_GUEST_PAGE_FAULT ||
        cause === CAUSE_LOAD_GUEST_PAGE_FAULT ||
        cause === CAUSE_STORE_GUEST_PAGE_FAULT
      ) {
        this.trapGpaLo = guestFault.gpaShr2Lo;
        this.trapGpaHi = guestFault.gpaShr2Hi;
        this.trapTinst = guestFault.tinst;
      }
      this.raise(cause, vaLo, vaHi);
    }
    return pa;
  }

  /**
   * HLV/HLVX/HSV (H extension): an access as VS/VU would make it
   * (hstatus.SPVP), from HS or from U with hstatus.HU, never through the
   * TLB. Returns the physical address after PMP; misaligned accesses raise
   * address-misaligned (the spec allows it). MMIO goes to the bus.
   */
  hypervisorLoad(vaLo: number, vaHi: number, size: number, signed: boolean, hlvx: boolean): number {
    const pa = this.hypervisorResolve(vaLo, vaHi, size, ACCESS_LOAD, hlvx);
    const at = this.mem.ramOffset(pa, size);
    if (at < 0) {
      this.lastPa = pa;
      return this.mmioLoad(size, signed);
    }
    if (size === 8) {
      this.ldHi = this.i32[(at >>> 2) + 1];
      return this.i32[at >>> 2];
    }
    const v =
      size === 1
        ? signed
          ? this.i8[at]
          : this.u8[at]
        : size === 2
          ? signed
            ? this.i16[at >>> 1]
            : this.u16[at >>> 1]
          : signed
            ? this.i32[at >>> 2]
            : this.i32[at >>> 2] >>> 0;
    this.ldHi = signed ? v >> 31 : 0;
    return v | 0;
  }

  hypervisorStore(vaLo: number, vaHi: number, size: number, lo: number, hi: number): void {
    const pa = this.hypervisorResolve(vaLo, vaHi, size, ACCESS_STORE, false);
    const at = this.mem.ramOffset(pa, size);
    if (at < 0) {
      const m = this.bus.find(pa, size)!;
      m.device.write(pa - m.base, size, lo, hi);
      return;
    }
    const code = this.mem.code;
    const idx = (at - this.mem.ramLinear) >>> 12;
    if (code.pages[idx] !== undefined) {
      code.invalidate(idx);
      this.sliceEnd = 0;
    }
    if (size === 1) this.u8[at] = lo;
    else if (size === 2) this.u16[at >>> 1] = lo;
    else if (size === 4) this.i32[at >>> 2] = lo;
    else {
      this.i32[at >>> 2] = lo;
      this.i32[(at >>> 2) + 1] = hi;
    }
  }

  private hypervisorResolve(vaLo: number, vaHi: number, size: number, kind: number, hlvx: boolean): number {
    const priv = this.c[S_HSTATUS * 2] & HSTATUS_SPVP ? PRV_S : PRV_U;
    const store = kind === ACCESS_STORE;
    if ((vaLo & (size - 1)) !== 0) {
      this.trapGva = true;
      this.raise(store ? CAUSE_MISALIGNED_STORE : CAUSE_MISALIGNED_LOAD, vaLo, vaHi);
    }
    if (dataTriggerSet(this)) checkDataTriggers(this, vaLo, vaHi, size, store);
    const pa = this.translateGuest(vaLo, vaHi, kind, priv, hlvx);
    const cause = store ? CAUSE_STORE_ACCESS : CAUSE_LOAD_ACCESS;
    if (
      !this.pmp.check(pa, size, kind, priv) ||
      (this.mem.ramOffset(pa, size) < 0 && !this.bus.find(pa, size))
    ) {
      this.trapGva = true;
      this.raise(cause, vaLo, vaHi);
    }
    return pa;
  }

  /** Effective privilege for data accesses (MPRV). */
  private dataPriv(): number {
    const c = this.c;
    const priv = c[S_PRIV * 2];
    const st = c[S_MSTATUS * 2];
    return priv === PRV_M && st & MSTATUS_MPRV ? (st & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT : priv;
  }

  /**
   * Resolves a naturally aligned access of `size` bytes that stays within
   * one page to a linear RAM offset, filling the TLB; returns -1 for MMIO,
   * with the physical address in lastPa. Raises faults.
   */
  private resolve(vaLo: number, vaHi: number, size: number, kind: number): number {
    // Sdtrig: with a load or store trigger set, no data page enters the TLB, so every access comes here.
    const watched = kind !== ACCESS_FETCH && dataTriggerSet(this);
    if (watched) checkDataTriggers(this, vaLo, vaHi, size, kind === ACCESS_STORE);
    const pa = this.translate(vaLo, vaHi, kind);
    const priv = kind === ACCESS_FETCH ? this.priv : this.dataPriv();
    const faultCause =
      kind === ACCESS_FETCH
        ? CAUSE_FETCH_ACCESS
        : kind === ACCESS_STORE
          ? CAUSE_STORE_ACCESS
          : CAUSE_LOAD_ACCESS;
    if (!this.pmp.check(pa, size, kind, priv)) this.raise(faultCause, vaLo, vaHi);
    const page = pa - (vaLo & 0xfff);
    const linear = this.mem.ramOffset(page, 4096);
    if (linear >= 0) {
      if (kind === ACCESS_STORE) {
        // A store to a page holding decoded instructions drops them first (and ends the
        // slice, whose loop may be executing from that page).
        const code = this.mem.code;
        const idx = (linear - this.mem.ramLinear) >>> 12;
        if (code.pages[idx] !== undefined) {
          code.invalidate(idx);
          this.sliceEnd = 0;
        }
      }
      if (this.pmp.uniformPage(page) && !watched) {
        const bank = kind === ACCESS_FETCH ? TLB_FETCH : kind === ACCESS_STORE ? TLB_STORE : TLB_LOAD;
        this.tlb.fill(bank, vaLo, vaHi, linear);
        // A user page reached by an S-mode load or store was allowed by SUM: remember it.
        if (kind !== ACCESS_FETCH && lastLeaf.user && priv === PRV_S) this.tlb.noteSumEntry(bank, vaLo);
        if (lastLeaf.shift > 12) this.tlb.noteSuperpage(vaLo, vaHi, lastLeaf.shift);
      }
      return linear + (vaLo & 0xfff);
    }
    if (kind === ACCESS_FETCH) this.raise(faultCause, vaLo, vaHi);
    this.lastPa = pa;
    if (!this.bus.find(pa, size)) this.raise(faultCause, vaLo, vaHi);
    return -1;
  }

  // --------------------------------------------------------------- fetch

  /** Reads the 16-bit parcel at virtual address (lo, hi); zero-extended. */
  fetch16(lo: number, hi: number): number {
    let at = this.tlb.lookup(TLB_FETCH, lo, hi);
    if (at < 0) at = this.resolve(lo, hi, 2, ACCESS_FETCH);
    return this.u16[at >>> 1];
  }

  /** Linear offset of the byte at virtual pc (lo, hi) for execution; raises fetch faults. */
  fetchLinear(lo: number, hi: number): number {
    const at = this.tlb.lookup(TLB_FETCH, lo, hi);
    return at >= 0 ? at : this.resolve(lo, hi, 2, ACCESS_FETCH);
  }

  /** Fetches the instruction at pc: a 32-bit word, or a 16-bit parcel whose low bits are not 0b11. */
  fetch(): number {
    const lo = this.pcLo;
    const hi = this.pcHi;
    let at = this.tlb.lookup(TLB_FETCH, lo, hi);
    if (at < 0) at = this.resolve(lo, hi, 2, ACCESS_FETCH);
    const low = this.u16[at >>> 1];
    if ((low & 3) !== 3) return low;
    if ((lo & 0xfff) !== 0xffe) return low | (this.u16[(at + 2) >>> 1] << 16);
    // The upper parcel is on the next page, which may fault on its own (tval = its address).
    const nlo = (lo + 2) | 0;
    const nhi = nlo === 0 ? (hi + 1) | 0 : hi;
    return low | (this.fetch16(nlo, nhi) << 16);
  }

  // ---------------------------------------------------------- data access

  /** Loads `size` (1, 2, 4, 8) bytes; returns the low word (sign- or zero-extended per `signed`), high word in ldHi. */
  load(vaLo: number, vaHi: number, size: number, signed: boolean): number {
    const tlb = this.tlb;
    if ((vaLo & (size - 1)) === 0) {
      let at = tlb.lookup(TLB_LOAD, vaLo, vaHi);
      if (at < 0) {
        at = this.resolve(vaLo, vaHi, size, ACCESS_LOAD);
        if (at < 0) return this.mmioLoad(size, signed);
      }
      switch (size) {
        case 1:
          return signed ? this.i8[at] : this.u8[at];
        case 2:
          return signed ? this.i16[at >>> 1] : this.u16[at >>> 1];
        case 4: {
          const v = this.i32[at >>> 2];
          this.ldHi = signed ? v >> 31 : 0;
          return signed ? v : v >>> 0;
        }
        default:
          this.ldHi = this.i32[(at >>> 2) + 1];
          return this.i32[at >>> 2];
      }
    }
    return this.loadMisaligned(vaLo, vaHi, size, signed);
  }

  /**
   * Misaligned loads are done in hardware, byte by byte, each byte translated
   * (may span pages). Lowest byte first, so a fault reports the address of
   * the part that faulted: the access's own address when the first part does.
   */
  private loadMisaligned(vaLo: number, vaHi: number, size: number, signed: boolean): number {
    let lo = 0;
    let hi = 0;
    for (let k = 0; k < size; k++) {
      const alo = (vaLo + k) | 0;
      const ahi = alo >>> 0 < vaLo >>> 0 ? (vaHi + 1) | 0 : vaHi;
      const b = this.load(alo, ahi, 1, false);
      if (k < 4) lo |= b << (8 * k);
      else hi |= b << (8 * (k - 4));
    }
    if (size === 8) {
      this.ldHi = hi;
      return lo;
    }
    const bits = size * 8;
    if (bits < 32) lo = signed ? (lo << (32 - bits)) >> (32 - bits) : lo;
    this.ldHi = signed ? lo >> 31 : 0;
    return signed ? lo : lo >>> 0;
  }

  private mmioLoad(size: number, signed: boolean): number {
    const pa = this.lastPa;
    const m = this.bus.find(pa, size)!;
    const res = this.bus.res;
    res.hi = 0;
    let v = m.device.read(pa - m.base, size, res);
    if (size === 8) {
      this.ldHi = res.hi | 0;
      return v | 0;
    }
    const bits = size * 8;
    if (bits < 32) v = signed ? (v << (32 - bits)) >> (32 - bits) : v & ((1 << bits) - 1);
    this.ldHi = signed ? v >> 31 : 0;
    return v | 0;
  }

  /** Stores the low `size` bytes of (lo, hi). */
  store(vaLo: number, vaHi: number, size: number, lo: number, hi: number): void {
    const tlb = this.tlb;
    if ((vaLo & (size - 1)) === 0) {
      let at = tlb.lookup(TLB_STORE, vaLo, vaHi);
      if (at < 0) {
        at = this.resolve(vaLo, vaHi, size, ACCESS_STORE);
        if (at < 0) {
          const pa = this.lastPa;
          const m = this.bus.find(pa, size)!;
          m.device.write(pa - m.base, size, lo, hi);
          return;
        }
      }
      switch (size) {
        case 1:
          this.u8[at] = lo;
          return;
        case 2:
          this.u16[at >>> 1] = lo;
          return;
        case 4:
          this.i32[at >>> 2] = lo;
          return;
        default:
          this.i32[at >>> 2] = lo;
          this.i32[(at >>> 2) + 1] = hi;
          return;
      }
    }
    // Misaligned: check every byte's translation first so a fault stores nothing.
    for (let k = 0; k < size; k++) {
      const alo = (vaLo + k) | 0;
      const ahi = alo >>> 0 < vaLo >>> 0 ? (vaHi + 1) | 0 : vaHi;
      this.probeStore(alo, ahi);
    }
    for (let k = 0; k < size; k++) {
      const alo = (vaLo + k) | 0;
      const ahi = alo >>> 0 < vaLo >>> 0 ? (vaHi + 1) | 0 : vaHi;
      const b = k < 4 ? lo >>> (8 * k) : hi >>> (8 * (k - 4));
      this.store(alo, ahi, 1, b & 0xff, 0);
    }
  }

  /** Raises the fault a 1-byte store at the address would raise, storing nothing. */
  private probeStore(vaLo: number, vaHi: number): void {
    if (this.tlb.lookup(TLB_STORE, vaLo, vaHi) < 0) this.resolve(vaLo, vaHi, 1, ACCESS_STORE);
  }

  /**
   * Enters the page of a load (`store` false) or store at (vaLo, vaHi) in
   * the TLB without doing the access, for compiled code about to do it
   * (interpreter.ts refillFirstAccess). A fault, MMIO or a watched address
   * fills nothing and raises nothing: the access itself meets it again.
   */
  prefill(vaLo: number, vaHi: number, store: boolean): void {
    if (dataTriggerSet(this)) return;
    try {
      this.resolve(vaLo, vaHi, 1, store ? ACCESS_STORE : ACCESS_LOAD);
    } catch (e) {
      if (e !== TRAP) throw e;
    }
  }

  /**
   * For AMOs and LR/SC: resolves an aligned address with store permission
   * (AMOs fault as stores, priv spec table 3.6) to a linear RAM offset.
   * Atomics to MMIO are not supported and raise an access fault.
   */
  resolveAtomic(vaLo: number, vaHi: number, size: number, kind: number): number {
    const hit = this.tlb.lookup(kind === ACCESS_STORE ? TLB_STORE : TLB_LOAD, vaLo, vaHi);
    if (hit >= 0) return hit;
    const at = this.resolve(vaLo, vaHi, size, kind);
    if (at < 0) this.raise(kind === ACCESS_STORE ? CAUSE_STORE_ACCESS : CAUSE_LOAD_ACCESS, vaLo, vaHi);
    return at;
  }

  /**
   * fence.i: instruction fetches must see earlier stores. The interpreter
   * fetches from memory every time, so there is nothing cached to drop yet;
   * translated-code caches hook in here.
   */
  onFenceI(): void {}

  /** Whether FP instructions are enabled (mstatus.FS != Off). */
  fpEnabled(): boolean {
    return (this.c[S_MSTATUS * 2] & MSTATUS_FS) !== 0;
  }

  /** Marks FP state dirty (FS = Dirty, SD = 1) after an FP register or fcsr write; with V=1 at both levels. */
  fpDirty(): void {
    this.c[S_MSTATUS * 2] |= MSTATUS_FS;
    this.c[S_MSTATUS * 2 + 1] |= MSTATUS_HI_SD;
    if (this.c[S_VIRT * 2] !== 0) {
      this.c[S_MFS_SAVE * 2] = MSTATUS_FS;
      this.c[S_VSSTATUS * 2] |= MSTATUS_FS;
    }
  }
}

export { MIP_MEIP, MIP_MSIP, MIP_MTIP, MIP_SEIP, MIP_SSIP, MIP_STIP };

import {
  CAUSE_BREAKPOINT,
  CAUSE_FETCH_ACCESS,
  CAUSE_FETCH_PAGE_FAULT,
  CAUSE_ILLEGAL_INSTRUCTION,
  CAUSE_LOAD_ACCESS,
  CAUSE_LOAD_PAGE_FAULT,
  CAUSE_MISALIGNED_FETCH,
  CAUSE_MISALIGNED_LOAD,
  CAUSE_MISALIGNED_STORE,
  CAUSE_STORE_ACCESS,
  CAUSE_STORE_PAGE_FAULT,
  CAUSE_USER_ECALL,
  MIP_SSIP,
  MIP_STIP,
  MSTATUS_FS_SHIFT,
  MSTATUS_HI_XL,
  MSTATUS_SIE,
  PRV_S,
  S_INTERRUPTS,
} from "../cpu/constants.ts";
import {
  S_MCOUNTEREN,
  S_MEDELEG,
  S_MENVCFG,
  S_MIDELEG,
  S_MIE,
  S_MIP,
  S_MSTATUS,
  S_SATP,
  S_SCOUNTEREN,
  S_STIMECMP,
} from "../cpu/csr-slots.ts";
import { type Hart, TRAP } from "../cpu/hart.ts";
import type { CharBackend } from "../devices/backends.ts";
import type { Clock } from "../devices/clint.ts";
import type { GuestMemory } from "../memory/guest-memory.ts";
import { expectNumber, expectVersion, StateError, type Stateful } from "../snapshot/state.ts";
import {
  BASE_GET_IMPL_ID,
  BASE_GET_IMPL_VERSION,
  BASE_GET_MARCHID,
  BASE_GET_MIMPID,
  BASE_GET_MVENDORID,
  BASE_GET_SPEC_VERSION,
  BASE_PROBE_EXTENSION,
  DBCN_CONSOLE_READ,
  DBCN_CONSOLE_WRITE,
  DBCN_CONSOLE_WRITE_BYTE,
  EXT_BASE,
  EXT_DBCN,
  EXT_HSM,
  EXT_IPI,
  EXT_LEGACY_CLEAR_IPI,
  EXT_LEGACY_CONSOLE_GETCHAR,
  EXT_LEGACY_CONSOLE_PUTCHAR,
  EXT_LEGACY_REMOTE_FENCE_I,
  EXT_LEGACY_REMOTE_SFENCE_VMA,
  EXT_LEGACY_REMOTE_SFENCE_VMA_ASID,
  EXT_LEGACY_SEND_IPI,
  EXT_LEGACY_SET_TIMER,
  EXT_LEGACY_SHUTDOWN,
  EXT_RFENCE,
  EXT_SRST,
  EXT_TIME,
  HSM_HART_GET_STATUS,
  HSM_HART_START,
  HSM_HART_STOP,
  HSM_HART_SUSPEND,
  HSM_STARTED,
  HSM_STOPPED,
  HSM_SUSPENDED,
  IPI_SEND_IPI,
  RFENCE_REMOTE_FENCE_I,
  RFENCE_REMOTE_HFENCE_GVMA_VMID,
  RFENCE_REMOTE_HFENCE_VVMA,
  RFENCE_REMOTE_SFENCE_VMA,
  RFENCE_REMOTE_SFENCE_VMA_ASID,
  SBI_ERR_ALREADY_AVAILABLE,
  SBI_ERR_FAILED,
  SBI_ERR_INVALID_ADDRESS,
  SBI_ERR_INVALID_PARAM,
  SBI_ERR_NOT_SUPPORTED,
  SBI_IMPL_ID,
  SBI_IMPL_VERSION,
  SBI_SPEC_VERSION,
  SBI_SUCCESS,
  SRST_REASON_NONE,
  SRST_REASON_SYSTEM_FAILURE,
  SRST_SYSTEM_RESET,
  SRST_TYPE_COLD_REBOOT,
  SRST_TYPE_SHUTDOWN,
  SRST_TYPE_WARM_REBOOT,
  SUSPEND_DEFAULT_NON_RETENTIVE,
  SUSPEND_DEFAULT_RETENTIVE,
  TIME_SET_TIMER,
} from "./sbi-constants.ts";

/** What the firmware needs of the board: a Machine fits. */
export interface SbiBoard {
  readonly harts: readonly Hart[];
  readonly mem: GuestMemory;
  readonly clock: Clock;
  /** Set to end Machine.run at the next slice boundary (system reset). */
  stopRequested: boolean;
}

export type ResetType = "shutdown" | "cold_reboot" | "warm_reboot";
/** SRST reasons: 0 none, 1 system failure; "other" is an SBI- or vendor-specific code (see `code`). */
export type ResetReason = "none" | "system_failure" | "other";

export interface SystemResetRequest {
  type: ResetType;
  reason: ResetReason;
  /** The raw reset_reason (0, 1, or 0xE0000000..0xFFFFFFFF). */
  code: number;
  /** The hart that asked. */
  hartId: number;
}

export interface BuiltinSbiOptions {
  /** Where the SBI console (legacy putchar, DBCN) writes. */
  console: CharBackend;
  /** Called on SRST system_reset / legacy shutdown; the machine is also asked to stop. */
  onReset?: (req: SystemResetRequest) => void;
}

/** SBI firmware state as plain data (design 2.8). Harts' own state is saved with the harts. */
export interface SbiState {
  version: 1;
  /** HSM state per hart (HSM_STARTED, HSM_STOPPED or HSM_SUSPENDED). */
  hsm: number[];
  /** Console input not yet read by the guest. */
  input: Uint8Array;
}

/**
 * medeleg: with no M-mode code to handle anything, every exception S-mode
 * can handle goes to S: misaligned fetch/load/store, access faults, illegal
 * instruction, breakpoint, ecall from U, page faults. Not ecall from S (the
 * host serves it through the hook) nor from M.
 */
export const SBI_MEDELEG =
  (1 << CAUSE_MISALIGNED_FETCH) |
  (1 << CAUSE_FETCH_ACCESS) |
  (1 << CAUSE_ILLEGAL_INSTRUCTION) |
  (1 << CAUSE_BREAKPOINT) |
  (1 << CAUSE_MISALIGNED_LOAD) |
  (1 << CAUSE_LOAD_ACCESS) |
  (1 << CAUSE_MISALIGNED_STORE) |
  (1 << CAUSE_STORE_ACCESS) |
  (1 << CAUSE_USER_ECALL) |
  (1 << CAUSE_FETCH_PAGE_FAULT) |
  (1 << CAUSE_LOAD_PAGE_FAULT) |
  (1 << CAUSE_STORE_PAGE_FAULT);
/** With the H extension: ecall from VS (10), guest-page faults (20, 21, 23), virtual instruction (22). */
export const SBI_MEDELEG_H = (1 << 10) | (1 << 20) | (1 << 21) | (1 << 22) | (1 << 23);
/** mideleg: the S-level interrupts. M-level ones stay disabled in mie forever (nobody would handle them). */
export const SBI_MIDELEG = S_INTERRUPTS;
/** mcounteren (and the initial scounteren): cycle, time, instret readable from S (and U). */
export const SBI_MCOUNTEREN = 7;
/** menvcfg.STCE (bit 63): Sstc, so stimecmp drives STIP (set_timer uses it too). */
const MENVCFG_STCE_HI = 1 << 31;
/** mstatus.FS = Initial. */
const MSTATUS_FS_INITIAL = 1 << MSTATUS_FS_SHIFT;
/** PMP entry 0: NAPOT over the whole address space, R W X. */
const PMP_NAPOT_ALL_ADDR = 2 ** 54 - 1;
const PMP_NAPOT_RWX = 0x1f;
/** Bytes one DBCN console_write passes on (the call may write partially; callers loop). */
const DBCN_WRITE_MAX = 64 * 1024;
/** Console input buffered for the guest; bytes beyond are dropped, as a full UART FIFO would. */
export const SBI_INPUT_CAPACITY = 64 * 1024;

/** Register pairs: a0..a7 are x10..x17, each a lo/hi pair in `h.x`. */
const A0 = 20;
const A1 = 22;
const A2 = 24;
const A6 = 32;
const A7 = 34;

/** An unsigned 64-bit value from its words, as a double (exact below 2^53; larger values are only compared). */
function u64(lo: number, hi: number): number {
  return (lo >>> 0) + (hi >>> 0) * 2 ** 32;
}

/**
 * The built-in SBI firmware (`--bios builtin`): SBI v2.0 served by the host,
 * so Linux runs in S-mode with no M-mode code at all. It installs itself as
 * every hart's `sbiHook`; an S-mode `ecall` lands in `handle`, which reads
 * a7 (extension), a6 (function), a0..a5 and writes a0 (error) and a1
 * (value). M-mode state is prepared as OpenSBI leaves it (`prepareHart`).
 *
 * Everything the guest passes is untrusted: ids, addresses and lengths are
 * validated and the hook never throws (an internal error becomes
 * SBI_ERR_FAILED).
 *
 * Extensions: BASE, TIME, IPI, RFENCE, HSM, SRST, DBCN, and the legacy
 * v0.1 calls 0x00..0x08 (set_timer, console putchar/getchar, clear_ipi,
 * send_ipi, remote fences, shutdown).
 *
 * HSM: a STOPPED hart waits with mie = 0, so nothing ever wakes it
 * (Hart.checkInterrupts needs mip & mie); hart_start sets it up and clears
 * `waiting`.
 */
export class BuiltinSbi implements Stateful<SbiState> {
  private readonly board: SbiBoard;
  private readonly harts: readonly Hart[];
  private readonly console: CharBackend;
  private readonly onReset: ((req: SystemResetRequest) => void) | undefined;
  /** HSM state per hart. */
  private readonly hsm: number[];
  /** Console input ring. */
  private readonly inBuf = new Uint8Array(SBI_INPUT_CAPACITY);
  private inHead = 0;
  private inLen = 0;
  /** The last unexpected exception inside the hook (a host bug, reported to the guest as SBI_ERR_FAILED). */
  lastInternalError: unknown = undefined;

  constructor(board: SbiBoard, opts: BuiltinSbiOptions) {
    this.board = board;
    this.harts = board.harts;
    this.console = opts.console;
    this.onReset = opts.onReset;
    this.hsm = this.harts.map(() => HSM_STOPPED);
    for (const h of this.harts) {
      h.sbiHook = this.handle;
      this.park(h);
    }
  }

  // ------------------------------------------------------------ host side

  /**
   * Cold boot as OpenSBI's fw_jump does it: the boot hart enters S-mode at
   * `entry` with a0 = its hart id and a1 = `dtb`; every other hart is
   * STOPPED until the kernel starts it with HSM hart_start.
   */
  boot(entry: number, dtb: number, bootHart = 0): void {
    const b = this.harts[bootHart];
    if (b === undefined) throw new RangeError(`no hart ${bootHart}`);
    for (const h of this.harts) if (h !== b) this.stopHart(h);
    this.prepareHart(b, entry, b.id, dtb);
  }

  /**
   * Sets up a hart's M-mode state as OpenSBI leaves it and enters S-mode at
   * `entry` (a physical address) with a0, a1 given; its HSM state becomes
   * STARTED.
   */
  prepareHart(h: Hart, entry: number, a0: number = h.id, a1 = 0): void {
    this.enterSupervisor(h, lo32(entry), hi32(entry), lo32(a0), hi32(a0), lo32(a1), hi32(a1));
  }

  /** Puts a hart in HSM state STOPPED: it executes nothing until hart_start. */
  stopHart(h: Hart): void {
    this.park(h);
  }

  /** The HSM state of hart `id` (HSM_STARTED, HSM_STOPPED, HSM_SUSPENDED). */
  hartState(id: number): number {
    const s = this.hsm[id];
    if (s === undefined) throw new RangeError(`no hart ${id}`);
    // A suspended hart resumes by itself on an interrupt, like wfi.
    if (s === HSM_SUSPENDED && !this.harts[id].waiting) this.hsm[id] = HSM_STARTED;
    return this.hsm[id];
  }

  /** Host → guest console input (read by legacy getchar and DBCN console_read). Returns bytes accepted. */
  pushInput(data: Uint8Array | string): number {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const n = Math.min(bytes.length, SBI_INPUT_CAPACITY - this.inLen);
    for (let i = 0; i < n; i++) {
      this.inBuf[(this.inHead + this.inLen) % SBI_INPUT_CAPACITY] = bytes[i];
      this.inLen++;
    }
    return n;
  }

  /** Console input bytes waiting for the guest. */
  get pendingInput(): number {
    return this.inLen;
  }

  saveState(): SbiState {
    return { version: 1, hsm: this.hsm.slice(), input: this.peekInput() };
  }

  restoreState(s: SbiState): void {
    const who = "sbi";
    expectVersion(who, s, 1);
    if (!Array.isArray(s.hsm) || s.hsm.length !== this.harts.length)
      throw new StateError(who, `hsm must have ${this.harts.length} entries`);
    for (const v of s.hsm) {
      expectNumber(who, "hsm", v, 0, 6);
      if (v !== HSM_STARTED && v !== HSM_STOPPED && v !== HSM_SUSPENDED)
        throw new StateError(who, `unexpected HSM state ${v}`);
    }
    if (!(s.input instanceof Uint8Array) || s.input.length > SBI_INPUT_CAPACITY)
      throw new StateError(who, `input must be at most ${SBI_INPUT_CAPACITY} bytes`);
    for (let i = 0; i < s.hsm.length; i++) this.hsm[i] = s.hsm[i];
    this.inHead = 0;
    this.inLen = 0;
    this.pushInput(s.input);
  }

  // ------------------------------------------------------------ the hook

  /**
   * The `sbiHook` of every hart. Returns true when the call was served (the
   * hart then continues after the ecall), false to take a trap instead:
   * only when reading guest memory for a legacy call faulted, in which case
   * the hart's recorded trap is that fault and it goes to S-mode with sepc
   * at the ecall, as OpenSBI redirects such faults.
   */
  readonly handle = (h: Hart): boolean => {
    try {
      this.dispatch(h);
      return true;
    } catch (e) {
      if (e === TRAP) return false;
      this.lastInternalError = e;
      setRet(h, SBI_ERR_FAILED, 0, 0);
      return true;
    }
  };

  private dispatch(h: Hart): void {
    const x = h.x;
    const eid = x[A7];
    const fid = x[A6];
    // EIDs and FIDs are 32-bit values; every one we serve is positive, so the high word must be zero.
    if (x[A7 + 1] !== 0) return setErr(h, SBI_ERR_NOT_SUPPORTED);
    if (eid >= 0 && eid <= EXT_LEGACY_SHUTDOWN) return this.legacy(h, eid);
    if (x[A6 + 1] !== 0 || fid < 0) return setErr(h, SBI_ERR_NOT_SUPPORTED);
    switch (eid) {
      case EXT_BASE:
        return this.base(h, fid);
      case EXT_TIME:
        if (fid !== TIME_SET_TIMER) return setErr(h, SBI_ERR_NOT_SUPPORTED);
        this.setTimer(h, x[A0], x[A0 + 1]);
        return setRet(h, SBI_SUCCESS, 0, 0);
      case EXT_IPI:
        return this.ipi(h, fid);
      case EXT_RFENCE:
        return this.rfence(h, fid);
      case EXT_HSM:
        return this.hsmCall(h, fid);
      case EXT_SRST:
        return this.srst(h, fid);
      case EXT_DBCN:
        return this.dbcn(h, fid);
      default:
        return setErr(h, SBI_ERR_NOT_SUPPORTED);
    }
  }

  private static implemented(eid: number): boolean {
    switch (eid) {
      case EXT_BASE:
      case EXT_TIME:
      case EXT_IPI:
      case EXT_RFENCE:
      case EXT_HSM:
      case EXT_SRST:
      case EXT_DBCN:
        return true;
      default:
        return eid >= 0 && eid <= EXT_LEGACY_SHUTDOWN;
    }
  }

  private base(h: Hart, fid: number): void {
    switch (fid) {
      case BASE_GET_SPEC_VERSION:
        return setRet(h, SBI_SUCCESS, SBI_SPEC_VERSION, 0);
      case BASE_GET_IMPL_ID:
        return setRet(h, SBI_SUCCESS, SBI_IMPL_ID, 0);
      case BASE_GET_IMPL_VERSION:
        return setRet(h, SBI_SUCCESS, SBI_IMPL_VERSION, 0);
      case BASE_PROBE_EXTENSION: {
        const ok = h.x[A0 + 1] === 0 && BuiltinSbi.implemented(h.x[A0]);
        return setRet(h, SBI_SUCCESS, ok ? 1 : 0, 0);
      }
      case BASE_GET_MVENDORID:
      case BASE_GET_MARCHID:
      case BASE_GET_MIMPID:
        // The hart's mvendorid/marchid/mimpid CSRs read zero (csr.ts).
        return setRet(h, SBI_SUCCESS, 0, 0);
      default:
        return setErr(h, SBI_ERR_NOT_SUPPORTED);
    }
  }

  // ---------------------------------------------------------------- TIME

  /**
   * set_timer without M-mode: the deadline goes into the hart's stimecmp
   * and menvcfg.STCE is on, so the board drives STIP from it exactly as for
   * Sstc (Machine.updateTimers, skipToNextTimer). Setting a future deadline
   * clears a pending STIP at once.
   */
  private setTimer(h: Hart, lo: number, hi: number): void {
    h.c[S_MENVCFG * 2 + 1] |= MENVCFG_STCE_HI;
    h.c[S_STIMECMP * 2] = lo;
    h.c[S_STIMECMP * 2 + 1] = hi;
    h.setIrqLine(MIP_STIP, this.board.clock.now() >= u64(lo, hi));
    h.sliceEnd = 0;
  }

  // ---------------------------------------------------------- hart masks

  /**
   * Harts named by (hart_mask, hart_mask_base) as a bit set of hart
   * indices, or -1 when the base or any named hart does not exist
   * (SBI_ERR_INVALID_PARAM). base = -1 means every hart.
   */
  private hartMask(maskLo: number, maskHi: number, baseLo: number, baseHi: number): number {
    const n = this.harts.length;
    if (baseLo === -1 && baseHi === -1) return (1 << n) - 1;
    if (maskLo === 0 && maskHi === 0) return 0;
    if (baseHi !== 0) return -1;
    const base = baseLo >>> 0;
    let set = 0;
    for (let i = 0; i < 64; i++) {
      const bit = i < 32 ? (maskLo >>> i) & 1 : (maskHi >>> (i - 32)) & 1;
      if (bit === 0) continue;
      const id = base + i;
      if (id >= n) return -1;
      set |= 1 << id;
    }
    return set;
  }

  /** Whether a hart can take interrupts (HSM STARTED or SUSPENDED); stopped harts are skipped. */
  private interruptible(id: number): boolean {
    const s = this.hsm[id];
    return s === HSM_STARTED || s === HSM_SUSPENDED;
  }

  private ipi(h: Hart, fid: number): void {
    const x = h.x;
    if (fid !== IPI_SEND_IPI) return setErr(h, SBI_ERR_NOT_SUPPORTED);
    const set = this.hartMask(x[A0], x[A0 + 1], x[A1], x[A1 + 1]);
    if (set < 0) return setErr(h, SBI_ERR_INVALID_PARAM);
    this.sendIpi(set);
    setRet(h, SBI_SUCCESS, 0, 0);
  }

  /** IPI: raise SSIP (the software-writable mip bit) on each target; a waiting target wakes if it enabled SSIE. */
  private sendIpi(set: number): void {
    for (let i = 0; i < this.harts.length; i++) {
      if ((set & (1 << i)) === 0 || !this.interruptible(i)) continue;
      const t = this.harts[i];
      t.c[S_MIP * 2] |= MIP_SSIP;
      t.sliceEnd = 0;
    }
  }

  // -------------------------------------------------------------- RFENCE

  private rfence(h: Hart, fid: number): void {
    const x = h.x;
    // FIDs 3..6 are the remote hfence.gvma/vvma calls: with the H extension only (KVM uses them).
    const hfence = fid >= RFENCE_REMOTE_HFENCE_GVMA_VMID && fid <= RFENCE_REMOTE_HFENCE_VVMA && h.hExt;
    if (
      fid !== RFENCE_REMOTE_FENCE_I &&
      fid !== RFENCE_REMOTE_SFENCE_VMA &&
      fid !== RFENCE_REMOTE_SFENCE_VMA_ASID &&
      !hfence
    )
      return setErr(h, SBI_ERR_NOT_SUPPORTED);
    const set = this.hartMask(x[A0], x[A0 + 1], x[A1], x[A1 + 1]);
    if (set < 0) return setErr(h, SBI_ERR_INVALID_PARAM);
    this.fence(set, fid === RFENCE_REMOTE_FENCE_I);
    setRet(h, SBI_SUCCESS, 0, 0);
  }

  /**
   * Remote fences: fence.i, or sfence.vma. Any range or ASID is served by a
   * full flush (always correct); the software TLB has no ASID tags.
   */
  private fence(set: number, fenceI: boolean): void {
    for (let i = 0; i < this.harts.length; i++) {
      if ((set & (1 << i)) === 0) continue;
      const t = this.harts[i];
      if (fenceI) t.onFenceI();
      else t.tlb.flush();
    }
  }

  // ----------------------------------------------------------------- HSM

  private hsmCall(h: Hart, fid: number): void {
    const x = h.x;
    switch (fid) {
      case HSM_HART_START: {
        const id = this.hartId(x[A0], x[A0 + 1]);
        if (id < 0) return setErr(h, SBI_ERR_INVALID_PARAM);
        if (this.hartState(id) !== HSM_STOPPED) return setErr(h, SBI_ERR_ALREADY_AVAILABLE);
        if (!this.executable(x[A1], x[A1 + 1])) return setErr(h, SBI_ERR_INVALID_ADDRESS);
        this.enterSupervisor(this.harts[id], x[A1], x[A1 + 1], id, 0, x[A2], x[A2 + 1]);
        return setRet(h, SBI_SUCCESS, 0, 0);
      }
      case HSM_HART_STOP:
        // Does not return: the hart waits, STOPPED, until another hart starts it.
        this.park(h);
        return;
      case HSM_HART_GET_STATUS: {
        const id = this.hartId(x[A0], x[A0 + 1]);
        if (id < 0) return setErr(h, SBI_ERR_INVALID_PARAM);
        return setRet(h, SBI_SUCCESS, this.hartState(id), 0);
      }
      case HSM_HART_SUSPEND:
        return this.suspend(h);
      default:
        return setErr(h, SBI_ERR_NOT_SUPPORTED);
    }
  }

  /**
   * hart_suspend: the two default types. Retentive is wfi that returns
   * SBI_SUCCESS once an interrupt is pending (mip & mie); non-retentive
   * resumes at resume_addr with satp = 0, sstatus.SIE = 0, a0 = hartid,
   * a1 = opaque. Reserved and platform-specific types: INVALID_PARAM.
   */
  private suspend(h: Hart): void {
    const x = h.x;
    const type = x[A0] >>> 0;
    if (x[A0 + 1] !== 0 || (type !== SUSPEND_DEFAULT_RETENTIVE && type !== SUSPEND_DEFAULT_NON_RETENTIVE))
      return setErr(h, SBI_ERR_INVALID_PARAM);
    if (type === SUSPEND_DEFAULT_RETENTIVE) {
      setRet(h, SBI_SUCCESS, 0, 0);
    } else {
      if (!this.executable(x[A1], x[A1 + 1])) return setErr(h, SBI_ERR_INVALID_ADDRESS);
      const resume = u64(x[A1], x[A1 + 1]);
      h.c[S_SATP * 2] = 0;
      h.c[S_SATP * 2 + 1] = 0;
      h.c[S_MSTATUS * 2] &= ~MSTATUS_SIE;
      h.tlb.flush();
      x[A1] = x[A2];
      x[A1 + 1] = x[A2 + 1];
      x[A0] = h.id;
      x[A0 + 1] = 0;
      // The hook's caller steps past the ecall (pc + 4), so aim 4 bytes short.
      const pc = resume - 4;
      h.setPc(lo32(pc), hi32(pc));
    }
    this.hsm[h.id] = HSM_SUSPENDED;
    h.waiting = true;
    h.sliceEnd = 0;
  }

  /** A hart index from a guest hartid, or -1. */
  private hartId(lo: number, hi: number): number {
    return hi === 0 && lo >= 0 && lo < this.harts.length ? lo : -1;
  }

  /** Whether S-mode can start executing at physical address (lo, hi): in RAM and 2-byte aligned. */
  private executable(lo: number, hi: number): boolean {
    return (lo & 1) === 0 && this.board.mem.ramOffset(u64(lo, hi), 2) >= 0;
  }

  /**
   * Stops a hart: it waits with every interrupt disabled in mie so nothing
   * wakes it, no software-pending bits, and no timer deadline (so an idle
   * deterministic machine does not skip time for it).
   */
  private park(h: Hart): void {
    this.hsm[h.id] = HSM_STOPPED;
    h.waiting = true;
    h.sliceEnd = 0;
    h.resValid = false;
    h.c[S_MIE * 2] = 0;
    h.c[S_MIE * 2 + 1] = 0;
    h.c[S_MIP * 2] = 0;
    h.c[S_MIP * 2 + 1] = 0;
    h.c[S_STIMECMP * 2] = -1;
    h.c[S_STIMECMP * 2 + 1] = -1;
    h.setIrqLine(MIP_STIP, false);
  }

  /** The M-mode setup OpenSBI does before it mrets into S-mode (no M-mode code will ever run here). */
  private enterSupervisor(
    h: Hart,
    pcLo: number,
    pcHi: number,
    a0Lo: number,
    a0Hi: number,
    a1Lo: number,
    a1Hi: number,
  ): void {
    const c = h.c;
    const set = (slot: number, lo: number, hi: number) => {
      c[slot * 2] = lo;
      c[slot * 2 + 1] = hi;
    };
    // SIE = 0, SPP/SPIE clear, MPRV/SUM/MXR/TVM/TW/TSR clear, FS = Initial.
    set(S_MSTATUS, MSTATUS_FS_INITIAL, MSTATUS_HI_XL);
    // With H, as OpenSBI: ecalls from VS, guest-page faults and virtual instructions go to HS too.
    set(S_MEDELEG, SBI_MEDELEG | (h.hExt ? SBI_MEDELEG_H : 0), 0);
    set(S_MIDELEG, SBI_MIDELEG, 0);
    // S interrupts enabled in mie (Linux narrows them through sie); M-level ones never.
    set(S_MIE, S_INTERRUPTS, 0);
    set(S_MIP, 0, 0);
    set(S_MCOUNTEREN, SBI_MCOUNTEREN, 0);
    // U-mode rdtime/rdcycle/rdinstret (the vDSO reads time): OpenSBI opens these to U as well.
    set(S_SCOUNTEREN, SBI_MCOUNTEREN, 0);
    set(S_MENVCFG, 0, MENVCFG_STCE_HI);
    set(S_STIMECMP, -1, -1);
    set(S_SATP, 0, 0);
    h.setIrqLine(MIP_STIP, false);
    h.pmp.writeAddr(0, PMP_NAPOT_ALL_ADDR);
    h.pmp.writeCfg(0, PMP_NAPOT_RWX);
    h.x.fill(0);
    h.x[A0] = a0Lo;
    h.x[A0 + 1] = a0Hi;
    h.x[A1] = a1Lo;
    h.x[A1 + 1] = a1Hi;
    h.setPriv(PRV_S);
    h.tlb.flush();
    h.resValid = false;
    h.setPc(pcLo, pcHi);
    h.waiting = false;
    h.sliceEnd = 0;
    this.hsm[h.id] = HSM_STARTED;
  }

  // ---------------------------------------------------------------- SRST

  private srst(h: Hart, fid: number): void {
    const x = h.x;
    if (fid !== SRST_SYSTEM_RESET) return setErr(h, SBI_ERR_NOT_SUPPORTED);
    // reset_type and reset_reason are 32-bit.
    if (x[A0 + 1] !== 0 || x[A1 + 1] !== 0) return setErr(h, SBI_ERR_INVALID_PARAM);
    const type = x[A0] >>> 0;
    const code = x[A1] >>> 0;
    let t: ResetType;
    if (type === SRST_TYPE_SHUTDOWN) t = "shutdown";
    else if (type === SRST_TYPE_COLD_REBOOT) t = "cold_reboot";
    else if (type === SRST_TYPE_WARM_REBOOT) t = "warm_reboot";
    else if (type >= 0xf000_0000)
      return setErr(h, SBI_ERR_NOT_SUPPORTED); // vendor-specific: none
    else return setErr(h, SBI_ERR_INVALID_PARAM); // reserved
    let reason: ResetReason;
    if (code === SRST_REASON_NONE) reason = "none";
    else if (code === SRST_REASON_SYSTEM_FAILURE) reason = "system_failure";
    else if (code >= 0xe000_0000)
      reason = "other"; // SBI-implementation or vendor specific
    else return setErr(h, SBI_ERR_INVALID_PARAM); // reserved
    setErr(h, SBI_ERR_FAILED);
    this.reset(h, { type: t, reason, code, hartId: h.id });
  }

  /**
   * Hands the reset to the host and stops the machine. The call "does not
   * return"; should the host resume the hart anyway, it sees SBI_ERR_FAILED.
   */
  private reset(h: Hart, req: SystemResetRequest): void {
    this.board.stopRequested = true;
    h.sliceEnd = 0;
    this.onReset?.(req);
  }

  // ---------------------------------------------------------------- DBCN

  private dbcn(h: Hart, fid: number): void {
    const x = h.x;
    switch (fid) {
      case DBCN_CONSOLE_WRITE:
      case DBCN_CONSOLE_READ: {
        // On RV64 base_addr_hi holds address bits 64 and up: it must be zero.
        if (x[A2] !== 0 || x[A2 + 1] !== 0) return setErr(h, SBI_ERR_INVALID_PARAM);
        const mem = this.board.mem;
        const n = u64(x[A0], x[A0 + 1]);
        const pa = u64(x[A1], x[A1 + 1]);
        if (mem.ramOffset(pa, n) < 0) return setErr(h, SBI_ERR_INVALID_PARAM);
        if (fid === DBCN_CONSOLE_WRITE) {
          const k = Math.min(n, DBCN_WRITE_MAX);
          // A copy: the backend may keep the buffer past this call while the guest reuses its memory.
          if (k > 0) this.console.write(mem.readPhys(pa, k));
          return setRet(h, SBI_SUCCESS, k, 0);
        }
        const k = Math.min(n, this.inLen);
        const bytes = new Uint8Array(k);
        for (let i = 0; i < k; i++) bytes[i] = this.takeInput();
        // writePhys keeps the decoded-instruction cache coherent with the host-side store.
        mem.writePhys(pa, bytes);
        return setRet(h, SBI_SUCCESS, k, 0);
      }
      case DBCN_CONSOLE_WRITE_BYTE:
        this.console.write(Uint8Array.of(x[A0] & 0xff));
        return setRet(h, SBI_SUCCESS, 0, 0);
      default:
        return setErr(h, SBI_ERR_NOT_SUPPORTED);
    }
  }

  private takeInput(): number {
    const b = this.inBuf[this.inHead];
    this.inHead = (this.inHead + 1) % SBI_INPUT_CAPACITY;
    this.inLen--;
    return b;
  }

  private peekInput(): Uint8Array {
    const out = new Uint8Array(this.inLen);
    for (let i = 0; i < this.inLen; i++) out[i] = this.inBuf[(this.inHead + i) % SBI_INPUT_CAPACITY];
    return out;
  }

  // -------------------------------------------------------------- legacy

  /**
   * SBI v0.1 calls (EIDs 0x00..0x08; a6 ignored). They return one value in
   * a0 and leave a1 alone. Hart masks are passed by (virtual) pointer to an
   * unsigned long, NULL meaning all harts; a fault reading it is redirected
   * to S-mode (see `handle`).
   */
  private legacy(h: Hart, eid: number): void {
    const x = h.x;
    let ret = SBI_SUCCESS;
    switch (eid) {
      case EXT_LEGACY_SET_TIMER:
        this.setTimer(h, x[A0], x[A0 + 1]);
        break;
      case EXT_LEGACY_CONSOLE_PUTCHAR:
        this.console.write(Uint8Array.of(x[A0] & 0xff));
        break;
      case EXT_LEGACY_CONSOLE_GETCHAR:
        ret = this.inLen > 0 ? this.takeInput() : -1;
        break;
      case EXT_LEGACY_CLEAR_IPI:
        h.c[S_MIP * 2] &= ~MIP_SSIP;
        break;
      case EXT_LEGACY_SEND_IPI: {
        const set = this.legacyMask(h);
        if (set < 0) ret = SBI_ERR_INVALID_PARAM;
        else this.sendIpi(set);
        break;
      }
      case EXT_LEGACY_REMOTE_FENCE_I:
      case EXT_LEGACY_REMOTE_SFENCE_VMA:
      case EXT_LEGACY_REMOTE_SFENCE_VMA_ASID: {
        const set = this.legacyMask(h);
        if (set < 0) ret = SBI_ERR_INVALID_PARAM;
        else this.fence(set, eid === EXT_LEGACY_REMOTE_FENCE_I);
        break;
      }
      case EXT_LEGACY_SHUTDOWN:
        this.reset(h, { type: "shutdown", reason: "none", code: SRST_REASON_NONE, hartId: h.id });
        ret = SBI_ERR_FAILED;
        break;
    }
    x[A0] = ret;
    x[A0 + 1] = ret >> 31;
  }

  /** The hart set a legacy call's a0 points to (S-mode virtual address; 0 = all harts); -1 if invalid. */
  private legacyMask(h: Hart): number {
    const lo = h.x[A0];
    const hi = h.x[A0 + 1];
    if (lo === 0 && hi === 0) return (1 << this.harts.length) - 1;
    // A load as the hart itself, in S-mode: may raise TRAP (page or access fault), which `handle` redirects.
    const mLo = h.load(lo, hi, 8, false);
    return this.hartMask(mLo, h.ldHi, 0, 0);
  }
}

function setRet(h: Hart, err: number, valLo: number, valHi: number): void {
  const x = h.x;
  x[A0] = err;
  x[A0 + 1] = err >> 31;
  x[A1] = valLo;
  x[A1 + 1] = valHi;
}

function setErr(h: Hart, err: number): void {
  setRet(h, err, 0, 0);
}

function lo32(v: number): number {
  return (v % 2 ** 32) | 0;
}

function hi32(v: number): number {
  return Math.floor(v / 2 ** 32) | 0;
}

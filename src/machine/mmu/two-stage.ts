/**
 * Two-stage address translation for V=1 (priv spec, "Hypervisor Extension",
 * "Two-Stage Address Translation"): a guest virtual address goes through
 * the VS-stage (vsatp: Bare, Sv39, Sv48, Sv57) to a guest physical address,
 * then through the G-stage (hgatp: Bare, Sv39x4, Sv48x4, Sv57x4) to a
 * supervisor physical address. Every VS-stage page-table access is itself a
 * guest physical address and takes the G-stage first (as a load; the A/D
 * update as a store). A and D are set in hardware at both stages.
 *
 * Guest physical addresses are up to 59 bits wide, more than a double holds
 * exactly, so they travel as (lo, hi) int32 pairs; page numbers (at most 47
 * bits) and supervisor physical addresses (as in walker.ts) are doubles.
 *
 * A failed translation returns -(cause + 1). For a guest-page fault,
 * `guestFault` holds what the trap reports: the guest physical address
 * shifted right by 2 (htval/mtval2) and the transformed instruction
 * (htinst/mtinst): zero for the access itself (allowed), the
 * pseudoinstruction 0x3000 (a 64-bit read) or 0x3020 (a 64-bit write) when
 * an implicit access for VS-stage translation faulted (required: it tells
 * the hypervisor that htval holds a PTE's address).
 */
import {
  ACCESS_FETCH,
  ACCESS_LOAD,
  ACCESS_STORE,
  CAUSE_FETCH_ACCESS,
  CAUSE_FETCH_GUEST_PAGE_FAULT,
  CAUSE_FETCH_PAGE_FAULT,
  CAUSE_LOAD_ACCESS,
  CAUSE_LOAD_GUEST_PAGE_FAULT,
  CAUSE_LOAD_PAGE_FAULT,
  CAUSE_STORE_ACCESS,
  CAUSE_STORE_GUEST_PAGE_FAULT,
  CAUSE_STORE_PAGE_FAULT,
  PRV_S,
  PRV_U,
} from "../cpu/constants.ts";
import { lastLeaf, type WalkContext } from "./walker.ts";

const PTE_V = 1;
const PTE_R = 2;
const PTE_W = 4;
const PTE_X = 8;
const PTE_U = 16;
const PTE_A = 64;
const PTE_D = 128;

const pageFault = [CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT];
const guestPageFault = [
  CAUSE_FETCH_GUEST_PAGE_FAULT,
  CAUSE_LOAD_GUEST_PAGE_FAULT,
  CAUSE_STORE_GUEST_PAGE_FAULT,
];
const accessFault = [CAUSE_FETCH_ACCESS, CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS];

/** htinst/mtinst pseudoinstructions for implicit VS-stage page-table accesses (64-bit read, write). */
export const TINST_PTE_READ = 0x3000;
export const TINST_PTE_WRITE = 0x3020;

/** What the last guest-page fault reports (valid when a translation returned a guest-page-fault cause). */
export const guestFault = { gpaShr2Lo: 0, gpaShr2Hi: 0, tinst: 0 };

function recordGuestFault(gLo: number, gHi: number, tinst: number): void {
  guestFault.gpaShr2Lo = (gLo >>> 2) | (gHi << 30);
  guestFault.gpaShr2Hi = gHi >>> 2;
  guestFault.tinst = tinst;
}

/** Bits [shift, shift + width) of the 64-bit (lo, hi), for shift >= 12 and width <= 11. */
function field(lo: number, hi: number, shift: number, width: number): number {
  const mask = (1 << width) - 1;
  if (shift >= 32) return (hi >>> (shift - 32)) & mask;
  return ((lo >>> shift) | (hi << (32 - shift))) & mask;
}

/** A PTE's PPN (bits 53:10) as a double. */
function ptePpn(lo: number, hi: number): number {
  return (lo >>> 10) + (hi & 0x3fffff) * 2 ** 22;
}

/**
 * G-stage translation of the guest physical address (gLo, gHi) for an
 * access checked as `perm` (fetch/load/store); a fault is reported as
 * `faultKind` (the original access: for implicit page-table accesses it
 * differs from `perm`). Every G-stage access counts as a U-mode access.
 * `mxr` is the HS-level mstatus.MXR; `hlvx` asks for execute permission in
 * place of read. `tinst` goes to htinst on a guest-page fault.
 */
export function gStage(
  ctx: WalkContext,
  hgatpLo: number,
  hgatpHi: number,
  gLo: number,
  gHi: number,
  perm: number,
  faultKind: number,
  mxr: boolean,
  hlvx: boolean,
  tinst: number,
): number {
  const mode = hgatpHi >>> 28;
  if (mode === 0) return (gLo >>> 0) + (gHi >>> 0) * 2 ** 32;
  const levels = mode - 5; // Sv39x4: 3, Sv48x4: 4, Sv57x4: 5
  const gpaBits = 14 + 9 * levels; // 41, 50, 59
  // The guest physical address has no sign extension: the bits above must be zero.
  if (gHi >>> (gpaBits - 32) !== 0) {
    recordGuestFault(gLo, gHi, tinst);
    return -(guestPageFault[faultKind] + 1);
  }
  // hgatp.PPN (bits 43:0) names a 16 KiB root table.
  let table = ((hgatpLo >>> 0) + (hgatpHi & 0xfff) * 2 ** 32) * 4096;
  const { mem, pmp } = ctx;
  for (let level = levels - 1; level >= 0; level--) {
    const shift = 12 + 9 * level;
    const vpn = field(gLo, gHi, shift, level === levels - 1 ? 11 : 9);
    const pteAddr = table + vpn * 8;
    const at = mem.ramOffset(pteAddr, 8);
    if (at < 0 || !pmp.check(pteAddr, 8, ACCESS_LOAD, PRV_S)) return -(accessFault[faultKind] + 1);
    let lo = mem.i32[at >>> 2];
    const hi = mem.i32[(at >>> 2) + 1];
    if (!(lo & PTE_V) || (!(lo & PTE_R) && lo & PTE_W) || hi >>> 22 !== 0) break;
    const ppn = ptePpn(lo, hi);
    if (!(lo & (PTE_R | PTE_X))) {
      if (level === 0 || lo & (PTE_A | PTE_D | PTE_U)) break;
      table = ppn * 4096;
      continue;
    }
    // Leaf: G-stage pages must be user pages; then permissions, alignment, A/D.
    if (!(lo & PTE_U)) break;
    if (perm === ACCESS_FETCH || hlvx) {
      if (!(lo & PTE_X)) break;
    } else if (perm === ACCESS_STORE) {
      if (!(lo & PTE_W)) break;
    } else if (!(lo & PTE_R) && !(mxr && lo & PTE_X)) break;
    const span = 2 ** (9 * level);
    if (ppn % span !== 0) break;
    const want = perm === ACCESS_STORE ? PTE_A | PTE_D : PTE_A;
    if ((lo & want) !== want) {
      if (!pmp.check(pteAddr, 8, ACCESS_STORE, PRV_S)) return -(accessFault[faultKind] + 1);
      lo |= want;
      mem.i32[at >>> 2] = lo;
    }
    const pageNumber = (gLo >>> 12) + (gHi >>> 0) * 2 ** 20;
    return (ppn + (level === 0 ? 0 : pageNumber % span)) * 4096 + (gLo & 0xfff);
  }
  recordGuestFault(gLo, gHi, tinst);
  return -(guestPageFault[faultKind] + 1);
}

/** The VS-stage and G-stage controls of one translation. */
export interface TwoStageRegs {
  vsatpLo: number;
  vsatpHi: number;
  hgatpLo: number;
  hgatpHi: number;
  /** Effective privilege of the access: PRV_S (VS) or PRV_U (VU). */
  priv: number;
  /** vsstatus.SUM. */
  sum: boolean;
  /** vsstatus.MXR (VS-stage only). */
  vsMxr: boolean;
  /** mstatus.MXR (both stages). */
  mxr: boolean;
  /** HLVX: execute permission stands for read at both stages. */
  hlvx: boolean;
}

/**
 * Translates guest virtual (vaLo, vaHi) for an access of `kind` through both
 * stages; returns the supervisor physical address or -(cause + 1).
 */
export function translateTwoStage(
  ctx: WalkContext,
  r: TwoStageRegs,
  vaLo: number,
  vaHi: number,
  kind: number,
): number {
  const mode = r.vsatpHi >>> 28;
  if (mode === 0) return gStage(ctx, r.hgatpLo, r.hgatpHi, vaLo, vaHi, kind, kind, r.mxr, r.hlvx, 0);
  const levels = mode - 5;
  const vaBits = 12 + 9 * levels;
  const top = vaHi >> (vaBits - 1 - 32);
  if (top !== 0 && top !== -1) return -(pageFault[kind] + 1);
  // The root table's guest physical address: vsatp.PPN (bits 43:0) * 4096.
  let tLo = vsatpTableLo(r.vsatpLo);
  let tHi = (r.vsatpLo >>> 20) | ((r.vsatpHi & 0xfff) << 12) | 0;
  const { mem } = ctx;
  const mxr = r.vsMxr || r.mxr;
  for (let level = levels - 1; level >= 0; level--) {
    const shift = 12 + 9 * level;
    const vpn = field(vaLo, vaHi, shift, 9);
    const gLo = tLo | (vpn << 3);
    // The implicit read of the PTE goes through the G-stage as a load.
    const pteAddr = gStage(
      ctx,
      r.hgatpLo,
      r.hgatpHi,
      gLo,
      tHi,
      ACCESS_LOAD,
      kind,
      r.mxr,
      false,
      TINST_PTE_READ,
    );
    if (pteAddr < 0) return pteAddr;
    const at = mem.ramOffset(pteAddr, 8);
    if (at < 0 || !ctx.pmp.check(pteAddr, 8, ACCESS_LOAD, PRV_S)) return -(accessFault[kind] + 1);
    let lo = mem.i32[at >>> 2];
    const hi = mem.i32[(at >>> 2) + 1];
    if (!(lo & PTE_V) || (!(lo & PTE_R) && lo & PTE_W) || hi >>> 22 !== 0) break;
    if (!(lo & (PTE_R | PTE_X))) {
      if (level === 0 || lo & (PTE_A | PTE_D | PTE_U)) break;
      tLo = ((lo >>> 10) << 12) | 0;
      tHi = (lo >>> 30) | ((hi & 0x3fffff) << 2) | 0;
      continue;
    }
    if (kind === ACCESS_FETCH || r.hlvx) {
      if (!(lo & PTE_X)) break;
    } else if (kind === ACCESS_STORE) {
      if (!(lo & PTE_W)) break;
    } else if (!(lo & PTE_R) && !(mxr && lo & PTE_X)) break;
    if (lo & PTE_U) {
      if (r.priv === PRV_S && (kind === ACCESS_FETCH || !r.sum)) break;
    } else if (r.priv === PRV_U) break;
    const ppn = ptePpn(lo, hi);
    const span = 2 ** (9 * level);
    if (ppn % span !== 0) break;
    const want = kind === ACCESS_STORE ? PTE_A | PTE_D : PTE_A;
    if ((lo & want) !== want) {
      // The A/D update is an implicit store: the G-stage must allow writing the PTE.
      const w = gStage(
        ctx,
        r.hgatpLo,
        r.hgatpHi,
        gLo,
        tHi,
        ACCESS_STORE,
        kind,
        r.mxr,
        false,
        TINST_PTE_WRITE,
      );
      if (w < 0) return w;
      if (!ctx.pmp.check(pteAddr, 8, ACCESS_STORE, PRV_S)) return -(accessFault[kind] + 1);
      lo |= want;
      mem.i32[at >>> 2] = lo;
    }
    // Guest physical page = leaf PPN + the VPN bits below this level.
    const pageNumber = ppn + (level === 0 ? 0 : ((vaLo >>> 12) + (vaHi & 0x1ffffff) * 2 ** 20) % span);
    const gpaLo = ((pageNumber % 2 ** 20) * 4096) | (vaLo & 0xfff) | 0;
    const gpaHi = Math.floor(pageNumber / 2 ** 20) | 0;
    lastLeaf.shift = 12 + 9 * level;
    return gStage(ctx, r.hgatpLo, r.hgatpHi, gpaLo, gpaHi, kind, kind, r.mxr, r.hlvx, 0);
  }
  return -(pageFault[kind] + 1);
}

function vsatpTableLo(satpLo: number): number {
  return (satpLo << 12) | 0;
}

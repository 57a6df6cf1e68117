import {
  ACCESS_FETCH,
  ACCESS_STORE,
  CAUSE_FETCH_ACCESS,
  CAUSE_FETCH_PAGE_FAULT,
  CAUSE_LOAD_ACCESS,
  CAUSE_LOAD_PAGE_FAULT,
  CAUSE_STORE_ACCESS,
  CAUSE_STORE_PAGE_FAULT,
  PRV_S,
  PRV_U,
} from "../cpu/constants.ts";
import type { GuestMemory } from "../memory/guest-memory.ts";
import type { Pmp } from "./pmp.ts";

/** PTE bits (priv spec 4.3.1). */
const PTE_V = 1;
const PTE_R = 2;
const PTE_W = 4;
const PTE_X = 8;
const PTE_U = 16;
const PTE_A = 64;
const PTE_D = 128;

/** satp.MODE values (priv spec 4.1.11). */
export const SATP_BARE = 0;
export const SATP_SV39 = 8;
export const SATP_SV48 = 9;
export const SATP_SV57 = 10;

const pageFault = [CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT];
const accessFault = [CAUSE_FETCH_ACCESS, CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS];

/**
 * Facts about the last successful translation's leaf, for the TLB (set
 * before walk() returns): its U bit, and its size as log2 bytes (12 for a
 * 4 KiB page or no translation; with two stages, the first stage's leaf).
 */
export const lastLeaf = { user: false, shift: 12 };

/**
 * Result of a walk: the physical address (a double, exact below 2^53) or a
 * negative number: -(cause + 1) for the exception to raise.
 */
export interface WalkContext {
  mem: GuestMemory;
  pmp: Pmp;
}

/**
 * Sv39/Sv48/Sv57 page-table walk (priv spec 4.3.2, 4.4, 4.5, 4.6) with
 * hardware A/D update. `priv` is the effective privilege of the access;
 * `sum`/`mxr` come from mstatus. Returns the physical address, or
 * -(cause + 1) when the access faults.
 */
export function walk(
  ctx: WalkContext,
  satpLo: number,
  satpHi: number,
  vaLo: number,
  vaHi: number,
  kind: number,
  priv: number,
  sum: boolean,
  mxr: boolean,
): number {
  const mode = satpHi >>> 28;
  const levels = mode - 5; // Sv39: 3, Sv48: 4, Sv57: 5
  const vaBits = 12 + 9 * levels;
  // Bits 63..vaBits-1 must all equal bit vaBits-1.
  const top = vaHi >> (vaBits - 1 - 32);
  if (top !== 0 && top !== -1) return -(pageFault[kind] + 1);
  // satp.PPN: bits 43..0 = lo word + hi bits 11..0.
  let table = ((satpLo >>> 0) + (satpHi & 0xfff) * 2 ** 32) * 4096;
  const { mem, pmp } = ctx;
  for (let level = levels - 1; level >= 0; level--) {
    const shift = 12 + 9 * level;
    const vpn =
      shift >= 32
        ? (vaHi >>> (shift - 32)) & 0x1ff
        : ((vaLo >>> shift) | (shift > 23 ? vaHi << (32 - shift) : 0)) & 0x1ff;
    const pteAddr = table + vpn * 8;
    const at = mem.ramOffset(pteAddr, 8);
    // Implicit accesses of the walk are checked by PMP as S-mode loads (priv spec 3.7.1).
    if (at < 0 || !pmp.check(pteAddr, 8, 1, PRV_S)) return -(accessFault[kind] + 1);
    let lo = mem.i32[at >>> 2];
    const hi = mem.i32[(at >>> 2) + 1];
    if (!(lo & PTE_V) || (!(lo & PTE_R) && lo & PTE_W) || hi >>> 22 !== 0) return -(pageFault[kind] + 1);
    const ppn = (lo >>> 10) + (hi & 0x3fffff) * 2 ** 22;
    if (!(lo & (PTE_R | PTE_X))) {
      // A pointer: D, A and U are reserved there (priv spec 4.3.1); like Spike and QEMU, fault.
      if (level === 0 || lo & (PTE_A | PTE_D | PTE_U)) break;
      table = ppn * 4096;
      continue;
    }
    // Leaf: permissions, then superpage alignment, then A/D.
    if (kind === ACCESS_FETCH) {
      if (!(lo & PTE_X)) return -(pageFault[kind] + 1);
    } else if (kind === ACCESS_STORE) {
      if (!(lo & PTE_W)) return -(pageFault[kind] + 1);
    } else if (!(lo & PTE_R) && !(mxr && lo & PTE_X)) return -(pageFault[kind] + 1);
    if (lo & PTE_U) {
      if (priv === PRV_S && (kind === ACCESS_FETCH || !sum)) return -(pageFault[kind] + 1);
    } else if (priv === PRV_U) return -(pageFault[kind] + 1);
    const span = 2 ** (9 * level); // pages covered by this leaf
    if (ppn % span !== 0) return -(pageFault[kind] + 1);
    const want = kind === ACCESS_STORE ? PTE_A | PTE_D : PTE_A;
    if ((lo & want) !== want) {
      if (!pmp.check(pteAddr, 8, ACCESS_STORE, PRV_S)) return -(accessFault[kind] + 1);
      lo |= want;
      mem.i32[at >>> 2] = lo;
    }
    // Physical page = leaf PPN + the VPN bits below this level.
    const vpnLow = level === 0 ? 0 : vaPageNumber(vaLo, vaHi) % span;
    lastLeaf.user = (lo & PTE_U) !== 0;
    lastLeaf.shift = 12 + 9 * level;
    return (ppn + vpnLow) * 4096 + (vaLo & 0xfff);
  }
  return -(pageFault[kind] + 1);
}

/** Virtual page number bits 12..56 of a virtual address, as a double. */
function vaPageNumber(vaLo: number, vaHi: number): number {
  return (vaLo >>> 12) + (vaHi & 0x1ffffff) * 2 ** 20;
}

/**
 * Sdtrig trigger CSRs (RISC-V debug spec 1.0, chapter 5) as QEMU 7.2
 * implements them (target/riscv/debug.c), so software probing for triggers
 * sees what it sees on QEMU:
 *
 * - two triggers; tselect is WARL over 0..1 (a larger value leaves it as it
 *   was); tinfo reads 0x44 (types 2 and 6) and ignores writes; tdata3 reads
 *   zero and ignores writes; tcontrol, mcontext, scontext and hcontext do
 *   not exist (illegal instruction).
 * - tdata1 resets to type 2 (mcontrol) with every other bit clear. A write
 *   whose type field is neither 2 nor 6 (mcontrol6) is ignored. Type 2 keeps
 *   LOAD, STORE, EXECUTE (bits 0..2), U, S, M (3, 4, 6) and a supported size
 *   (sizehi:sizelo in bits 22:21 and 17:16, one of any/1/2/4/8 bytes); type 6
 *   also keeps VU and VS (bits 23, 24) and its size is bits 19:16. Everything
 *   else (dmode, match, chain, action, timing, select, hit) reads zero: the
 *   only action is a breakpoint exception and the only match is equality.
 * - tdata2 holds any value.
 *
 * Firing, as on QEMU: an enabled trigger whose mode bit matches the current
 * privilege (type 2 never fires when V=1; type 6 uses VS/VU then) raises a
 * breakpoint exception (cause 3, tval 0) before the instruction: an execute
 * trigger when pc equals tdata2, a load/store trigger when the access
 * overlaps [tdata2, tdata2 + size) (size "any" = 8 bytes).
 *
 * Cost: the state lives in CSR slots (snapshots carry it). The interpreter
 * looks at the two tdata1 words once per slice and single-steps with a pc
 * check while an execute trigger is set; while a load or store trigger is
 * set nothing is entered into the data TLB, so every access reaches
 * Hart.resolve, which checks the triggers. With no trigger set, nothing
 * changes on the hot paths.
 */
import { CAUSE_BREAKPOINT, PRV_S, PRV_U } from "./constants.ts";
import { S_TDATA1, S_TDATA2, S_TSELECT, S_VIRT } from "./csr-slots.ts";

/**
 * What the triggers use of a hart. Typed here, not as cpu/hart.ts's Hart:
 * the hart calls into this file, and imports go one way.
 */
interface TriggerHart {
  readonly c: Int32Array;
  readonly priv: number;
  readonly pcLo: number;
  readonly pcHi: number;
  sliceEnd: number;
  readonly tlb: { flush(): void };
  raise(cause: number, tvalLo: number, tvalHi: number): never;
}

export const TRIGGER_COUNT = 2;
/** tinfo: a bit per supported type (2 = mcontrol, 6 = mcontrol6). */
export const TINFO = (1 << 2) | (1 << 6);

/** tdata1 low-word bits (mcontrol / mcontrol6). */
export const TRIG_LOAD = 1 << 0;
export const TRIG_STORE = 1 << 1;
export const TRIG_EXEC = 1 << 2;
export const TRIG_U = 1 << 3;
export const TRIG_S = 1 << 4;
export const TRIG_M = 1 << 6;
export const TRIG_VU = 1 << 23;
export const TRIG_VS = 1 << 24;
const KEEP2 = TRIG_LOAD | TRIG_STORE | TRIG_EXEC | TRIG_U | TRIG_S | TRIG_M;
const KEEP6 = KEEP2 | TRIG_VU | TRIG_VS;
/** The type field is tdata1[63:60], the top nibble of the high word. */
const TYPE2_HI = 2 << 28;
const TYPE6_HI = 6 << 28;
/** Size code -> bytes; 0 = any (QEMU watches 8 bytes then); -1 = unsupported (dropped on write). */
const SIZE_BYTES = [8, 1, 2, 4, -1, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1];

/** Power-on state: tselect 0, every trigger type 2 and disabled, tdata2 0. */
export function resetTriggers(h: TriggerHart): void {
  h.c[S_TSELECT * 2] = 0;
  h.c[S_TSELECT * 2 + 1] = 0;
  for (let i = 0; i < TRIGGER_COUNT; i++) {
    h.c[(S_TDATA1 + i) * 2] = 0;
    h.c[(S_TDATA1 + i) * 2 + 1] = TYPE2_HI;
    h.c[(S_TDATA2 + i) * 2] = 0;
    h.c[(S_TDATA2 + i) * 2 + 1] = 0;
  }
}

export function writeTselect(h: TriggerHart, lo: number, hi: number): void {
  if (hi === 0 && lo >>> 0 < TRIGGER_COUNT) h.c[S_TSELECT * 2] = lo;
}

function sizeCode(lo: number, type6: boolean): number {
  return type6 ? (lo >>> 16) & 15 : ((lo >>> 19) & 12) | ((lo >>> 16) & 3);
}

/** tdata1 of the selected trigger: WARL as described above. */
export function writeTdata1(h: TriggerHart, lo: number, hi: number): void {
  const type = hi >>> 28;
  if (type !== 2 && type !== 6) return;
  const type6 = type === 6;
  let v = lo & (type6 ? KEEP6 : KEEP2);
  if (SIZE_BYTES[sizeCode(lo, type6)] > 0) v |= lo & (type6 ? 0xf << 16 : (3 << 21) | (3 << 16));
  const s = (S_TDATA1 + h.c[S_TSELECT * 2]) * 2;
  h.c[s] = v;
  h.c[s + 1] = type6 ? TYPE6_HI : TYPE2_HI;
  // Data triggers keep watched pages out of the TLB: drop what is there now.
  if (v & (TRIG_LOAD | TRIG_STORE)) h.tlb.flush();
  h.sliceEnd = 0;
}

/** The tdata1 bits that must match the current mode for trigger `i` to fire, or 0 when it cannot. */
function modeBit(h: TriggerHart, i: number): number {
  const hi = h.c[(S_TDATA1 + i) * 2 + 1];
  const priv = h.priv;
  if (h.c[S_VIRT * 2] !== 0) {
    if (hi !== TYPE6_HI) return 0;
    return priv === PRV_U ? TRIG_VU : priv === PRV_S ? TRIG_VS : 0;
  }
  return priv === PRV_U ? TRIG_U : priv === PRV_S ? TRIG_S : TRIG_M;
}

/** Whether any trigger has EXECUTE set (looked at once per slice). */
export function execTriggerSet(h: TriggerHart): boolean {
  return ((h.c[S_TDATA1 * 2] | h.c[(S_TDATA1 + 1) * 2]) & TRIG_EXEC) !== 0;
}

/** Whether any trigger has LOAD or STORE set (data accesses then bypass the TLB). */
export function dataTriggerSet(h: TriggerHart): boolean {
  return ((h.c[S_TDATA1 * 2] | h.c[(S_TDATA1 + 1) * 2]) & (TRIG_LOAD | TRIG_STORE)) !== 0;
}

/** Raises a breakpoint if an execute trigger matches the instruction at pc (before it runs). */
export function checkExecTriggers(h: TriggerHart): void {
  for (let i = 0; i < TRIGGER_COUNT; i++) {
    const ctl = h.c[(S_TDATA1 + i) * 2];
    if (!(ctl & TRIG_EXEC) || !(ctl & modeBit(h, i))) continue;
    if (h.c[(S_TDATA2 + i) * 2] === h.pcLo && h.c[(S_TDATA2 + i) * 2 + 1] === h.pcHi)
      h.raise(CAUSE_BREAKPOINT, 0, 0);
  }
}

/** (aLo, aHi) - (bLo, bHi) < n (unsigned 64-bit), for small n. */
function diffBelow(aLo: number, aHi: number, bLo: number, bHi: number, n: number): boolean {
  const lo = (aLo - bLo) | 0;
  const hi = (aHi - bHi - (aLo >>> 0 < bLo >>> 0 ? 1 : 0)) | 0;
  return hi === 0 && lo >>> 0 < n;
}

/** Raises a breakpoint if a load (store = false) or store trigger overlaps the access, before it happens. */
export function checkDataTriggers(
  h: TriggerHart,
  vaLo: number,
  vaHi: number,
  size: number,
  store: boolean,
): void {
  const want = store ? TRIG_STORE : TRIG_LOAD;
  for (let i = 0; i < TRIGGER_COUNT; i++) {
    const ctl = h.c[(S_TDATA1 + i) * 2];
    if (!(ctl & want) || !(ctl & modeBit(h, i))) continue;
    const len = SIZE_BYTES[sizeCode(ctl, h.c[(S_TDATA1 + i) * 2 + 1] === TYPE6_HI)];
    const tLo = h.c[(S_TDATA2 + i) * 2];
    const tHi = h.c[(S_TDATA2 + i) * 2 + 1];
    if (diffBelow(vaLo, vaHi, tLo, tHi, len) || diffBelow(tLo, tHi, vaLo, vaHi, size))
      h.raise(CAUSE_BREAKPOINT, 0, 0);
  }
}

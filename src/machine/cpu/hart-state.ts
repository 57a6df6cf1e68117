import { PMP_COUNT } from "../mmu/pmp.ts";
import { expectInt32Array, expectNumber, expectVersion, StateError } from "../snapshot/state.ts";
import { PRV_M, PRV_S, PRV_U } from "./constants.ts";
import { CSR_SLOTS, S_PRIV, S_SATP, S_VIRT } from "./csr-slots.ts";
import type { Hart } from "./hart.ts";

/** A hart as plain data: registers and CSR slots are copies of its linear-memory block. */
export interface HartState {
  version: 1;
  x: Int32Array;
  f: Int32Array;
  csr: Int32Array;
  pcLo: number;
  pcHi: number;
  icount: number;
  waiting: boolean;
  /** The hart implements the H extension (--cpu h=on): a restore needs a hart that does too. */
  hExt: boolean;
  pmpCfg: Int32Array;
  pmpAddr: number[];
  reservation: { valid: boolean; lo: number; hi: number; valLo: number; valHi: number };
}

export function saveHartState(h: Hart): HartState {
  return {
    version: 1,
    x: h.x.slice(),
    f: h.f.slice(),
    csr: h.c.slice(),
    pcLo: h.pcLo,
    pcHi: h.pcHi,
    icount: h.icount,
    waiting: h.waiting,
    hExt: h.hExt,
    pmpCfg: Int32Array.from(h.pmp.cfg),
    pmpAddr: Array.from(h.pmp.addr),
    reservation: { valid: h.resValid, lo: h.resLo, hi: h.resHi, valLo: h.resValLo, valHi: h.resValHi },
  };
}

const I32 = [-(2 ** 31), 2 ** 31 - 1] as const;

/** Loads a saved hart, validating every field first so a bad record changes nothing. */
export function restoreHartState(h: Hart, s: HartState): void {
  const who = `hart ${h.id}`;
  expectVersion(who, s, 1);
  const x = expectInt32Array(who, "x", s.x, 64);
  const f = expectInt32Array(who, "f", s.f, 64);
  if (s.hExt !== h.hExt)
    throw new StateError(
      who,
      s.hExt
        ? "the snapshot's harts have the H extension (--cpu h=on); this machine's do not"
        : "the snapshot's harts have no H extension; this machine's do (--cpu h=on)",
    );
  const csr = expectInt32Array(who, "csr", s.csr, CSR_SLOTS * 2);
  const pmpCfg = expectInt32Array(who, "pmpCfg", s.pmpCfg, PMP_COUNT);
  if (!Array.isArray(s.pmpAddr) || s.pmpAddr.length !== PMP_COUNT)
    throw new StateError(who, "pmpAddr must have 16 entries");
  for (const a of s.pmpAddr) expectNumber(who, "pmpAddr", a, 0, 2 ** 54 - 1);
  for (const c of pmpCfg) expectNumber(who, "pmpCfg", c, 0, 255);
  const priv = csr[S_PRIV * 2];
  if (priv !== PRV_U && priv !== PRV_S && priv !== PRV_M) throw new StateError(who, `bad privilege ${priv}`);
  const virt = csr[S_VIRT * 2];
  if (virt !== 0 && (virt !== 1 || priv === PRV_M || !h.hExt)) throw new StateError(who, `bad V ${virt}`);
  const pcLo = expectNumber(who, "pcLo", s.pcLo, ...I32);
  const pcHi = expectNumber(who, "pcHi", s.pcHi, ...I32);
  const icount = expectNumber(who, "icount", s.icount, 0, Number.MAX_SAFE_INTEGER);
  const r = s.reservation;
  if (typeof r !== "object" || r === null || typeof r.valid !== "boolean")
    throw new StateError(who, "bad reservation");
  for (const k of ["lo", "hi", "valLo", "valHi"] as const)
    expectNumber(who, `reservation.${k}`, r[k], ...I32);
  if (typeof s.waiting !== "boolean") throw new StateError(who, "waiting must be a boolean");

  h.x.set(x);
  h.f.set(f);
  h.c.set(csr);
  h.setPc(pcLo, pcHi);
  h.icount = icount;
  h.waiting = s.waiting;
  // Through the PMP's own writers so its decoded ranges follow; unlock first by a fresh table.
  h.pmp.cfg.fill(0);
  for (let i = 0; i < PMP_COUNT; i++) h.pmp.addr[i] = s.pmpAddr[i];
  for (let i = 0; i < PMP_COUNT; i++) h.pmp.writeCfg(i, pmpCfg[i]);
  h.resValid = r.valid;
  h.resLo = r.lo;
  h.resHi = r.hi;
  h.resValLo = r.valLo;
  h.resValHi = r.valHi;
  h.tlb.select(priv, csr[S_VIRT * 2]);
  h.tlb.resetSpaces(csr[S_SATP * 2], csr[S_SATP * 2 + 1]);
  h.tlb.flush();
}

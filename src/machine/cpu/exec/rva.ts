import { ACCESS_LOAD, ACCESS_STORE, CAUSE_MISALIGNED_LOAD, CAUSE_MISALIGNED_STORE } from "../constants.ts";
import type { Hart } from "../hart.ts";
import { lt, ltu } from "../int64.ts";

/**
 * RV64A (unpriv spec chapter 8). Harts run one at a time, so an AMO is a
 * plain read-modify-write. LR/SC: SC succeeds when the reservation is for
 * the same address and memory still holds the value LR read (as QEMU's
 * TCG does), which keeps other harts' intervening stores visible without a
 * check on every store. Misaligned atomics raise address-misaligned.
 */
export function execRva(h: Hart, op: number, insn: number): void {
  const x = h.x;
  const rd = (insn >>> 6) & 62;
  const rs1 = (insn >>> 14) & 62;
  const rs2 = (insn >>> 19) & 62;
  const vaLo = x[rs1];
  const vaHi = x[rs1 + 1];
  const dbl = ((insn >>> 12) & 7) === 3;
  const size = dbl ? 8 : 4;
  const isLr = op === 77 /* lr.w */ || op === 88 /* lr.d */;
  if (vaLo & (size - 1)) h.raise(isLr ? CAUSE_MISALIGNED_LOAD : CAUSE_MISALIGNED_STORE, vaLo, vaHi);
  const m = h.i32;
  if (isLr) {
    const w = h.resolveAtomic(vaLo, vaHi, size, ACCESS_LOAD) >>> 2;
    const lo = m[w];
    const hi = dbl ? m[w + 1] : lo >> 31;
    h.resValid = true;
    h.resLo = vaLo;
    h.resHi = vaHi;
    h.resValLo = lo;
    h.resValHi = dbl ? hi : 0;
    x[rd] = lo;
    x[rd + 1] = hi;
    return;
  }
  const w = h.resolveAtomic(vaLo, vaHi, size, ACCESS_STORE) >>> 2;
  const oLo = m[w];
  const oHi = dbl ? m[w + 1] : oLo >> 31;
  if (op === 78 /* sc.w */ || op === 89 /* sc.d */) {
    const ok =
      h.resValid &&
      h.resLo === vaLo &&
      h.resHi === vaHi &&
      oLo === h.resValLo &&
      (!dbl || oHi === h.resValHi);
    h.resValid = false;
    if (ok) {
      m[w] = x[rs2];
      if (dbl) m[w + 1] = x[rs2 + 1];
    }
    x[rd] = ok ? 0 : 1;
    x[rd + 1] = 0;
    return;
  }
  const bLo = x[rs2];
  const bHi = dbl ? x[rs2 + 1] : bLo >> 31;
  let nLo: number;
  let nHi: number;
  switch ((insn >>> 27) & 31) {
    case 0x01: // amoswap
      nLo = bLo;
      nHi = bHi;
      break;
    case 0x00: {
      // amoadd
      nLo = (oLo + bLo) | 0;
      nHi = (oHi + bHi + (nLo >>> 0 < oLo >>> 0 ? 1 : 0)) | 0;
      break;
    }
    case 0x04:
      nLo = oLo ^ bLo;
      nHi = oHi ^ bHi;
      break;
    case 0x0c:
      nLo = oLo & bLo;
      nHi = oHi & bHi;
      break;
    case 0x08:
      nLo = oLo | bLo;
      nHi = oHi | bHi;
      break;
    case 0x10: // amomin
    case 0x14: // amomax
    case 0x18: // amominu
    case 0x1c: {
      // amomaxu: pick old or new without allocating
      const f5 = (insn >>> 27) & 31;
      const less = f5 < 0x18 ? lt(oLo, oHi, bLo, bHi) : ltu(oLo, dbl ? oHi : 0, bLo, dbl ? bHi : 0);
      const takeOld = f5 === 0x10 || f5 === 0x18 ? less : !less;
      nLo = takeOld ? oLo : bLo;
      nHi = takeOld ? oHi : bHi;
      break;
    }
    default:
      h.illegal();
  }
  m[w] = nLo;
  if (dbl) m[w + 1] = nHi;
  x[rd] = oLo;
  x[rd + 1] = oHi;
}

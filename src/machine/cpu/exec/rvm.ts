import type { Hart } from "../hart.ts";
import { div64, mul64, mulh64, mulhu64, r64 } from "../int64.ts";

/** RV64M multiply and divide (unpriv spec chapter 7). */
export function execRvm(h: Hart, op: number, insn: number): void {
  const x = h.x;
  const rd = (insn >>> 6) & 62;
  const rs1 = (insn >>> 14) & 62;
  const rs2 = (insn >>> 19) & 62;
  const aLo = x[rs1];
  const aHi = x[rs1 + 1];
  const bLo = x[rs2];
  const bHi = x[rs2 + 1];
  switch (op) {
    case 64 /* mul */:
      mul64(aLo, aHi, bLo, bHi);
      break;
    case 65 /* mulh */:
      mulh64(aLo, aHi, bLo, bHi, true);
      break;
    case 66 /* mulhsu */:
      mulh64(aLo, aHi, bLo, bHi, false);
      break;
    case 67 /* mulhu */:
      mulhu64(aLo, aHi, bLo, bHi);
      break;
    case 68 /* div */:
      div64(aLo, aHi, bLo, bHi, true, false);
      break;
    case 69 /* divu */:
      div64(aLo, aHi, bLo, bHi, false, false);
      break;
    case 70 /* rem */:
      div64(aLo, aHi, bLo, bHi, true, true);
      break;
    case 71 /* remu */:
      div64(aLo, aHi, bLo, bHi, false, true);
      break;
    case 72 /* mulw */:
      setW(x, rd, Math.imul(aLo, bLo));
      return;
    case 73 /* divw */:
      setW(x, rd, bLo === 0 ? -1 : aLo === -0x80000000 && bLo === -1 ? aLo : (aLo / bLo) | 0);
      return;
    case 74 /* divuw */:
      setW(x, rd, bLo === 0 ? -1 : ((aLo >>> 0) / (bLo >>> 0)) | 0);
      return;
    case 75 /* remw */:
      setW(x, rd, bLo === 0 ? aLo : aLo === -0x80000000 && bLo === -1 ? 0 : (aLo % bLo) | 0);
      return;
    case 76 /* remuw */:
      setW(x, rd, bLo === 0 ? aLo : ((aLo >>> 0) % (bLo >>> 0)) | 0);
      return;
    default:
      h.illegal();
  }
  x[rd] = r64[0];
  x[rd + 1] = r64[1];
}

function setW(x: Int32Array, rd: number, v: number): void {
  x[rd] = v;
  x[rd + 1] = v >> 31;
}

import type { Hart } from "../hart.ts";
import { lt, ltu, sll, srl } from "../int64.ts";

/** Zba, Zbb and Zbs (bit-manipulation spec 1.0.0, chapter 2). */
export function execZb(h: Hart, op: number, insn: number): void {
  const x = h.x;
  const rd = (insn >>> 6) & 62;
  const rs1 = (insn >>> 14) & 62;
  const rs2 = (insn >>> 19) & 62;
  const aLo = x[rs1];
  const aHi = x[rs1 + 1];
  const bLo = x[rs2];
  const bHi = x[rs2 + 1];
  switch (op) {
    case 99 /* add.uw */:
      return addShifted(x, rd, aLo, 0, 0, bLo, bHi);
    case 100 /* sh1add */:
      return addShifted(x, rd, aLo, aHi, 1, bLo, bHi);
    case 101 /* sh2add */:
      return addShifted(x, rd, aLo, aHi, 2, bLo, bHi);
    case 102 /* sh3add */:
      return addShifted(x, rd, aLo, aHi, 3, bLo, bHi);
    case 103 /* sh1add.uw */:
      return addShifted(x, rd, aLo, 0, 1, bLo, bHi);
    case 104 /* sh2add.uw */:
      return addShifted(x, rd, aLo, 0, 2, bLo, bHi);
    case 105 /* sh3add.uw */:
      return addShifted(x, rd, aLo, 0, 3, bLo, bHi);
    case 106 /* slli.uw */:
      return sll(x, rd, aLo, 0, (insn >>> 20) & 63);
    case 107 /* andn */:
      return set(x, rd, aLo & ~bLo, aHi & ~bHi);
    case 108 /* orn */:
      return set(x, rd, aLo | ~bLo, aHi | ~bHi);
    case 109 /* xnor */:
      return set(x, rd, ~(aLo ^ bLo), ~(aHi ^ bHi));
    case 110 /* clz */:
      return set(x, rd, aHi !== 0 ? Math.clz32(aHi) : 32 + Math.clz32(aLo), 0);
    case 111 /* clzw */:
      return set(x, rd, Math.clz32(aLo), 0);
    case 112 /* ctz */:
      return set(x, rd, aLo !== 0 ? ctz32(aLo) : 32 + ctz32(aHi), 0);
    case 113 /* ctzw */:
      return set(x, rd, ctz32(aLo), 0);
    case 114 /* cpop */:
      return set(x, rd, popcount(aLo) + popcount(aHi), 0);
    case 115 /* cpopw */:
      return set(x, rd, popcount(aLo), 0);
    case 116 /* max */:
      return lt(aLo, aHi, bLo, bHi) ? set(x, rd, bLo, bHi) : set(x, rd, aLo, aHi);
    case 117 /* maxu */:
      return ltu(aLo, aHi, bLo, bHi) ? set(x, rd, bLo, bHi) : set(x, rd, aLo, aHi);
    case 118 /* min */:
      return lt(aLo, aHi, bLo, bHi) ? set(x, rd, aLo, aHi) : set(x, rd, bLo, bHi);
    case 119 /* minu */:
      return ltu(aLo, aHi, bLo, bHi) ? set(x, rd, aLo, aHi) : set(x, rd, bLo, bHi);
    case 120 /* sext.b */:
      return setW(x, rd, (aLo << 24) >> 24);
    case 121 /* sext.h */:
      return setW(x, rd, (aLo << 16) >> 16);
    case 122 /* zext.h */:
      return set(x, rd, aLo & 0xffff, 0);
    case 123 /* rol */:
      return rotl(x, rd, aLo, aHi, bLo & 63);
    case 124 /* rolw */:
      {
        const s = bLo & 31;
        return setW(x, rd, s === 0 ? aLo : (aLo << s) | (aLo >>> (32 - s)));
      }
    case 125 /* ror */:
      return rotl(x, rd, aLo, aHi, (64 - (bLo & 63)) & 63);
    case 126 /* rori */:
      return rotl(x, rd, aLo, aHi, (64 - ((insn >>> 20) & 63)) & 63);
    case 127 /* roriw */:
      {
        const s = (insn >>> 20) & 31;
        return setW(x, rd, s === 0 ? aLo : (aLo >>> s) | (aLo << (32 - s)));
      }
    case 128 /* rorw */:
      {
        const s = bLo & 31;
        return setW(x, rd, s === 0 ? aLo : (aLo >>> s) | (aLo << (32 - s)));
      }
    case 129 /* orc.b */:
      return set(x, rd, orcb(aLo), orcb(aHi));
    case 130 /* rev8 */:
      return set(x, rd, bswap(aHi), bswap(aLo));
    case 131 /* bclr */:
    case 132 /* bclri */:
    case 133 /* bext */:
    case 134 /* bexti */:
    case 135 /* binv */:
    case 136 /* binvi */:
    case 137 /* bset */:
    case 138 /* bseti */:
      {
        const imm =
          op === 132 /* bclri */ ||
          op === 134 /* bexti */ ||
          op === 136 /* binvi */ ||
          op === 138 /* bseti */;
        const idx = (imm ? insn >>> 20 : bLo) & 63;
        const mLo = idx < 32 ? 1 << idx : 0;
        const mHi = idx >= 32 ? 1 << (idx - 32) : 0;
        if (op <= 132 /* bclri */) return set(x, rd, aLo & ~mLo, aHi & ~mHi);
        if (op <= 134 /* bexti */) return set(x, rd, (aLo & mLo) !== 0 || (aHi & mHi) !== 0 ? 1 : 0, 0);
        if (op <= 136 /* binvi */) return set(x, rd, aLo ^ mLo, aHi ^ mHi);
        return set(x, rd, aLo | mLo, aHi | mHi);
      }
    default:
      h.illegal();
  }
}

function set(x: Int32Array, rd: number, lo: number, hi: number): void {
  x[rd] = lo;
  x[rd + 1] = hi;
}

function setW(x: Int32Array, rd: number, v: number): void {
  x[rd] = v;
  x[rd + 1] = v >> 31;
}

/** rd = b + (a << sh), 64-bit. */
function addShifted(
  x: Int32Array,
  rd: number,
  aLo: number,
  aHi: number,
  sh: number,
  bLo: number,
  bHi: number,
): void {
  const sLo = aLo << sh;
  const sHi = sh === 0 ? aHi : (aHi << sh) | (aLo >>> (32 - sh));
  const lo = (sLo + bLo) | 0;
  x[rd + 1] = (sHi + bHi + (lo >>> 0 < sLo >>> 0 ? 1 : 0)) | 0;
  x[rd] = lo;
}

function rotl(x: Int32Array, rd: number, lo: number, hi: number, s: number): void {
  if (s === 0) return set(x, rd, lo, hi);
  if (s >= 32) {
    const t = lo;
    lo = hi;
    hi = t;
    s -= 32;
    if (s === 0) return set(x, rd, lo, hi);
  }
  set(x, rd, (lo << s) | (hi >>> (32 - s)), (hi << s) | (lo >>> (32 - s)));
}

function ctz32(v: number): number {
  return v === 0 ? 32 : 31 - Math.clz32(v & -v);
}

function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) | 0;
}

function orcb(v: number): number {
  let r = 0;
  for (let k = 0; k < 32; k += 8) if ((v >>> k) & 0xff) r |= 0xff << k;
  return r;
}

function bswap(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

export { srl };

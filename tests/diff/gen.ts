import { Sfc32 } from "../support/prng.ts";

/**
 * Random instruction-sequence generator for the differential tests against
 * qemu-riscv64 (tests/diff/fuzz-isa.ts, tests/diff/isa-diff.test.ts).
 *
 * A *case* is: initial values for every x and f register, fcsr and a
 * 256-byte scratch buffer, then a random body of user-level RV64GC +
 * Zba/Zbb/Zbs instructions. Many cases are batched into one assembly
 * program; each case starts by loading its initial state and ends by
 * dumping x1..x31, f0..f31 and fcsr next to its scratch buffer (the
 * "block"). The same ELF runs under qemu-riscv64 (Linux user mode: the
 * blocks are written to stdout) and under Virtus (bare metal: the blocks
 * are read from RAM), and the blocks are compared. With `passes` > 1
 * (programSource) every case runs that many times from the same initial
 * state, so its code is hot by the later passes: that is how the JIT is
 * tested against qemu (jit-diff.test.ts).
 *
 * Everything is a pure function of (seed, index, options): a case is
 * reproduced by generating it again.
 *
 * Register conventions inside a body: s0 (x8) holds the block address
 * (the scratch buffer) and is never written; every other register may be.
 * Code and data are linked at 0x80000000 for both environments, so
 * PC-relative values (auipc, jal link registers, addresses derived from
 * s0) are identical and are compared like everything else.
 */

// ------------------------------------------------------------------ PRNG

/** splitmix32 finalizer. */
function mix32(z: number): number {
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** sfc32, seeded from (seed, stream) through splitmix32. Deterministic across platforms. */
export class Rng extends Sfc32 {
  constructor(seed: number, stream = 0) {
    let s = mix32((seed >>> 0) ^ 0x9e3779b9);
    s = mix32((s + Math.imul(stream >>> 0, 0x9e3779b9) + 0x7f4a7c15) >>> 0);
    super(mix32(s + 0x6a09e667), mix32(s + 0xbb67ae85), mix32(s + 0x3c6ef372), 1, 12);
  }

  /** A uniformly random 64-bit pattern. */
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  /** Picks an item by weight from [weight, item] pairs. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of items) total += w;
    let k = this.u32() / 4294967296;
    k *= total;
    for (const [w, v] of items) {
      if (k < w) return v;
      k -= w;
    }
    return items[items.length - 1][1];
  }
}

// ---------------------------------------------------------------- layout

/** Byte offsets relative to s0 (the scratch buffer) inside one case's block. */
export const L = {
  /** Address of the next case (where the bare-metal trap handler resumes). */
  NEXT: -528,
  FCSR_INIT: -520,
  X_INIT: -512,
  F_INIT: -256,
  SCRATCH: 0,
  SCRATCH_SIZE: 256,
  DUMP_X: 256,
  DUMP_F: 512,
  DUMP_FCSR: 768,
  TRAP_CAUSE: 776,
  TRAP_EPC: 784,
  TRAP_TVAL: 792,
  END: 800,
  // Only in programs with passes > 1 (programSource), after END so one-pass blocks are unchanged:
  /** Passes started so far (the block's own counter). */
  PASS: 800,
  /** Address of the case's pass head (where the shared dump code starts another pass). */
  AGAIN: 808,
  /** A pristine copy of the initial scratch buffer, restored before each pass. */
  PRISTINE: 816,
  /** End of a multi-pass block. */
  END_PASSES: 1072,
} as const;
/** Offset of s0 from the start of the block. */
export const BLOCK_S0 = 528;
/** Size of one block (a multiple of 16) in a one-pass program. */
export const BLOCK_SIZE = BLOCK_S0 + L.END;

/** Size of one block in a program whose cases run `passes` times (a multiple of 16). */
export function blockSize(passes = 1): number {
  return passes > 1 ? BLOCK_S0 + L.END_PASSES : BLOCK_SIZE;
}

// biome-ignore format: table
export const XREG = [
  "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
  "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
];
// biome-ignore format: table
export const FREG = [
  "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2", "fa3",
  "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11",
  "ft8", "ft9", "ft10", "ft11",
];

/** The reserved base register (s0 = x8). */
const BASE = 8;

// ---------------------------------------------------------- special values

const M64 = (1n << 64n) - 1n;
const u64 = (v: bigint) => v & M64;

// biome-ignore format: table
export const INT_SPECIALS: readonly bigint[] = [
  0n, 1n, 2n, 3n, 7n, 31n, 32n, 33n, 63n, 64n, 0xffn, 0x80n, 0x7fffn, 0x8000n, 0xffffn,
  0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn,
  0x8000000000000000n, 0xffffffffffffffffn, 0xfffffffffffffffen, 0xffffffff80000000n,
  0xffffffff7fffffffn, 0x00000000fffffffen, 0x8000000000000001n, 0x0101010101010101n,
  0x8080808080808080n, 0x00ff00ff00ff00ffn,
];

// biome-ignore format: table
export const F64_SPECIALS: readonly bigint[] = [
  0x0000000000000000n, 0x8000000000000000n, // ±0
  0x7ff0000000000000n, 0xfff0000000000000n, // ±inf
  0x7ff8000000000000n, 0xfff8000000000000n, 0x7ff8000000000123n, 0x7fffffffffffffffn, // qNaN
  0x7ff0000000000001n, 0x7ff4000000000000n, 0xfff0000000000001n, 0x7ff7ffffffffffffn, // sNaN
  0x0000000000000001n, 0x8000000000000001n, 0x000fffffffffffffn, 0x800fffffffffffffn, // subnormals
  0x0008000000000000n, 0x0010000000000000n, 0x8010000000000000n, 0x0010000000000001n, // min normal
  0x7fefffffffffffffn, 0xffefffffffffffffn, 0x7fe0000000000000n, // max normal
  0x3ff0000000000000n, 0xbff0000000000000n, 0x3fe0000000000000n, 0x4000000000000000n,
  0x3ff8000000000000n, 0x4004000000000000n, 0xbfe8000000000000n, 0x3fefffffffffffffn,
  0x3ff0000000000001n, 0xbfe0000000000000n, 0x3fd0000000000000n, 0x4008000000000000n,
  0x43e0000000000000n, 0xc3e0000000000000n, 0x43dfffffffffffffn, 0x43f0000000000000n,
  0x43efffffffffffffn, 0x41e0000000000000n, 0xc1e0000000000000n, 0x41dfffffffc00000n,
  0x41dfffffffe00000n, 0xc1e0000000100000n, 0x41f0000000000000n, 0x41efffffffe00000n,
  0x3ca0000000000000n, 0x3690000000000000n, 0x47efffffe0000000n, 0x47f0000000000000n,
  0x36a0000000000000n, 0x3810000000000000n, 0x380fffffffffffffn, 0x381fffffffffffffn,
];

// biome-ignore format: table
export const F32_SPECIALS: readonly number[] = [
  0x00000000, 0x80000000, 0x7f800000, 0xff800000, // ±0, ±inf
  0x7fc00000, 0xffc00000, 0x7fc00123, 0x7fffffff, // qNaN
  0x7f800001, 0x7fa00000, 0xff800001, 0x7fbfffff, // sNaN
  0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00400000, // subnormals
  0x00800000, 0x80800000, 0x00800001, 0x7f7fffff, 0xff7fffff, 0x7f000000, // min/max normal
  0x3f800000, 0xbf800000, 0x3f000000, 0x40000000, 0x3fc00000, 0x40200000, 0xbf400000,
  0x3f7fffff, 0x3f800001, 0xbf000000, 0x3e800000, 0x40400000,
  0x5f000000, 0xdf000000, 0x5effffff, 0x5f800000, 0x5f7fffff, // 2^63, 2^64
  0x4f000000, 0xcf000000, 0x4effffff, 0x4f800000, 0x4f7fffff, 0xcf000001, // 2^31, 2^32
  0x33800000, 0x34000000, 0x0c800000, 0x0d000000, // tiny and 2^-126 boundaries
];

const BOX = 0xffffffff00000000n;
const boxed = (v: number) => BOX | BigInt(v >>> 0);

/** A double with random sign, an exponent around 1.0 (±spread) and a random or short mantissa. */
function niceF64(r: Rng, spread: number): bigint {
  const sign = r.chance(0.5) ? 1n : 0n;
  let exp: number;
  const k = r.int(12);
  if (k === 0)
    exp = r.range(1, 4); // near the subnormal range
  else if (k === 1)
    exp = r.range(0x7fb, 0x7fe); // near overflow
  else if (k === 2)
    exp = 1023 + r.range(-152, -123); // binary32 subnormal range (fcvt.s.d underflow)
  else if (k === 3)
    exp = 1023 + r.range(125, 129); // binary32 overflow boundary
  else exp = 1023 + r.range(-spread, spread);
  let mant = (BigInt(r.u32() & 0xfffff) << 32n) | BigInt(r.u32());
  if (r.chance(0.4)) mant &= ~((1n << BigInt(r.range(10, 52))) - 1n); // short mantissa: exact/tie cases
  if (r.chance(0.1)) mant |= (1n << BigInt(r.range(0, 30))) - 1n; // many trailing ones
  return (sign << 63n) | (BigInt(exp) << 52n) | (mant & 0xfffffffffffffn);
}

function niceF32(r: Rng, spread: number): number {
  const sign = r.chance(0.5) ? 0x80000000 : 0;
  let exp: number;
  const k = r.int(10);
  if (k === 0) exp = r.range(1, 4);
  else if (k === 1) exp = r.range(0xfb, 0xfe);
  else exp = Math.max(1, Math.min(254, 127 + r.range(-spread, spread)));
  let mant = r.u32() & 0x7fffff;
  if (r.chance(0.4)) mant &= ~((1 << r.range(6, 23)) - 1);
  if (r.chance(0.1)) mant |= (1 << r.range(0, 14)) - 1;
  return (sign | (exp << 23) | (mant & 0x7fffff)) >>> 0;
}

/** A 64-bit integer operand: special, small, "float-ish" (random magnitude) or random. */
function intValue(r: Rng): bigint {
  const k = r.int(20);
  if (k < 5) return r.pick(INT_SPECIALS);
  if (k < 8) return u64(BigInt(r.range(-16, 16)));
  if (k < 11) {
    // a value of random bit length (exercises int→float rounding), maybe negative
    const bitsLen = r.range(1, 64);
    const v = r.u64() >> BigInt(64 - bitsLen);
    return r.chance(0.3) ? u64(-v) : v;
  }
  if (k < 12) return u64(BigInt.asIntN(32, BigInt(r.u32()))); // sign-extended 32-bit
  return r.u64();
}

/** A 64-bit FP register value: double or NaN-boxed single, special or random, sometimes not boxed. */
function fpValue(r: Rng, specials = 0): bigint {
  if (specials > 0 && r.chance(specials))
    return r.chance(0.5) ? r.pick(F64_SPECIALS) : boxed(r.pick(F32_SPECIALS));
  const k = r.int(40);
  if (k < 8) return r.pick(F64_SPECIALS);
  if (k < 17) return niceF64(r, r.chance(0.7) ? 8 : 70);
  if (k < 24) return boxed(r.pick(F32_SPECIALS));
  if (k < 33) return boxed(niceF32(r, r.chance(0.7) ? 8 : 40));
  if (k < 36) {
    // not NaN-boxed: a single with a wrong upper half (treated as the canonical NaN by .s ops)
    const hi = r.pick([0n, 0x7fffffffn, 0xfffffffen, 0x3ff00000n, BigInt(r.u32())]);
    const lo = r.chance(0.5) ? r.pick(F32_SPECIALS) : niceF32(r, 8);
    return (hi << 32n) | BigInt(lo >>> 0);
  }
  return r.u64();
}

// ------------------------------------------------------------- the cases

export interface GenOptions {
  /** Probability that a case includes FP instructions (0 = integer only, 1 = all FP). */
  fpRate: number;
  /** Extra probability that an initial FP register holds a special value (default 0). */
  specials?: number;
  /** Body length range, in generator items (an item is 1 to ~4 instructions). */
  minItems?: number;
  maxItems?: number;
}

export interface Case {
  seed: number;
  index: number;
  /** Whether the case touches FP state (f registers are then initialized and dumped). */
  fp: boolean;
  x: bigint[];
  f: bigint[];
  fcsr: number;
  scratch: Uint8Array;
  body: string[];
}

const RM = ["rne", "rtz", "rdn", "rup", "rmm", "dyn"];

// biome-ignore format: table
const INT_R = [
  "add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
  "addw", "subw", "sllw", "srlw", "sraw",
  "add.uw", "sh1add", "sh2add", "sh3add", "sh1add.uw", "sh2add.uw", "sh3add.uw",
  "andn", "orn", "xnor", "max", "maxu", "min", "minu", "rol", "rolw", "ror", "rorw",
  "bclr", "bext", "binv", "bset",
];
// biome-ignore format: table
const INT_M = [
  "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu", "mulw", "divw", "divuw", "remw", "remuw",
];
const INT_I12 = ["addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"];
const INT_SH6 = ["slli", "srli", "srai", "slli.uw", "rori", "bclri", "bexti", "binvi", "bseti"];
const INT_SH5 = ["slliw", "srliw", "sraiw", "roriw"];
const INT_UN = ["clz", "clzw", "ctz", "cpop", "cpopw", "sext.b", "sext.h", "zext.h", "orc.b", "rev8"];
// biome-ignore format: table
const LOADS: readonly (readonly [string, number])[] = [
  ["lb", 1], ["lbu", 1], ["lh", 2], ["lhu", 2], ["lw", 4], ["lwu", 4], ["ld", 8],
];
const STORES: readonly (readonly [string, number])[] = [
  ["sb", 1],
  ["sh", 2],
  ["sw", 4],
  ["sd", 8],
];
const BRANCHES = ["beq", "bne", "blt", "bge", "bltu", "bgeu"];
const AMO_OPS = ["amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax", "amominu", "amomaxu"];
const ORDER = ["", "", "", ".aq", ".rl", ".aqrl"];

const FP_ARITH = ["fadd", "fsub", "fmul", "fdiv"];
const FP_FMA = ["fmadd", "fmsub", "fnmsub", "fnmadd"];
const FP_SGN = ["fsgnj", "fsgnjn", "fsgnjx", "fmin", "fmax"];
const FP_CMP = ["feq", "flt", "fle"];

/** Mutable generation state of one case body. */
class Body {
  readonly r: Rng;
  readonly fp: boolean;
  readonly lines: string[] = [];
  private label = 0;
  readonly prefix: string;
  /** Whether the assembler may compress ordinary instructions in this body. */
  readonly autoRvc: boolean;
  /** Registers recently written, preferred as sources (dependency chains). */
  private recent: number[] = [];
  private recentF: number[] = [];

  constructor(r: Rng, fp: boolean, index: number) {
    this.r = r;
    this.fp = fp;
    this.prefix = `.Lc${index}_`;
    this.autoRvc = r.chance(0.5);
  }

  newLabel(): string {
    return `${this.prefix}${this.label++}`;
  }

  emit(s: string): void {
    this.lines.push(s);
  }

  /** Emits an explicitly compressed instruction (the body may be in norvc mode). */
  emitC(s: string): void {
    if (this.autoRvc) this.lines.push(s);
    else this.lines.push(".option rvc", s, ".option norvc");
  }

  /** A destination register: any but s0, rarely x0; never one in `avoid`. */
  rd(avoid: readonly number[] = []): number {
    for (;;) {
      const v = this.r.chance(0.03) ? 0 : this.r.range(1, 31);
      if (v === BASE || avoid.includes(v)) continue;
      if (v !== 0) {
        this.recent.push(v);
        if (this.recent.length > 6) this.recent.shift();
      }
      return v;
    }
  }

  rs(): number {
    if (this.recent.length > 0 && this.r.chance(0.35)) return this.r.pick(this.recent);
    return this.r.chance(0.04) ? 0 : this.r.range(0, 31);
  }

  /** rd' for compressed instructions (x9..x15; x8 is reserved). */
  rdc(avoid: readonly number[] = []): number {
    for (;;) {
      const v = this.r.range(9, 15);
      if (!avoid.includes(v)) return v;
    }
  }

  rsc(): number {
    return this.r.range(8, 15);
  }

  fd(): number {
    const v = this.r.range(0, 31);
    this.recentF.push(v);
    if (this.recentF.length > 6) this.recentF.shift();
    return v;
  }

  fs(): number {
    if (this.recentF.length > 0 && this.r.chance(0.35)) return this.r.pick(this.recentF);
    return this.r.range(0, 31);
  }
}

const X = (n: number) => XREG[n];
const F = (n: number) => FREG[n];
const hex = (v: bigint) => `0x${u64(v).toString(16)}`;

/** An address offset in the scratch buffer for an access of `size` bytes, usually aligned. */
function scratchOff(r: Rng, size: number, aligned = false): number {
  const off = r.range(0, L.SCRATCH_SIZE - size);
  return aligned || r.chance(0.7) ? off & ~(size - 1) : off;
}

/** `li rd, <special or random>` to set up interesting operands. */
function genLi(b: Body, rd = b.rd()): void {
  b.emit(`li ${X(rd)}, ${hex(intValue(b.r))}`);
}

function genIntAlu(b: Body, avoid: readonly number[]): void {
  const r = b.r;
  const k = r.int(100);
  if (k < 35) {
    b.emit(`${r.pick(INT_R)} ${X(b.rd(avoid))}, ${X(b.rs())}, ${X(b.rs())}`);
  } else if (k < 50) {
    const op = r.pick(INT_M);
    const a = b.rs();
    const c = b.rs();
    if (op.startsWith("div") || op.startsWith("rem")) {
      // division edge cases: INT_MIN / -1, x / 0
      const e = r.int(6);
      if (e === 0 && a !== 0 && a !== BASE && !avoid.includes(a))
        b.emit(`li ${X(a)}, ${op.endsWith("w") ? "-0x80000000" : "0x8000000000000000"}`);
      if ((e === 0 || e === 1) && c !== 0 && c !== BASE && !avoid.includes(c)) b.emit(`li ${X(c)}, -1`);
      if (e === 2 && c !== 0 && c !== BASE && !avoid.includes(c))
        b.emit(`li ${X(c)}, ${r.pick(["0", "0xffffffff00000000", "0x100000000"])}`);
    }
    b.emit(`${op} ${X(b.rd(avoid))}, ${X(a)}, ${X(c)}`);
  } else if (k < 65) {
    b.emit(
      `${r.pick(INT_I12)} ${X(b.rd(avoid))}, ${X(b.rs())}, ${r.chance(0.3) ? r.pick([0, -1, 1, 2047, -2048, -2, 0x7ff]) : r.range(-2048, 2047)}`,
    );
  } else if (k < 75) {
    b.emit(
      `${r.pick(INT_SH6)} ${X(b.rd(avoid))}, ${X(b.rs())}, ${r.chance(0.3) ? r.pick([0, 1, 31, 32, 33, 63]) : r.range(0, 63)}`,
    );
  } else if (k < 80) {
    b.emit(
      `${r.pick(INT_SH5)} ${X(b.rd(avoid))}, ${X(b.rs())}, ${r.chance(0.3) ? r.pick([0, 1, 31]) : r.range(0, 31)}`,
    );
  } else if (k < 89) {
    b.emit(`${r.pick(INT_UN)} ${X(b.rd(avoid))}, ${X(b.rs())}`);
  } else if (k < 90) {
    // qemu 7.2 bug: ctzw of a value whose low word is 0 but high word is not gives ctz of the
    // whole register (e.g. 56 for 0x3f00000000000000) instead of 32. Keep its operand away from that.
    const t = b.rd([...avoid, 0]);
    if (r.chance(0.5)) b.emit(`zext.w ${X(t)}, ${X(b.rs())}`);
    else b.emit(`ori ${X(t)}, ${X(b.rs())}, ${r.pick([1, 0x400, -2048, 0x100, 0x7f0])}`);
    b.emit(`ctzw ${X(b.rd(avoid))}, ${X(t)}`);
  } else if (k < 95) {
    b.emit(
      `lui ${X(b.rd(avoid))}, ${hexn(r.chance(0.3) ? r.pick([0, 0x80000, 0xfffff, 0x7ffff, 1]) : r.int(0x100000))}`,
    );
  } else {
    b.emit(`auipc ${X(b.rd(avoid))}, ${hexn(r.int(0x100000))}`);
  }
}

const hexn = (n: number) => `0x${(n >>> 0).toString(16)}`;

function genCompressedAlu(b: Body, avoid: readonly number[]): void {
  const r = b.r;
  const imm6 = () => r.range(-32, 31);
  const nz6 = () => {
    const v = imm6();
    return v === 0 ? 1 : v;
  };
  const nz = [...avoid, 0];
  switch (r.int(16)) {
    case 0:
      b.emitC(`c.addi ${X(b.rd(nz))}, ${nz6()}`);
      return;
    case 1: {
      const rd = b.rd(nz);
      b.emitC(`c.addiw ${X(rd)}, ${imm6()}`);
      return;
    }
    case 2: {
      const rd = b.rd(nz);
      b.emitC(`c.li ${X(rd)}, ${imm6()}`);
      return;
    }
    case 3: {
      const rd = b.rd([...nz, 2]);
      // c.lui: nonzero imm in [1, 31] or [0xfffe0, 0xfffff]
      const v = r.chance(0.5) ? r.range(1, 31) : r.range(0xfffe0, 0xfffff);
      b.emitC(`c.lui ${X(rd)}, ${hexn(v)}`);
      return;
    }
    case 4:
      b.emitC(`c.srli ${X(b.rdc(avoid))}, ${r.range(1, 63)}`);
      return;
    case 5:
      b.emitC(`c.srai ${X(b.rdc(avoid))}, ${r.range(1, 63)}`);
      return;
    case 6:
      b.emitC(`c.andi ${X(b.rdc(avoid))}, ${imm6()}`);
      return;
    case 7:
    case 8: {
      const op = r.pick(["c.sub", "c.xor", "c.or", "c.and", "c.subw", "c.addw"]);
      b.emitC(`${op} ${X(b.rdc(avoid))}, ${X(b.rsc())}`);
      return;
    }
    case 9: {
      const rd = b.rd(nz);
      b.emitC(`c.slli ${X(rd)}, ${r.range(1, 63)}`);
      return;
    }
    case 10: {
      const rd = b.rd(nz);
      const rs = b.rs() || 9;
      b.emitC(`c.mv ${X(rd)}, ${X(rs)}`);
      return;
    }
    case 11: {
      const rd = b.rd(nz);
      const rs = b.rs() || 9;
      b.emitC(`c.add ${X(rd)}, ${X(rs)}`);
      return;
    }
    case 12:
      if (avoid.includes(2)) return;
      b.emitC(`c.addi16sp sp, ${r.chance(0.5) ? -16 * r.range(1, 32) : 16 * r.range(1, 31)}`);
      return;
    case 13:
      b.emitC(`c.addi4spn ${X(b.rdc(avoid))}, sp, ${4 * r.range(1, 255)}`);
      return;
    case 14:
      b.emitC("c.nop");
      return;
    default:
      b.emitC(`c.addi ${X(b.rd(nz))}, ${nz6()}`);
  }
}

function genLoadStore(b: Body, avoid: readonly number[]): void {
  const r = b.r;
  const k = r.int(10);
  if (k < 4) {
    const [op, size] = r.pick(LOADS);
    b.emit(`${op} ${X(b.rd(avoid))}, ${scratchOff(r, size)}(s0)`);
  } else if (k < 8) {
    const [op, size] = r.pick(STORES);
    b.emit(`${op} ${X(b.rs())}, ${scratchOff(r, size)}(s0)`);
  } else {
    // through another base register pointing somewhere near the buffer
    const t = b.rd([...avoid, 0]);
    const delta = r.range(-300, 300);
    b.emit(`addi ${X(t)}, s0, ${delta}`);
    if (r.chance(0.5)) {
      const [op, size] = r.pick(LOADS);
      b.emit(`${op} ${X(b.rd(avoid))}, ${scratchOff(r, size) - delta}(${X(t)})`);
    } else {
      const [op, size] = r.pick(STORES);
      b.emit(`${op} ${X(b.rs())}, ${scratchOff(r, size) - delta}(${X(t)})`);
    }
  }
}

function genCompressedLoadStore(b: Body, avoid: readonly number[]): void {
  const r = b.r;
  const w = r.chance(0.5);
  const size = w ? 4 : 8;
  const k = r.int(4);
  if (k < 2) {
    // c.lw/c.ld/c.sw/c.sd with base s0: uimm 0..124 (w) / 0..248 (d)
    const off = size * r.range(0, 31);
    if (k === 0) b.emitC(`${w ? "c.lw" : "c.ld"} ${X(b.rdc(avoid))}, ${off}(s0)`);
    else b.emitC(`${w ? "c.sw" : "c.sd"} ${X(b.rsc())}, ${off}(s0)`);
    return;
  }
  if (avoid.includes(2)) return;
  // sp-relative: point sp so that sp + imm lands in the buffer
  const target = scratchOff(r, size, true);
  const imm = size * r.int(Math.min(64, 1 + target / size)); // uimm: 6 bits, scaled
  b.emit(`addi sp, s0, ${target - imm}`);
  if (k === 2) {
    const rd = b.rd([...avoid, 0, 2]);
    b.emitC(`${w ? "c.lwsp" : "c.ldsp"} ${X(rd)}, ${imm}(sp)`);
  } else {
    const rs = b.rs();
    b.emitC(`${w ? "c.swsp" : "c.sdsp"} ${X(rs)}, ${imm}(sp)`);
  }
}

function genAmo(b: Body, avoid: readonly number[]): void {
  const r = b.r;
  const d = r.chance(0.5);
  const sfx = d ? ".d" : ".w";
  const size = d ? 8 : 4;
  const t = b.rd([...avoid, 0]);
  b.emit(`addi ${X(t)}, s0, ${scratchOff(r, size, true)}`);
  if (r.chance(0.6)) {
    b.emit(`${r.pick(AMO_OPS)}${sfx}${r.pick(ORDER)} ${X(b.rd(avoid))}, ${X(b.rs())}, (${X(t)})`);
    return;
  }
  // LR/SC pair on the same address, same width; things in between may break the reservation value.
  b.emit(`lr${sfx}${r.pick(ORDER)} ${X(b.rd([...avoid, t]))}, (${X(t)})`);
  const n = r.int(3);
  for (let i = 0; i < n; i++) {
    if (r.chance(0.4)) {
      const [op, sz] = r.pick(STORES);
      b.emit(`${op} ${X(b.rs())}, ${scratchOff(r, sz)}(s0)`);
    } else genIntAlu(b, [...avoid, t]);
  }
  b.emit(`sc${sfx}${r.pick(ORDER)} ${X(b.rd(avoid))}, ${X(b.rs())}, (${X(t)})`);
}

/** A forward control transfer over 1-4 simple instructions. */
function genBranch(b: Body, avoid: readonly number[]): void {
  const r = b.r;
  const label = b.newLabel();
  const k = r.int(10);
  let viaReg = -1;
  if (k < 5) {
    let a = b.rs();
    const c = r.chance(0.2) ? a : b.rs();
    if (r.chance(0.1)) a = 0;
    b.emit(`${r.pick(BRANCHES)} ${X(a)}, ${X(c)}, ${label}`);
  } else if (k < 6) {
    b.emit(`jal ${X(b.rd(avoid))}, ${label}`);
  } else if (k < 7) {
    b.emitC(`c.${r.pick(["beqz", "bnez"])} ${X(b.rsc())}, ${label}`);
  } else if (k < 8) {
    b.emitC(`c.j ${label}`);
  } else {
    // indirect: jalr / c.jr / c.jalr through a register loaded with lla (jalr clears bit 0)
    viaReg = b.rd([...avoid, 0]);
    const kind = r.int(3);
    if (kind === 0) {
      // target = (rT + off) & ~1; rT + off is the label, or the label + 1 (bit 0 is cleared)
      const off = r.pick([0, 0, 4, -6, 2, -2044, 2046]);
      const adj = r.int(2) - off;
      b.emit(`lla ${X(viaReg)}, ${label}${adj < 0 ? "-" : "+"}${Math.abs(adj)}`);
      b.emit(`jalr ${X(b.rd(avoid))}, ${off}(${X(viaReg)})`);
    } else if (kind === 1) {
      b.emit(`lla ${X(viaReg)}, ${label}`);
      b.emitC(`c.jr ${X(viaReg)}`);
    } else {
      if (avoid.includes(1)) {
        b.emit(`lla ${X(viaReg)}, ${label}`);
        b.emitC(`c.jr ${X(viaReg)}`);
      } else {
        b.emit(`lla ${X(viaReg)}, ${label}`);
        b.emitC(`c.jalr ${X(viaReg)}`);
      }
    }
  }
  const n = r.range(1, 4);
  for (let i = 0; i < n; i++) genSimple(b, avoid);
  b.emit(`${label}:`);
}

// ------------------------------------------------------------------- FP

function genFp(b: Body, avoid: readonly number[]): void {
  const r = b.r;
  const p = r.chance(0.5) ? ".s" : ".d";
  const rm = () => r.pick(RM);
  const k = r.int(100);
  // fflags are sticky: read-and-clear them now and then so each operation's flags show
  if (r.chance(0.2)) b.emit(`csrrw ${X(b.rd(avoid))}, fflags, zero`);
  if (k < 22) {
    b.emit(`${r.pick(FP_ARITH)}${p} ${F(b.fd())}, ${F(b.fs())}, ${F(b.fs())}, ${rm()}`);
  } else if (k < 32) {
    b.emit(`${r.pick(FP_FMA)}${p} ${F(b.fd())}, ${F(b.fs())}, ${F(b.fs())}, ${F(b.fs())}, ${rm()}`);
  } else if (k < 36) {
    b.emit(`fsqrt${p} ${F(b.fd())}, ${F(b.fs())}, ${rm()}`);
  } else if (k < 44) {
    b.emit(`${r.pick(FP_SGN)}${p} ${F(b.fd())}, ${F(b.fs())}, ${F(b.fs())}`);
  } else if (k < 50) {
    b.emit(`${r.pick(FP_CMP)}${p} ${X(b.rd(avoid))}, ${F(b.fs())}, ${F(b.fs())}`);
  } else if (k < 53) {
    b.emit(`fclass${p} ${X(b.rd(avoid))}, ${F(b.fs())}`);
  } else if (k < 61) {
    b.emit(`fcvt.${r.pick(["w", "wu", "l", "lu"])}${p} ${X(b.rd(avoid))}, ${F(b.fs())}, ${rm()}`);
  } else if (k < 68) {
    const src = r.pick(["w", "wu", "l", "lu"]);
    if (p === ".d" && (src === "w" || src === "wu")) b.emit(`fcvt.d.${src} ${F(b.fd())}, ${X(b.rs())}`);
    else b.emit(`fcvt${p}.${src} ${F(b.fd())}, ${X(b.rs())}, ${rm()}`);
  } else if (k < 72) {
    if (r.chance(0.5)) b.emit(`fcvt.s.d ${F(b.fd())}, ${F(b.fs())}, ${rm()}`);
    else b.emit(`fcvt.d.s ${F(b.fd())}, ${F(b.fs())}`);
  } else if (k < 77) {
    const op = r.pick(["fmv.x.w", "fmv.x.d"]);
    b.emit(`${op} ${X(b.rd(avoid))}, ${F(b.fs())}`);
  } else if (k < 81) {
    // inject a special value
    const t = b.rd([...avoid, 0]);
    if (r.chance(0.5)) {
      b.emit(`li ${X(t)}, ${hexn(r.chance(0.7) ? r.pick(F32_SPECIALS) : niceF32(r, 20))}`);
      b.emit(`fmv.w.x ${F(b.fd())}, ${X(t)}`);
    } else {
      b.emit(`li ${X(t)}, ${hex(r.chance(0.7) ? r.pick(F64_SPECIALS) : niceF64(r, 30))}`);
      b.emit(`fmv.d.x ${F(b.fd())}, ${X(t)}`);
    }
  } else if (k < 83) {
    b.emit(`${r.pick(["fmv.w.x", "fmv.d.x"])} ${F(b.fd())}, ${X(b.rs())}`);
  } else if (k < 90) {
    genFpLoadStore(b, avoid);
  } else {
    genFcsr(b, avoid);
  }
}

function genFpLoadStore(b: Body, avoid: readonly number[]): void {
  const r = b.r;
  const k = r.int(10);
  if (k < 6) {
    const d = r.chance(0.5);
    const size = d ? 8 : 4;
    if (r.chance(0.5)) b.emit(`${d ? "fld" : "flw"} ${F(b.fd())}, ${scratchOff(r, size)}(s0)`);
    else b.emit(`${d ? "fsd" : "fsw"} ${F(b.fs())}, ${scratchOff(r, size)}(s0)`);
  } else if (k < 8) {
    const off = 8 * r.range(0, 31);
    if (r.chance(0.5)) b.emitC(`c.fld ${F(r.range(8, 15))}, ${off}(s0)`);
    else b.emitC(`c.fsd ${F(r.range(8, 15))}, ${off}(s0)`);
  } else {
    if (avoid.includes(2)) return;
    const target = scratchOff(r, 8, true);
    const imm = 8 * r.int(1 + target / 8);
    b.emit(`addi sp, s0, ${target - imm}`);
    if (r.chance(0.5)) b.emitC(`c.fldsp ${F(b.fd())}, ${imm}(sp)`);
    else b.emitC(`c.fsdsp ${F(b.fs())}, ${imm}(sp)`);
  }
}

function genFcsr(b: Body, avoid: readonly number[]): void {
  const r = b.r;
  switch (r.int(9)) {
    case 0:
      b.emit(`fsrmi ${r.range(0, 4)}`);
      return;
    case 1:
      b.emit(`fsrmi ${X(b.rd(avoid))}, ${r.range(0, 4)}`);
      return;
    case 2:
      b.emit(`fsflagsi ${X(b.rd(avoid))}, ${r.range(0, 31)}`);
      return;
    case 3:
      b.emit(`frflags ${X(b.rd(avoid))}`);
      return;
    case 4:
      b.emit(`frrm ${X(b.rd(avoid))}`);
      return;
    case 5:
      b.emit(`frcsr ${X(b.rd(avoid))}`);
      return;
    case 6: {
      // fsrm / fscsr with a valid rounding mode
      const t = b.rd([...avoid, 0]);
      if (r.chance(0.5)) {
        b.emit(`li ${X(t)}, ${r.range(0, 4) | (r.int(8) === 0 ? 0x100 : 0)}`);
        b.emit(`fsrm ${X(b.rd(avoid))}, ${X(t)}`);
      } else {
        b.emit(`li ${X(t)}, ${(r.range(0, 4) << 5) | r.int(32) | (r.int(8) === 0 ? 0xf00 : 0)}`);
        b.emit(`fscsr ${X(b.rd(avoid))}, ${X(t)}`);
      }
      return;
    }
    case 7:
      b.emit(`fsflags ${X(b.rd(avoid))}, ${X(b.rs())}`);
      return;
    default:
      b.emit(`${r.pick(["csrrs", "csrrc"])} ${X(b.rd(avoid))}, fflags, ${X(b.rs())}`);
  }
}

/** One non-control-flow item. */
function genSimple(b: Body, avoid: readonly number[]): void {
  const r = b.r;
  const k = r.int(100);
  if (b.fp && k < 45) return genFp(b, avoid);
  if (k < 70) return genIntAlu(b, avoid);
  if (k < 80) return genCompressedAlu(b, avoid);
  if (k < 90) return genLoadStore(b, avoid);
  if (k < 95) return genCompressedLoadStore(b, avoid);
  return genLi(b, b.rd([...avoid, 0]));
}

function genItem(b: Body): void {
  const r = b.r;
  const k = r.int(100);
  if (k < 8) return genBranch(b, []);
  if (k < 14) return genAmo(b, []);
  if (k < 15) return b.emit(r.pick(["fence", "fence.i", "fence rw, rw", "nop"]));
  return genSimple(b, []);
}

/** Generates case `index` of the run with `seed`. */
export function generateCase(seed: number, index: number, opts: GenOptions): Case {
  const r = new Rng(seed, index);
  const fp = r.u32() / 4294967296 < opts.fpRate; // always draws, so streams agree across rates
  const x: bigint[] = [0n];
  for (let i = 1; i < 32; i++) x.push(i === BASE ? 0n : intValue(r));
  const f: bigint[] = [];
  for (let i = 0; i < 32; i++) f.push(fp ? fpValue(r, opts.specials) : 0n);
  const fcsr = (r.range(0, 4) << 5) | (r.chance(0.5) ? 0 : r.int(32));
  const scratch = new Uint8Array(L.SCRATCH_SIZE);
  for (let i = 0; i < scratch.length; i += 8) {
    const v = r.chance(0.2) ? (fp && r.chance(0.5) ? fpValue(r) : r.pick(INT_SPECIALS)) : r.u64();
    for (let j = 0; j < 8; j++) scratch[i + j] = Number((v >> BigInt(8 * j)) & 0xffn);
  }
  const b = new Body(r, fp, index);
  const n = r.range(opts.minItems ?? 15, opts.maxItems ?? 45);
  b.lines.push(b.autoRvc ? ".option rvc" : ".option norvc");
  for (let i = 0; i < n; i++) genItem(b);
  b.lines.push(".option rvc");
  return { seed, index, fp, x, f, fcsr, scratch, body: b.lines };
}

// -------------------------------------------------------------- programs

const dword = (v: bigint) => `.dword ${hex(v)}`;

function caseText(c: Case, label: string, next: string, passes: number): string {
  if (passes > 1) return passCaseText(c, label);
  const s: string[] = [];
  s.push(`# case seed=${c.seed} index=${c.index}${c.fp ? " (fp)" : ""}`);
  s.push(`${label}:`);
  s.push(`  lla s0, ${label}_block + ${BLOCK_S0}`);
  s.push(`  ld t0, ${L.FCSR_INIT}(s0)`);
  s.push("  fscsr t0");
  if (c.fp) for (let i = 0; i < 32; i++) s.push(`  fld ${F(i)}, ${L.F_INIT + 8 * i}(s0)`);
  for (let i = 1; i < 32; i++) if (i !== BASE) s.push(`  ld ${X(i)}, ${L.X_INIT + 8 * i}(s0)`);
  s.push(`${label}_body:`);
  for (const line of c.body) s.push(line.endsWith(":") || line.startsWith(".") ? line : `  ${line}`);
  s.push(`${label}_dump:`);
  for (let i = 1; i < 32; i++) s.push(`  sd ${X(i)}, ${L.DUMP_X + 8 * i}(s0)`);
  if (c.fp) for (let i = 0; i < 32; i++) s.push(`  fsd ${F(i)}, ${L.DUMP_F + 8 * i}(s0)`);
  s.push("  frcsr t0");
  s.push(`  sd t0, ${L.DUMP_FCSR}(s0)`);
  s.push(`  j ${next}`);
  return s.join("\n");
}

/**
 * A case of a multi-pass program. The per-pass work around the body (pass
 * counting, restoring the scratch buffer, the initial loads, the dump,
 * choosing the next pass or case) lives once in shared code (passRoutines),
 * reached with t0 as the link: inlined, it would triple the code each case
 * brings to the JIT, which compiles a block at every instruction of code
 * reached a second time, and make the JIT test too slow.
 */
function passCaseText(c: Case, label: string): string {
  const t = X(5);
  const sfx = c.fp ? "_fp" : "";
  const s: string[] = [];
  s.push(`# case seed=${c.seed} index=${c.index}${c.fp ? " (fp)" : ""}`);
  s.push(`${label}:`);
  s.push(`  lla s0, ${label}_block + ${BLOCK_S0}`);
  s.push(`${label}_pass:`);
  s.push(`  auipc ${t}, %pcrel_hi(pass_init${sfx})`, `  jalr ${t}, %pcrel_lo(${label}_pass)(${t})`);
  s.push(`  ld ${t}, ${L.X_INIT + 8 * 5}(s0)`);
  s.push(`${label}_body:`);
  for (const line of c.body) s.push(line.endsWith(":") || line.startsWith(".") ? line : `  ${line}`);
  s.push(`${label}_dump:`);
  s.push(`  sd ${t}, ${L.DUMP_X + 8 * 5}(s0)`);
  s.push(`  jump pass_dump${sfx}, ${t}`);
  return s.join("\n");
}

/**
 * The shared code of multi-pass programs, entered with s0 = the case's
 * block. pass_init[_fp] (link in t0): count the pass, restore the scratch
 * buffer from its pristine copy, load fcsr, f0..f31 (_fp) and every x
 * register but s0 and t0 (the case loads t0 after returning).
 * pass_dump[_fp] (t0 already stored): dump the rest, then start the next
 * pass (L.AGAIN) or go to the next case (L.NEXT).
 */
function passRoutines(passes: number): string {
  const s: string[] = [".balign 4", "pass_init_fp:"];
  for (let i = 0; i < 32; i++) s.push(`  fld ${F(i)}, ${L.F_INIT + 8 * i}(s0)`);
  s.push("pass_init:");
  s.push(`  ld t1, ${L.PASS}(s0)`, "  addi t1, t1, 1", `  sd t1, ${L.PASS}(s0)`);
  s.push(
    `  addi t1, s0, ${L.PRISTINE}`,
    `  addi t2, s0, ${L.SCRATCH}`,
    `  addi t3, s0, ${L.SCRATCH + L.SCRATCH_SIZE}`,
  );
  s.push(
    "1:",
    "  ld t4, 0(t1)",
    "  sd t4, 0(t2)",
    "  addi t1, t1, 8",
    "  addi t2, t2, 8",
    "  bltu t2, t3, 1b",
  );
  s.push(`  ld t1, ${L.FCSR_INIT}(s0)`, "  fscsr t1");
  for (let i = 1; i < 32; i++) if (i !== BASE && i !== 5) s.push(`  ld ${X(i)}, ${L.X_INIT + 8 * i}(s0)`);
  s.push("  jr t0");
  s.push("pass_dump_fp:");
  for (let i = 0; i < 32; i++) s.push(`  fsd ${F(i)}, ${L.DUMP_F + 8 * i}(s0)`);
  s.push("pass_dump:");
  for (let i = 1; i < 32; i++) if (i !== BASE && i !== 5) s.push(`  sd ${X(i)}, ${L.DUMP_X + 8 * i}(s0)`);
  s.push("  frcsr t1", `  sd t1, ${L.DUMP_FCSR}(s0)`);
  s.push(`  ld t1, ${L.PASS}(s0)`, `  li t2, ${passes}`, "  bgeu t1, t2, 2f");
  s.push(`  ld t1, ${L.AGAIN}(s0)`, "  jr t1");
  s.push(`2:`, `  ld t1, ${L.NEXT}(s0)`, "  jr t1");
  return s.join("\n");
}

function blockData(c: Case, label: string, next: string, passes: number): string {
  const s: string[] = [`${label}_block:`, `  .dword ${next}`, `  .dword ${hexn(c.fcsr)}`];
  for (let i = 0; i < 32; i++) s.push(`  ${dword(c.x[i])}`);
  for (let i = 0; i < 32; i++) s.push(`  ${dword(c.f[i])}`);
  const dv = new DataView(c.scratch.buffer, c.scratch.byteOffset, c.scratch.byteLength);
  for (let i = 0; i < c.scratch.length; i += 8) s.push(`  ${dword(dv.getBigUint64(i, true))}`);
  s.push(`  .zero ${L.END - L.SCRATCH_SIZE}`);
  if (passes > 1) {
    s.push("  .dword 0", `  .dword ${label}_pass`);
    for (let i = 0; i < c.scratch.length; i += 8) s.push(`  ${dword(dv.getBigUint64(i, true))}`);
  }
  return s.join("\n");
}

export interface ProgramOptions {
  /**
   * How many times each case runs (default 1). With more, each case counts
   * its passes in its block (L.PASS) and starts every pass from the same
   * state: scratch restored from L.PRISTINE, then the usual initial loads.
   * Later passes run code the first one decoded, which is what the JIT
   * compiles (jit-diff.test.ts). Blocks are then blockSize(passes) long,
   * and the code around the bodies is shared (passCaseText).
   */
  passes?: number;
  /**
   * Bare metal only (Virtus with `--cpu h=on`): run the cases in VS or VU
   * mode under a tiny hypervisor, with two-stage translation on (Sv39 over
   * Sv39x4, identity gigapages), so every fetch, load and store goes through
   * both stages. Traps still reach the M-mode handler, whose mret returns to
   * the guest (mstatus.MPV). qemu-riscv64 runs the same cases in user mode.
   */
  guestMode?: "vs" | "vu";
}

/** Identity gigapage leaf for 0x80000000 (V R W X A D, plus U when `user`). */
function identityLeaf(user: boolean): string {
  return `0x${((0x80000 << 10) | 0xcf | (user ? 0x10 : 0)).toString(16)}`;
}

/** The prologue that enters VS/VU (guestMode) and the page tables it uses. */
function guestEntry(mode: "vs" | "vu"): { text: string[]; data: string[] } {
  const text = [
    "  lla t0, guest_groot",
    "  srli t0, t0, 12",
    "  li t1, 8 << 60",
    "  or t0, t0, t1",
    "  csrw 0x680, t0", // hgatp: Sv39x4
    "  lla t0, guest_vroot",
    "  srli t0, t0, 12",
    "  or t0, t0, t1",
    "  csrw 0x280, t0", // vsatp: Sv39
    "  li t0, 0x6000",
    "  csrs 0x200, t0", // vsstatus.FS = Dirty
    "  li t0, 0x1800",
    "  csrc mstatus, t0",
    `  li t0, ${mode === "vs" ? "0x800" : "0"}`,
    "  csrs mstatus, t0", // MPP = S or U
    "  li t0, 1 << 39",
    "  csrs mstatus, t0", // MPV = 1
  ];
  const data = [
    ".balign 16384",
    "guest_groot:",
    `  .dword 0, 0, ${identityLeaf(true)}`,
    "  .fill 2045, 8, 0",
    ".balign 4096",
    "guest_vroot:",
    `  .dword 0, 0, ${identityLeaf(mode === "vu")}`,
    "  .fill 509, 8, 0",
  ];
  return { text, data };
}

/**
 * One program running `cases` in order. Entry: qemu-user starts with sp
 * set (Linux ABI) while Virtus resets every register to 0, so `sp == 0`
 * selects the bare-metal shim (FS on, trap handler) and `env_bare` then
 * selects how the results leave: write(1) + exit under Linux, `tohost`
 * under bare metal. The results are the `blocks` array.
 */
export function programSource(cases: readonly Case[], opts: ProgramOptions = {}): string {
  const passes = opts.passes ?? 1;
  if (!Number.isInteger(passes) || passes < 1)
    throw new Error(`passes must be a positive integer, not ${passes}`);
  const s: string[] = [];
  s.push(".option norelax", ".option rvc");
  s.push('.section .text.init, "ax", @progbits', ".globl _start", "_start:");
  s.push("  bnez sp, 1f");
  s.push("  lla t0, env_bare", "  li t1, 1", "  sd t1, 0(t0)");
  s.push("  li t0, 0x6000", "  csrs mstatus, t0");
  s.push("  lla t0, trap_handler", "  csrw mtvec, t0");
  const guest = opts.guestMode === undefined ? undefined : guestEntry(opts.guestMode);
  if (guest !== undefined) {
    s.push(...guest.text);
    s.push(`  lla t0, ${cases.length > 0 ? "case_0" : "finish"}`, "  csrw mepc, t0", "  mret");
  }
  s.push("1:");
  s.push(`  j ${cases.length > 0 ? "case_0" : "finish"}`);
  s.push(".text");
  if (passes > 1) s.push(passRoutines(passes));
  cases.forEach((c, i) => {
    s.push(caseText(c, `case_${i}`, i + 1 < cases.length ? `case_${i + 1}` : "finish", passes));
  });
  s.push("finish:");
  s.push("  lla t0, env_bare", "  ld t0, 0(t0)", "  bnez t0, bare_finish");
  s.push("  lla a1, blocks", `  li a2, ${cases.length * blockSize(passes)}`);
  s.push("2:", "  li a0, 1", "  li a7, 64", "  ecall", "  blez a0, 3f");
  s.push("  add a1, a1, a0", "  sub a2, a2, a0", "  bnez a2, 2b");
  s.push("  li a0, 0", "  li a7, 93", "  ecall");
  s.push("3:", "  li a0, 1", "  li a7, 93", "  ecall");
  s.push("bare_finish:", "  lla t0, tohost", "  li t1, 1", "  sd t1, 0(t0)", "4:", "  j 4b");
  // Bare metal only: record the trap in the case's block, resume at the next case.
  s.push(".balign 4", "trap_handler:");
  s.push("  csrr t0, mcause", `  sd t0, ${L.TRAP_CAUSE}(s0)`);
  s.push("  csrr t0, mepc", `  sd t0, ${L.TRAP_EPC}(s0)`);
  s.push("  csrr t0, mtval", `  sd t0, ${L.TRAP_TVAL}(s0)`);
  s.push(`  ld t0, ${L.NEXT}(s0)`, "  csrw mepc, t0", "  mret");
  s.push('.section .tohost, "aw", @progbits', ".balign 64", ".globl tohost", "tohost: .dword 0");
  s.push(".globl fromhost", "fromhost: .dword 0");
  if (guest !== undefined) s.push(".data", ...guest.data);
  s.push(".data", ".balign 8", "env_bare: .dword 0", ".balign 64", ".globl blocks", "blocks:");
  cases.forEach((c, i) => {
    s.push(blockData(c, `case_${i}`, i + 1 < cases.length ? `case_${i + 1}` : "finish", passes));
  });
  s.push("");
  return s.join("\n");
}

/** A human-readable listing of a case: initial state and body. */
export function caseListing(c: Case): string {
  const s: string[] = [`# seed ${c.seed} index ${c.index}${c.fp ? " (fp)" : ""}`];
  const xs: string[] = [];
  for (let i = 1; i < 32; i++) if (i !== BASE) xs.push(`${X(i)}=${hex(c.x[i])}`);
  s.push(`# init x: ${xs.join(" ")}`);
  if (c.fp) s.push(`# init f: ${c.f.map((v, i) => `${F(i)}=${hex(v)}`).join(" ")}`);
  s.push(`# init fcsr=${hexn(c.fcsr)} (s0 = scratch buffer)`);
  for (const line of c.body) s.push(line.endsWith(":") || line.startsWith(".") ? line : `  ${line}`);
  return s.join("\n");
}

import { INSTRUCTIONS } from "./table.ts";

/**
 * The instruction table's per-instruction facts (table.ts, its operands
 * and facts columns) as arrays by op number, read once at load, for the
 * tiers' decisions: the interpreter's decode, the JIT's planner and
 * emitter. A fact that is not one of the table's words fails here, when the
 * module loads (and so every test and `npm run gen:isa`).
 */

/** OP_FLAGS bits. */
export const PURE = 1;
export const MEM = 2;
export const TRAP = 4;
export const NOP = 8;
export const RDIR = 16;
export const EXACT = 32;
/** Derived from the operands: reads or writes an f register (so needs mstatus.FS on). */
export const FP_STATE = 64;
/** Derived from the operands: has a rounding-mode field. */
export const ROUNDS = 128;

/** OP_JIT values: the JIT's treatment of an op. */
export const JIT_STOP = 0;
export const JIT_INLINE = 1;
export const JIT_HELPER = 2;
export const JIT_END = 3;

/** OP_REGS bits, from the operands: reads rs1, reads rs2, writes rd (integer registers). */
export const READS_RS1 = 1;
export const READS_RS2 = 2;
export const WRITES_RD = 4;

/** OP_IMM values: where an op's immediate is (isa/imm.ts immediate()). */
export const Imm = { none: 0, i: 1, s: 2, b: 3, u: 4, j: 5, shamt: 6, shamtw: 7, zimm: 8 } as const;

const FLAG_WORDS: Record<string, number> = {
  pure: PURE,
  mem: MEM,
  trap: TRAP,
  nop: NOP,
  rdir: RDIR,
  exact: EXACT,
};
const JIT_WORDS: Record<string, number> = {
  "jit:stop": JIT_STOP,
  "jit:inline": JIT_INLINE,
  "jit:helper": JIT_HELPER,
  "jit:end": JIT_END,
};
const IMM_OPERANDS: Record<string, number> = {
  imm: Imm.i,
  "imm(rs1)": Imm.i,
  "simm(rs1)": Imm.s,
  bimm: Imm.b,
  uimm: Imm.u,
  jimm: Imm.j,
  shamt: Imm.shamt,
  shamtw: Imm.shamtw,
  zimm: Imm.zimm,
};

const count = INSTRUCTIONS.length + 1;
/** Fact bits by op (PURE, MEM, TRAP, NOP, RDIR, EXACT, FP_STATE, ROUNDS). */
export const OP_FLAGS = new Uint8Array(count);
/** The JIT's treatment by op (JIT_*; op 0, illegal, stops). */
export const OP_JIT = new Uint8Array(count);
/** Integer register use by op (READS_RS1, READS_RS2, WRITES_RD). */
export const OP_REGS = new Uint8Array(count);
/** Immediate format by op (Imm). */
export const OP_IMM = new Uint8Array(count);

/** One row's facts column as (OP_FLAGS bits, OP_JIT value); throws a one-line error naming the instruction. */
export function parseFacts(name: string, facts: string): { flags: number; jit: number } {
  let flags = 0;
  let jit = -1;
  for (const word of facts.split(" ").filter((w) => w !== "")) {
    if (word in FLAG_WORDS) flags |= FLAG_WORDS[word];
    else if (word in JIT_WORDS && jit < 0) jit = JIT_WORDS[word];
    else
      throw new Error(
        `src/isa/table.ts: ${name}: "${word}" is not a fact (${Object.keys(FLAG_WORDS).join(", ")}, one jit:T)`,
      );
  }
  if (jit < 0)
    throw new Error(`src/isa/table.ts: ${name}: its facts need one of ${Object.keys(JIT_WORDS).join(", ")}`);
  return { flags, jit };
}

INSTRUCTIONS.forEach(([name, , , , operands, facts], i) => {
  const op = i + 1;
  const { flags, jit } = parseFacts(name, facts);
  OP_FLAGS[op] = flags;
  OP_JIT[op] = jit;
  // "imm(rs1)"-style memory operands stay whole for the format and are split for the registers.
  const names = operands.split(/[,()]/);
  OP_REGS[op] =
    (names.includes("rs1") ? READS_RS1 : 0) |
    (names.includes("rs2") ? READS_RS2 : 0) |
    (names.includes("rd") ? WRITES_RD : 0);
  if (names.some((n) => /^f[ds]\d?$/.test(n))) OP_FLAGS[op] |= FP_STATE;
  if (names.includes("rm")) OP_FLAGS[op] |= ROUNDS;
  for (const o of operands.split(",")) if (o in IMM_OPERANDS) OP_IMM[op] = IMM_OPERANDS[o];
});

import { encodeB, encodeI, encodeJal, encodeS } from "../../isa/encode.ts";
import { INSTRUCTIONS } from "../../isa/table.ts";
import { Machine } from "./machine.ts";

/**
 * Warming up the interpreter before a guest runs (issue 15 item 3, the
 * boot). The interpreter's loop (cpu/interpreter.ts execute) is one large
 * function; V8 optimizes it from the type feedback its cases gathered so
 * far, and when a boot first reaches a case that never ran (an op, a TLB
 * miss, an int32 sum that overflows), the optimized code is thrown away and
 * rebuilt: 22-26 times in a boot of the default guest (measured with
 * `--trace-deopt`, 2026-12-04), each time running slower until V8 has
 * compiled it again (TurboFan takes 40-100 ms a time on its threads). A boot
 * run a second time in the same process, with V8's feedback complete, took
 * half the CPU time of the first.
 *
 * So before the first VM of a process runs, a scratch machine runs a short
 * program made from the instruction table: every op of the base, M, A, F,
 * D, Zb*, Zicsr and privileged sets the interpreter and its exec functions
 * handle (H's excepted: it is off by default), with operands that overflow
 * 32 bits, loads and stores that miss the TLB, traps taken and returned
 * from, and blocks of the JIT called. Nothing of the scratch machine
 * survives the call but V8's feedback.
 */

const RAM_BASE = 0x8000_0000;
/** Registers the program's ops read and write; x27 counts traps, x28-x31 are the scaffold's. */
const FIRST = 5;
const REGS = 5;
const TRAPS = 27;
const DATA = 31;
/** The scratch data (x31) is here, past the program. */
const DATA_OFFSET = 0x4000;
/** Operand variants of each op: the last ones read one register twice (x + x overflows). */
const VARIANTS = 6;

const addi = (rd: number, rs1: number, imm: number) => encodeI(imm, rs1, 0, rd, 0x13);
const shift = (f3: number, rd: number, rs1: number, sh: number) => encodeI(sh, rs1, f3, rd, 0x13);
const lui = (rd: number, imm20: number) => ((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37;
const auipc = (rd: number) => (rd << 7) | 0x17;
const csr = (f3: number, rd: number, n: number, rs1: number) =>
  (n << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x73;
const MSTATUS = 0x300;
const MTVEC = 0x305;
const MSCRATCH = 0x340;
const MEPC = 0x341;
const MRET = 0x30200073;
const SFENCE_VMA = 0x12000073;
/** Two compressed instructions per word: c.addi x5, 1 + c.mv x6, x5; c.add x6, x5 + c.nop. */
const RVC_PAIRS = [0x83160285 | 0, 0x00019316];

/** Ops left out: those that leave the program (mret, sret, wfi), drop decoded code, or need H. */
const LEFT_OUT = new Set(["mret", "sret", "wfi", "fence.i", "jalr"]);

/** Whether op `name` of extension `ext` is in the warm-up program. */
export function warmedUp(name: string, ext: string): boolean {
  return ext !== "H" && !LEFT_OUT.has(name);
}

/** Encodes op (match, operands) with variant v's registers and immediates; undefined for an operand it cannot fill. */
function instance(match: number, operands: string, v: number): number | undefined {
  const r = (k: number) => FIRST + ((v + (v >= 3 && k === 2 ? 1 : k)) % REGS);
  let w = match;
  for (const tok of operands === "" ? [] : operands.split(",")) {
    const im = 8 * (v % 4); // aligned for every access size
    switch (tok) {
      case "rd":
      case "fd":
        w |= r(0) << 7;
        break;
      case "rs1":
      case "fs1":
        w |= r(1) << 15;
        break;
      case "rs2":
      case "fs2":
        w |= r(2) << 20;
        break;
      case "fs3":
        w |= r(3) << 27;
        break;
      case "rm":
        break; // round to nearest, even
      case "imm":
        w |= ((v * 1237 - 2000) & 0xfff) << 20;
        break;
      case "imm(rs1)":
        w |= (DATA << 15) | (im << 20);
        break;
      case "simm(rs1)":
        w |= (DATA << 15) | ((im & 0x1f) << 7) | ((im >> 5) << 25);
        break;
      case "(rs1)":
        w |= DATA << 15;
        break;
      case "bimm":
        w |= 2 << 8; // +4: taken or not, the next instruction
        break;
      case "jimm":
        w = encodeJal(4, r(0));
        break;
      case "uimm":
        w |= ((v * 0x2345b + 0x80000) & 0xfffff) << 12;
        break;
      case "shamt":
        w |= ((v * 13 + 1) & 63) << 20;
        break;
      case "shamtw":
        w |= ((v * 7 + 1) & 31) << 20;
        break;
      case "csr":
        w |= MSCRATCH << 20;
        break;
      case "zimm":
        w |= (v * 5 + 1) << 15;
        break;
      default:
        return undefined;
    }
  }
  return w | 0;
}

/**
 * The warm-up program as words at RAM_BASE, and where its loop starts and
 * ends (word indexes): set-up (data pointer, FS on, a trap handler that
 * counts in x27 and skips the trapping instruction), then a loop of every
 * warmed-up op in VARIANTS operand variants (memory ops after an
 * `sfence.vma` in odd ones, so that they miss the TLB), an indirect call,
 * and a jump back. `traps`: the traps one pass takes (ecall, ebreak).
 */
export function warmUpProgram(): { words: number[]; loop: number; end: number; traps: number } {
  const words = [
    lui(DATA, (RAM_BASE + DATA_OFFSET) >>> 12),
    shift(1, DATA, DATA, 32),
    shift(5, DATA, DATA, 32),
  ];
  words.push(lui(28, 2), csr(2, 0, MSTATUS, 28)); // mstatus.FS: Initial
  words.push(encodeI(0, DATA, 0, 28, 0x03), encodeI(1, DATA, 0, 28, 0x03)); // lb twice: a TLB miss, then a hit
  // mtvec: the handler right after the jump over it.
  words.push(auipc(30), addi(30, 30, 16), csr(1, 0, MTVEC, 30), encodeJal(24, 0));
  words.push(addi(TRAPS, TRAPS, 1), csr(2, 30, MEPC, 0), addi(30, 30, 4), csr(1, 0, MEPC, 30), MRET);
  const loop = words.length;
  // Values whose sums and differences overflow 32 bits, of both signs.
  words.push(lui(5, 0x80000), addi(5, 5, -1), lui(6, 0x7ffff), addi(6, 6, 0x7ff), addi(7, 0, -1));
  words.push(lui(8, 0x40000), auipc(9), ...RVC_PAIRS);
  let traps = 0;
  for (let v = 0; v < VARIANTS; v++)
    for (const [name, ext, match, , operands, facts] of INSTRUCTIONS) {
      if (!warmedUp(name, ext)) continue;
      const w = instance(match, operands, v);
      if (w === undefined) continue;
      if (v % 2 === 1 && facts.includes("mem")) words.push(SFENCE_VMA);
      words.push(w);
      if (name === "ecall" || name === "ebreak") traps++;
    }
  // jalr: over one instruction, through a register.
  words.push(auipc(28), encodeI(12, 28, 0, 1, 0x67), 0x13, 0x13);
  words.push(encodeJal(4 * (loop - words.length), 0));
  return { words, loop, end: words.length, traps };
}

/**
 * A loop for the JIT's part, two blocks called from the interpreter and
 * chained (threshold 2): one starting with a no-op (x0 written), one with a
 * load (the interpreter looks at a block's first access before calling it),
 * ending at `j .`.
 */
const JIT_LOOP = [
  addi(5, 0, 64),
  0x13, // loop: nop
  addi(6, 6, 3),
  encodeJal(4, 0),
  encodeI(0, DATA, 3, 7, 0x03), // ld x7, 0(x31)
  encodeS(8, 7, DATA, 3, 0x23), // sd x7, 8(x31)
  addi(5, 5, -1),
  encodeB(-24, 0, 5, 1), // bne x5, x0, loop
  0x0000006f, // j .
];

let warm = false;

/**
 * V8 allocates a function's feedback vector (where its type feedback goes)
 * only at about its 8th call (`--invocation-count-for-feedback-allocation`):
 * what the first calls run teaches it nothing. The warm-up starts with this
 * many one-instruction slices of the interpreted program's set-up, so that
 * all of the JIT part (compiling, calls into blocks) is recorded.
 */
const FEEDBACK_CALLS = 12;
/** The JIT part's slices: at least MAX_BLOCK (jit/plan.ts), so the interpreter enters blocks in each. */
const JIT_SLICE = 100;

/** A scratch machine with `program` at RAM_BASE and pc there. */
function scratchMachine(program: readonly number[], jit: boolean): Machine {
  const m = new Machine({ ramSize: 1 << 16, jit, jitHot: 2 });
  m.mem.writePhys(RAM_BASE, new Uint8Array(new Int32Array(program).buffer));
  m.harts[0].setPc(RAM_BASE | 0, 0);
  return m;
}

/** Runs `m` until it retired `insns`, `slice` at a time (default: all that is left; sfence.vma ends a slice). */
function runUntil(m: Machine, insns: number, slice?: number): void {
  for (let i = 0; i < 64 && m.retired() < insns; i++) m.run(slice ?? insns - m.retired());
}

/**
 * Runs the warm-up once per process; later calls return at once. After
 * FEEDBACK_CALLS single steps, a small loop with the JIT compiling at the
 * second execution, in short slices, so that the interpreter's calls into
 * blocks are in its feedback; then the program's loop `passes` times,
 * interpreted. That order matters: V8 asks for the interpreter's optimized
 * code during the long interpreted part, with the feedback it has then.
 * When the JIT part came second, the code was built without the
 * block-calling paths and the boot's first call into a block threw it away
 * (2026-12-04, `--trace-deopt`: the boot then started in V8's bytecode
 * interpreter, its first 2M instructions taking 350-770 ms against 205-355
 * ms after the change, load 5-6). Returns the instructions it ran.
 */
export function warmUpInterpreter(passes = 4): number {
  if (warm) return 0;
  warm = true;
  const { words, loop, end } = warmUpProgram();
  if (words.length * 4 > DATA_OFFSET)
    throw new Error(`the warm-up program outgrew its pages: ${words.length} words`);
  const interpreted = scratchMachine(words, false);
  for (let i = 0; i < FEEDBACK_CALLS; i++) interpreted.run(1);
  const jitted = scratchMachine([...words.slice(0, 3), ...JIT_LOOP], true);
  runUntil(jitted, 1000, JIT_SLICE);
  runUntil(interpreted, loop + passes * (end - loop));
  return jitted.retired() + interpreted.retired();
}

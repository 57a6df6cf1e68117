/**
 * The JIT against the interpreter on random programs (issue 15, item 5):
 * the differential generator's cases (tests/diff/gen.ts: random RV64GC +
 * Zba/Zbb/Zbs bodies with forward branches, indirect jumps, AMOs, LR/SC,
 * FP and fence.i), each given inner loops here and run twice over from the
 * same state (programSource's passes), on an interpreting machine and on
 * one that compiles a block wherever code runs a second time (jitHot 1).
 * The two run in lockstep in random steps, from one instruction to several
 * slices, so comparisons fall both where blocks end and inside them; after
 * every step the whole architectural state must agree (x, f, pc, every CSR
 * slot, privilege, the LR reservation, retired count), and guest RAM at
 * the end. No qemu here: the interpreter is what the differential tests
 * prove against qemu. The second test runs such programs in S-mode under
 * Sv39 with TLB maintenance (sfence.vma of all, an address, an ASID; satp
 * ASID switches) among their instructions. Deterministic: fixed seeds,
 * programs cached by hash.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { loadElf } from "../../src/machine/board/bare-metal.ts";
import { parseElf } from "../../src/machine/board/elf.ts";
import { Machine } from "../../src/machine/board/machine.ts";
import { type Case, caseListing, type GenOptions, generateCase, L, programSource, Rng } from "../diff/gen.ts";
import { buildProgram } from "../diff/harness.ts";
import { haveCrossGcc } from "../support/cross.ts";

const skip = haveCrossGcc() ? false : "riscv64-linux-gnu-gcc is not installed";

/** Cases per program (one ELF, one pair of machines) and programs per test. */
const PER_PROGRAM = 250;
const PASSES = 2;
/**
 * The loop counters' homes, one per loop (loops may nest or cross): the
 * fcsr dump and trap cause slots, which bodies never store to (they store in
 * the scratch buffer) and which are written only after a pass or a trap.
 */
const COUNTERS = [L.DUMP_FCSR, L.TRAP_CAUSE];
/** Registers a loop may count in (clobbered at each loop's end: never s0, sp, or x0). */
const COUNT_REGS = ["t1", "t2", "t3", "t4", "t5", "t6", "a0", "a5", "s1", "s7"];

/**
 * Whether a loop may begin or end before body line `i`: not right after a
 * line that sets up an address the next line uses (a loop boundary there
 * could let the loop's own code change it between setup and use).
 */
function canCut(lines: readonly string[], i: number): boolean {
  const prev = lines[i - 1] ?? "";
  return !/^(addi \w+, s0,|lla )/.test(prev) && !lines[i]?.startsWith("sc.");
}

/**
 * TLB maintenance S-mode code may do anywhere: sfence.vma of everything, of
 * an address (a register's value, the scratch page, the code page running
 * now), of an ASID, and a switch of satp's ASID (0 <-> 1; both map the same);
 * and CSR reads, some of which trap.
 */
function tlbOp(r: Rng): string[] {
  const reg = r.pick(COUNT_REGS);
  switch (r.int(11)) {
    case 8:
      // CSR writes inside blocks (jit/csr-leave.ts): the trap scratch stays in the block; SIE newly set
      // ends the slice (the block leaves after it); SUM toggles as Linux's uaccess does; an M-mode CSR
      // write from S-mode traps from inside the block
      return [
        r.pick([
          `csrrw ${reg}, sscratch, ${reg}`,
          `csrw sscratch, ${reg}`,
          `csrrwi ${reg}, sscratch, 5`,
          `csrw mscratch, ${reg}`,
        ]),
      ];
    case 9:
      return [
        r.pick([
          "csrsi sstatus, 2",
          "csrci sstatus, 2",
          `csrrci ${reg}, sstatus, 2`,
          `csrrsi ${reg}, sstatus, 2`,
        ]),
      ];
    case 10:
      return [
        `li ${reg}, 0x40000`,
        r.pick([`csrs sstatus, ${reg}`, `csrc sstatus, ${reg}`, `csrrs ${reg}, sstatus, ${reg}`]),
      ];
    case 6:
      // CSR reads run inside blocks through the exec helper: time and cycle (legal from S-mode only as
      // mcounteren allows), sstatus
      return [`csrr ${reg}, ${r.pick(["sstatus", "time", "cycle", "instret"])}`];
    case 7:
      // an M-mode CSR read from S-mode: the helper raises illegal instruction from inside the block
      return r.chance(0.3) ? [`csrr ${reg}, mscratch`] : [`csrr ${reg}, sscratch`];
    case 0:
      return ["sfence.vma"];
    case 1:
      return [`sfence.vma ${r.pick([...COUNT_REGS, "s0", "sp", "ra"])}, zero`];
    case 2:
      return [`auipc ${reg}, 0`, `sfence.vma ${reg}, zero`];
    case 3:
      return [`sfence.vma zero, ${reg}`];
    default:
      return [`csrr ${reg}, satp`, `binvi ${reg}, ${reg}, 44`, `csrw satp, ${reg}`];
  }
}

/**
 * The case with up to two loops (2..8 iterations each, nested, apart or
 * crossing) around ranges of its body, and with `tlb`, up to three TLB
 * maintenance items (tlbOp) between its lines.
 */
function withLoops(c: Case, r: Rng, tlb: boolean): Case {
  const lines = c.body;
  const cuts: number[] = [];
  for (let i = 1; i < lines.length; i++) if (canCut(lines, i)) cuts.push(i);
  // What goes before body line i: loop tails (ending there), then loop heads (starting there).
  const tails = new Map<number, string[]>();
  const heads = new Map<number, string[]>();
  const add = (m: Map<number, string[]>, i: number, more: string[]) =>
    m.set(i, [...(m.get(i) ?? []), ...more]);
  const loops = cuts.length < 2 ? 0 : r.int(COUNTERS.length + 1);
  for (let k = 0; k < loops; k++) {
    let a = r.pick(cuts);
    let b = r.pick(cuts);
    if (a === b) continue;
    if (a > b) [a, b] = [b, a];
    const at = `${COUNTERS[k]}(s0)`;
    const head = `.Lloop${c.index}_${k}`;
    const reg = r.pick(COUNT_REGS);
    add(heads, a, [`sd zero, ${at}`, `${head}:`]);
    add(tails, b, [`ld ${reg}, ${at}`, `addi ${reg}, ${reg}, 1`, `sd ${reg}, ${at}`]);
    add(tails, b, [`sltiu ${reg}, ${reg}, ${r.range(2, 8)}`, `bnez ${reg}, ${head}`]);
  }
  const ops = tlb && cuts.length > 0 ? r.int(4) : 0;
  for (let k = 0; k < ops; k++) add(heads, r.pick(cuts), tlbOp(r));
  const body = lines.flatMap((line, i) => [...(tails.get(i) ?? []), ...(heads.get(i) ?? []), line]);
  return { ...c, body };
}

/** The generator's mix: half the cases with FP instructions among the integer ones. */
const MIXED: GenOptions = { fpRate: 0.5, minItems: 10, maxItems: 30 };
/**
 * FP in every case, the f registers often starting as special values
 * (gen.ts F32_SPECIALS, F64_SPECIALS: NaNs quiet and signalling, +-0,
 * subnormals, infinities, the largest and smallest normals, values at
 * and near 2^31, 2^32, 2^63, 2^64), with integer specials (the extreme
 * integers) for the conversions from integers, every rounding mode.
 */
const FP_SPECIAL: GenOptions = { fpRate: 1, specials: 0.4, minItems: 10, maxItems: 30 };

function cases(seed: number, first: number, count: number, sMode: boolean, gen: GenOptions): Case[] {
  const out: Case[] = [];
  for (let i = first; i < first + count; i++) {
    const c = generateCase(seed, i, gen);
    out.push(withLoops(c, new Rng(seed ^ 0x5a5a, i), sMode));
  }
  return out;
}

/**
 * The program with its cases in S-mode under Sv39: one identity gigapage
 * over the image (R W X A D), satp ASID 0. Traps still go to the M-mode
 * handler, whose mret returns to S (mstatus.MPP).
 */
function inSMode(source: string): string {
  const entry = [
    "  csrw mtvec, t0",
    "  lla t0, lockstep_root",
    "  srli t0, t0, 12",
    "  li t1, 8 << 60",
    "  or t0, t0, t1",
    "  csrw satp, t0",
    "  sfence.vma",
    "  li t0, 0x1800",
    "  csrc mstatus, t0",
    "  li t0, 0x800",
    "  csrs mstatus, t0",
    "  lla t0, case_0",
    "  csrw mepc, t0",
    "  mret",
  ];
  const leaf = `0x${((0x8000_0000 >>> 2) | 0xcf).toString(16)}`;
  const table = [".data", ".balign 4096", "lockstep_root:", `  .dword 0, 0, ${leaf}`, "  .fill 509, 8, 0"];
  assert.equal(source.split("  csrw mtvec, t0").length, 2, "programSource's prologue changed");
  return `${source.replace("  csrw mtvec, t0", entry.join("\n"))}\n${table.join("\n")}\n`;
}

/** A machine for `elf`; with the JIT, single blocks unless `regions` (jit/region.ts). */
function machine(elf: ReturnType<typeof parseElf>, jit: boolean, regions = false): Machine {
  const m = new Machine({ ramSize: 4 * 1024 * 1024, jit, jitHot: jit ? 1 : undefined, jitRegions: regions });
  loadElf(m, elf, "lockstep");
  return m;
}

/** The first difference in architectural state between the harts of `a` and `b`, or undefined. */
function stateDiff(a: Machine, b: Machine): string | undefined {
  const ha = a.harts[0];
  const hb = b.harts[0];
  const scalars: [string, unknown, unknown][] = [
    ["retired count", ha.icount, hb.icount],
    ["pc", ha.pcLo >>> 0, hb.pcLo >>> 0],
    ["pc hi", ha.pcHi, hb.pcHi],
    ["privilege", ha.priv, hb.priv],
    ["reservation", `${ha.resValid} ${ha.resLo} ${ha.resHi}`, `${hb.resValid} ${hb.resLo} ${hb.resHi}`],
  ];
  for (const [what, va, vb] of scalars) if (va !== vb) return `${what}: interpreter ${va}, JIT ${vb}`;
  const arrays: [string, Int32Array, Int32Array][] = [
    ["x", ha.x, hb.x],
    ["f", ha.f, hb.f],
    ["CSR slot", ha.c, hb.c],
  ];
  for (const [what, xa, xb] of arrays) {
    const i = xa.findIndex((v, k) => v !== xb[k]);
    if (i >= 0) return `${what} ${i >> 1} (${i & 1 ? "hi" : "lo"} word): interpreter ${xa[i]}, JIT ${xb[i]}`;
  }
  return undefined;
}

/** The case whose code holds `pc` (by the ELF's case_<i> symbols), for the failure message. */
function caseAt(symbols: Map<string, number>, list: readonly Case[], pc: number): string {
  let best = -1;
  for (let i = 0; i < list.length; i++) {
    const at = symbols.get(`case_${i}`);
    if (at !== undefined && at <= pc) best = i;
  }
  return best < 0 ? "(outside the cases)" : caseListing(list[best]);
}

/** Step sizes: single instructions, a block's worth or a few, and whole slices. */
function stepSize(r: Rng): number {
  const k = r.int(10);
  if (k < 3) return r.range(1, 8);
  if (k < 9) return r.range(64, 300);
  return r.range(1000, 5000);
}

async function lockstep(
  seed: number,
  first: number,
  sMode: boolean,
  gen: GenOptions,
  regions?: boolean,
): Promise<{ compiled: number; regions: number; steps: number }> {
  const list = cases(seed, first, PER_PROGRAM, sMode, gen);
  const source = programSource(list, { passes: PASSES });
  const path = await buildProgram(sMode ? inSMode(source) : source);
  const elf = parseElf(new Uint8Array(readFileSync(path)));
  const tohost = elf.symbols.get("tohost") as number;
  const a = machine(elf, false);
  const b = machine(elf, true, regions);
  const done = a.mem.ramOffset(tohost, 8) >>> 2;
  const r = new Rng(seed, 0x10c5 + first);
  let steps = 0;
  for (; a.mem.i32[done] === 0; steps++) {
    assert.ok(steps < 200_000, `seed ${seed} cases ${first}..: the program did not finish`);
    const n = stepSize(r);
    a.run(n);
    b.run(n);
    const diff = stateDiff(a, b);
    if (diff !== undefined) {
      const pc = a.harts[0].pcLo >>> 0;
      assert.fail(
        `seed ${seed}, cases ${first}.., step ${steps} (${n} instructions), pc 0x${pc.toString(16)}: ${diff}\n` +
          caseAt(elf.symbols, list, pc),
      );
    }
  }
  assert.equal(b.mem.i32[done], 1, "the JIT machine did not finish with the interpreter");
  if (sMode) assert.equal(a.harts[0].priv, 1, "the cases did not run in S-mode");
  // Guest RAM only: the jump caches below it are the JIT's own.
  const ramA = a.mem.u8.subarray(a.mem.ramLinear);
  const ramB = b.mem.u8.subarray(b.mem.ramLinear);
  const at = ramA.findIndex((v, i) => v !== ramB[i]);
  assert.equal(
    at,
    -1,
    `seed ${seed} cases ${first}..: RAM differs at 0x${(a.mem.ramBase + at).toString(16)}`,
  );
  return { compiled: b.jit?.compiled ?? 0, regions: b.jit?.regionsCompiled ?? 0, steps };
}

/** Runs `programs` cases in programs of PER_PROGRAM; checks that the JIT ran them and was compared often. */
async function lockstepMany(
  seed: number,
  programs: number,
  sMode: boolean,
  gen = MIXED,
  regions?: boolean,
): Promise<void> {
  let compiled = 0;
  let inRegions = 0;
  let steps = 0;
  for (let first = 0; first < programs; first += PER_PROGRAM) {
    const res = await lockstep(seed, first, sMode, gen, regions);
    compiled += res.compiled;
    inRegions += res.regions;
    steps += res.steps;
  }
  // With regions, most compiled code is regions: the cases' loops and branches join blocks.
  if (regions === true) assert.ok(inRegions >= programs / 4, `only ${inRegions} regions compiled`);
  // The JIT ran the cases' code: a block per case at least, and many comparisons.
  assert.ok(compiled >= programs, `only ${compiled} blocks compiled`);
  assert.ok(steps >= 1.5 * programs, `only ${steps} comparisons`);
}

test("random programs with loops: the JIT's state equals the interpreter's after every step (2,000 programs)", {
  skip,
  timeout: 300_000,
}, async () => {
  await lockstepMany(0x10c5_7e57, 2000, false);
});

test("the same in S-mode under Sv39, with sfence.vma and ASID switches among the instructions (1,000 programs)", {
  skip,
  timeout: 300_000,
}, async () => {
  await lockstepMany(0x10c5_5a39, 1000, true);
});

test("FP-heavy programs over special values: registers and fflags agree after every step (1,000 programs)", {
  skip,
  timeout: 300_000,
}, async () => {
  await lockstepMany(0x10c5_f10a, 1000, false, FP_SPECIAL);
});

test("with regions (jit/region.ts): blocks joined along direct jumps and branches agree after every step (1,000 programs)", {
  skip,
  timeout: 300_000,
}, async () => {
  await lockstepMany(0x10c5_2e61, 1000, false, MIXED, true);
});

test("with regions in S-mode under Sv39, sfence.vma and ASID switches among the instructions (1,000 programs)", {
  skip,
  timeout: 300_000,
}, async () => {
  await lockstepMany(0x10c5_2e5a, 1000, true, MIXED, true);
});

test("with regions, FP-heavy programs over special values (1,000 programs)", {
  skip,
  timeout: 300_000,
}, async () => {
  await lockstepMany(0x10c5_2ef0, 1000, false, FP_SPECIAL, true);
});

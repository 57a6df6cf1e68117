/**
 * Text goldens of the JIT's generated code (issue 15, item 5): a few small
 * hot loops, written as machine words (no toolchain involved), run with the
 * JIT compiling what runs twice; the module it builds for the loop is
 * disassembled to WAT (wabt) and compared with tests/machine/jit-wat/NAME.wat. A change
 * in what the translator emits shows here as a readable diff: review it, then
 * rewrite the goldens with
 *   VIRTUS_UPDATE_GOLDENS=1 node --test tests/machine/jit-wat.test.ts
 * (The goldens say what is emitted, not that it is right: the lockstep and
 * differential tests say that.)
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import wabtInit from "wabt";
import { encodeB, encodeI, encodeJal, encodeR, encodeS } from "../../src/isa/encode.ts";
import { Machine } from "../../src/machine/board/machine.ts";
import { HART_PC, HART_X } from "../../src/machine/memory/layout.ts";

const GOLDEN_DIR = join(import.meta.dirname, "jit-wat");
const UPDATE = process.env.VIRTUS_UPDATE_GOLDENS === "1";
const RAM_BASE = 0x8000_0000;
/** Where the programs' data is: auipc s0, 1 at RAM_BASE + 8 (lui would sign-extend 0x8000_0000). */
const DATA = RAM_BASE + 0x1008;

// Registers and opcodes used below.
const [A0, A1, A2, A3, T0, T1, S0] = [10, 11, 12, 13, 5, 6, 8];
const OP_IMM = 0x13;
const OP = 0x33;
const LOAD = 0x03;
const STORE = 0x23;
const LOAD_FP = 0x07;
const OP_FP = 0x53;
const lui = (rd: number, imm20: number) => ((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37;
const addi = (rd: number, rs1: number, imm: number) => encodeI(imm, rs1, 0, rd, OP_IMM);
/** FS on, s0 = DATA, a1 counts `body` down from 1000, then the hart spins on `j .`. */
const counted = (body: number[]) => [
  lui(T0, 2),
  encodeI(0x300, T0, 2, 0, 0x73), // csrs mstatus, t0 (FS = Initial)
  (1 << 12) | (S0 << 7) | 0x17, // auipc s0, 1: s0 = DATA
  addi(A1, 0, 1000),
  ...body,
  addi(A1, A1, -1),
  encodeB(-4 * (body.length + 1), 0, A1, 1), // bne a1, zero, loop
  0x0000006f, // j .
];

/** The programs, by golden name. */
const PROGRAMS: Record<string, number[]> = {
  // Integer ALU and M: add, xor, shifts, mul; registers stay in locals across the loop body.
  "int-loop": counted([
    encodeR(0, A0, A2, 0, A2, OP), // add a2, a2, a0
    addi(A0, A0, 3),
    encodeR(0, A2, A0, 4, A3, OP), // xor a3, a0, a2
    encodeI(5, A3, 1, A3, OP_IMM), // slli a3, a3, 5
    encodeR(1, A3, A0, 0, A0, OP), // mul a0, a0, a3
  ]),
  // Loads and stores of each width through the inline TLB probe.
  "load-store": counted([
    encodeI(0, S0, 3, T0, LOAD), // ld t0, 0(s0)
    encodeR(0, A1, T0, 0, T0, OP), // add t0, t0, a1
    encodeS(8, T0, S0, 3, STORE), // sd t0, 8(s0)
    encodeI(4, S0, 2, T1, LOAD), // lw t1, 4(s0)
    encodeS(17, T1, S0, 0, STORE), // sb t1, 17(s0)
    encodeI(18, S0, 5, T1, LOAD), // lhu t1, 18(s0)
  ]),
  // Double-precision arithmetic (fld, fadd.d, fmul.d, fsd).
  "fp-loop": counted([
    encodeI(0, S0, 3, 1, LOAD_FP), // fld ft1, 0(s0)
    encodeR(0x01, 1, 2, 7, 2, OP_FP), // fadd.d ft2, ft2, ft1 (rm dyn)
    encodeR(0x09, 2, 1, 7, 3, OP_FP), // fmul.d ft3, ft1, ft2
    encodeS(8, 3, S0, 3, 0x27), // fsd ft3, 8(s0)
  ]),
  // Conversions, sign injection, a compare and a move, all inline (issue 15 item 3).
  "fp-convert": counted([
    encodeI(0, S0, 3, 1, LOAD_FP), // fld ft1, 0(s0)
    encodeR(0x61, 0, 1, 1, A0, OP_FP), // fcvt.w.d a0, ft1, rtz
    encodeR(0x69, 0, A0, 0, 2, OP_FP), // fcvt.d.w ft2, a0
    encodeR(0x11, 2, 2, 1, 3, OP_FP), // fsgnjn.d ft3, ft2, ft2 (fneg.d)
    encodeR(0x51, 1, 3, 2, A2, OP_FP), // feq.d a2, ft3, ft1
    encodeR(0x71, 0, 3, 0, A3, OP_FP), // fmv.x.d a3, ft3
    encodeS(8, 3, S0, 3, 0x27), // fsd ft3, 8(s0)
  ]),
};

/** Programs whose loop the JIT compiles as a region (jit/region.ts), by golden name. */
const REGION_PROGRAMS: Record<string, number[]> = {
  // An if/else over jumps: the loop head, the odd arm and the join are three blocks, one region (entered
  // through the odd arm first, so that both arms are decoded when the head turns hot).
  "region-if-else": [
    addi(A1, 0, 1001),
    encodeJal(24, 0), // j odd
    addi(A0, A0, 3), // loop:
    encodeI(1, A1, 7, T0, OP_IMM), // andi t0, a1, 1
    encodeB(12, 0, T0, 1), // bnez t0, odd
    encodeR(0, A0, A2, 0, A2, OP), // add a2, a2, a0
    encodeJal(12, 0), // j join
    encodeR(0, A0, A2, 4, A2, OP), // odd: xor a2, a2, a0
    encodeI(1, A2, 1, A2, OP_IMM), // slli a2, a2, 1
    addi(A1, A1, -1), // join:
    encodeB(-32, 0, A1, 1), // bne a1, zero, loop
    0x0000006f, // j .
  ],
  // A call to a leaf function on the same page: the call's block and the callee's, one region; the return
  // (jalr) leaves it.
  "region-call": [
    addi(A1, 0, 1000),
    addi(A0, A0, 3), // loop:
    encodeJal(16, 1), // jal ra, leaf
    addi(A1, A1, -1),
    encodeB(-12, 0, A1, 1), // bne a1, zero, loop
    0x0000006f, // j .
    encodeR(0, A0, A2, 0, A2, OP), // leaf: add a2, a2, a0
    encodeI(2, A2, 1, A3, OP_IMM), // slli a3, a2, 2
    encodeI(0, 1, 0, 0, 0x67), // ret
  ],
};

/** Modules the JIT builds, captured at WebAssembly.Module (however the JIT is organized, it makes modules). */
const captured: Uint8Array[] = [];
const RealModule = WebAssembly.Module;
before(() => {
  WebAssembly.Module = class extends RealModule {
    constructor(bytes: BufferSource) {
      super(bytes);
      captured.push(new Uint8Array(ArrayBuffer.isView(bytes) ? bytes.buffer : bytes).slice());
    }
  } as typeof WebAssembly.Module;
});
after(() => {
  WebAssembly.Module = RealModule;
});

/** The WAT of the module built for the loop of `words` (run to their end). */
async function watOf(words: number[], regions = false, end = words.length - 1): Promise<string> {
  const m = new Machine({ ramSize: 1 << 20, jitHot: 1, jitRegions: regions });
  const code = new Uint8Array(new Int32Array(words).buffer);
  m.mem.writePhys(RAM_BASE, code);
  m.mem.writePhys(DATA, new Uint8Array(new Float64Array([1.5, 2.25, 0, 0]).buffer));
  m.harts[0].setPc(RAM_BASE | 0, 0);
  captured.length = 0;
  m.run(20_000);
  // The loop ran to its end without a trap: a1 counted down, the hart spins on the last word.
  const h = m.harts[0];
  assert.equal(h.x[2 * A1], 0, "a1 did not reach 0");
  assert.equal(h.pcLo >>> 0, RAM_BASE + 4 * end, "the hart is not at the final j .");
  assert.ok(captured.length > 0, "the JIT built no module");
  if (regions) assert.ok((m.jit?.regionsCompiled ?? 0) > 0, "the JIT compiled no region");
  // The first module is the loop's (the prologue runs once); later ones start where the scheduler
  // happened to cut a run short, which is not what these goldens are about.
  const wabt = await wabtInit();
  const mod = wabt.readWasm(captured[0], { readDebugNames: false, check: false });
  try {
    mod.generateNames();
    mod.applyNames();
    return mod.toText({ foldExprs: false, inlineExport: false });
  } finally {
    mod.destroy();
  }
}

/** Each golden's name and how to make its WAT (region programs end at their `j .`, not at their last word). */
const GOLDENS: [string, () => Promise<string>][] = [
  ...Object.entries(PROGRAMS).map(([name, words]): [string, () => Promise<string>] => [
    name,
    () => watOf(words),
  ]),
  ...Object.entries(REGION_PROGRAMS).map(([name, words]): [string, () => Promise<string>] => [
    name,
    () => watOf(words, true, words.indexOf(0x0000006f)),
  ]),
];

for (const [name, watNow] of GOLDENS) {
  test(`generated code for ${name} matches tests/machine/jit-wat/${name}.wat`, async () => {
    const wat = await watNow();
    const file = join(GOLDEN_DIR, `${name}.wat`);
    if (UPDATE) {
      mkdirSync(GOLDEN_DIR, { recursive: true });
      writeFileSync(file, wat);
      return;
    }
    const golden = readFileSync(file, "utf8");
    assert.ok(
      wat === golden,
      `the JIT's code for ${name} changed: review the diff, then VIRTUS_UPDATE_GOLDENS=1 node --test tests/machine/jit-wat.test.ts\n` +
        firstDifference(golden, wat),
    );
  });
}

/** The first differing line of two texts, with its neighbours, for the failure message. */
function firstDifference(want: string, got: string): string {
  const [a, b] = [want.split("\n"), got.split("\n")];
  const i = a.findIndex((line, k) => line !== b[k]);
  const at = i < 0 ? a.length : i;
  const show = (lines: string[]) => lines.slice(Math.max(0, at - 3), at + 4).join("\n");
  return `at line ${at + 1}:\n--- golden\n${show(a)}\n--- now\n${show(b)}`;
}

test("registers a block writes go to the hart once, before the next instruction that may leave, not after $exit", async () => {
  const lines = (await watOf(PROGRAMS["int-loop"])).split("\n").map((l) => l.trim());
  const backEdge = lines.indexOf("br_if $L2");
  const pcStore = lines.indexOf(`i64.store offset=${HART_PC}`);
  assert.ok(backEdge > 0 && pcStore > backEdge, "no loop back edge or pc store found");
  // a3 is written twice in the body (xor, slli), a0, a2 and a1 once each: one store each per pass.
  for (const r of [A0, A1, A2, A3]) {
    const at = lines.flatMap((l, i) => (l === `i64.store offset=${HART_X + 8 * r}` ? [i] : []));
    assert.equal(at.length, 1, `x${r} stored ${at.length} times`);
    assert.ok(at[0] < backEdge, `x${r} is stored after the loop's branch (line ${at[0]}), not before it`);
  }
});

test("the prologue loads the registers a block reads before writing them, not those it writes first", async () => {
  const lines = (await watOf(PROGRAMS["int-loop"])).split("\n").map((l) => l.trim());
  const loads = (r: number) => lines.filter((l) => l === `i64.load offset=${HART_X + 8 * r}`).length;
  // add a2, a2, a0 and addi a0/a1 read their registers first; xor a3 writes a3 before slli reads it.
  for (const r of [A0, A1, A2]) assert.equal(loads(r), 1, `x${r} loaded ${loads(r)} times`);
  assert.equal(loads(A3), 0, "x13 is loaded although the block writes it before reading it");
});

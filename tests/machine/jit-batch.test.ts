/**
 * How the JIT compiles and installs blocks (jit/jit.ts, jit/batch.ts): hot
 * slots queue their blocks, which are compiled several to a WebAssembly
 * module, at once (sync) or on V8's background threads while the
 * interpreter runs on (async, installed from the event loop); a block whose
 * decoded page is dropped while it waits is never installed. Programs are
 * machine words (no toolchain), each checked against the interpreter.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { encodeB, encodeI, encodeJal } from "../../src/isa/encode.ts";
import { Machine, type MachineOptions } from "../../src/machine/board/machine.ts";
import { JIT_BATCH } from "../../src/machine/jit/batch.ts";
import { JIT_YIELD_INSNS } from "../../src/machine/jit/jit.ts";
import { jitWord } from "../../src/machine/memory/code-cache.ts";

const RAM_BASE = 0x8000_0000;
const [A0, A1, A2] = [10, 11, 12];
const addi = (rd: number, rs1: number, imm: number) => encodeI(imm, rs1, 0, rd, 0x13);
const jal = (rd: number, off: number) => encodeJal(off, rd);
const SPIN = 0x0000006f; // j .

/**
 * A loop of two blocks on two pages, 3,000 times: at RAM_BASE `addi a0, a0, 3`
 * and a jump to the next page, where `addi a2, a2, 1`, the count and the
 * branch back end the loop. The hart then spins at LOOP_END.
 */
const PAGE0 = [
  addi(A1, 0, 1000),
  addi(A1, A1, 2000),
  addi(A0, A0, 3), // loop: offset 8
  jal(0, 0x1000 - 12),
];
const PAGE1 = [
  addi(A2, A2, 1), // RAM_BASE + 0x1000
  addi(A1, A1, -1),
  encodeB(-(0x1000 + 8 - 8), 0, A1, 1), // bne a1, zero, loop
  SPIN,
];
const LOOP = RAM_BASE + 8;
const LOOP_END = RAM_BASE + 0x1000 + 12;

function machine(opts: Partial<MachineOptions>): Machine {
  const m = new Machine({ ramSize: 1 << 20, ...opts });
  m.mem.writePhys(RAM_BASE, new Uint8Array(new Int32Array(PAGE0).buffer));
  m.mem.writePhys(RAM_BASE + 0x1000, new Uint8Array(new Int32Array(PAGE1).buffer));
  m.harts[0].setPc(RAM_BASE | 0, 0);
  return m;
}

/** Counts the calls into each block from the interpreter (blocks wrapped as the Jit installs them). */
function countEntries(m: Machine): number[] {
  const jit = m.jit;
  assert.ok(jit !== undefined);
  const calls: number[] = [];
  jit.onInstall = (id) => {
    const fn = jit.fns[id];
    calls[id] = 0;
    jit.fns[id] = (...args: Parameters<typeof fn>) => {
      calls[id]++;
      return fn(...args);
    };
  };
  return calls;
}

/** The id of the block installed at guest physical `paddr`, or undefined (tiering word: jit/jit.ts). */
function blockAt(m: Machine, paddr: number): number | undefined {
  const jit = m.jit;
  const off = paddr - RAM_BASE;
  const page = m.mem.code.pages[off >>> 12];
  if (jit === undefined || page === undefined) return undefined;
  const word = jitWord(page, off & 0xfff);
  return word > jit.hot ? word - jit.hot - 1 : undefined;
}

/** Both blocks of the loop are installed and were entered from the interpreter. */
function assertLoopRanCompiled(m: Machine, calls: number[]): void {
  for (const at of [LOOP, RAM_BASE + 0x1000]) {
    const id = blockAt(m, at);
    assert.ok(id !== undefined, `no block at 0x${at.toString(16)}`);
    assert.ok(calls[id] > 0, `the block at 0x${at.toString(16)} never ran: ${JSON.stringify(calls)}`);
  }
}

function assertFinished(m: Machine, what: string): void {
  const h = m.harts[0];
  assert.equal(h.pcLo >>> 0, LOOP_END, `${what}: the hart is not at the loop's end`);
  assert.equal(h.x[2 * A0], 9000, `${what}: a0`);
  assert.equal(h.x[2 * A2], 3000, `${what}: a2`);
  assert.equal(h.x[2 * A1], 0, `${what}: a1`);
}

/** Modules the JIT builds (sync) and compiles (async), with their function counts. */
const modules: number[] = [];
const RealModule = WebAssembly.Module;
const realCompile = WebAssembly.compile;
const exportsOf = (mod: WebAssembly.Module) => WebAssembly.Module.exports(mod).length;
before(() => {
  WebAssembly.Module = class extends RealModule {
    constructor(bytes: BufferSource) {
      super(bytes);
      modules.push(exportsOf(this));
    }
  } as typeof WebAssembly.Module;
  WebAssembly.compile = async (bytes: BufferSource) => {
    const mod = await realCompile(bytes);
    modules.push(exportsOf(mod));
    return mod;
  };
});
after(() => {
  WebAssembly.Module = RealModule;
  WebAssembly.compile = realCompile;
});

/**
 * Waits until `done()` holds, or `ms` have passed (the assertion after it then
 * fails): V8 compiles in the background, and on a loaded machine that takes
 * longer than any fixed number of event-loop turns (a count of 200 failed in CI).
 */
async function until(done: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await sleep(1);
}

test("blocks that turn hot together share one module, and each of them runs", () => {
  const interp = machine({ jit: false });
  interp.run(20_000);
  assertFinished(interp, "interpreter");
  modules.length = 0;
  const m = machine({ jitHot: 50 });
  const calls = countEntries(m);
  m.run(20_000);
  assertFinished(m, "JIT");
  // The loop's two blocks, then the final `j .`'s alone.
  assert.deepEqual(modules, [2, 1], "modules and their functions");
  assertLoopRanCompiled(m, calls);
  assert.equal(m.harts[0].icount, interp.harts[0].icount, "retired count");
});

test("a full batch compiles at once", () => {
  // An outer loop (100 times) through JIT_BATCH + 1 blocks of `addi a0, a0, 1; jal next`: with
  // threshold 1 all of them queue in the second pass, and the first JIT_BATCH make one module.
  const n = JIT_BATCH + 1;
  const words = [addi(A1, 0, 100)];
  for (let i = 0; i < n; i++) words.push(addi(A0, A0, 1), jal(0, 4));
  words.push(addi(A1, A1, -1), encodeB(-4 * (2 * n + 1), 0, A1, 1), SPIN);
  modules.length = 0;
  const m = new Machine({ ramSize: 1 << 20, jitHot: 1 });
  m.mem.writePhys(RAM_BASE, new Uint8Array(new Int32Array(words).buffer));
  m.harts[0].setPc(RAM_BASE | 0, 0);
  m.run(50_000);
  assert.equal(m.harts[0].x[2 * A0], 100 * n, "a0");
  assert.equal(m.harts[0].pcLo >>> 0, RAM_BASE + 4 * (words.length - 1), "the hart is not at the end");
  assert.equal(modules[0], JIT_BATCH, `modules: ${JSON.stringify(modules)}`);
});

test("async: the interpreter runs on while blocks compile; they are installed from the event loop", async () => {
  modules.length = 0;
  const m = machine({ jitHot: 50, jitAsync: true });
  const calls = countEntries(m);
  m.run(2_000); // both blocks turn hot in the first 100 iterations
  assert.equal(m.harts[0].icount, 2_000, "the interpreter ran the whole budget");
  assert.equal(m.jit?.compiled, 0, "nothing is installed before the event loop runs");
  await until(() => blockAt(m, RAM_BASE + 0x1000) !== undefined);
  m.run(20_000);
  assertFinished(m, "async JIT");
  assertLoopRanCompiled(m, calls);
});

test("async: while blocks compile, run() returns early so that the host's event loop can install them", async () => {
  const m = machine({ jitHot: 50, jitAsync: true });
  // The loop turns hot in its first 100 iterations; its block then compiles in the background.
  assert.equal(m.run(1_000_000), "budget");
  const ran = m.harts[0].icount;
  assert.ok(ran >= JIT_YIELD_INSNS && ran < 1_000_000, `ran ${ran} of 1,000,000 while a block compiled`);
  await until(() => m.jit?.compiling() === false);
  assert.equal(m.jit?.compiling(), false, "installed from the event loop");
});

test("async: a block whose page is dropped while it compiles is not installed", async () => {
  const m = machine({ jitHot: 50, jitAsync: true });
  const calls = countEntries(m);
  m.run(2_000); // both blocks are compiling by now (the second asked again while the first compiled)
  // Rewrite page 1 with the same code: its decoded page (and the block compiling there) is dropped.
  m.mem.writePhys(RAM_BASE + 0x1000, new Uint8Array(new Int32Array(PAGE1).buffer));
  await until(() => blockAt(m, LOOP) !== undefined && m.jit?.compiling() === false);
  assert.ok(blockAt(m, LOOP) !== undefined, "page 0's block is installed");
  assert.equal(m.jit?.compiled, 1, "page 1's block was not");
  m.run(20_000);
  assertFinished(m, "after the drop");
  assert.ok(calls[blockAt(m, LOOP) ?? -1] > 0, "page 0's block ran");
  await until(() => blockAt(m, RAM_BASE + 0x1000) !== undefined);
  assert.ok(blockAt(m, RAM_BASE + 0x1000) !== undefined, "page 1's block was compiled again");
});

test("blocks that went cold are released, their ids reused, and their code compiled again when it runs again", () => {
  // Two rounds of three phases: A, a one-block loop (200 times); then B and C, each 50 passes
  // through N blocks of \`addi a2, a2, 1; jal next\`. Sweeping every 4 installations: B's
  // installation sweeps once (A's block was used since the last sweep: it stays), C's again
  // (A's was not: it goes), and round 2 compiles A's block again.
  const [A3, N] = [13, 6];
  const words = [addi(A3, 0, 2), addi(A1, 0, 200)];
  const A = RAM_BASE + 4 * words.length;
  words.push(addi(A0, A0, 1), addi(A1, A1, -1), encodeB(-8, 0, A1, 1));
  for (const _phase of ["B", "C"]) {
    words.push(addi(A1, 0, 50));
    const start = words.length;
    for (let i = 0; i < N; i++) words.push(addi(A2, A2, 1), jal(0, 4));
    words.push(addi(A1, A1, -1));
    words.push(encodeB(-4 * (words.length - start), 0, A1, 1));
  }
  words.push(addi(A3, A3, -1));
  words.push(encodeB(4 - 4 * words.length, 0, A3, 1), SPIN);
  const run = (opts: Partial<MachineOptions>) => {
    const m = new Machine({ ramSize: 1 << 20, ...opts });
    m.mem.writePhys(RAM_BASE, new Uint8Array(new Int32Array(words).buffer));
    m.harts[0].setPc(RAM_BASE | 0, 0);
    return m;
  };
  const interp = run({ jit: false });
  interp.run(50_000);
  const m = run({ jitHot: 1, jitSweepEvery: 4, jitSweepInsns: 0 });
  const jit = m.jit;
  assert.ok(jit !== undefined);
  let installsAtA = 0;
  jit.onInstall = (id) => {
    if (blockAt(m, A) === id) installsAtA++;
  };
  m.run(50_000);
  const [h, hi] = [m.harts[0], interp.harts[0]];
  assert.equal(h.x[2 * A0], 400, "a0");
  assert.equal(h.x[2 * A2], 2 * 2 * 50 * N, "a2");
  assert.deepEqual(Array.from(h.x), Array.from(hi.x), "registers");
  assert.equal(h.icount, hi.icount, "retired count");
  assert.equal(h.pcLo >>> 0, RAM_BASE + 4 * (words.length - 1), "the hart is not at the end");
  assert.ok(jit.released > 0, "nothing was released");
  assert.equal(installsAtA, 2, "A's block: compiled, released while C compiled, compiled again");
  assert.ok(
    jit.fns.length < jit.compiled,
    "ids were reused: the id space is what is live, not what was compiled",
  );
  // With a clock between sweeps longer than the whole run, nothing goes.
  const long = run({ jitHot: 1, jitSweepEvery: 4, jitSweepInsns: 1_000_000 });
  long.run(50_000);
  assert.equal(long.harts[0].x[2 * A0], 400, "a0 (no sweeps)");
  assert.equal(long.jit?.released, 0, "released before SWEEP_INSNS instructions");
});

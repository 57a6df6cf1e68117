/**
 * The interpreter's warm-up (board/warm-up.ts): a program made from the
 * instruction table that runs every op the interpreter handles (H's
 * excepted), takes exactly the traps it means to and comes back round its
 * loop; the JIT's part compiles a block. What
 * the warm-up is for (fewer deoptimizations of the interpreter in V8, a
 * cheaper boot) is measured, not asserted: docs/PERFORMANCE.md.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decode, OP_NAMES } from "../../src/isa/decoder.generated.ts";
import { RVC_EXPANSION } from "../../src/isa/rvc.ts";
import { INSTRUCTIONS } from "../../src/isa/table.ts";
import { Machine } from "../../src/machine/board/machine.ts";
import { warmedUp, warmUpInterpreter, warmUpProgram } from "../../src/machine/board/warm-up.ts";
import { Jit } from "../../src/machine/jit/jit.ts";

const RAM_BASE = 0x8000_0000;
const TRAPS = 27; // the handler's counter

/** The ops of the words from `from` on (two per word where both halves are compressed). */
function opsOf(words: number[], from: number): Set<string> {
  const ops = new Set<string>();
  for (const w of words.slice(from)) {
    const halves = (w & 3) !== 3 ? [w & 0xffff, w >>> 16] : [w];
    for (const h of halves) ops.add(OP_NAMES[decode(halves.length === 2 ? RVC_EXPANSION[h] : h)]);
  }
  return ops;
}

test("the warm-up program's loop holds every op the interpreter handles, H's and those that leave the program excepted", () => {
  const { words, loop } = warmUpProgram();
  const ops = opsOf(words, loop);
  const missing = INSTRUCTIONS.filter(([name, ext]) => warmedUp(name, ext) && !ops.has(name)).map(([n]) => n);
  assert.deepEqual(missing, [], "ops missing from the warm-up program");
  assert.ok(!ops.has("illegal"), "an encoding the decoder does not know");
  assert.ok(ops.has("jalr"), "jalr is there, as the indirect call");
  assert.ok(!ops.has("mret") && !ops.has("wfi"), "nothing that leaves the loop");
});

test("one pass round the loop takes exactly the ecall and ebreak traps, and comes back to its head", () => {
  const { words, loop, traps } = warmUpProgram();
  const m = new Machine({ ramSize: 1 << 16, jit: false });
  m.mem.writePhys(RAM_BASE, new Uint8Array(new Int32Array(words).buffer));
  const h = m.harts[0];
  h.setPc(RAM_BASE | 0, 0);
  const head = RAM_BASE + 4 * loop;
  const atHead = () => h.pcLo >>> 0 === head;
  for (let i = 0; i < 100 && !atHead(); i++) m.run(1);
  assert.ok(atHead(), "the set-up did not reach the loop");
  assert.equal(h.x[2 * TRAPS], 0, "traps in the set-up");
  let steps = 0;
  do m.run(1);
  while (++steps < 10 * words.length && !atHead());
  assert.ok(atHead(), "the pass did not come back to the loop's head");
  assert.equal(traps, 12, "ecall and ebreak in each of the six operand variants");
  assert.equal(h.x[2 * TRAPS], traps, "traps taken in one pass");
  assert.equal(h.priv, 3, "still in M-mode");
});

test("the warm-up runs once per process; its JIT part compiles a block and, first, enters blocks in many slices", () => {
  const installs: number[] = [];
  // Which machine enters blocks, in order: the JIT part must come before the interpreted program
  // (V8 builds the interpreter's optimized code from the feedback it has during the long part), and
  // enter blocks from more than V8's first ~8 calls of the interpreter, which record no feedback.
  const enters: boolean[] = [];
  const realEnter = Jit.prototype.enter;
  Jit.prototype.enter = function (this: Jit, h, icount) {
    enters.push(true);
    return realEnter.call(this, h, icount);
  };
  const realRun = Machine.prototype.run;
  let interpretedFirst = 0; // instructions of the interpreted program before the first block
  Machine.prototype.run = function (this: Machine, budget: number) {
    if (this.jit === undefined && enters.length === 0) interpretedFirst += budget;
    return realRun.call(this, budget);
  };
  const RealInstance = WebAssembly.Instance;
  WebAssembly.Instance = class extends RealInstance {
    constructor(mod: WebAssembly.Module, imports?: WebAssembly.Imports) {
      super(mod, imports);
      installs.push(WebAssembly.Module.exports(mod).length);
    }
  } as typeof WebAssembly.Instance;
  try {
    const ran = warmUpInterpreter();
    assert.ok(ran > 5000, `ran ${ran} instructions`);
    assert.ok(installs.length >= 1, "no block was compiled");
    assert.equal(warmUpInterpreter(), 0, "a second warm-up");
    // Only V8's first, unrecorded calls: single steps of the set-up.
    assert.ok(interpretedFirst <= 16, `${interpretedFirst} interpreted instructions before the JIT part`);
    assert.ok(enters.length >= 8, `blocks entered from the interpreter ${enters.length} times`);
  } finally {
    WebAssembly.Instance = RealInstance;
    Jit.prototype.enter = realEnter;
    Machine.prototype.run = realRun;
  }
});

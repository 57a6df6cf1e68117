/**
 * 32-bit instructions straddling a page end (issue 15): recorded by the
 * interpreter in the decoded page (memory/code-cache.ts noteStraddle), run
 * inside compiled code at the end of a block, which checks that the next
 * virtual page still maps the RAM page the high half came from; dropped
 * with their block when either page's code changes. With
 * tests/asm/priv/jit-straddle.S (stores into the high half, remaps of the
 * second page alone, fetch faults on it): the final state must be the
 * interpreter's, and the straddling instruction must have run compiled.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadElf, runBareMetal } from "../../src/machine/board/bare-metal.ts";
import { parseElf } from "../../src/machine/board/elf.ts";
import { Machine } from "../../src/machine/board/machine.ts";
import { planBlock } from "../../src/machine/jit/plan.ts";
import {
  CodeCache,
  OPW_COMPRESSED,
  OPW_VALID,
  PAGE_INDEX_WORD,
  STRADDLE_INSN,
  STRADDLE_OPW,
  STRADDLE_PAGE,
} from "../../src/machine/memory/code-cache.ts";
import { GuestMemory } from "../../src/machine/memory/guest-memory.ts";
import { buildElf, haveCrossGcc } from "../support/cross.ts";

const skip = haveCrossGcc() ? false : "riscv64-linux-gnu-gcc is not installed";
const STR_VA = 0xc000_0000;

/** Runs jit-straddle.S; counts the times the interpreter fetched the straddling instruction. */
function run(opts: { jit: boolean; jitHot?: number; jitRegions?: boolean }) {
  const source = readFileSync(join(import.meta.dirname, "../asm/priv/jit-straddle.S"), "utf8");
  const elf = parseElf(buildElf(source));
  const m = new Machine({ ramSize: 8 << 20, ...opts });
  loadElf(m, elf, "jit-straddle");
  const h = m.harts[0];
  const fetch = h.fetch.bind(h);
  let interpreted = 0;
  h.fetch = () => {
    if (h.pcLo >>> 0 === STR_VA + 0xffe) interpreted++;
    return fetch();
  };
  const result = runBareMetal(m, elf.symbols.get("tohost") as number, 2_000_000);
  return { m, result, interpreted };
}

test("a straddling instruction runs in compiled code; stores into its second page, remaps and faults agree", {
  skip,
}, () => {
  const interp = run({ jit: false });
  assert.equal(interp.result.kind, "pass", JSON.stringify(interp.result));
  // The program runs the straddling instruction 2,402 times (12 x 200 calls, 2 faults); the
  // interpreter fetches it each time.
  assert.equal(interp.interpreted, 2402);
  for (const jitRegions of [false, true])
    for (const jitHot of [2, 50]) {
      const jit = run({ jit: true, jitHot, jitRegions });
      const what = `jitHot ${jitHot}, regions ${jitRegions}`;
      assert.deepEqual(jit.result, interp.result, what);
      const [hj, hi] = [jit.m.harts[0], interp.m.harts[0]];
      assert.equal(hj.icount, hi.icount, `retired count, ${what}`);
      assert.deepEqual(Array.from(hj.x), Array.from(hi.x), `x registers, ${what}`);
      assert.deepEqual(Array.from(hj.c), Array.from(hi.c), `CSRs, ${what}`);
      // It runs compiled once its block is (jitHot 2: after blocks that ended before it, compiled
      // before it was recorded, return there), but after each change (the store, each remap: the
      // block is dropped, or its check fails) and at the faults. Phase 3 (hi_b mapped, the block
      // compiled with hi_a's half) runs all its 400 interpreted.
      assert.ok(jit.interpreted < 600, `interpreted ${jit.interpreted} times (${what})`);
    }
});

test("in lockstep with the interpreter, compared after every step (a block's check, its exits, the faults)", {
  skip,
}, () => {
  const source = readFileSync(join(import.meta.dirname, "../asm/priv/jit-straddle.S"), "utf8");
  const elf = parseElf(buildElf(source));
  const machines = [false, true].map((jit) => {
    const m = new Machine({ ramSize: 8 << 20, jit, jitHot: jit ? 20 : undefined });
    loadElf(m, elf, "jit-straddle");
    return m;
  });
  const [a, b] = machines;
  const tohost = a.mem.ramOffset(elf.symbols.get("tohost") as number, 8) >>> 2;
  const steps = [1, 7, 100, 3, 37, 5000];
  for (let i = 0; a.mem.i32[tohost] === 0; i++) {
    assert.ok(i < 100_000, "the program did not finish");
    const n = steps[i % steps.length];
    a.run(n);
    b.run(n);
    const [ha, hb] = [a.harts[0], b.harts[0]];
    assert.equal(hb.icount, ha.icount, `retired count after step ${i}`);
    assert.equal(hb.pcLo >>> 0, ha.pcLo >>> 0, `pc after step ${i}`);
    assert.deepEqual(Array.from(hb.x), Array.from(ha.x), `x registers after step ${i}`);
    assert.deepEqual(Array.from(hb.c), Array.from(ha.c), `CSRs after step ${i}`);
  }
  assert.equal(a.mem.i32[tohost], 1, "the program failed");
  assert.equal(b.mem.i32[tohost], 1);
  assert.ok((b.jit?.compiled ?? 0) > 5);
});

test("the planner ends a block with the recorded straddling instruction, and only with one recorded", () => {
  const mem = new GuestMemory(1 << 20);
  const dec = mem.code.page(4);
  mem.code.page(9);
  mem.u16[(mem.ramLinear + 4 * 4096 + 0xffc) >>> 1] = 0x0505; // c.addi a0, 1
  dec[0xffc] = 0x00150513; // its expansion
  dec[0xffd] = 22 | OPW_VALID | OPW_COMPRESSED;
  assert.deepEqual(
    planBlock(dec, 0xffc, mem).map((i) => i.off),
    [0xffc],
    "nothing recorded: the block ends before it",
  );
  mem.code.noteStraddle(dec, 0x00550513, 22 | OPW_VALID, 9);
  const insns = planBlock(dec, 0xffc, mem);
  assert.deepEqual(
    insns.map((i) => [i.off, i.insn, i.raw, i.len, i.upper]),
    [
      [0xffc, 0x00150513, 0x0505, 2, undefined],
      [0xffe, 0x00550513, 0x00550513, 4, mem.ramLinear + 9 * 4096],
    ],
  );
});

test("a change to the page holding the high half drops the decoded page that records it", () => {
  const c = new CodeCache(64 * 4096, 0, 8);
  const dropped: number[] = [];
  c.onDrop = (p) => dropped.push(p[PAGE_INDEX_WORD]);
  const lo = c.page(3);
  c.noteStraddle(lo, 0x00550513, 22 | OPW_VALID, 10);
  assert.equal(lo[STRADDLE_PAGE], 0, "no record while the high half's page holds no decoded code");
  c.page(10);
  c.noteStraddle(lo, 0x00550513, 22 | OPW_VALID, 10);
  assert.deepEqual(
    [lo[STRADDLE_INSN], lo[STRADDLE_OPW], lo[STRADDLE_PAGE]],
    [0x00550513, 22 | OPW_VALID, 11],
  );
  c.noteStraddle(lo, 0x00750513, 22 | OPW_VALID, 10);
  assert.equal(lo[STRADDLE_INSN], 0x00550513, "the first record stays");
  c.invalidateRange(10 * 4096, 2);
  assert.deepEqual(dropped, [10, 3]);
  assert.equal(c.live, 0);
  // Dropped first itself, the lower page no longer follows the upper one.
  const lo2 = c.page(3);
  c.page(10);
  c.noteStraddle(lo2, 0x00550513, 22 | OPW_VALID, 10);
  c.invalidate(3);
  c.invalidate(10);
  assert.deepEqual(dropped, [10, 3, 3, 10]);
  // A page that straddles into itself (mapped at two consecutive virtual pages).
  const self = c.page(5);
  c.noteStraddle(self, 0x00550513, 22 | OPW_VALID, 5);
  c.invalidate(5);
  assert.deepEqual(dropped.slice(4), [5]);
  assert.equal(c.live, 0);
});

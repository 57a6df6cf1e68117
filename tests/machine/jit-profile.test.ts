/**
 * The JIT's profile counters (src/machine/jit/profile.ts, `virtus run
 * --profile`): on tests/asm/jit/profile-exits.S, whose returns from compiled
 * code are known, the counters add up to the retired count and each return
 * lands in its cause.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadElf, runBareMetal } from "../../src/machine/board/bare-metal.ts";
import { parseElf } from "../../src/machine/board/elf.ts";
import { Machine } from "../../src/machine/board/machine.ts";
import { EXIT_CAUSES, JitProfile } from "../../src/machine/jit/profile.ts";
import { TLB_FOLD } from "../../src/machine/mmu/tlb.ts";
import { buildElf, haveCrossGcc } from "../support/cross.ts";

const skip = haveCrossGcc() ? false : "riscv64-linux-gnu-gcc is not installed";
const PASSES = 2000;

function run(slice: number) {
  const source = readFileSync(join(import.meta.dirname, "../asm/jit/profile-exits.S"), "utf8");
  // Addresses XOR these share the TLB index of the address (page bits k and k + TLB_BITS flipped).
  const same = (k: number) => `-DSAME_INDEX${k}=${2 ** (TLB_FOLD + k - 1) + 2 ** (12 + k - 1)}`;
  const elf = parseElf(buildElf(source, { extraFlags: [same(1), same(2)] }));
  const profile = new JitProfile();
  const m = new Machine({ ramSize: 64 << 20, jit: true, jitHot: 1, jitProfile: profile });
  loadElf(m, elf, "profile-exits");
  const tohost = elf.symbols.get("tohost") as number;
  const result = runBareMetal(m, tohost, 5_000_000, () => m.run(slice));
  assert.equal(result.kind, "pass", JSON.stringify(result));
  return { m, data: profile.data() };
}

test("instructions in blocks and in the interpreter add up to the retired count", { skip }, () => {
  for (const slice of [65536, 1000, 200]) {
    const { m, data } = run(slice);
    assert.equal(data.blockInsns + data.interpInsns, m.harts[0].icount, `slices of ${slice}`);
    assert.ok(
      data.blockInsns > 0.9 * m.harts[0].icount,
      `blocks ran ${data.blockInsns} of ${m.harts[0].icount}`,
    );
  }
});

test("each return from compiled code is classified once, by its cause", { skip }, () => {
  const { data } = run(65536);
  const total = EXIT_CAUSES.reduce((s, c) => s + data.exits[c], 0);
  assert.equal(total, data.entries - data.refused, JSON.stringify(data.exits));
  // Within a few per loop: each loop's first passes run while its blocks are being compiled.
  const near = (n: number, expected: number, what: string) =>
    assert.ok(Math.abs(n - expected) <= 20, `${what}: ${n}, not ${expected} (${JSON.stringify(data.exits)})`);
  // Every pass of loop_stop returns before the fence.i; of loop_mem, at the misaligned load.
  near(data.exits.stop, PASSES, "stops");
  near(data.stopOps["fence.i"], PASSES, "stops before fence.i");
  // loop_mem once a pass, loop_tlb3 three times (at each load: the block called after an exit starts
  // at the load that missed and, its entry refilled, runs on to the next); loop_tlb's two pages
  // sharing a TLB index stay in blocks (two ways: direct-mapped, they left twice a pass).
  near(data.exits.memory, 4 * PASSES, "memory exits");
  // What the interpreter's access found: loop_mem's load misaligned, loop_tlb3's three loads each
  // refilling the TLB entry the other two took.
  near(data.memory.misaligned, PASSES, "misaligned");
  near(data.memory.refills, 3 * PASSES, "refills");
  assert.ok(data.memory.uncached <= 10, `uncached: ${data.memory.uncached}`);
  // Calls into blocks that retire nothing: only at loop_mem's misaligned load. The interpreter
  // fills the TLB for a block's first access before calling it, so after loop_tlb3's exits the
  // block starting at the load that missed runs (cpu/interpreter.ts refillFirstAccess).
  near(data.refused, PASSES, "entries retiring nothing");
  // Each pass of loop_stop, loop_mem and loop_tlb3 chains from the block after its exit to the loop's head through
  // the jump cache at least once (a block cut short before code not yet decoded adds a chain).
  assert.ok(data.chains >= 3 * PASSES - 30 && data.chains <= 6 * PASSES, `chains: ${data.chains}`);
  // loop_spin's 900,000 instructions in one self-looping block end only with the slices' budget.
  assert.ok(data.exits.budget >= 900_000 / 65536, `budget exits: ${data.exits.budget}`);
  assert.ok(data.compiled > 0 && data.compiledInsns >= data.compiled);
  assert.equal(
    Object.values(data.blockSizes).reduce((s, n) => s + n, 0),
    data.compiled,
    "every block in one size bucket",
  );
});

test("with page faults and remaps inside compiled code (jit-regions.S): counts add up, flushes are counted", {
  skip,
}, () => {
  const source = readFileSync(join(import.meta.dirname, "../asm/priv/jit-regions.S"), "utf8");
  const elf = parseElf(buildElf(source));
  const profile = new JitProfile();
  const m = new Machine({ ramSize: 8 << 20, jit: true, jitHot: 1, jitProfile: profile });
  loadElf(m, elf, "jit-regions");
  const result = runBareMetal(m, elf.symbols.get("tohost") as number, 1_000_000);
  assert.equal(result.kind, "pass", JSON.stringify(result));
  const data = profile.data();
  assert.equal(data.blockInsns + data.interpInsns, m.harts[0].icount);
  // It remaps code pages with sfence.vma (one page) and changes satp (all).
  assert.ok(data.jcPageFlushes + data.jcFlushes > 0, JSON.stringify(data));
});

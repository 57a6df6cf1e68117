/** The tables of `npm run bench:profile` (bench/profile-report.ts) from made-up profile segments. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { blocksTable, countsAddUp, exitsTable, sharesTable } from "../../bench/profile-report.ts";
import { JitProfile } from "../../src/machine/jit/profile.ts";
import { CPU_CATEGORIES } from "../../src/vm/cpu-profile.ts";
import type { ProfileSegment } from "../../src/vm/profile.ts";

function segment(): ProfileSegment {
  const p = new JitProfile(() => 0);
  p.blockInsns = 900_000;
  p.interpInsns = 100_000;
  p.entries = 1000;
  p.chains = 500;
  p.jcFlushes = 2;
  for (let i = 0; i < 600; i++) p.count("jc-miss-direct");
  for (let i = 0; i < 300; i++) p.count("memory");
  for (let i = 0; i < 100; i++) p.count("stop");
  p.stopOps.set(4 /* jalr */, 100);
  p.memory.refills = 225;
  p.memory.uncached = 75;
  p.blockCompiled(0, 1, 2);
  p.blockCompiled(1, 20, 3);
  p.blockCompiled(2, 100, 5);
  for (let i = 0; i < 50; i++) p.helper(65 /* mulh */);
  const ms = Object.fromEntries(CPU_CATEGORIES.map((c) => [c, 0])) as Record<
    (typeof CPU_CATEGORIES)[number],
    number
  >;
  ms.compiled = 600;
  ms.interpreter = 300;
  ms.other = 100;
  const jit = p.data();
  // Of the 600 jump-cache misses, 300 went to three pcs of one two-way jump-cache set (which
  // evict each other), 120 to two pcs of another (which fit).
  jit.jcMissTargets = { "0x10000": 100, "0x12004": 100, "0x14008": 100, "0x20004": 60, "0x22000": 60 };
  return { name: "gzip", wallMs: 1500, retired: 1_000_000, jit, cpu: { ms, samples: 2000, top: [] } };
}

test("the shares table: instructions in blocks and time by category, as percentages of the whole", () => {
  const row = sharesTable([segment()]).split("\n")[2];
  assert.equal(
    row,
    "| gzip | 1.0 | 90.0% | 1.5 | 60.0% | 0.0% | 0.0% | 0.0% | 30.0% | 0.0% | 0.0% | 0.0% | 0.0% | 0.0% | 10.0% |",
  );
});

test("the exits table: instructions per entry, exits per million, entries refused, causes, and what the stops were", () => {
  const row = exitsTable([segment()]).split("\n")[2];
  assert.equal(
    row,
    "| gzip | 900 | 600.0 | 1000 | 0.0% | 60.0% | 0.0% | 0.0% | 10.0% | 30.0% | 0.0% | 0.0% | 75.0% / 25.0% / 0.0% | 2.0 / 0.0 / 0.0 | 70.0% (50.0%) | jalr 100.0% |",
  );
});

test("the blocks table: count, mean size, size buckets, compile time and helpers", () => {
  const row = blocksTable([segment()]).split("\n")[2];
  assert.equal(row, "| gzip | 3 | 40.3 | 1 / 0 / 0 / 0 / 1 / 0 / 1 | 10 | 50 | mulh 100.0% |");
  assert.ok(countsAddUp(segment()));
  assert.ok(!countsAddUp({ ...segment(), retired: 999_999 }));
});

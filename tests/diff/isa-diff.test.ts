/**
 * Differential test of user-level RV64GC + Zba/Zbb/Zbs instructions against
 * qemu-riscv64 (see gen.ts for what a case is). Fixed seeds, 6,000 random
 * sequences; every register, fcsr and the scratch memory must match.
 * Reproduce a failure with `npm run fuzz:isa -- --seed S --index I --fp-rate P --keep`.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { BLOCK_S0, caseListing, generateCase, L, programSource } from "./gen.ts";
import {
  buildProgram,
  compareCase,
  type DiffResult,
  missingTools,
  runDiff,
  runQemu,
  runVirtus,
} from "./harness.ts";

const missing = missingTools();

function report(res: DiffResult, fpRate: number): string {
  const out: string[] = [...res.errors];
  for (const m of res.mismatches.slice(0, 5)) {
    out.push(
      `--- seed ${m.c.seed} index ${m.c.index}: npm run fuzz:isa -- --seed ${m.c.seed} --index ${m.c.index} --fp-rate ${fpRate}`,
    );
    out.push(caseListing(m.c));
    if (m.trap) out.push(`# ${m.trap}`);
    for (const d of m.diffs) out.push(`#   ${d.what}: qemu ${d.qemu} virtus ${d.virtus}`);
  }
  if (res.mismatches.length > 5) out.push(`(${res.mismatches.length - 5} more mismatches)`);
  return out.join("\n");
}

async function check(t: { skip(msg: string): void }, seed: number, count: number, fpRate: number) {
  if (missing) {
    t.skip(`differential ISA tests need qemu-riscv64 and the riscv64 cross compiler: ${missing}`);
    return;
  }
  const res = await runDiff({ seed, count, fpRate, perProgram: 150 });
  assert.equal(res.ran, count, report(res, fpRate));
  assert.ok(res.mismatches.length === 0 && res.errors.length === 0, report(res, fpRate));
}

test("integer sequences match qemu-riscv64 (2,000 cases)", { timeout: 120_000 }, async (t) => {
  await check(t, 0x5eed_0001, 2000, 0);
});

test("FP + integer sequences match qemu-riscv64 (4,000 cases)", { timeout: 120_000 }, async (t) => {
  await check(t, 0x5eed_0002, 4000, 1);
});

test("the harness reports a planted difference", { timeout: 60_000 }, async (t) => {
  if (missing) {
    t.skip(`differential ISA tests need qemu-riscv64 and the riscv64 cross compiler: ${missing}`);
    return;
  }
  const c = generateCase(1, 0, { fpRate: 1 });
  const elf = await buildProgram(programSource([c]));
  const q = await runQemu(elf, 1);
  const v = runVirtus(readFileSync(elf), 1);
  assert.equal(v.status, "ok");
  assert.equal(compareCase(c, q, v.blocks, 0), undefined);
  // the dump is real data: most registers differ from zero
  const dv = new DataView(q.buffer, q.byteOffset + BLOCK_S0);
  let nonzero = 0;
  for (let i = 1; i < 32; i++) if (dv.getBigUint64(L.DUMP_X + 8 * i, true) !== 0n) nonzero++;
  assert.ok(nonzero > 20);
  v.blocks[BLOCK_S0 + L.DUMP_F + 8 * 3 + 5] ^= 0x10;
  const mm = compareCase(c, q, v.blocks, 0);
  assert.deepEqual(
    mm?.diffs.map((d) => d.what),
    ["f3/ft3"],
  );
});

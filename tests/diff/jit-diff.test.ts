/**
 * Differential test of the JIT (src/machine/jit) against qemu-riscv64. The
 * cases of isa-diff.test.ts run each body once, which the JIT never sees;
 * here every case runs its sequence three times from the same state
 * (programSource's `passes`) and Virtus compiles a block the second time it
 * reaches code (jitHot 1): pass 1 decodes, pass 2 compiles, pass 3 runs the
 * compiled blocks. Every register, fcsr and the scratch memory after the
 * last pass must match qemu's, and the JIT must have run the cases' code.
 * Reproduce a failure with `npm run fuzz:isa -- --jit --seed S --index I --fp-rate P --keep`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BLOCK_S0, blockSize, type Case, caseListing, generateCase, L, programSource } from "./gen.ts";
import { buildProgram, compareCase, type DiffResult, missingTools, runDiff, runQemu } from "./harness.ts";

const missing = missingTools();
const PASSES = 3;

function report(res: DiffResult, fpRate: number): string {
  const out: string[] = [...res.errors];
  for (const m of res.mismatches.slice(0, 5)) {
    out.push(
      `--- seed ${m.c.seed} index ${m.c.index}: npm run fuzz:isa -- --jit --seed ${m.c.seed} --index ${m.c.index} --fp-rate ${fpRate}`,
    );
    out.push(caseListing(m.c));
    if (m.trap) out.push(`# ${m.trap}`);
    if (m.interpreterMatches !== undefined)
      out.push(
        `# the interpreter alone ${m.interpreterMatches ? "matches qemu: a JIT difference" : "differs too"}`,
      );
    for (const d of m.diffs) out.push(`#   ${d.what}: qemu ${d.qemu} virtus ${d.virtus}`);
  }
  if (res.mismatches.length > 5) out.push(`(${res.mismatches.length - 5} more mismatches)`);
  return out.join("\n");
}

async function check(
  t: { skip(msg: string): void },
  seed: number,
  count: number,
  fpRate: number,
  specials?: number,
) {
  if (missing) {
    t.skip(`differential JIT tests need qemu-riscv64 and the riscv64 cross compiler: ${missing}`);
    return;
  }
  const res = await runDiff({
    seed,
    count,
    fpRate,
    specials,
    perProgram: 150,
    passes: PASSES,
    jit: true,
    jitHot: 1,
  });
  assert.equal(res.ran, count, report(res, fpRate));
  assert.ok(res.mismatches.length === 0 && res.errors.length === 0, report(res, fpRate));
  // The JIT was not bypassed: it compiled blocks, and blocks starting in the cases' own code
  // (bodies; ~45 instructions per case are typical) ran.
  const stats = JSON.stringify(res.jit);
  assert.ok(res.jit.compiled >= count, `too few blocks compiled: ${stats}`);
  assert.ok(res.jit.caseRetired >= 20 * count, `too little case code ran compiled: ${stats}`);
}

test("integer sequences match qemu-riscv64 under the JIT (1,000 cases)", { timeout: 120_000 }, async (t) => {
  await check(t, 0x11f0_0001, 1000, 0);
});

test("FP + integer sequences match qemu-riscv64 under the JIT (1,000 cases)", {
  timeout: 120_000,
}, async (t) => {
  await check(t, 0x11f0_0002, 1000, 1);
});

test("FP sequences over special values (NaNs, +-0, subnormals, infinities, conversion limits) match qemu-riscv64 under the JIT (1,000 cases)", {
  timeout: 120_000,
}, async (t) => {
  await check(t, 0x11f0_0004, 1000, 1, 0.5);
});

test("each pass starts from the same state: 3 passes dump what 2 passes dump (qemu)", {
  timeout: 60_000,
}, async (t) => {
  if (missing) {
    t.skip(`differential JIT tests need qemu-riscv64 and the riscv64 cross compiler: ${missing}`);
    return;
  }
  // Programs with 2 and 3 passes have the same layout (only the pass limit differs), so
  // addresses agree; with the scratch buffer not restored, stores and AMOs would compound.
  const cases: Case[] = [];
  for (let i = 0; i < 60; i++) cases.push(generateCase(0x11f0_0003, i, { fpRate: 0.5 }));
  const two = await runQemu(await buildProgram(programSource(cases, { passes: 2 })), cases.length, 2);
  const three = await runQemu(await buildProgram(programSource(cases, { passes: 3 })), cases.length, 3);
  const size = blockSize(3);
  const dv = new DataView(three.buffer, three.byteOffset);
  cases.forEach((c, k) => {
    const mm = compareCase(c, two, three, k * size);
    assert.equal(
      mm,
      undefined,
      mm && `case ${k}: ${mm.diffs.map((d) => `${d.what} ${d.qemu} ${d.virtus}`).join(", ")}`,
    );
    assert.equal(dv.getBigUint64(k * size + BLOCK_S0 + L.PASS, true), 3n);
  });
});

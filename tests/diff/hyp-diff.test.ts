/**
 * The differential ISA test with the cases running on Virtus in VS and VU
 * mode under a tiny hypervisor (`--cpu h=on`, two-stage translation on:
 * Sv39 over Sv39x4 identity maps; gen.ts guestMode), against the same
 * cases under qemu-riscv64. Every register, fcsr and the scratch memory
 * must match: instructions mean the same in a guest, and every fetch, load
 * and store of the cases goes through both translation stages and the
 * VS/VU TLB sets.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type DiffResult, missingTools, runDiff } from "./harness.ts";

const missing = missingTools();

function report(res: DiffResult): string {
  const out = [...res.errors];
  for (const m of res.mismatches.slice(0, 3))
    out.push(
      `seed ${m.c.seed} index ${m.c.index}: ${m.diffs.map((d) => `${d.what} qemu ${d.qemu} virtus ${d.virtus}`).join(", ")}`,
    );
  return out.join("\n");
}

for (const mode of ["vs", "vu"] as const) {
  test(`integer and FP sequences in ${mode.toUpperCase()} mode match qemu-riscv64 (1,000 cases)`, {
    timeout: 180_000,
  }, async (t) => {
    if (missing) {
      t.skip(`differential ISA tests need qemu-riscv64 and the riscv64 cross compiler: ${missing}`);
      return;
    }
    const res = await runDiff({
      seed: mode === "vs" ? 0x5eed_0101 : 0x5eed_0102,
      count: 1000,
      fpRate: 0.5,
      perProgram: 125,
      guestMode: mode,
    });
    assert.equal(res.ran, 1000, report(res));
    assert.ok(res.mismatches.length === 0 && res.errors.length === 0, report(res));
  });
}

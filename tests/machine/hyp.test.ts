/**
 * The H extension (`--cpu h=on`), proven by bare-metal programs in
 * tests/asm/hyp: a small hypervisor in HS-mode runs guests in VS/VU-mode
 * (traps, delegation, two-stage translation, guest-page faults,
 * virtual-instruction exceptions, HLV/HSV, VS interrupts and timers).
 * hypervisor.S also runs on QEMU (qemu-agree.test.ts); spec.S checks what
 * QEMU 7.2 does differently from the spec.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseCpuOption } from "../../src/cli/cpu.ts";
import { VirtusError } from "../../src/machine/errors.ts";
import { assertBadInput, virtusSync } from "../support/cli.ts";
import { buildElf, haveCrossGcc } from "../support/cross.ts";
import { runElf } from "../support/run.ts";

const HYP_DIR = join(import.meta.dirname, "../asm/hyp");
const files = readdirSync(HYP_DIR)
  .filter((f) => f.endsWith(".S"))
  .sort();
const skip = haveCrossGcc() ? false : "riscv64-linux-gnu-gcc is not installed";

function outcome(r: ReturnType<typeof runElf>["result"]): string {
  return r.kind === "fail" ? `fail with code ${r.code} after ${r.insns} instructions` : r.kind;
}

describe("H extension: tests/asm/hyp", { skip }, () => {
  for (const file of files) {
    const elf = () => buildElf(readFileSync(join(HYP_DIR, file), "utf8"));
    test(`${file} (interpreter)`, () => {
      assert.equal(outcome(runElf(elf(), { maxInsns: 20_000_000, jit: false, hExt: true }).result), "pass");
    });
    // With the JIT compiling every slot the second time it runs: HS code runs as blocks, V=1 code never does.
    test(`${file} (JIT)`, () => {
      assert.equal(outcome(runElf(elf(), { maxInsns: 20_000_000, jitHot: 1, hExt: true }).result), "pass");
    });
  }
  test("without --cpu h=on the H CSRs and instructions are illegal and misa.H is clear", () => {
    const src = `#include "test.h"
  .option norvc
  .section .text.init
  .globl _start
_start:
  INSTALL_MTRAP
  csrr t0, misa
  srli t0, t0, 7
  andi t0, t0, 1
  CHECK_IMM(t0, 0, 1)
  EXPECT_TRAP(1f)
  csrr t0, hstatus
  FAIL(2)
1:
  CHECK_IMM(s2, 2, 3)
  EXPECT_TRAP(1f)
  csrr t0, vsatp
  FAIL(4)
1:
  CHECK_IMM(s2, 2, 5)
  EXPECT_TRAP(1f)
  hfence.gvma
  FAIL(6)
1:
  CHECK_IMM(s2, 2, 7)
  EXPECT_TRAP(1f)
  hlv.d t0, (sp)
  FAIL(8)
1:
  CHECK_IMM(s2, 2, 9)
  EXPECT_TRAP(1f)
  csrr t0, mtval2
  FAIL(10)
1:
  CHECK_IMM(s2, 2, 11)
  csrw mideleg, zero
  CHECK_CSR(mideleg, 0, 12)
  PASS
  MTRAP_HANDLER
  TOHOST_SECTION
`;
    assert.equal(
      outcome(runElf(buildElf(src), { maxInsns: 1_000_000, jit: false, hExt: false }).result),
      "pass",
    );
  });
});

describe("--cpu", () => {
  test("parseCpuOption takes h=on/off (and true/false), default on; anything else is a one-line error", () => {
    assert.deepEqual(parseCpuOption(undefined), { h: true }, "H is on by default, as on QEMU");
    assert.deepEqual(parseCpuOption("h=on"), { h: true });
    assert.deepEqual(parseCpuOption("h=off"), { h: false });
    assert.deepEqual(parseCpuOption("h=true"), { h: true });
    for (const bad of ["h", "h=yes", "v=on", "", "h=on,x=1"])
      assert.throws(
        () => parseCpuOption(bad),
        (e: unknown) => e instanceof VirtusError && /--cpu/.test(e.message),
      );
  });
  test("virtus run-elf runs the hypervisor test (H on by default); with --cpu h=off the program fails; a bad --cpu exits 2", {
    skip,
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), "virtus-hyp-"));
    try {
      const elf = join(dir, "hyp.elf");
      writeFileSync(elf, buildElf(readFileSync(join(HYP_DIR, "hypervisor.S"), "utf8")));
      assert.equal(virtusSync(["run-elf", "--cpu", "h=on", elf]).code, 0);
      assert.equal(virtusSync(["run-elf", elf]).code, 0);
      assert.equal(virtusSync(["run-elf", "--cpu", "h=off", elf]).code, 1, "misa.H is checked first");
      assertBadInput(["run-elf", "--cpu", "h=maybe", elf], /--cpu h=maybe: give h=on or h=off/);
      assertBadInput(["run", "--cpu", "x=on", "--kernel", elf], /--cpu x=on/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

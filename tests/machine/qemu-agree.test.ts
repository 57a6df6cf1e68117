/**
 * Bare-metal programs that must pass on QEMU as well as on Virtus: the
 * same ELF runs on `qemu-system-riscv64 -M spike -bios none` (QEMU's spike
 * board speaks the HTIF tohost protocol of tests/asm/test.h), so the
 * expectations the programs check are QEMU 7.2's, not only our reading of
 * the spec. (Most of tests/asm/priv checks what the spec allows to differ,
 * e.g. misaligned accesses done in hardware, so it is not in this list.)
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { buildElf, haveCrossGcc } from "../support/cross.ts";
import { runElf } from "../support/run.ts";

const ASM = join(import.meta.dirname, "../asm");

/** Program (under tests/asm) and the QEMU -cpu it needs. */
const PROGRAMS: { file: string; cpu: string; hExt?: boolean }[] = [
  { file: "priv/sdtrig.S", cpu: "rv64" },
  { file: "hyp/hypervisor.S", cpu: "rv64,h=true", hExt: true },
];

function haveQemu(): boolean {
  try {
    execFileSync("qemu-system-riscv64", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const cross = haveCrossGcc();
const dir = mkdtempSync(join(tmpdir(), "virtus-qemu-agree-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("bare-metal programs agree with QEMU", { skip: cross ? false : "no riscv64 cross compiler" }, () => {
  for (const p of PROGRAMS) {
    const elf = () => buildElf(readFileSync(join(ASM, p.file), "utf8"));
    test(`${p.file} passes on Virtus`, () => {
      for (const jit of [false, true]) {
        const { result } = runElf(elf(), { maxInsns: 20_000_000, jit, hExt: p.hExt });
        assert.equal(result.kind, "pass", `jit ${jit}: ${JSON.stringify(result)}`);
      }
    });
    test(`${p.file} passes on qemu-system-riscv64 -M spike -cpu ${p.cpu}`, {
      skip: haveQemu() ? false : "qemu-system-riscv64 is not installed",
    }, () => {
      const path = join(dir, `${p.file.replace(/\W/g, "_")}.elf`);
      writeFileSync(path, elf());
      const r = spawnSync(
        "qemu-system-riscv64",
        ["-M", "spike", "-cpu", p.cpu, "-nographic", "-bios", "none", "-kernel", path],
        { timeout: 60_000, encoding: "utf8" },
      );
      // HTIF: exit 0 on pass, the failure code otherwise.
      assert.equal(r.status, 0, `qemu exited ${r.status} (failure code): ${r.stderr}`);
    });
  }
});

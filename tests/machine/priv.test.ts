/**
 * The hart's privileged architecture, proven by bare-metal assembly tests
 * (tests/asm/priv/*.S, one test each). Every program checks exact CSR
 * values after traps and fails with its own code (FAIL(n) in test.h).
 * A `#include "name.inc"` naming a file in tests/asm/priv is inlined here
 * before building, so shared bodies are part of buildElf's cache key.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadElf, runBareMetal } from "../../src/machine/board/bare-metal.ts";
import { parseElf } from "../../src/machine/board/elf.ts";
import { Machine } from "../../src/machine/board/machine.ts";
import { MIP_SEIP, MIP_SSIP } from "../../src/machine/cpu/constants.ts";
import { buildElf, haveCrossGcc } from "../support/cross.ts";
import { runElf } from "../support/run.ts";
import { TEST_JIT_HOT } from "../support/test-jit.ts";

const PRIV_DIR = join(import.meta.dirname, "../asm/priv");
const VIRTUS = join(import.meta.dirname, "../../bin/virtus.js");
const MAX_INSNS = 20_000_000;

/** The source of a test with its local `#include "x.inc"` lines inlined. */
function privSource(file: string): string {
  return readFileSync(join(PRIV_DIR, file), "utf8").replace(
    /^#include "([\w.-]+\.inc)"$/gm,
    (_, inc: string) => privSource(inc),
  );
}

const files = readdirSync(PRIV_DIR)
  .filter((f) => f.endsWith(".S"))
  .sort();
const cross = haveCrossGcc();
const skip = cross ? false : "riscv64-linux-gnu-gcc is not installed";

function outcome(r: ReturnType<typeof runElf>["result"]): string {
  return r.kind === "fail" ? `fail with code ${r.code} after ${r.insns} instructions` : r.kind;
}

describe("privileged architecture: tests/asm/priv", { skip }, () => {
  for (const file of files) {
    test(file, () => {
      const { result } = runElf(buildElf(privSource(file)), { maxInsns: MAX_INSNS, jit: false });
      assert.equal(outcome(result), "pass");
    });
  }
});

// The same programs with the JIT compiling every slot the second time it runs: trap
// handlers, loops and MMU code then run as blocks, side exits and chained jumps.
describe("privileged architecture under the JIT: tests/asm/priv", { skip }, () => {
  for (const file of files) {
    test(file, () => {
      const { result, machine } = runElf(buildElf(privSource(file)), { maxInsns: MAX_INSNS, jitHot: 1 });
      assert.equal(outcome(result), "pass");
      assert.ok((machine.jit?.compiled ?? 0) > 0, "the JIT compiled nothing");
    });
  }
});

// With the H extension on (`--cpu h=on`) nothing a program without V=1 can see changes but misa.H.
describe("privileged architecture with the H extension on: tests/asm/priv", { skip }, () => {
  for (const file of files) {
    test(file, () => {
      const { result } = runElf(buildElf(privSource(file)), { maxInsns: MAX_INSNS, hExt: true });
      assert.equal(outcome(result), "pass");
    });
  }
});

describe("wfi and the deterministic clock", { skip }, () => {
  test("wfi with no interrupt that could wake it ends the run instead of spinning forever", () => {
    // mtimecmp in the future but MTIE clear: the machine skips time to the deadline once,
    // then sees nothing left to wait for.
    const src = `#include "test.h"
  .section .text.init
  .globl _start
_start:
  li t2, CLINT_MTIME
  ld t1, 0(t2)
  addi t1, t1, 100
  li t0, CLINT_MTIMECMP
  sd t1, 0(t0)
  wfi
  FAIL(1)
  TOHOST_SECTION
`;
    const { result, machine } = runElf(buildElf(src), { maxInsns: 1_000_000 });
    assert.equal(result.kind, "budget");
    assert.ok(machine.retired() < 100, `retired ${machine.retired()}`);
    assert.equal(machine.harts[0].waiting, true);
  });
});

describe("a trap vector that faults", { skip }, () => {
  test("ends a bare-metal run as out of budget instead of hanging the host", () => {
    // mtvec points where nothing is mapped: the illegal instruction traps there, the fetch
    // there faults and traps there again, retiring nothing, forever.
    const src = `#include "test.h"
  .section .text.init
  .globl _start
_start:
  li t0, 0x1000
  csrw mtvec, t0
  .word 0
  PASS
  TOHOST_SECTION
`;
    for (const jit of [false, true]) {
      const { result } = runElf(buildElf(src), { maxInsns: 1_000_000, jit });
      assert.equal(result.kind, "budget");
    }
  });
});

describe("mip.SEIP with an external line", { skip }, () => {
  test("reads OR the line in; csrrs/csrrc modify only the software bit", () => {
    const src = `#include "test.h"
  .section .text.init
  .globl _start
_start:
  csrsi mip, MIP_SSIP       /* read-modify-write while the line is high */
  csrr a0, mip
  li t0, MIP_SEIP
  csrc mip, t0              /* clears the software bit: the line still shows */
  csrr a1, mip
  PASS
  TOHOST_SECTION
`;
    const elf = parseElf(buildElf(src));
    const m = new Machine({ ramSize: 1 << 20, jitHot: TEST_JIT_HOT });
    loadElf(m, elf, "seip");
    const h = m.harts[0];
    h.setIrqLine(MIP_SEIP, true);
    assert.equal(runBareMetal(m, elf.symbols.get("tohost")!, 10_000).kind, "pass");
    assert.equal(h.x[2 * 10], MIP_SEIP | MIP_SSIP);
    assert.equal(h.x[2 * 11], MIP_SEIP | MIP_SSIP);
    h.setIrqLine(MIP_SEIP, false);
    assert.equal(h.mip(), MIP_SSIP, "the csrsi must not have latched SEIP into the software bit");
  });
});

describe("virtus run-elf on the privileged tests", { skip }, () => {
  const scratch = cross ? mkdtempSync(join(tmpdir(), "virtus-priv-")) : "";
  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  /** Runs `virtus run-elf` on the ELF; resolves to its exit code and stderr. */
  const runCli = (elf: Uint8Array, name: string, ...args: string[]) => {
    const path = join(scratch, name);
    writeFileSync(path, elf);
    return new Promise<{ status: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [VIRTUS, "run-elf", ...args, path], (err, _stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        resolve({ status: typeof code === "number" ? code : -1, stderr });
      });
    });
  };

  test("every program passes: exit code 0", async () => {
    const runs = files.map((file) =>
      runCli(buildElf(privSource(file)), `${file}.elf`, "--max-insns", String(MAX_INSNS)),
    );
    for (const [i, r] of (await Promise.all(runs)).entries())
      assert.equal(r.status, 0, `${files[i]}: exit ${r.status}\n${r.stderr}`);
  });
});

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildElf, haveCrossGcc } from "../support/cross.ts";

const bin = join(import.meta.dirname, "../../bin/virtus.js");

/** A bare-metal kernel for `--bios none`: runs in M-mode, prints on the UART, then writes the sifive_test finisher. */
function program(finisher: string): string {
  return `#include "test.h"
.text
.globl _start
_start:
  csrr t0, mhartid
  bnez t0, park            /* only hart 0 talks */
  csrr t1, mstatus          /* M-mode: this must not trap */
  li t0, 0x10000000         /* NS16550A THR */
  la t1, msg
1: lbu t2, 0(t1)
  beqz t2, 2f
  sb t2, 0(t0)
  addi t1, t1, 1
  j 1b
2: li t0, 0x100000          /* sifive_test */
  li t1, ${finisher}
  sw t1, 0(t0)
park: wfi
  j park
.data
msg: .asciz "hello from M-mode, a0=hartid a1=dtb\\n"
TOHOST_SECTION
`;
}

test("--bios none runs the kernel in M-mode; the finisher's poweroff and fail codes become the exit status", {
  skip: !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed",
}, () => {
  const run = (finisher: string) => {
    const p = join(tmpdir(), `virtus-bios-none-${finisher}.elf`);
    writeFileSync(p, buildElf(program(finisher)));
    return spawnSync(
      process.execPath,
      [bin, "run", "--bios", "none", "--kernel", p, "--smp", "2", "--deterministic"],
      {
        encoding: "utf8",
        timeout: 60_000,
        input: "",
      },
    );
  };
  const ok = run("0x5555");
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /hello from M-mode/);
  const fail = run("(7 << 16) | 0x3333");
  assert.equal(fail.status, 7);
});

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildElf, haveCrossGcc } from "../support/cross.ts";

const root = join(import.meta.dirname, "../..");
const bin = join(root, "bin/virtus.js");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

function virtus(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("--version prints the package version", () => {
  const r = virtus("--version");
  assert.equal(r.code, 0);
  assert.equal(r.out.trim(), pkg.version);
});

test("--help lists the commands", () => {
  const r = virtus("--help");
  assert.equal(r.code, 0);
  assert.match(r.out, /run-elf/);
  assert.match(r.out, /Usage: virtus/);
});

test("an unknown option is a one-line error with exit 2", () => {
  const r = virtus("run-elf", "x.elf", "--bogus");
  assert.equal(r.code, 2);
  assert.match(r.err, /^virtus: unknown option '--bogus'/);
  assert.equal(r.err.trim().split("\n").length, 1);
});

test("run-elf: bad input gets one line and exit 2", () => {
  const dir = tmpdir();
  const notElf = join(dir, "virtus-not-elf.bin");
  writeFileSync(notElf, "hello, this is not an ELF file at all".repeat(4));
  const cases: [string[], RegExp][] = [
    [["run-elf", join(dir, "virtus-missing.elf")], /no such file/],
    [["run-elf", notElf], /not an ELF file/],
    [["run-elf", notElf, "--max-insns", "-5"], /--max-insns takes a positive whole number/],
  ];
  for (const [args, msg] of cases) {
    const r = virtus(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, msg);
    assert.equal(r.err.trim().split("\n").length, 1, r.err);
    assert.doesNotMatch(r.err, /at .*\.ts:\d+/);
  }
});

test("run-elf: pass, fail code, budget, foreign ELF, missing tohost, segment outside RAM", {
  skip: !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed",
}, () => {
  const dir = tmpdir();
  const write = (name: string, src: string, flags?: string[]) => {
    const p = join(dir, `virtus-cli-${name}.elf`);
    writeFileSync(p, buildElf(src, { extraFlags: flags }));
    return p;
  };
  const pass = write(
    "pass",
    '#include "test.h"\n.text\n.globl _start\n_start:\n li a0, 1\n PASS\nTOHOST_SECTION\n',
  );
  const fail = write("fail", '#include "test.h"\n.text\n.globl _start\n_start:\n FAIL(42)\nTOHOST_SECTION\n');
  const big = write("big", '#include "test.h"\n.text\n.globl _start\n_start:\n FAIL(500)\nTOHOST_SECTION\n');
  const spin = write("spin", '#include "test.h"\n.text\n.globl _start\n_start:\n j _start\nTOHOST_SECTION\n');
  const notohost = write("notohost", ".text\n.globl _start\n_start:\n j _start\n");
  const outside = write(
    "outside",
    '#include "test.h"\n.text\n.globl _start\n_start:\n PASS\nTOHOST_SECTION\n',
    ["-Wl,--section-start=.text=0x10000"],
  );
  assert.equal(virtus("run-elf", pass).code, 0);
  assert.equal(virtus("run-elf", fail).code, 42);
  assert.equal(virtus("run-elf", big).code, 123);
  const b = virtus("run-elf", spin, "--max-insns", "1000");
  assert.equal(b.code, 124);
  assert.match(b.err, /budget/);
  // Long enough for the spin loop to be translated; and the same with the interpreter alone.
  assert.equal(virtus("run-elf", spin, "--max-insns", "3000000").code, 124);
  assert.equal(virtus("run-elf", spin, "--max-insns", "3000000", "--no-jit").code, 124);
  assert.equal(virtus("run-elf", fail, "--no-jit").code, 42);
  const n = virtus("run-elf", notohost);
  assert.equal(n.code, 2);
  assert.match(n.err, /no tohost symbol/);
  const o = virtus("run-elf", outside);
  assert.equal(o.code, 2, o.err);
  assert.match(o.err, /outside RAM/);
  const x86 = virtus("run-elf", process.execPath);
  assert.equal(x86.code, 2);
  assert.match(x86.err, /not a RISC-V ELF/);
});

test("run-elf --trace prints each retired instruction with the registers it wrote", {
  skip: !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed",
}, () => {
  const p = join(tmpdir(), "virtus-cli-trace.elf");
  writeFileSync(
    p,
    buildElf(
      '#include "test.h"\n.text\n.globl _start\n_start:\n li a0, 5\n addi a1, a0, 7\n PASS\nTOHOST_SECTION\n',
    ),
  );
  const r = virtus("run-elf", p, "--trace");
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split("\n");
  assert.match(lines[0], /^0x0000000080000000 \(\w+\) (c:)?addi a0, zero, 5 +a0=0x0000000000000005$/);
  assert.match(lines[1], /addi a1, a0, 7 +a1=0x000000000000000c$/);
});

/**
 * `virtus run --profile FILE` (docs/PERFORMANCE.md, src/vm/profile.ts):
 * its bad inputs are one line and exit 2 before anything boots, and a run
 * writes the report at its end, counting every instruction it retired.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { ProfileReport } from "../../src/vm/profile.ts";
import { assertBadInput, virtusSync } from "../support/cli.ts";
import { buildElf, haveCrossGcc } from "../support/cross.ts";

const dir = mkdtempSync(join(tmpdir(), "virtus-run-profile-"));

test("run --profile: a directory, a missing directory, nothing, or with --restore", () => {
  const k = join(dir, "k.bin");
  writeFileSync(k, new Uint8Array(4096));
  assertBadInput(["run", "--kernel", k, "--profile", dir], /--profile .*: that is a directory; give a FILE/);
  assertBadInput(
    ["run", "--kernel", k, "--profile", join(dir, "nope", "p.json")],
    /--profile .*: the directory .*nope does not exist/,
  );
  assertBadInput(["run", "--kernel", k, "--profile", " "], /--profile: give a FILE to write/);
  assertBadInput(
    ["run", "--restore", join(dir, "vm.snap"), "--profile", join(dir, "p.json")],
    /--profile does not go with --restore/,
  );
});

/** Counts down a loop, then powers the board off through the sifive_test finisher (pass). */
const COUNT_AND_POWER_OFF = `
.section .text.init
.globl _start
_start:
  li t0, 200000
1: addi t0, t0, -1
  bnez t0, 1b
  li t1, 0x100000
  li t2, 0x5555
  sw t2, 0(t1)
2: j 2b
`;

test("run --profile FILE: the report at exit counts every instruction, in blocks or interpreted", {
  skip: !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed",
}, () => {
  const k = join(dir, "count.elf");
  writeFileSync(k, buildElf(COUNT_AND_POWER_OFF));
  const file = join(dir, "run.json");
  const args = [
    "run",
    "--kernel",
    k,
    "--bios",
    "none",
    "--net",
    "none",
    "--no-virtio-console",
    "--no-rng",
    "--jit-hot",
    "100",
    "--profile",
    file,
  ];
  const r = virtusSync(args);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(readFileSync(file, "utf8")) as ProfileReport;
  assert.equal(report.format, "virtus-profile");
  assert.equal(report.segments.length, 1);
  const [boot] = report.segments;
  assert.equal(boot.name, "boot");
  assert.ok(boot.retired >= 400_000, `retired ${boot.retired}`);
  assert.equal(boot.jit.blockInsns + boot.jit.interpInsns, boot.retired);
  assert.ok(boot.jit.blockInsns > 0.9 * boot.retired, "the loop ran compiled");
  assert.ok(boot.jit.compiled >= 1);
  assert.ok(boot.cpu !== null && boot.cpu.samples > 0, "the VM thread was sampled");
  // Without the JIT, all of it is interpreted.
  const interpreted = join(dir, "no-jit.json");
  const n = virtusSync([...args.slice(0, -1), interpreted, "--no-jit"]);
  assert.equal(n.code, 0, n.err);
  const [only] = (JSON.parse(readFileSync(interpreted, "utf8")) as ProfileReport).segments;
  assert.ok(only.retired >= 400_000);
  assert.equal(only.jit.interpInsns, only.retired);
  assert.equal(only.jit.blockInsns, 0);
});

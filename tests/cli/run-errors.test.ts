import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { findGuest } from "../../src/host/node/guest.ts";

const bin = join(import.meta.dirname, "../../bin/virtus.js");
const dir = mkdtempSync(join(tmpdir(), "virtus-run-errors-"));
const guest = findGuest();
const FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";

function virtusRun(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, "run", ...args], {
    encoding: "utf8",
    timeout: 60_000,
    input: "",
  });
  return { code: r.status, err: r.stderr };
}

/** Every bad input: one line saying what is wrong, exit 2, no stack trace. */
function assertBadInput(args: string[], message: RegExp) {
  const r = virtusRun(...args);
  assert.equal(r.code, 2, `${args.join(" ")} → ${r.code}: ${r.err}`);
  assert.match(r.err, message);
  assert.equal(r.err.trim().split("\n").length, 1, r.err);
  assert.doesNotMatch(r.err, /\bat .*\.ts:\d+|Error:/);
}

const file = (name: string, data: Uint8Array | string) => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};

test("run: unparseable --mem and --smp out of range", () => {
  const k = file("k.bin", new Uint8Array(4096));
  assertBadInput(["--kernel", k, "--mem", "lots"], /--mem lots: use a size like 256M or 1G/);
  assertBadInput(["--kernel", k, "--mem", "12345"], /--mem 12345: must be a multiple of 4K/);
  assertBadInput(["--kernel", k, "--smp", "0"], /--smp 0: give a number of harts from 1 to 8/);
  assertBadInput(["--kernel", k, "--smp", "9"], /--smp 9/);
  assertBadInput(["--kernel", k, "--smp", "two"], /--smp two/);
});

test("run: missing kernel, initrd or firmware files", () => {
  const k = file("k2.bin", new Uint8Array(4096));
  assertBadInput(["--kernel", join(dir, "nope")], /--kernel .*nope: no such file/);
  assertBadInput(["--kernel", k, "--initrd", join(dir, "nope.cpio")], /--initrd .*: no such file/);
  assertBadInput(["--kernel", k, "--bios", join(dir, "nope.bin")], /--bios .*: no such file/);
  assertBadInput(["--kernel", dir], /is a directory/);
});

test("run: foreign kernel and firmware files", () => {
  assertBadInput(["--kernel", process.execPath], /not a RISC-V ELF file/);
  assertBadInput(
    ["--kernel", file("k.gz", new Uint8Array([0x1f, 0x8b, 8, ...new Array(100).fill(0)]))],
    /gzip file/,
  );
  assertBadInput(["--kernel", file("empty", "")], /empty/);
  assertBadInput(["--kernel", file("short", "#!/bin/sh\necho hi\n")], /too short/);
  const k = file("k3.bin", new Uint8Array(4096));
  assertBadInput(["--kernel", k, "--bios", process.execPath], /not a RISC-V ELF file/);
  assertBadInput(["--kernel", k, "--initrd", file("empty.cpio", "")], /--initrd .*: the file is empty/);
});

test("run: truncated kernel, and kernel or initrd that do not fit in RAM", {
  skip: guest === undefined && "default guest not built",
}, () => {
  const image = readFileSync(guest!.kernel);
  assertBadInput(
    ["--kernel", file("cut-Image", image.subarray(0, image.length >> 1))],
    /truncated Linux Image/,
  );
  assertBadInput(
    ["--kernel", file("tiny-Image", image.subarray(0, 40))],
    /too short to be a RISC-V Linux Image, ELF or firmware/,
  );
  assertBadInput(["--kernel", guest!.kernel, "--initrd", guest!.initrd, "--mem", "8M"], /raise --mem/);
  const big = file("big.cpio", new Uint8Array(200 * 1024 * 1024));
  assertBadInput(
    ["--kernel", guest!.kernel, "--initrd", big, "--mem", "128M"],
    /initrd .* does not fit in RAM.*raise --mem/,
  );
  if (existsSync(FW_JUMP))
    assertBadInput(["--kernel", guest!.kernel, "--bios", guest!.kernel], /a Linux Image is a kernel/);
});

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { findGuest } from "../../src/host/node/guest.ts";
import { assertBadInput } from "../support/cli.ts";

const _bin = join(import.meta.dirname, "../../bin/virtus.js");
const dir = mkdtempSync(join(tmpdir(), "virtus-run-errors-"));
const guest = findGuest();
const FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";

const file = (name: string, data: Uint8Array | string) => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};

test("run: unparseable --mem, --smp and --jit-hot out of range", () => {
  const k = file("k.bin", new Uint8Array(4096));
  assertBadInput(["run", "--kernel", k, "--mem", "lots"], /--mem lots: use a size like 256M or 1G/);
  assertBadInput(["run", "--kernel", k, "--mem", "12345"], /--mem 12345: must be a multiple of 4K/);
  assertBadInput(["run", "--kernel", k, "--smp", "0"], /--smp 0: give a number of harts from 1 to 8/);
  assertBadInput(["run", "--kernel", k, "--smp", "9"], /--smp 9/);
  assertBadInput(["run", "--kernel", k, "--smp", "two"], /--smp two/);
  assertBadInput(["run", "--kernel", k, "--jit-hot", "0"], /--jit-hot 0: give a whole number from 1 to/);
});

test("run: missing kernel, initrd or firmware files", () => {
  const k = file("k2.bin", new Uint8Array(4096));
  assertBadInput(["run", "--kernel", join(dir, "nope")], /--kernel .*nope: no such file/);
  assertBadInput(["run", "--kernel", k, "--initrd", join(dir, "nope.cpio")], /--initrd .*: no such file/);
  assertBadInput(["run", "--kernel", k, "--bios", join(dir, "nope.bin")], /--bios .*: no such file/);
  assertBadInput(["run", "--kernel", dir], /is a directory/);
});

test("run: foreign kernel and firmware files", () => {
  assertBadInput(["run", "--kernel", process.execPath], /not a RISC-V ELF file/);
  assertBadInput(
    ["run", "--kernel", file("k.gz", new Uint8Array([0x1f, 0x8b, 8, ...new Array(100).fill(0)]))],
    /gzip file/,
  );
  assertBadInput(["run", "--kernel", file("empty", "")], /empty/);
  assertBadInput(["run", "--kernel", file("short", "#!/bin/sh\necho hi\n")], /too short/);
  const k = file("k3.bin", new Uint8Array(4096));
  assertBadInput(["run", "--kernel", k, "--bios", process.execPath], /not a RISC-V ELF file/);
  assertBadInput(
    ["run", "--kernel", k, "--initrd", file("empty.cpio", "")],
    /--initrd .*: the file is empty/,
  );
});

test("run: truncated kernel, and kernel or initrd that do not fit in RAM", {
  skip: guest === undefined && "default guest not built",
}, () => {
  const image = readFileSync(guest!.kernel);
  assertBadInput(
    ["run", "--kernel", file("cut-Image", image.subarray(0, image.length >> 1))],
    /truncated Linux Image/,
  );
  assertBadInput(
    ["run", "--kernel", file("tiny-Image", image.subarray(0, 40))],
    /too short to be a RISC-V Linux Image, ELF or firmware/,
  );
  assertBadInput(["run", "--kernel", guest!.kernel, "--initrd", guest!.initrd, "--mem", "8M"], /raise --mem/);
  const big = file("big.cpio", new Uint8Array(200 * 1024 * 1024));
  assertBadInput(
    ["run", "--kernel", guest!.kernel, "--initrd", big, "--mem", "128M"],
    /initrd .* does not fit in RAM.*raise --mem/,
  );
  if (existsSync(FW_JUMP))
    assertBadInput(["run", "--kernel", guest!.kernel, "--bios", guest!.kernel], /a Linux Image is a kernel/);
});

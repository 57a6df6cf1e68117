import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { knownFirmware } from "../../src/machine/board/boot-image.ts";
import { assertBadInput } from "../support/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "virtus-kernel-kind-"));
const FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";
const UBOOT = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin";
const NOT_KNOWN = /: not a RISC-V Linux Image, ELF or known firmware \(OpenSBI, U-Boot, RustSBI\)/;

test("a random 1 MB file or zeros as --kernel or --bios: one line, exit 2 (not a silent run)", () => {
  const random = join(dir, "random.bin");
  writeFileSync(random, randomBytes(1 << 20));
  const zeros = join(dir, "zeros.bin");
  writeFileSync(zeros, new Uint8Array(4096));
  assertBadInput(["run", "--kernel", random], NOT_KNOWN);
  assertBadInput(["run", "--kernel", zeros, "--net", "none"], NOT_KNOWN);
  if (existsSync(FW_JUMP)) {
    assertBadInput(["run", "--kernel", random, "--bios", FW_JUMP], NOT_KNOWN);
    assertBadInput(
      ["run", "--kernel", FW_JUMP, "--bios", random],
      /give an uncompressed OpenSBI fw_jump\.bin/,
    );
  }
});

test("OpenSBI and U-Boot raw binaries are known firmware; other bytes are not", {
  skip: !(existsSync(FW_JUMP) && existsSync(UBOOT)) && "opensbi or u-boot-qemu not installed",
}, () => {
  assert.equal(knownFirmware(readFileSync(FW_JUMP)), "OpenSBI");
  assert.equal(knownFirmware(readFileSync(UBOOT)), "U-Boot");
  assert.equal(knownFirmware(new TextEncoder().encode("junk U-Boot 2023.01 (Jan 01 2023)")), "U-Boot");
  assert.equal(knownFirmware(new TextEncoder().encode("junk RustSBI version 0.3")), "RustSBI");
  assert.equal(knownFirmware(new TextEncoder().encode("OpenSB U-Boot 1999 RustSB")), undefined);
});

/** Small bare-metal guests for runner and worker tests (M-mode, `--bios none`, UART at 0x1000_0000). */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultVmConfig, type VmConfig } from "../../src/vm/config.ts";
import { buildElf } from "./cross.ts";

/**
 * Prints "ready\n", then loops flat out (never waits for an interrupt):
 * every byte typed on the UART is echoed back, and a counter in a register
 * keeps it busy between polls.
 */
export const ECHO_SPIN = `#include "test.h"
.text
.globl _start
_start:
  li t0, 0x10000000
  la t1, msg
1: lbu t2, 0(t1)
  beqz t2, 2f
  sb t2, 0(t0)
  addi t1, t1, 1
  j 1b
2: addi t3, t3, 1
  lbu t2, 5(t0)             /* LSR: bit 0 = data ready */
  andi t2, t2, 1
  beqz t2, 2b
  lbu t2, 0(t0)
  sb t2, 0(t0)
  j 2b
.data
msg: .asciz "ready\\n"
TOHOST_SECTION
`;

/** Writes the program as an ELF in the temp directory and returns a config that boots it. */
export function programConfig(name: string, source: string, over: Partial<VmConfig> = {}): VmConfig {
  const path = join(tmpdir(), `virtus-${name}-${process.pid}.elf`);
  writeFileSync(path, buildElf(source));
  return {
    ...defaultVmConfig(path),
    memory: 16 << 20,
    bios: { kind: "none" },
    network: { mode: "none", forwards: [], mac: "52:54:00:12:34:56" },
    console: { virtio: false },
    rng: false,
    ...over,
  };
}

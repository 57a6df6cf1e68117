import { type BareResult, loadElf, runBareMetal } from "../../src/machine/board/bare-metal.ts";
import { parseElf } from "../../src/machine/board/elf.ts";
import { Machine } from "../../src/machine/board/machine.ts";
import { TEST_H_EXT } from "./test-cpu.ts";
import { testJitHot } from "./test-jit.ts";

/** Runs a bare-metal ELF in-process; returns the HTIF result and the machine for inspection. */
export function runElf(
  elfBytes: Uint8Array,
  opts: {
    maxInsns?: number;
    ramSize?: number;
    jit?: boolean;
    jitHot?: number;
    hExt?: boolean;
    jitRegions?: boolean;
  } = {},
): { result: BareResult; machine: Machine; symbols: Map<string, number> } {
  const elf = parseElf(elfBytes);
  const tohost = elf.symbols.get("tohost");
  if (tohost === undefined) throw new Error("test ELF has no tohost symbol");
  const machine = new Machine({
    ramSize: opts.ramSize ?? 16 * 1024 * 1024,
    jit: opts.jit,
    jitHot: testJitHot(opts.jit, opts.jitHot),
    hExt: opts.hExt ?? TEST_H_EXT,
    jitRegions: opts.jitRegions,
  });
  loadElf(machine, elf, "test");
  const result = runBareMetal(machine, tohost, opts.maxInsns ?? 10_000_000);
  return { result, machine, symbols: elf.symbols };
}

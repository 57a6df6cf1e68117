import { VirtusError } from "../errors.ts";
import type { ElfImage } from "./elf.ts";
import type { Machine } from "./machine.ts";

/** Outcome of a bare-metal run under the HTIF `tohost` convention. */
export type BareResult =
  | { kind: "pass"; insns: number }
  | { kind: "fail"; code: number; insns: number }
  | { kind: "budget"; insns: number };

/**
 * Loads an ELF at its physical addresses and points hart 0 at its entry in
 * M-mode. Every segment must lie in RAM.
 */
export function loadElf(m: Machine, elf: ElfImage, name: string): void {
  const { mem } = m;
  for (const s of elf.segments) {
    if (mem.ramOffset(s.paddr, s.memsz) < 0) {
      throw new VirtusError(
        "elf-outside-ram",
        `${name}: segment at 0x${s.paddr.toString(16)} (${s.memsz} bytes) is outside RAM ` +
          `(0x${mem.ramBase.toString(16)}..0x${(mem.ramBase + mem.ramSize).toString(16)}); link it at 0x80000000`,
      );
    }
    mem.u8.fill(0, mem.ramOffset(s.paddr), mem.ramOffset(s.paddr) + s.memsz);
    mem.writePhys(s.paddr, s.data);
  }
  const h = m.harts[0];
  h.setPc((elf.entry % 2 ** 32) | 0, Math.floor(elf.entry / 2 ** 32) | 0);
}

/**
 * Runs until the program writes its `tohost` word (Spike/riscv-tests HTIF
 * convention): 1 = pass, (n << 1) | 1 = failure n; or until `maxInsns`.
 */
export function runBareMetal(m: Machine, tohost: number, maxInsns: number, step?: () => void): BareResult {
  const at = m.mem.ramOffset(tohost, 8);
  if (at < 0)
    throw new VirtusError("tohost-outside-ram", `tohost at 0x${tohost.toString(16)} is outside RAM`);
  const words = m.mem.i32;
  const check = (): BareResult | undefined => {
    const lo = words[at >>> 2];
    const hi = words[(at >>> 2) + 1];
    if (lo === 0 && hi === 0) return undefined;
    const insns = m.retired();
    if (lo === 1 && hi === 0) return { kind: "pass", insns };
    return { kind: "fail", code: (lo >>> 1) | ((hi & 1) << 31), insns };
  };
  const start = m.retired();
  // A hart whose trap vector itself faults retires nothing forever: give up after a while.
  let stalled = 0;
  while (m.retired() - start < maxInsns && stalled < 1024) {
    const before = m.retired();
    const left = maxInsns - (before - start);
    if (step) {
      step();
    } else {
      const reason = m.run(Math.min(left, 65536));
      if (reason === "idle") break;
    }
    stalled = m.retired() === before ? stalled + 1 : 0;
    const r = check();
    if (r) return r;
  }
  return check() ?? { kind: "budget", insns: m.retired() };
}

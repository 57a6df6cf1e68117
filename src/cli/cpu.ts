import { VirtusError } from "../machine/errors.ts";
import { type CpuConfig, DEFAULT_CPU } from "../vm/config.ts";

/** `--cpu h=on`: the hart's optional extensions, as a comma list of KEY=on|off (for now only h, the hypervisor extension). */
export const CPU_OPTION_HELP =
  "hart extensions: h=off removes the hypervisor extension (H), on by default as on QEMU";

export function parseCpuOption(text: string | undefined): CpuConfig {
  const cpu: CpuConfig = { ...DEFAULT_CPU };
  if (text === undefined) return cpu;
  for (const part of text.split(",")) {
    const m = /^(\w+)=(on|off|true|false)$/.exec(part.trim());
    if (m === null || m[1] !== "h")
      throw new VirtusError(
        "bad-cpu",
        `--cpu ${text}: give h=on or h=off (the only optional extension so far)`,
      );
    cpu.h = m[2] === "on" || m[2] === "true";
  }
  return cpu;
}

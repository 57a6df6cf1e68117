import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Debian's riscv64 cross compiler (package gcc-riscv64-linux-gnu). */
export const CROSS_GCC = "riscv64-linux-gnu-gcc";
export const LINK_SCRIPT = join(import.meta.dirname, "../asm/link.ld");
/** The ISA our hart implements, for -march. */
export const MARCH = "rv64gc_zba_zbb_zbs_zicsr_zifencei";
/** The assembler also takes the H extension's instructions (gcc's -march refuses a bare "h"). */
export const ASM_MARCH = "rv64gch_zba_zbb_zbs_zicsr_zifencei";

export function haveCrossGcc(): boolean {
  try {
    execFileSync(CROSS_GCC, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const cacheDir = join(tmpdir(), "virtus-test-elf");

/**
 * Assembles/compiles `source` (assembly with the .S extension semantics,
 * i.e. run through the C preprocessor) into a bare-metal ELF linked at
 * 0x80000000 with tests/asm/link.ld. Results are cached by content hash,
 * so repeated test runs do not re-invoke the compiler.
 */
export function buildElf(source: string, opts: { lang?: "S" | "c"; extraFlags?: string[] } = {}): Uint8Array {
  const lang = opts.lang ?? "S";
  const flags = [
    `-march=${MARCH}`,
    `-Wa,-march=${ASM_MARCH}`,
    "-mabi=lp64d",
    "-mcmodel=medany",
    "-nostdlib",
    "-nostartfiles",
    "-static",
    "-fno-pic",
    "-no-pie",
    "-T",
    LINK_SCRIPT,
    `-I${join(import.meta.dirname, "../asm")}`,
    ...(opts.extraFlags ?? []),
  ];
  const key = createHash("sha256")
    .update(source)
    .update(flags.join(" "))
    .update(readFileSync(LINK_SCRIPT))
    .update(
      existsSync(join(import.meta.dirname, "../asm/test.h"))
        ? readFileSync(join(import.meta.dirname, "../asm/test.h"))
        : "",
    )
    .digest("hex")
    .slice(0, 24);
  mkdirSync(cacheDir, { recursive: true });
  const out = join(cacheDir, `${key}.elf`);
  if (existsSync(out)) return readFileSync(out);
  const src = join(cacheDir, `${key}.${lang}`);
  writeFileSync(src, source);
  const tmp = `${out}.${process.pid}.tmp`;
  execFileSync(CROSS_GCC, [...flags, "-o", tmp, src], { stdio: ["ignore", "ignore", "pipe"] });
  renameSync(tmp, out);
  return readFileSync(out);
}

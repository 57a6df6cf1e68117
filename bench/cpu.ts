/**
 * `npm run bench:cpu`: CPU-bound bare-metal programs (integer and FP) on
 * Virtus (JIT on, unless --no-jit) and on QEMU (qemu-system-riscv64 -M spike, which
 * speaks the same HTIF tohost protocol, running the very same ELF),
 * alternating, and prints medians, Virtus MIPS and the time ratio.
 *
 *   npm run bench:cpu -- [--runs N] [--only int|fp] [--no-jit]
 *
 * Each program's checksum is first computed by qemu-riscv64 (user mode)
 * from the same source, so a wrong result on either side fails the run.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadElf, runBareMetal } from "../src/machine/board/bare-metal.ts";
import { parseElf } from "../src/machine/board/elf.ts";
import { Machine } from "../src/machine/board/machine.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    only: { type: "string" },
    "no-jit": { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);
const dir = join(import.meta.dirname, "programs");
const work = mkdtempSync(join(tmpdir(), "virtus-bench-"));
const GCC = "riscv64-linux-gnu-gcc";
const CFLAGS = ["-O2", "-fno-math-errno", "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany"];

const programs = [
  { name: "int", rounds: 60 },
  { name: "fp", rounds: 60 },
].filter((p) => !values.only || p.name === values.only);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

for (const p of programs) {
  const src = join(dir, `${p.name}.c`);
  const defs = [`-DROUNDS=${p.rounds}`];
  const user = join(work, `${p.name}-user`);
  execFileSync(GCC, [...CFLAGS, ...defs, "-static", "-o", user, src, join(dir, "user-main.c")]);
  const expect = execFileSync("qemu-riscv64", [user], { encoding: "utf8" }).trim();
  const elfPath = join(work, `${p.name}.elf`);
  execFileSync(GCC, [
    ...CFLAGS,
    ...defs,
    `-DEXPECT=${expect}UL`,
    "-nostdlib",
    "-nostartfiles",
    "-static",
    "-Wl,--build-id=none",
    "-T",
    join(import.meta.dirname, "../tests/asm/link.ld"),
    "-o",
    elfPath,
    join(dir, "crt.S"),
    src,
    join(dir, "bare-main.c"),
    "-lgcc",
  ]);
  const bytes = readFileSync(elfPath);
  const vTimes: number[] = [];
  const qTimes: number[] = [];
  let insns = 0;
  for (let r = 0; r < runs; r++) {
    // Virtus, in-process
    const elf = parseElf(bytes);
    const m = new Machine({ ramSize: 64 * 1024 * 1024, jit: !values["no-jit"] });
    loadElf(m, elf, p.name);
    const t0 = performance.now();
    const res = runBareMetal(m, elf.symbols.get("tohost")!, 20_000_000_000);
    const dt = (performance.now() - t0) / 1000;
    if (res.kind !== "pass") throw new Error(`virtus: ${p.name} did not pass: ${JSON.stringify(res)}`);
    insns = res.insns;
    vTimes.push(dt);
    // QEMU, same ELF on the spike board (HTIF)
    const q0 = performance.now();
    const q = spawnSync(
      "qemu-system-riscv64",
      ["-M", "spike", "-nographic", "-bios", "none", "-kernel", elfPath],
      {
        timeout: 600_000,
      },
    );
    qTimes.push((performance.now() - q0) / 1000);
    if (q.status !== 0) throw new Error(`qemu: ${p.name} exited ${q.status}: ${q.stderr}`);
  }
  const v = median(vTimes);
  const q = median(qTimes);
  console.log(
    `${p.name.padEnd(4)} ${(insns / 1e6).toFixed(1)}M insns | virtus median ${v.toFixed(3)} s (${(insns / v / 1e6).toFixed(1)} MIPS) | qemu median ${q.toFixed(3)} s | virtus/qemu ${(v / q).toFixed(2)}x | runs ${runs}`,
  );
}

import { readFileSync } from "node:fs";
import { disassemble, FREG, XREG } from "../isa/disasm.ts";
import { loadElf, runBareMetal } from "../machine/board/bare-metal.ts";
import { parseElf } from "../machine/board/elf.ts";
import { Machine } from "../machine/board/machine.ts";
import { csrName } from "../machine/cpu/csr.ts";
import { runSlice } from "../machine/cpu/interpreter.ts";
import { VirtusError } from "../machine/errors.ts";
import { parseCpuOption } from "./cpu.ts";
import { parseSize } from "./size.ts";

const hex64 = (lo: number, hi: number) =>
  `0x${(hi >>> 0).toString(16).padStart(8, "0")}${(lo >>> 0).toString(16).padStart(8, "0")}`;

/** `virtus run-elf FILE`: exit 0 on pass, the failure number (1..123) on fail, 124 when the budget runs out. */
export function runElfCommand(
  file: string,
  opts: { maxInsns: number; trace?: boolean; mem: string; jit?: boolean; cpu?: string },
): number {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new VirtusError(
      "no-file",
      `${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "cannot read it"}`,
    );
  }
  const elf = parseElf(bytes, file);
  const tohost = elf.symbols.get("tohost");
  if (tohost === undefined) {
    throw new VirtusError(
      "no-tohost",
      `${file}: no tohost symbol; the program must define one (riscv-tests HTIF convention)`,
    );
  }
  const cpu = parseCpuOption(opts.cpu);
  const m = new Machine({ ramSize: parseSize(opts.mem), jit: opts.jit !== false, hExt: cpu.h });
  loadElf(m, elf, file);
  const step = opts.trace ? tracer(m) : undefined;
  const r = runBareMetal(m, tohost, opts.maxInsns, step);
  if (r.kind === "pass") return 0;
  if (r.kind === "fail") {
    process.stderr.write(`virtus: ${file}: failed with code ${r.code} after ${r.insns} instructions\n`);
    return Math.min(123, Math.max(1, r.code));
  }
  process.stderr.write(
    `virtus: ${file}: instruction budget of ${opts.maxInsns} exhausted without a tohost write\n`,
  );
  return 124;
}

/** One instruction at a time, printing what it wrote. */
function tracer(m: Machine): () => void {
  const h = m.harts[0];
  const prevX = new Int32Array(64);
  const prevF = new Int32Array(64);
  return () => {
    prevX.set(h.x);
    prevF.set(h.f);
    const pcLo = h.pcLo;
    const pcHi = h.pcHi;
    let raw = 0;
    try {
      raw = h.fetch();
    } catch {
      raw = -1;
    }
    const before = h.icount;
    runSlice(h, 1);
    m.updateTimers();
    const pc = (pcLo >>> 0) + (pcHi >>> 0) * 2 ** 32;
    let line = `${hex64(pcLo, pcHi)} `;
    if (raw === -1) line += "(fetch fault)";
    else
      line += `(${((raw & 3) === 3 ? raw >>> 0 : raw & 0xffff).toString(16).padStart((raw & 3) === 3 ? 8 : 4, "0")}) ${disassemble(raw, pc, csrName)}`;
    const writes: string[] = [];
    for (let r = 1; r < 32; r++) {
      if (h.x[2 * r] !== prevX[2 * r] || h.x[2 * r + 1] !== prevX[2 * r + 1])
        writes.push(`${XREG[r]}=${hex64(h.x[2 * r], h.x[2 * r + 1])}`);
      if (h.f[2 * r] !== prevF[2 * r] || h.f[2 * r + 1] !== prevF[2 * r + 1])
        writes.push(`${FREG[r]}=${hex64(h.f[2 * r], h.f[2 * r + 1])}`);
    }
    if (h.f[0] !== prevF[0] || h.f[1] !== prevF[1]) writes.push(`${FREG[0]}=${hex64(h.f[0], h.f[1])}`);
    if (h.icount === before) writes.push(`trap -> ${hex64(h.pcLo, h.pcHi)}`);
    process.stdout.write(writes.length ? `${line}  ${writes.join(" ")}\n` : `${line}\n`);
  };
}

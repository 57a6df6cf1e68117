import { OP_NAMES } from "../../isa/decoder.generated.ts";
import { csrName } from "../cpu/csr.ts";
import { OP_NOP } from "../memory/code-cache.ts";

/** An op number's instruction name ("illegal" for op 0). */
export function opName(op: number): string {
  if (op === OP_NOP) return "nop";
  return OP_NAMES[op] ?? `op ${op}`;
}

/**
 * A key for what a block stopped before: the op, and for a CSR instruction
 * which CSR (reading `time` and writing `satp` call for different fixes).
 */
export function stopKey(op: number, insn: number): number {
  return opName(op).startsWith("csrr") ? op + ((insn >>> 20) + 1) * 0x10000 : op;
}

/** The name of a stopKey: "csrrs time", "amoadd.w". */
export function stopName(key: number): string {
  const csr = Math.floor(key / 0x10000);
  const op = key % 0x10000;
  return csr === 0 ? opName(op) : `${opName(op)} ${csrName(csr - 1)}`;
}

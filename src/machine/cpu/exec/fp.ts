import type { Hart } from "../hart.ts";

/** F and D extensions: placeholder until the softfloat-backed implementation lands. */
export function execFp(h: Hart, _op: number, _insn: number): void {
  h.illegal();
}

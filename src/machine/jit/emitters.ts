import { OP_COUNT, OP_NAMES } from "../../isa/decoder.generated.ts";
import type { OpEmit, OpEmitters } from "./emit.ts";
import { AMO_EMITTERS, LRSC_EMITTERS } from "./emit-amo.ts";
import { BASE_EMITTERS } from "./emit-base.ts";
import { BRANCH_EMITTERS } from "./emit-branch.ts";
import { CSR_EMITTERS } from "./emit-csr.ts";
import { FP_EMITTERS } from "./emit-fp.ts";
import { FP_CVT_EMITTERS } from "./emit-fp-cvt.ts";
import { FP_SIGN_EMITTERS } from "./emit-fp-sign.ts";
import { M_EMITTERS } from "./emit-m.ts";
import { MEM_EMITTERS } from "./emit-mem.ts";
import { ZB_EMITTERS } from "./emit-zb.ts";

/**
 * The block emitter's dispatch table: each op's emitter from its
 * extension's file, indexed by op number. An op with none runs through the
 * exec helper (emit.ts). Two files claiming one op is a mistake caught here,
 * when the module loads.
 */
export function emitterTable(parts: readonly OpEmitters[]): readonly (OpEmit | undefined)[] {
  const table: (OpEmit | undefined)[] = new Array(OP_COUNT).fill(undefined);
  for (const part of parts)
    for (const [key, emit] of Object.entries(part)) {
      const op = Number(key);
      if (table[op] !== undefined) throw new Error(`two JIT emitters for ${OP_NAMES[op]}`);
      table[op] = emit;
    }
  return table;
}

export const EMITTERS = emitterTable([
  BASE_EMITTERS,
  BRANCH_EMITTERS,
  MEM_EMITTERS,
  M_EMITTERS,
  ZB_EMITTERS,
  FP_EMITTERS,
  FP_SIGN_EMITTERS,
  FP_CVT_EMITTERS,
  CSR_EMITTERS,
  AMO_EMITTERS,
  LRSC_EMITTERS,
]);

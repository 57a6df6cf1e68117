import { BLOCK_IMPORTS, BLOCK_PARAMS, type BlockCode } from "./emit.ts";
import { I32, moduleBytes } from "./wasm.ts";

/**
 * Blocks compiled together into one WebAssembly module, at most. V8 pays a
 * fixed cost per module in time and memory (its metadata, an instance, a
 * code region); measured on the 4,153 blocks a boot compiles at threshold
 * 1,000 (2026-12-04, `new WebAssembly.Module` + instance, warm emitter):
 * 1 block a module 53-82 us a block and 3-5 KB of memory each after GC;
 * 8 a module 22-35 us; 32 a module 14-15 us and ~0.3 KB each; 64 a module
 * 13 us. (Each function's Liftoff code is made lazily at its first call,
 * ~27 us, whatever the grouping.)
 */
export const JIT_BATCH = 32;

/** A block waiting for its module: where it starts and ends, its code, and whether its decoded page is gone. */
export interface Pending {
  dec: Int32Array;
  off: number;
  end: number;
  /** Its instructions, and the ms its planning and emitting took (the profile's, when there is one). */
  len: number;
  ms: number;
  code: BlockCode;
  cancelled: boolean;
}

/** One module for a batch of blocks: function i (export "f<i>") is batch[i]'s block. */
export function batchBytes(batch: readonly Pending[]): Uint8Array<ArrayBuffer> {
  return moduleBytes({
    params: BLOCK_PARAMS,
    results: [I32],
    imports: BLOCK_IMPORTS,
    table: true,
    functions: batch.map((p) => ({ locals: p.code.locals, body: p.code.body })),
  }) as Uint8Array<ArrayBuffer>;
}

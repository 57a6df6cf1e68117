/**
 * Linear-memory layout shared by the interpreter and JIT-generated
 * WebAssembly (design 2.3). One WebAssembly.Memory holds, in order:
 *
 *   0x0000_0000  hart register files, HART_STRIDE bytes each (up to MAX_HARTS)
 *   TLB_LINEAR   each hart's software TLB, TLB_STRIDE bytes each (mmu/tlb.ts)
 *   JC_LINEAR    each hart's JIT jump cache, JC_STRIDE bytes each (jit/jit.ts)
 *   RAM_LINEAR   guest RAM, byte-for-byte, little-endian
 *
 * A hart block (offsets in bytes from its start):
 *   0x000  x0..x31   32 x i64, little-endian halves (lo word first)
 *   0x100  f0..f31   32 x i64 (binary32 values NaN-boxed)
 *   0x200  pc        i64
 *   0x208  CSR slots i64 each, indexed by CsrSlot (csr.ts)
 *   0xff8  i32: the kind of the last exit from compiled code, with a profile (jit/profile.ts)
 *   0xffc  i32: chained calls between blocks since the last return, with a profile
 */
import { TLB_BYTES } from "../mmu/tlb.ts";

export const HART_STRIDE = 0x1000;
export const MAX_HARTS = 8;
export const HART_X = 0x000;
export const HART_F = 0x100;
export const HART_PC = 0x200;
export const HART_CSR = 0x208;
export const HART_EXIT_KIND = 0xff8;
export const HART_CHAINS = 0xffc;
/** Where the hart TLBs start in linear memory, and the bytes each takes. */
export const TLB_LINEAR = 0x10000;
export const TLB_STRIDE = TLB_BYTES;
/**
 * The JIT's jump caches: hart n's at JC_LINEAR + n * JC_STRIDE. JC_STRIDE is
 * HART_STRIDE << JC_SHIFT so generated code finds its hart's cache at
 * JC_LINEAR + (hart block address << JC_SHIFT). Two-way set-associative
 * (jit/emit.ts chain, jit/jit.ts link): JC_SETS sets of JC_WAYS 16-byte
 * entries (pc i64, TLB set i32, block id i32), way 0 at the set's start.
 * Direct-mapped, pairs of hot targets sharing an entry (an interpreter's
 * dispatch, a kernel path) evicted each other at every pass: 55-81% of the
 * returns to JavaScript in sqlite, lua and text (docs/PERFORMANCE.md).
 */
export const JC_LINEAR = TLB_LINEAR + MAX_HARTS * TLB_STRIDE;
export const JC_SHIFT = 5;
export const JC_STRIDE = HART_STRIDE << JC_SHIFT;
/** Ways per set: the generated lookup is written for two. */
export const JC_WAYS = 2;
export const JC_ENTRY_BYTES = 16;
export const JC_SET_BYTES = JC_WAYS * JC_ENTRY_BYTES;
export const JC_SETS = JC_STRIDE / JC_SET_BYTES;
/** Where guest RAM starts in linear memory: after the jump caches, 64 KiB aligned. */
export const RAM_LINEAR = JC_LINEAR + MAX_HARTS * JC_STRIDE;
/** Guest-physical base of RAM on the virt board. */
export const RAM_BASE = 0x8000_0000;
/** WebAssembly page size. */
export const WASM_PAGE = 0x10000;

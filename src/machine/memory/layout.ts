/**
 * Linear-memory layout shared by the interpreter and (later) JIT-generated
 * WebAssembly (design 2.3). One WebAssembly.Memory holds, in order:
 *
 *   0x0000_0000  hart register files, HART_STRIDE bytes each (up to MAX_HARTS)
 *   RAM_LINEAR   guest RAM, byte-for-byte, little-endian
 *
 * A hart block (offsets in bytes from its start):
 *   0x000  x0..x31   32 x i64, little-endian halves (lo word first)
 *   0x100  f0..f31   32 x i64 (binary32 values NaN-boxed)
 *   0x200  pc        i64
 *   0x208  CSR slots i64 each, indexed by CsrSlot (csr.ts)
 */
export const HART_STRIDE = 0x1000;
export const MAX_HARTS = 8;
export const HART_X = 0x000;
export const HART_F = 0x100;
export const HART_PC = 0x200;
export const HART_CSR = 0x208;
/** Where guest RAM starts in linear memory: after all hart blocks, 64 KiB aligned. */
export const RAM_LINEAR = 0x10000;
/** Guest-physical base of RAM on the virt board. */
export const RAM_BASE = 0x8000_0000;
/** WebAssembly page size. */
export const WASM_PAGE = 0x10000;

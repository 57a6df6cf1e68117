import { CodeCache } from "./code-cache.ts";
import { RAM_BASE, RAM_LINEAR, WASM_PAGE } from "./layout.ts";

/**
 * Owns the one WebAssembly.Memory of a machine: hart register files and guest
 * RAM (see layout.ts). The memory never grows, so views stay valid.
 */
export class GuestMemory {
  readonly memory: WebAssembly.Memory;
  readonly buffer: ArrayBuffer;
  readonly u8: Uint8Array;
  readonly i8: Int8Array;
  readonly u16: Uint16Array;
  readonly i16: Int16Array;
  readonly i32: Int32Array;
  /** Guest-physical address of the first RAM byte. */
  readonly ramBase = RAM_BASE;
  /** RAM size in bytes (a multiple of 4 KiB). */
  readonly ramSize: number;
  /** Byte offset of guest RAM inside the linear memory. */
  readonly ramLinear = RAM_LINEAR;
  /** Decoded instructions of RAM pages that have been executed. */
  readonly code: CodeCache;
  /**
   * True until RAM is first written through writePhys or the machine runs:
   * RAM is then all zeros, so a snapshot restore can skip zero pages.
   */
  untouched = true;

  /** `maxCodePages`: decoded pages kept at most (code-cache.ts DEFAULT_MAX_CODE_PAGES). */
  constructor(ramSize: number, maxCodePages?: number) {
    if (ramSize <= 0 || ramSize % 4096 !== 0)
      throw new RangeError("RAM size must be a positive multiple of 4 KiB");
    if (ramSize > 0xf000_0000) throw new RangeError("RAM size is limited to 3.75 GiB");
    const pages = Math.ceil((RAM_LINEAR + ramSize) / WASM_PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.buffer = this.memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.i8 = new Int8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.i16 = new Int16Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.ramSize = ramSize;
    this.code = new CodeCache(ramSize, RAM_LINEAR, maxCodePages);
  }

  /** Linear offset of guest-physical `paddr` when the `len` bytes lie in RAM, else -1. */
  ramOffset(paddr: number, len = 1): number {
    const off = paddr - this.ramBase;
    return off >= 0 && off + len <= this.ramSize ? this.ramLinear + off : -1;
  }

  /** Copies `data` into RAM at guest-physical `paddr` (loaders). Throws when it does not fit. */
  writePhys(paddr: number, data: Uint8Array): void {
    const at = this.ramOffset(paddr, data.length);
    if (at < 0) throw new RangeError(`0x${paddr.toString(16)}+${data.length} is outside RAM`);
    this.u8.set(data, at);
    this.untouched = false;
    this.code.invalidateRange(at - this.ramLinear, data.length);
  }

  readPhys(paddr: number, len: number): Uint8Array {
    const at = this.ramOffset(paddr, len);
    if (at < 0) throw new RangeError(`0x${paddr.toString(16)}+${len} is outside RAM`);
    return this.u8.slice(at, at + len);
  }
}

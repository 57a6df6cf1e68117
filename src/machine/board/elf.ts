import { VirtusError } from "../errors.ts";

/** A loadable segment of an ELF file. */
export interface ElfSegment {
  paddr: number;
  data: Uint8Array;
  memsz: number;
}

export interface ElfImage {
  entry: number;
  segments: ElfSegment[];
  /** Symbol name → value, from .symtab (empty when stripped). */
  symbols: Map<string, number>;
}

const EM_RISCV = 243;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;

/**
 * Parses a little-endian ELF64 RISC-V executable (System V gABI, RISC-V
 * psABI). Every offset and size is checked against the file: a foreign or
 * truncated file gets a VirtusError, never an out-of-range read.
 */
export function parseElf(file: Uint8Array, name = "file"): ElfImage {
  const bad = (why: string) => new VirtusError("bad-elf", `${name}: ${why}`);
  if (file.length < 64 || file[0] !== 0x7f || file[1] !== 0x45 || file[2] !== 0x4c || file[3] !== 0x46) {
    throw bad("not an ELF file");
  }
  if (file[4] !== 2 || file[5] !== 1) throw bad("not a little-endian ELF64 file");
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const u64 = (o: number) => {
    if (o + 8 > file.length) throw bad("truncated");
    return Number(dv.getBigUint64(o, true));
  };
  const u32 = (o: number) => {
    if (o + 4 > file.length) throw bad("truncated");
    return dv.getUint32(o, true);
  };
  const u16 = (o: number) => {
    if (o + 2 > file.length) throw bad("truncated");
    return dv.getUint16(o, true);
  };
  if (u16(0x12) !== EM_RISCV) throw bad("not a RISC-V ELF file");
  const entry = u64(0x18);
  const phoff = u64(0x20);
  const shoff = u64(0x28);
  const phentsize = u16(0x36);
  const phnum = u16(0x38);
  const shentsize = u16(0x3a);
  const shnum = u16(0x3c);
  const segments: ElfSegment[] = [];
  if (phnum > 0 && phentsize < 56) throw bad("bad program header size");
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (u32(ph) !== PT_LOAD) continue;
    const offset = u64(ph + 8);
    const paddr = u64(ph + 0x18);
    const filesz = u64(ph + 0x20);
    const memsz = u64(ph + 0x28);
    if (offset + filesz > file.length) throw bad(`segment ${i} extends past the end of the file`);
    if (filesz > memsz) throw bad(`segment ${i} has filesz > memsz`);
    if (memsz === 0) continue;
    segments.push({ paddr, data: file.subarray(offset, offset + filesz), memsz });
  }
  if (segments.length === 0) throw bad("no loadable segments");
  const symbols = new Map<string, number>();
  if (shnum > 0 && shentsize >= 64) {
    for (let i = 0; i < shnum; i++) {
      const sh = shoff + i * shentsize;
      if (u32(sh + 4) !== SHT_SYMTAB) continue;
      const symoff = u64(sh + 0x18);
      const symsize = u64(sh + 0x20);
      const link = u32(sh + 0x28);
      if (link >= shnum) throw bad("bad string table link");
      const strsh = shoff + link * shentsize;
      const stroff = u64(strsh + 0x18);
      const strsize = u64(strsh + 0x20);
      if (symoff + symsize > file.length || stroff + strsize > file.length)
        throw bad("symbol table past the end");
      for (let s = symoff; s + 24 <= symoff + symsize; s += 24) {
        const nameOff = u32(s);
        if (nameOff === 0 || nameOff >= strsize) continue;
        let end = stroff + nameOff;
        while (end < stroff + strsize && file[end] !== 0) end++;
        const sym = new TextDecoder().decode(file.subarray(stroff + nameOff, end));
        symbols.set(sym, u64(s + 8));
      }
    }
  }
  return { entry, segments, symbols };
}

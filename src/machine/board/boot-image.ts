import { VirtusError } from "../errors.ts";
import { type ElfImage, parseElf } from "./elf.ts";
import { type LinuxImageHeader, parseLinuxImage } from "./linux-image.ts";

/** A kernel or firmware file, classified by its contents. */
export type BootImage =
  | { kind: "linux"; bytes: Uint8Array; header: LinuxImageHeader }
  | { kind: "elf"; bytes: Uint8Array; elf: ElfImage }
  | { kind: "raw"; bytes: Uint8Array };

/**
 * Tells a RISC-V Linux Image, a RISC-V ELF and a raw binary (OpenSBI
 * fw_*.bin, U-Boot's u-boot.bin) apart, as QEMU's loader does, and rejects
 * what is clearly foreign (another architecture's ELF, a compressed file).
 */
export function classifyBootImage(bytes: Uint8Array, name: string, what: string): BootImage {
  if (bytes.length === 0) throw new VirtusError("bad-image", `${name}: the ${what} file is empty`);
  if (bytes.length < 64) {
    throw new VirtusError(
      "bad-image",
      `${name}: ${bytes.length} bytes is too short to be a RISC-V Linux Image, ELF or firmware`,
    );
  }
  if (bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
    return { kind: "elf", bytes, elf: parseElf(bytes, name) };
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new VirtusError(
      "bad-image",
      `${name}: a gzip file; give the uncompressed ${what} (e.g. arch/riscv/boot/Image)`,
    );
  }
  if (bytes.length >= 64) {
    const magic2 = bytes[0x38] | (bytes[0x39] << 8) | (bytes[0x3a] << 16) | (bytes[0x3b] << 24);
    if (magic2 === 0x05435352) return { kind: "linux", bytes, header: parseLinuxImage(bytes, name) };
  }
  if (bytes[0] === 0x4d && bytes[1] === 0x5a && bytes.length >= 64) {
    // "MZ" without the RISC-V Image magic: a PE file for another architecture.
    throw new VirtusError("bad-image", `${name}: a PE/EFI file that is not a RISC-V Linux Image`);
  }
  return { kind: "raw", bytes };
}

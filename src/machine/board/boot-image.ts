import { VirtusError } from "../errors.ts";
import { type ElfImage, parseElf } from "./elf.ts";
import { type LinuxImageHeader, parseLinuxImage } from "./linux-image.ts";

/** A kernel or firmware file, classified by its contents. */
export type BootImage =
  | { kind: "linux"; bytes: Uint8Array; header: LinuxImageHeader }
  | { kind: "elf"; bytes: Uint8Array; elf: ElfImage }
  | { kind: "raw"; bytes: Uint8Array };

/** Text every build of a known raw firmware carries (its banner), so a raw binary can be recognized. */
const FIRMWARE_MARKERS = ["U-Boot 20", "OpenSBI", "RustSBI"];

/** True when `bytes` contains `text` (ASCII). Once per boot, over a few MB: a plain scan is fine. */
function containsAscii(bytes: Uint8Array, text: string): boolean {
  const first = text.charCodeAt(0);
  outer: for (
    let i = bytes.indexOf(first);
    i >= 0 && i + text.length <= bytes.length;
    i = bytes.indexOf(first, i + 1)
  ) {
    for (let j = 1; j < text.length; j++) if (bytes[i + j] !== text.charCodeAt(j)) continue outer;
    return true;
  }
  return false;
}

/** The known firmware a raw binary is (OpenSBI, U-Boot, RustSBI), or undefined. */
export function knownFirmware(bytes: Uint8Array): string | undefined {
  return FIRMWARE_MARKERS.find((m) => containsAscii(bytes, m))?.replace(/ 20$/, "");
}

/**
 * A raw binary runs only when it is a known firmware: anything else (a random or truncated file,
 * a compressed kernel) would run garbage with no output at all. `what` is "kernel" or "firmware".
 */
export function requireKnownRaw(image: BootImage, name: string, what: string): void {
  if (image.kind !== "raw" || knownFirmware(image.bytes) !== undefined) return;
  throw new VirtusError(
    "bad-image",
    `${name}: not a RISC-V Linux Image, ELF or known firmware (OpenSBI, U-Boot, RustSBI); give an uncompressed ${what === "kernel" ? "arch/riscv/boot/Image or a RISC-V ELF" : "OpenSBI fw_jump.bin or a RISC-V ELF"}`,
  );
}

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

import { VirtusError } from "../errors.ts";

/** The RISC-V Linux `Image` header (Documentation/riscv/boot-image-header.rst). */
export interface LinuxImageHeader {
  /** Offset from the start of RAM where the image wants to be loaded (2 MiB on RV64). */
  textOffset: number;
  /** Bytes the kernel occupies once running (including bss), from the header. */
  imageSize: number;
}

const MAGIC2 = 0x05435352; // "RSC\x05"

/**
 * Checks and parses the 64-byte Image header: code0/code1, text_offset,
 * image_size, flags, version, magic "RISCV\0\0\0" (deprecated) and magic2
 * "RSC\x05". A file that is not a RISC-V Linux Image gets a clear error.
 */
export function parseLinuxImage(image: Uint8Array, name: string): LinuxImageHeader {
  if (image.length < 64)
    throw new VirtusError(
      "bad-kernel",
      `${name}: too short to be a RISC-V Linux Image (${image.length} bytes)`,
    );
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const magic2 = dv.getUint32(0x38, true);
  const magic = String.fromCharCode(...image.subarray(0x30, 0x35));
  if (magic2 !== MAGIC2 && magic !== "RISCV") {
    if (image[0] === 0x7f && image[1] === 0x45) {
      throw new VirtusError(
        "bad-kernel",
        `${name}: an ELF file, not a Linux Image; use arch/riscv/boot/Image or --bios none for bare-metal ELFs`,
      );
    }
    throw new VirtusError(
      "bad-kernel",
      `${name}: not a RISC-V Linux Image (no RSC\\x05 magic); use arch/riscv/boot/Image`,
    );
  }
  const textOffset = Number(dv.getBigUint64(8, true));
  const imageSize = Number(dv.getBigUint64(16, true));
  if (imageSize < image.length || imageSize > 2 ** 32) {
    throw new VirtusError(
      "bad-kernel",
      `${name}: truncated or corrupt Linux Image (header says ${imageSize} bytes, file has ${image.length})`,
    );
  }
  if (textOffset % 4096 !== 0 || textOffset > 2 ** 31)
    throw new VirtusError("bad-kernel", `${name}: bad text_offset ${textOffset}`);
  const expected = peFileSize(image, dv);
  if (expected !== undefined && image.length < expected) {
    throw new VirtusError(
      "bad-kernel",
      `${name}: truncated Linux Image (${image.length} of ${expected} bytes)`,
    );
  }
  return { textOffset, imageSize };
}

/**
 * Kernels with the EFI stub carry a PE/COFF header (offset at 0x3c) whose
 * section table says how long the file must be: used to catch truncation.
 */
function peFileSize(image: Uint8Array, dv: DataView): number | undefined {
  const pe = dv.getUint32(0x3c, true);
  if (pe === 0 || pe + 24 > image.length || dv.getUint32(pe, true) !== 0x00004550) return undefined;
  const sections = dv.getUint16(pe + 6, true);
  const optSize = dv.getUint16(pe + 20, true);
  let end = 0;
  for (let i = 0; i < sections; i++) {
    const sh = pe + 24 + optSize + i * 40;
    if (sh + 40 > image.length) return undefined;
    end = Math.max(end, dv.getUint32(sh + 20, true) + dv.getUint32(sh + 16, true));
  }
  return end || undefined;
}

/** Where the boot files go in RAM (guest-physical addresses). */
export interface BootLayout {
  kernel: number;
  kernelEnd: number;
  initrd?: { start: number; end: number };
  dtb: number;
}

const MiB = 1024 * 1024;
const alignUp = (v: number, a: number) => Math.ceil(v / a) * a;

/**
 * Places kernel, initrd and device tree in RAM as QEMU does for virt: the
 * kernel at RAM + text_offset (0x80200000 by default, where OpenSBI's fw_jump
 * jumps), the device tree in the last 2 MiB-aligned slot below the top of RAM
 * (at most 3 GiB in, so 32-bit firmware sees it), and the initrd below it,
 * never overlapping the kernel's image_size. Errors say what does not fit.
 */
export function planBoot(
  ramBase: number,
  ramSize: number,
  kernelOffset: number,
  kernelSize: number,
  initrdSize: number | undefined,
  dtbSize: number,
): BootLayout {
  const ramEnd = ramBase + ramSize;
  const kernel = ramBase + kernelOffset;
  const kernelEnd = kernel + kernelSize;
  const fdtLimit = Math.min(ramEnd, ramBase + 3 * 1024 * MiB);
  const dtb = Math.floor((fdtLimit - alignUp(dtbSize, 4096)) / (2 * MiB)) * 2 * MiB;
  if (kernelEnd > dtb) {
    throw new VirtusError(
      "kernel-too-big",
      `the kernel needs ${Math.ceil((kernelEnd - ramBase) / MiB) + 2} MiB of RAM; raise --mem`,
    );
  }
  let initrd: BootLayout["initrd"];
  if (initrdSize !== undefined) {
    // As high as possible below the device tree, page aligned, leaving the kernel room to grow.
    const start = Math.floor((dtb - initrdSize) / 4096) * 4096;
    if (start < alignUp(kernelEnd, 2 * MiB) + 16 * MiB) {
      throw new VirtusError(
        "initrd-too-big",
        `the initrd (${Math.ceil(initrdSize / MiB)} MiB) does not fit in RAM next to the kernel; raise --mem`,
      );
    }
    initrd = { start, end: start + initrdSize };
  }
  return { kernel, kernelEnd, initrd, dtb };
}

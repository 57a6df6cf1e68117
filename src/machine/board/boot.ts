import { PRV_M } from "../cpu/constants.ts";
import type { CharBackend } from "../devices/backends.ts";
import { VirtusError } from "../errors.ts";
import type { BuiltinSbi, SystemResetRequest } from "../firmware/sbi.ts";
import { type BootImage, requireKnownRaw } from "./boot-image.ts";
import { planBoot } from "./linux-image.ts";
import type { VirtMachine } from "./virt.ts";

/** Which firmware runs in M-mode (`--bios`). */
export type Bios = { kind: "builtin" } | { kind: "none" } | { kind: "file"; image: BootImage; name: string };

export interface BootRequest {
  kernel: BootImage;
  kernelName: string;
  initrd?: Uint8Array;
  bios: Bios;
  /** Console for the built-in SBI's console calls (the UART has its own backend). */
  console: CharBackend;
  onReset?: (req: SystemResetRequest) => void;
}

export interface BootInfo {
  kernel: number;
  dtb: number;
  initrd?: { start: number; end: number };
  firmwareEntry?: number;
  sbi?: BuiltinSbi;
}

const MiB = 1024 * 1024;
/** Where firmware expects the next stage (OpenSBI generic FW_JUMP_ADDR; QEMU's kernel start with a bios). */
const KERNEL_AFTER_FIRMWARE = 2 * MiB;
/** fw_dynamic_info magic "OSBI" and version (OpenSBI include/sbi/fw_dynamic.h). */
const FW_DYNAMIC_MAGIC = 0x4942534f;
const FW_DYNAMIC_VERSION = 2;
const NEXT_MODE_S = 1;

/**
 * Loads kernel, initrd, device tree and firmware into a virt machine's RAM
 * and sets the harts at their entry, as QEMU's virt board and reset ROM do:
 * - builtin: the kernel enters S-mode on hart 0 with a0 = hartid, a1 = dtb; the
 *   other harts wait in HSM STOPPED; SBI calls are served by BuiltinSbi.
 * - file: the firmware (OpenSBI fw_jump/fw_dynamic, ELF or raw at 0x80000000)
 *   starts on every hart in M-mode with a0 = hartid, a1 = dtb, a2 = fw_dynamic_info;
 *   the kernel waits at 0x80200000.
 * - none: every hart enters the kernel in M-mode (kernel at 0x80000000 unless an ELF says otherwise).
 */
export function bootVirt(vm: VirtMachine, req: BootRequest): BootInfo {
  const m = vm.machine;
  const mem = m.mem;
  const ramBase = mem.ramBase;
  const kernelBase = req.bios.kind === "none" ? ramBase : ramBase + KERNEL_AFTER_FIRMWARE;

  // Kernel: where it goes, how much room it needs once running, where it starts.
  let kernelAddr: number;
  let kernelSize: number;
  let entry: number;
  const k = req.kernel;
  if (k.kind === "linux") {
    kernelAddr = req.bios.kind === "none" ? ramBase : ramBase + k.header.textOffset;
    kernelSize = k.header.imageSize;
    entry = kernelAddr;
  } else if (k.kind === "elf") {
    kernelAddr = Math.min(...k.elf.segments.map((s) => s.paddr));
    kernelSize = Math.max(...k.elf.segments.map((s) => s.paddr + s.memsz)) - kernelAddr;
    entry = k.elf.entry;
  } else {
    kernelAddr = kernelBase;
    kernelSize = k.bytes.length;
    entry = kernelAddr;
  }
  requireKnownRaw(k, req.kernelName, "kernel");
  if (req.bios.kind === "file") requireKnownRaw(req.bios.image, req.bios.name, "firmware");
  if (kernelAddr < ramBase || kernelAddr + kernelSize > ramBase + mem.ramSize) {
    throw new VirtusError(
      "kernel-outside-ram",
      `${req.kernelName}: needs RAM up to 0x${(kernelAddr + kernelSize).toString(16)}; raise --mem`,
    );
  }

  // Device tree size is independent of the initrd addresses: measure, plan, then build for real.
  const provisional = vm.dtb().length;
  const plan = planBoot(
    ramBase,
    mem.ramSize,
    kernelAddr - ramBase,
    kernelSize,
    req.initrd?.length,
    provisional + 4096,
  );
  vm.initrd = plan.initrd;
  const dtb = vm.dtb();

  // Firmware first (it may overlap nothing else: it owns the first 2 MiB).
  let firmwareEntry: number | undefined;
  if (req.bios.kind === "file") {
    const fw = req.bios.image;
    if (fw.kind === "elf") {
      for (const s of fw.elf.segments) {
        if (mem.ramOffset(s.paddr, s.memsz) < 0) {
          throw new VirtusError(
            "firmware-outside-ram",
            `${req.bios.name}: a segment at 0x${s.paddr.toString(16)} is outside RAM`,
          );
        }
        mem.writePhys(s.paddr, s.data);
      }
      firmwareEntry = fw.elf.entry;
    } else {
      if (fw.bytes.length > KERNEL_AFTER_FIRMWARE) {
        throw new VirtusError(
          "firmware-too-big",
          `${req.bios.name}: firmware larger than 2 MiB would overlap the kernel`,
        );
      }
      mem.writePhys(ramBase, fw.bytes);
      firmwareEntry = ramBase;
    }
  }

  if (k.kind === "elf") {
    for (const s of k.elf.segments) mem.writePhys(s.paddr, s.data);
  } else mem.writePhys(kernelAddr, k.bytes);
  if (plan.initrd && req.initrd) mem.writePhys(plan.initrd.start, req.initrd);
  mem.writePhys(plan.dtb, dtb);

  const info: BootInfo = { kernel: kernelAddr, dtb: plan.dtb, initrd: plan.initrd, firmwareEntry };
  if (req.bios.kind === "builtin") {
    // A board built with VirtOptions.sbi (as for a restore) has its SBI already.
    const sbi = vm.sbi ?? vm.useBuiltinSbi({ console: req.console, onReset: req.onReset });
    sbi.boot(entry, plan.dtb, 0);
    info.sbi = sbi;
    return info;
  }
  // fw_dynamic_info just below the device tree: {magic, version, next_addr, next_mode, options, boot_hart}.
  const dyn = plan.dtb - 64;
  const words = [FW_DYNAMIC_MAGIC, FW_DYNAMIC_VERSION, kernelAddr, NEXT_MODE_S, 0, -1];
  const bytes = new Uint8Array(48);
  const dv = new DataView(bytes.buffer);
  for (const [i, w] of words.entries()) dv.setBigInt64(i * 8, BigInt(w), true);
  mem.writePhys(dyn, bytes);
  const start = req.bios.kind === "file" ? firmwareEntry! : entry;
  for (const h of m.harts) {
    h.setPriv(PRV_M);
    h.setPc((start % 2 ** 32) | 0, Math.floor(start / 2 ** 32) | 0);
    setReg(h.x, 10, h.id);
    setReg(h.x, 11, plan.dtb);
    setReg(h.x, 12, dyn);
  }
  return info;
}

function setReg(x: Int32Array, r: number, v: number): void {
  x[2 * r] = (v % 2 ** 32) | 0;
  x[2 * r + 1] = Math.floor(v / 2 ** 32) | 0;
}

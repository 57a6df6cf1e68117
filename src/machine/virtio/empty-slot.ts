import type { MmioDevice, MmioResult } from "../bus/mmio.ts";
import { type FdtContext, type FdtDevice, interruptParent, unitName } from "../fdt/device.ts";
import type { FdtNode } from "../fdt/node.ts";
import { expectVersion } from "../snapshot/state.ts";

/** Bytes of one virtio-mmio register window (where the windows are is the board's: board/memory-map.ts). */
export const VIRTIO_MMIO_SIZE = 0x1000;

/** Registers every virtio-mmio transport answers (virtio 1.2, 4.2.2). */
export const VIRTIO_MMIO_MAGIC_VALUE = 0x000;
export const VIRTIO_MMIO_VERSION = 0x004;
export const VIRTIO_MMIO_DEVICE_ID = 0x008;
export const VIRTIO_MMIO_VENDOR_ID = 0x00c;
/** "virt" in little-endian ASCII. */
export const VIRTIO_MMIO_MAGIC = 0x7472_6976;
/** "QEMU" in little-endian ASCII, the vendor QEMU reports. */
export const VIRTIO_VENDOR_QEMU = 0x554d_4551;

/**
 * The device-tree node of a virtio-mmio window, whatever device sits in it
 * (the transport is probed at run time, so the node does not say which).
 */
export function virtioMmioFdt(ctx: FdtContext, base: number, irq: number, size = VIRTIO_MMIO_SIZE): FdtNode {
  return ctx.soc
    .addNode(unitName("virtio_mmio", base))
    .u32("interrupts", irq)
    .cells("interrupt-parent", interruptParent(ctx, "virtio-mmio"))
    .u64("reg", base, size)
    .string("compatible", "virtio,mmio");
}

export interface EmptySlotState {
  version: 1;
}

/**
 * A virtio-mmio window with no device behind it: magic, version 2, device
 * ID 0 ("no device", virtio 1.2 4.2.3.1.1: the driver must stop) and the
 * QEMU vendor ID; everything else reads 0 and writes are ignored.
 */
export class EmptyVirtioSlot implements MmioDevice, FdtDevice {
  readonly name = "virtio-mmio-empty";
  readonly base: number;
  readonly size = VIRTIO_MMIO_SIZE;
  readonly irqNumber: number;

  constructor(base: number, irqNumber: number) {
    this.base = base;
    this.irqNumber = irqNumber;
  }

  read(off: number, size: number, res: MmioResult): number {
    // virtio-mmio registers are 32-bit; narrower reads see 0 (4.2.2: "accesses must be 32-bit").
    if (size < 4) return 0;
    res.hi = 0;
    switch (off) {
      case VIRTIO_MMIO_MAGIC_VALUE:
        if (size === 8) res.hi = 2;
        return VIRTIO_MMIO_MAGIC;
      case VIRTIO_MMIO_VERSION:
        return 2;
      case VIRTIO_MMIO_DEVICE_ID:
        if (size === 8) res.hi = VIRTIO_VENDOR_QEMU;
        return 0;
      case VIRTIO_MMIO_VENDOR_ID:
        return VIRTIO_VENDOR_QEMU;
      default:
        return 0;
    }
  }

  write(_off: number, _size: number, _lo: number, _hi: number): void {}

  fdt(ctx: FdtContext): FdtNode {
    return virtioMmioFdt(ctx, this.base, this.irqNumber);
  }

  saveState(): EmptySlotState {
    return { version: 1 };
  }

  restoreState(s: EmptySlotState): void {
    expectVersion("virtio-mmio-empty", s, 1);
  }
}

/**
 * The virt board's memory map and interrupt numbers, in one table (QEMU
 * hw/riscv/virt.c `virt_memmap` is the model; design 2.1). Devices know
 * their register layout and size; where they sit and which PLIC source
 * they drive is the board's business and is written only here.
 *
 *   0x0000_0000_0010_0000  sifive_test (+ syscon poweroff/reboot)
 *   0x0000_0000_0010_1000  goldfish RTC          IRQ 11
 *   0x0000_0000_0200_0000  CLINT
 *   0x0000_0000_0c00_0000  PLIC
 *   0x0000_0000_1000_0000  NS16550A UART         IRQ 10
 *   0x0000_0000_1000_1000  virtio-mmio slot n at +n*0x1000, IRQ 1+n (8 slots)
 *   0x0000_0000_8000_0000  RAM
 */
import { CLINT_SIZE } from "../devices/clint.ts";
import { RTC_SIZE } from "../devices/goldfish_rtc.ts";
import { PLIC_SIZE } from "../devices/plic.ts";
import { TEST_SIZE } from "../devices/sifive_test.ts";
import { UART_SIZE } from "../devices/uart16550.ts";
import { RAM_BASE } from "../memory/layout.ts";
import { VIRTIO_MMIO_SIZE } from "../virtio/empty-slot.ts";

/** A guest-physical window. */
export interface MemoryRegion {
  readonly base: number;
  readonly size: number;
}

export const VIRT_MEMMAP = {
  test: { base: 0x10_0000, size: TEST_SIZE },
  rtc: { base: 0x10_1000, size: RTC_SIZE },
  clint: { base: 0x0200_0000, size: CLINT_SIZE },
  plic: { base: 0x0c00_0000, size: PLIC_SIZE },
  uart: { base: 0x1000_0000, size: UART_SIZE },
  /** The first virtio-mmio slot; slot n is at base + n * size. */
  virtio: { base: 0x1000_1000, size: VIRTIO_MMIO_SIZE },
  /** RAM starts here (its size is the machine's); the linear-memory layout shares the constant. */
  dram: { base: RAM_BASE, size: 0 },
} as const satisfies Record<string, MemoryRegion>;

/** PLIC source numbers. */
export const VIRT_IRQ = {
  uart: 10,
  rtc: 11,
  /** Slot n's source is virtio + n. */
  virtio: 1,
} as const;

/** Number of virtio-mmio slots. */
export const VIRT_VIRTIO_SLOTS = 8;

/** Base address of virtio-mmio slot n. */
export function virtioSlotBase(n: number): number {
  return VIRT_MEMMAP.virtio.base + n * VIRT_MEMMAP.virtio.size;
}

/** PLIC source of virtio-mmio slot n. */
export function virtioSlotIrq(n: number): number {
  return VIRT_IRQ.virtio + n;
}

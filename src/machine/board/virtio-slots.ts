/**
 * Which virtio device goes in which virtio-mmio slot. The order is a
 * contract: guests name disks /dev/vda, vdb… and NICs eth0… in probe
 * order, which on the virt board is slot order (the device tree lists the
 * slots from 0 up; tests/boot/virtio.test.ts checks that the first --disk
 * is /dev/vda). Slots fill from 0 (0x1000_1000, IRQ 1) upward in
 * VIRTIO_SLOT_ORDER — disks, then network interfaces, then 9p shares, then
 * the console, then the entropy device — and within a kind in the order
 * given (command-line order).
 *
 *   const virtio = assignVirtioSlots([
 *     { kind: "rng", what: "virtio-rng", make: virtioMmio(() => new VirtioRng(src)) },
 *     { kind: "disk", what: "--disk a.img", make: virtioMmio(() => new VirtioBlk(a)) },
 *   ]);
 *   new VirtMachine({ …, virtio });   // disk in slot 0, rng in slot 1
 *
 * A new kind of device adds its name to VIRTIO_SLOT_ORDER at its place in
 * the contract; front ends only list placements.
 */
import { VirtusError } from "../errors.ts";
import type { VirtioSlot } from "../virtio/slot.ts";
import { VIRT_VIRTIO_SLOTS, virtioSlotBase, virtioSlotIrq } from "./memory-map.ts";
import type { VirtioSlotDevice } from "./virt.ts";

/** Kinds of virtio devices, in slot order. */
export const VIRTIO_SLOT_ORDER = ["disk", "net", "share", "console", "rng"] as const;

/** One of VIRTIO_SLOT_ORDER. */
export type VirtioKind = (typeof VIRTIO_SLOT_ORDER)[number];

/** A device to place: its kind, how a user would name it in an error, and its slot factory. */
export interface VirtioPlacement {
  kind: VirtioKind;
  /** E.g. "--disk a.img" or "virtio-rng". */
  what: string;
  make: (slot: VirtioSlot) => VirtioSlotDevice;
}

/**
 * Sorts placements into slot order (stable: same-kind devices keep their
 * order). More than VIRT_VIRTIO_SLOTS devices is a VirtusError naming them.
 */
export function orderVirtioDevices(devices: readonly VirtioPlacement[]): VirtioPlacement[] {
  const rank = (k: VirtioKind) => VIRTIO_SLOT_ORDER.indexOf(k);
  const sorted = devices
    .map((d, i) => ({ d, i }))
    .sort((a, b) => rank(a.d.kind) - rank(b.d.kind) || a.i - b.i);
  if (sorted.length > VIRT_VIRTIO_SLOTS) {
    throw new VirtusError(
      "too-many-devices",
      `${sorted.length} virtio devices (${sorted.map((s) => s.d.what).join(", ")}) but the virt board has ${VIRT_VIRTIO_SLOTS} virtio-mmio slots`,
    );
  }
  return sorted.map((s) => s.d);
}

/** The slot factories for VirtOptions.virtio, in slot order (see orderVirtioDevices). */
export function assignVirtioSlots(
  devices: readonly VirtioPlacement[],
): ((slot: VirtioSlot) => VirtioSlotDevice)[] {
  return orderVirtioDevices(devices).map((d) => d.make);
}

/** One line per used slot ("slot 0 @ 0x10001000 irq 1: --disk a.img"), for logs and docs. */
export function describeVirtioSlots(devices: readonly VirtioPlacement[]): string[] {
  return orderVirtioDevices(devices).map(
    (d, n) => `slot ${n} @ 0x${virtioSlotBase(n).toString(16)} irq ${virtioSlotIrq(n)}: ${d.what}`,
  );
}

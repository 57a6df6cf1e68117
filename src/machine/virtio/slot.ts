/**
 * What a device placed in a virtio-mmio slot of the board is given: where
 * the slot is, its interrupt line, guest RAM, and a way to say that host
 * work is outstanding. Only this, not the whole machine, so a transport or
 * device cannot reach into harts or other devices.
 */
import type { IrqLine } from "../devices/backends.ts";
import type { GuestMemory } from "../memory/guest-memory.ts";

export interface VirtioSlot {
  index: number;
  base: number;
  size: number;
  /** The slot's PLIC source number. */
  irqNumber: number;
  /** The slot's interrupt line. */
  irq: IrqLine;
  /** Guest RAM, where the queues and buffers live. */
  mem: GuestMemory;
  /**
   * Registers a predicate that says host work the guest may be waiting on
   * is outstanding (an open host connection): while it is true an idle
   * deterministic machine does not jump ahead in time (Machine.idleHolds).
   */
  holdIdle(held: () => boolean): void;
  /** The machine's time in ms: wall-clock, or instruction-count time with --deterministic. */
  nowMs(): number;
  /**
   * Registers a device that does work on its own later (a rate-limited
   * disk or NIC): `poll` runs between slices, and an idle deterministic
   * machine jumps ahead no further than `wakeAtMs()` (Infinity: nothing due).
   */
  pollDevice(poll: (nowMs: number) => void, wakeAtMs: () => number): void;
}

/**
 * What every virtio device implements, whatever transport carries it
 * (virtio 1.2 chapter 2 "Basic Facilities of a Virtio Device"). The
 * transport (`mmio.ts`, VirtioMmio) owns the registers, feature
 * negotiation, device status and the virtqueues; a device only says what it
 * offers and serves its queues.
 *
 * Life cycle of a device inside a transport:
 *
 *   new VirtioMmio(dev, …)  → dev.attach(ctx)        once; ctx lives as long as the transport
 *   driver sets DRIVER_OK    → dev.activate()         features negotiated, queues configured
 *   driver writes QueueNotify→ dev.queueNotify(q)     only while ctx.active
 *   driver writes Status 0   → dev.reset()            also on restore, before loading state
 *
 * A device may also use its queues on its own (host input for a console,
 * a received network frame) whenever `ctx.active` is true.
 *
 * Guest mistakes never throw: the queue reports them to the transport,
 * which sets DEVICE_NEEDS_RESET (2.1.2) and raises a configuration-change
 * interrupt; a device that finds a malformed request of its own (a block
 * request without a status byte) calls `ctx.fail(why)` the same way.
 */
import type { GuestMemory } from "../memory/guest-memory.ts";
import type { VirtQueue } from "./queue.ts";

/** Device IDs (virtio 1.2, 5 "Device Types"). */
export const VIRTIO_ID_NET = 1;
export const VIRTIO_ID_BLOCK = 2;
export const VIRTIO_ID_CONSOLE = 3;
export const VIRTIO_ID_ENTROPY = 4;
export const VIRTIO_ID_9P = 9;
export const VIRTIO_ID_VSOCK = 19;

/** Device-independent feature bits (virtio 1.2, 6 "Reserved Feature Bits"). */
export const VIRTIO_F_RING_INDIRECT_DESC = 28;
export const VIRTIO_F_RING_EVENT_IDX = 29;
/** Modern device: always offered and required by the transport (Virtus has no legacy interface). */
export const VIRTIO_F_VERSION_1 = 32;

/** Device status bits (virtio 1.2, 2.1). */
export const VIRTIO_STATUS_ACKNOWLEDGE = 1;
export const VIRTIO_STATUS_DRIVER = 2;
export const VIRTIO_STATUS_DRIVER_OK = 4;
export const VIRTIO_STATUS_FEATURES_OK = 8;
export const VIRTIO_STATUS_DEVICE_NEEDS_RESET = 0x40;
export const VIRTIO_STATUS_FAILED = 0x80;

/** The transport as a device sees it; the same object from attach() until the transport goes away. */
export interface VirtioContext {
  /** Guest RAM, for devices that copy with their own loops (the queue helpers cover most needs). */
  readonly mem: GuestMemory;
  /** The device's virtqueues, one per entry of `VirtioDevice.queueSizes`. */
  readonly queues: readonly VirtQueue[];
  /** True between DRIVER_OK and the next reset, unless the device needs a reset. */
  readonly active: boolean;
  /** Whether feature bit `bit` (0..63) was offered and accepted by the driver (valid after FEATURES_OK). */
  hasFeature(bit: number): boolean;
  /**
   * The device changed its configuration space: bumps ConfigGeneration
   * and, once the driver is running, raises a configuration-change interrupt.
   */
  configChanged(): void;
  /**
   * The driver broke the rules (virtio 1.2, 2.1.2): sets DEVICE_NEEDS_RESET,
   * raises a configuration-change interrupt, stops serving the queues until
   * the driver resets the device, and logs `why`.
   */
  fail(why: string): void;
}

/** A device's own state record (design 2.8); the transport nests it in its own. */
export interface VirtioDeviceState {
  version: number;
}

/**
 * A virtio device behind a transport. Implementations keep per-request
 * paths allocation-light: reuse one DescriptorChain per queue and scratch
 * buffers for headers.
 */
export interface VirtioDevice {
  /** Short name for logs and errors ("virtio-blk"). */
  readonly name: string;
  /** Device ID (VIRTIO_ID_*). */
  readonly deviceId: number;
  /** Device-specific feature bits 0..31 offered to the driver (the transport adds 28 and 29). */
  readonly featuresLo: number;
  /** Device-specific feature bits 32..63 offered (the transport adds VERSION_1, bit 32). */
  readonly featuresHi: number;
  /** QueueNumMax of each virtqueue, in queue-index order; its length is the number of queues. Powers of two, ≤ 32768. */
  readonly queueSizes: readonly number[];
  /** Bytes of device configuration space (at 0x100 on virtio-mmio); accesses beyond it read 0 and are ignored. */
  readonly configSize: number;
  /** Reads `size` (1, 2 or 4) little-endian bytes of configuration space at `offset`; the transport checks bounds. */
  readConfig(offset: number, size: number): number;
  /** Writes configuration space (most fields are read-only: ignore those writes). Bounds are checked. */
  writeConfig(offset: number, size: number, value: number): void;
  /** Called once by the transport's constructor. */
  attach(ctx: VirtioContext): void;
  /**
   * Optional veto at FEATURES_OK: return false to refuse a feature
   * combination (the driver then sees FEATURES_OK stay clear). `lo`/`hi`
   * are the driver's bits, already checked to be a subset of the offer.
   */
  acceptFeatures?(lo: number, hi: number): boolean;
  /** DRIVER_OK was set: queues are configured and features final. */
  activate(): void;
  /** The driver made buffers available on queue `index` (QueueNotify), while active. */
  queueNotify(index: number): void;
  /** Back to the state after attach(): the driver wrote Status 0, or a snapshot is being restored. */
  reset(): void;
  /** The device's own state (not its queues: the transport saves those). */
  saveState(): VirtioDeviceState;
  /** Loads a record from saveState(), after reset() and, if the driver was running, activate(). Validates it (design 2.8). */
  restoreState(state: VirtioDeviceState): void;
}

/**
 * Reads `size` (1, 2 or 4) little-endian bytes of `bytes` at `offset` as an
 * unsigned number, 0 where out of range; a helper for readConfig() over a
 * byte image of the configuration structure.
 */
export function readConfigBytes(bytes: Uint8Array, offset: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) {
    const at = offset + i;
    v = v * 256 + (at >= 0 && at < bytes.length ? bytes[at] : 0);
  }
  return v >>> 0;
}

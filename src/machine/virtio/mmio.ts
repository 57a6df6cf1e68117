/**
 * The virtio-mmio transport, version 2 only (virtio 1.2, 4.2): the register
 * window of one virtio-mmio slot, feature negotiation, device status, the
 * virtqueues' configuration, notifications and the interrupt line, in front
 * of any VirtioDevice.
 *
 *   const vm = new VirtMachine({ …, virtio: [virtioMmio(() => new VirtioBlk(backend))] });
 *
 * Register map (device-relative, 32-bit registers; 4.2.2):
 *
 *   0x000 MagicValue "virt"   R     0x050 QueueNotify        W
 *   0x004 Version 2           R     0x060 InterruptStatus    R   bit 0 used buffer, bit 1 config change
 *   0x008 DeviceID            R     0x064 InterruptACK       W
 *   0x00c VendorID "QEMU"     R     0x070 Status             RW  write 0 = reset
 *   0x010 DeviceFeatures      R     0x080 QueueDescLow/High  W   (0x084)
 *   0x014 DeviceFeaturesSel   W     0x090 QueueDriverLow/High W  (0x094)
 *   0x020 DriverFeatures      W     0x0a0 QueueDeviceLow/High W  (0x0a4)
 *   0x024 DriverFeaturesSel   W     0x0ac SHMSel, 0x0b0.. SHMLen/SHMBase: no regions (all ones)
 *   0x030 QueueSel            W     0x0fc ConfigGeneration   R
 *   0x034 QueueNumMax         R     0x100+ device configuration space (the device's, bounds-checked)
 *   0x038 QueueNum            W
 *   0x044 QueueReady          RW
 *
 * Registers take 32-bit accesses; narrower ones read 0 and are ignored, a
 * 64-bit one acts as two 32-bit ones (low word first). Configuration space
 * takes 1-, 2- and 4-byte accesses (8 = two 4-byte halves).
 */

import type { MmioDevice, MmioResult } from "../bus/mmio.ts";
import type { IrqLine } from "../devices/backends.ts";
import type { GuestMemory } from "../memory/guest-memory.ts";
import { expectNumber, expectVersion, StateError } from "../snapshot/state.ts";
import {
  VIRTIO_F_RING_EVENT_IDX,
  VIRTIO_F_RING_INDIRECT_DESC,
  VIRTIO_STATUS_DEVICE_NEEDS_RESET,
  VIRTIO_STATUS_DRIVER_OK,
  VIRTIO_STATUS_FAILED,
  VIRTIO_STATUS_FEATURES_OK,
  type VirtioContext,
  type VirtioDevice,
  type VirtioDeviceState,
} from "./device.ts";
import { VIRTIO_MMIO_MAGIC, VIRTIO_VENDOR_QEMU } from "./empty-slot.ts";
import { VirtQueue, type VirtQueueOwner, type VirtQueueState } from "./queue.ts";
import type { VirtioSlot } from "./slot.ts";

/** Register offsets (virtio 1.2, 4.2.2). */
export const REG_MAGIC_VALUE = 0x000;
export const REG_VERSION = 0x004;
export const REG_DEVICE_ID = 0x008;
export const REG_VENDOR_ID = 0x00c;
export const REG_DEVICE_FEATURES = 0x010;
export const REG_DEVICE_FEATURES_SEL = 0x014;
export const REG_DRIVER_FEATURES = 0x020;
export const REG_DRIVER_FEATURES_SEL = 0x024;
export const REG_QUEUE_SEL = 0x030;
export const REG_QUEUE_NUM_MAX = 0x034;
export const REG_QUEUE_NUM = 0x038;
export const REG_QUEUE_READY = 0x044;
export const REG_QUEUE_NOTIFY = 0x050;
export const REG_INTERRUPT_STATUS = 0x060;
export const REG_INTERRUPT_ACK = 0x064;
export const REG_STATUS = 0x070;
export const REG_QUEUE_DESC_LOW = 0x080;
export const REG_QUEUE_DESC_HIGH = 0x084;
export const REG_QUEUE_DRIVER_LOW = 0x090;
export const REG_QUEUE_DRIVER_HIGH = 0x094;
export const REG_QUEUE_DEVICE_LOW = 0x0a0;
export const REG_QUEUE_DEVICE_HIGH = 0x0a4;
export const REG_SHM_SEL = 0x0ac;
export const REG_SHM_LEN_LOW = 0x0b0;
export const REG_SHM_LEN_HIGH = 0x0b4;
export const REG_SHM_BASE_LOW = 0x0b8;
export const REG_SHM_BASE_HIGH = 0x0bc;
export const REG_CONFIG_GENERATION = 0x0fc;
/** Device configuration space starts here. */
export const REG_CONFIG = 0x100;

/** InterruptStatus bits (4.2.2). */
export const VIRTIO_MMIO_INT_VRING = 1;
export const VIRTIO_MMIO_INT_CONFIG = 2;

/** Feature bits every device gets from the transport and queue (bits 0..31 / 32..63). */
const TRANSPORT_FEATURES_LO = (1 << VIRTIO_F_RING_INDIRECT_DESC) | (1 << VIRTIO_F_RING_EVENT_IDX);
/** VIRTIO_F_VERSION_1 (bit 32) is bit 0 of the high word. */
const TRANSPORT_FEATURES_HI = 1;

/** Addresses are kept as doubles; any high word this large is far outside RAM, so it is clamped to keep values exact. */
const ADDR_CLAMP = 2 ** 52;
const TWO32 = 4294967296;

export interface VirtioMmioOptions {
  /** Guest RAM the queues live in. */
  mem: GuestMemory;
  /** The slot's interrupt line (level = InterruptStatus != 0). */
  irq: IrqLine;
  /** Where guest-caused errors go (design 2.9: logged, never thrown). */
  log?: (message: string) => void;
}

/** The transport as plain data (design 2.8), with its queues and the device's own record. */
export interface VirtioMmioState {
  version: 1;
  deviceId: number;
  status: number;
  deviceFeaturesSel: number;
  driverFeaturesSel: number;
  driverFeaturesLo: number;
  driverFeaturesHi: number;
  queueSel: number;
  interruptStatus: number;
  configGeneration: number;
  /** Queues notified before DRIVER_OK, served at activation. */
  pendingNotify: number[];
  queues: VirtQueueState[];
  device: VirtioDeviceState;
}

/**
 * A virtio-mmio slot factory for VirtOptions.virtio: wraps the device that
 * `make` builds in a transport on the slot's interrupt line.
 */
export function virtioMmio(
  make: (slot: VirtioSlot) => VirtioDevice,
  opts: { log?: (message: string) => void } = {},
): (slot: VirtioSlot) => VirtioMmio {
  return (slot) =>
    new VirtioMmio(make(slot), {
      mem: slot.mem,
      irq: slot.irq,
      log: opts.log === undefined ? undefined : (m) => opts.log?.(`virtio-mmio slot ${slot.index}: ${m}`),
    });
}

/** One virtio-mmio register window with its device (see the file comment for the register map). */
export class VirtioMmio implements MmioDevice, VirtioContext, VirtQueueOwner {
  readonly name: string;
  readonly device: VirtioDevice;
  readonly mem: GuestMemory;
  readonly queues: VirtQueue[] = [];
  /** The last guest error that set DEVICE_NEEDS_RESET (also logged). */
  lastError: string | undefined = undefined;

  private readonly irq: IrqLine;
  private readonly log: ((message: string) => void) | undefined;
  private readonly offeredLo: number;
  private readonly offeredHi: number;
  private status = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeaturesLo = 0;
  private driverFeaturesHi = 0;
  private queueSel = 0;
  private interruptStatus = 0;
  private configGeneration = 0;
  private irqLevel = false;
  /** Per queue: notified before DRIVER_OK (served at activation). */
  private readonly pending: boolean[];

  constructor(device: VirtioDevice, opts: VirtioMmioOptions) {
    this.device = device;
    this.name = `virtio-mmio:${device.name}`;
    this.mem = opts.mem;
    this.irq = opts.irq;
    this.log = opts.log;
    this.offeredLo = (device.featuresLo | TRANSPORT_FEATURES_LO) >>> 0;
    this.offeredHi = (device.featuresHi | TRANSPORT_FEATURES_HI) >>> 0;
    device.queueSizes.forEach((max, i) => {
      this.queues.push(new VirtQueue(opts.mem, i, max, this));
    });
    this.pending = device.queueSizes.map(() => false);
    device.attach(this);
  }

  // --- VirtioContext

  get active(): boolean {
    return (
      (this.status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)) ===
      VIRTIO_STATUS_DRIVER_OK
    );
  }

  hasFeature(bit: number): boolean {
    if (!(this.status & VIRTIO_STATUS_FEATURES_OK)) return false;
    const word = bit < 32 ? this.driverFeaturesLo : this.driverFeaturesHi;
    return ((word >>> (bit & 31)) & 1) === 1;
  }

  configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) >>> 0;
    if (this.status & VIRTIO_STATUS_DRIVER_OK) this.raise(VIRTIO_MMIO_INT_CONFIG);
  }

  fail(why: string): void {
    if (this.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) return;
    this.status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    for (const q of this.queues) q.broken = true;
    this.lastError = why;
    this.log?.(`${this.device.name}: ${why}; the device needs a reset`);
    // 2.1.2: with DRIVER_OK set, DEVICE_NEEDS_RESET comes with a configuration-change notification.
    if (this.status & VIRTIO_STATUS_DRIVER_OK) this.raise(VIRTIO_MMIO_INT_CONFIG);
  }

  // --- VirtQueueOwner

  queueInterrupt(_index: number): void {
    this.raise(VIRTIO_MMIO_INT_VRING);
  }

  queueError(index: number, why: string): void {
    this.fail(`queue ${index}: ${why}`);
  }

  // --- MmioDevice

  read(off: number, size: number, res: MmioResult): number {
    if (off >= REG_CONFIG) {
      if (size === 8) {
        res.hi = this.readConfig(off - REG_CONFIG + 4, 4);
        return this.readConfig(off - REG_CONFIG, 4);
      }
      return this.readConfig(off - REG_CONFIG, size);
    }
    if (size === 8) {
      res.hi = this.readReg(off + 4);
      return this.readReg(off);
    }
    return size === 4 ? this.readReg(off) : 0;
  }

  write(off: number, size: number, lo: number, hi: number): void {
    if (off >= REG_CONFIG) {
      if (size === 8) {
        this.writeConfig(off - REG_CONFIG, 4, lo);
        this.writeConfig(off - REG_CONFIG + 4, 4, hi);
      } else this.writeConfig(off - REG_CONFIG, size, lo);
      return;
    }
    if (size === 8) {
      this.writeReg(off, lo >>> 0);
      this.writeReg(off + 4, hi >>> 0);
    } else if (size === 4) this.writeReg(off, lo >>> 0);
  }

  private readConfig(off: number, size: number): number {
    if (off + size > this.device.configSize) return 0;
    return this.device.readConfig(off, size) | 0;
  }

  private writeConfig(off: number, size: number, value: number): void {
    if (off + size > this.device.configSize) return;
    const mask = size === 4 ? 0xffff_ffff : (1 << (size * 8)) - 1;
    this.device.writeConfig(off, size, (value & mask) >>> 0);
  }

  /** The selected queue, or undefined when QueueSel names none. */
  private selected(): VirtQueue | undefined {
    return this.queues[this.queueSel];
  }

  private readReg(off: number): number {
    switch (off) {
      case REG_MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
      case REG_VERSION:
        return 2;
      case REG_DEVICE_ID:
        return this.device.deviceId;
      case REG_VENDOR_ID:
        return VIRTIO_VENDOR_QEMU;
      case REG_DEVICE_FEATURES:
        return this.deviceFeaturesSel === 0
          ? this.offeredLo | 0
          : this.deviceFeaturesSel === 1
            ? this.offeredHi | 0
            : 0;
      case REG_QUEUE_NUM_MAX:
        return this.selected()?.maxSize ?? 0;
      case REG_QUEUE_READY:
        return this.selected()?.ready ? 1 : 0;
      case REG_INTERRUPT_STATUS:
        return this.interruptStatus;
      case REG_STATUS:
        return this.status;
      case REG_SHM_LEN_LOW:
      case REG_SHM_LEN_HIGH:
      case REG_SHM_BASE_LOW:
      case REG_SHM_BASE_HIGH:
        // No shared memory regions: length and base read as all ones (4.2.2).
        return -1;
      case REG_CONFIG_GENERATION:
        return this.configGeneration | 0;
      default:
        return 0;
    }
  }

  private writeReg(off: number, v: number): void {
    switch (off) {
      case REG_DEVICE_FEATURES_SEL:
        this.deviceFeaturesSel = v;
        return;
      case REG_DRIVER_FEATURES:
        // Features are frozen once FEATURES_OK is set (3.1.1).
        if (this.status & VIRTIO_STATUS_FEATURES_OK) return;
        if (this.driverFeaturesSel === 0) this.driverFeaturesLo = v;
        else if (this.driverFeaturesSel === 1) this.driverFeaturesHi = v;
        return;
      case REG_DRIVER_FEATURES_SEL:
        this.driverFeaturesSel = v;
        return;
      case REG_QUEUE_SEL:
        this.queueSel = v;
        return;
      case REG_QUEUE_NUM: {
        const q = this.selected();
        if (q !== undefined && !q.ready) q.size = v;
        return;
      }
      case REG_QUEUE_READY: {
        const q = this.selected();
        if (q === undefined) return;
        if ((v & 1) === 0) q.disable();
        else if (!q.ready && !q.broken) q.enable();
        return;
      }
      case REG_QUEUE_NOTIFY:
        this.notify(v & 0xffff);
        return;
      case REG_INTERRUPT_ACK:
        this.interruptStatus &= ~v;
        this.updateIrq();
        return;
      case REG_STATUS:
        this.writeStatus(v & 0xff);
        return;
      case REG_QUEUE_DESC_LOW:
      case REG_QUEUE_DESC_HIGH:
      case REG_QUEUE_DRIVER_LOW:
      case REG_QUEUE_DRIVER_HIGH:
      case REG_QUEUE_DEVICE_LOW:
      case REG_QUEUE_DEVICE_HIGH:
        this.writeQueueAddress(off, v);
        return;
      default:
        // Read-only registers, SHMSel (no regions) and unknown offsets: ignored.
        return;
    }
  }

  /** One half of QueueDesc/QueueDriver/QueueDevice; ignored while the queue is ready (4.2.3.2). */
  private writeQueueAddress(off: number, v: number): void {
    const q = this.selected();
    if (q === undefined || q.ready) return;
    const high = (off & 4) !== 0;
    const field = off < REG_QUEUE_DRIVER_LOW ? "desc" : off < REG_QUEUE_DEVICE_LOW ? "avail" : "used";
    const old = q[field];
    const oldHi = Math.floor(old / TWO32);
    const lo = high ? old - oldHi * TWO32 : v;
    const hi = high ? v : oldHi;
    q[field] = hi >= ADDR_CLAMP / TWO32 ? ADDR_CLAMP : hi * TWO32 + lo;
  }

  private writeStatus(v: number): void {
    if (v === 0) {
      this.reset();
      return;
    }
    const old = this.status;
    // The driver only ever adds bits (3.1.1); clearing needs a reset. NEEDS_RESET is the device's.
    let next = old | (v & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    if (next & VIRTIO_STATUS_FEATURES_OK && !(old & VIRTIO_STATUS_FEATURES_OK) && !this.negotiate())
      next &= ~VIRTIO_STATUS_FEATURES_OK;
    // DRIVER_OK without FEATURES_OK is a driver bug, but QEMU runs the device with no features
    // negotiated, so Virtus does too (hasFeature() is false for every bit then).
    if (next & VIRTIO_STATUS_DRIVER_OK && !(next & VIRTIO_STATUS_FEATURES_OK)) this.applyFeaturesToQueues(0);
    this.status = next;
    if (next & VIRTIO_STATUS_DRIVER_OK && !(old & VIRTIO_STATUS_DRIVER_OK) && this.active) this.activate();
  }

  /**
   * FEATURES_OK: accepts the driver's features unless the device vetoes
   * them. As on QEMU (virtio_set_features, virtio_set_status), bits that were
   * not offered are dropped rather than refused, and a driver that never
   * acknowledges VERSION_1 still gets FEATURES_OK: the spec lets a device
   * refuse both (3.1.1, 6.1), but unmodified guests built for QEMU rely on it.
   */
  private negotiate(): boolean {
    const lo = this.driverFeaturesLo & this.offeredLo;
    const hi = this.driverFeaturesHi & this.offeredHi;
    this.driverFeaturesLo = lo;
    this.driverFeaturesHi = hi;
    if (this.device.acceptFeatures !== undefined && !this.device.acceptFeatures(lo >>> 0, hi >>> 0))
      return false;
    this.applyFeaturesToQueues(lo);
    return true;
  }

  private applyFeaturesToQueues(lo: number): void {
    for (const q of this.queues) {
      q.eventIdx = ((lo >>> VIRTIO_F_RING_EVENT_IDX) & 1) === 1;
      q.indirect = ((lo >>> VIRTIO_F_RING_INDIRECT_DESC) & 1) === 1;
    }
  }

  private activate(): void {
    this.device.activate();
    for (let i = 0; i < this.pending.length; i++) {
      if (this.pending[i]) {
        this.pending[i] = false;
        this.notify(i);
      }
    }
  }

  private notify(index: number): void {
    const q = this.queues[index];
    if (q === undefined) return;
    if (this.active) {
      if (q.ready) this.device.queueNotify(index);
    } else if (!(this.status & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED))) {
      this.pending[index] = true;
    }
  }

  /** Device reset (Status = 0, 4.2.3.1): everything back to power-on, the line low. */
  reset(): void {
    this.status = 0;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.driverFeaturesLo = 0;
    this.driverFeaturesHi = 0;
    this.queueSel = 0;
    this.interruptStatus = 0;
    this.pending.fill(false);
    for (const q of this.queues) q.reset();
    this.updateIrq();
    this.device.reset();
  }

  private raise(bits: number): void {
    this.interruptStatus |= bits;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = this.interruptStatus !== 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }

  // --- state

  saveState(): VirtioMmioState {
    return {
      version: 1,
      deviceId: this.device.deviceId,
      status: this.status,
      deviceFeaturesSel: this.deviceFeaturesSel,
      driverFeaturesSel: this.driverFeaturesSel,
      driverFeaturesLo: this.driverFeaturesLo,
      driverFeaturesHi: this.driverFeaturesHi,
      queueSel: this.queueSel,
      interruptStatus: this.interruptStatus,
      configGeneration: this.configGeneration,
      pendingNotify: this.pending.flatMap((p, i) => (p ? [i] : [])),
      queues: this.queues.map((q) => q.saveState()),
      device: this.device.saveState(),
    };
  }

  /**
   * Restores a record (untrusted, design 2.8): resets the transport and the
   * device, loads registers and queues, activates the device if the driver
   * had set DRIVER_OK, then hands the device its own record. On an error
   * the transport is left reset or partly loaded: discard the machine.
   */
  restoreState(s: VirtioMmioState): void {
    const who = this.name;
    expectVersion(who, s, 1);
    if (s.deviceId !== this.device.deviceId)
      throw new StateError(who, `device ID ${String(s.deviceId)}, expected ${this.device.deviceId}`);
    const u32 = (name: string, v: unknown) => expectNumber(who, name, v, 0, 0xffff_ffff);
    const status = expectNumber(who, "status", s.status, 0, 0xff);
    const deviceFeaturesSel = u32("deviceFeaturesSel", s.deviceFeaturesSel);
    const driverFeaturesSel = u32("driverFeaturesSel", s.driverFeaturesSel);
    const lo = u32("driverFeaturesLo", s.driverFeaturesLo);
    const hi = u32("driverFeaturesHi", s.driverFeaturesHi);
    const queueSel = u32("queueSel", s.queueSel);
    const interruptStatus = expectNumber(who, "interruptStatus", s.interruptStatus, 0, 3);
    const configGeneration = u32("configGeneration", s.configGeneration);
    if (!Array.isArray(s.queues) || s.queues.length !== this.queues.length)
      throw new StateError(who, `queues must be ${this.queues.length} records`);
    if (!Array.isArray(s.pendingNotify)) throw new StateError(who, "pendingNotify must be a list");
    const pending = s.pendingNotify.map((i) =>
      expectNumber(who, "pendingNotify", i, 0, this.queues.length - 1),
    );
    if (status & VIRTIO_STATUS_FEATURES_OK && ((lo & ~this.offeredLo) !== 0 || (hi & ~this.offeredHi) !== 0))
      throw new StateError(who, "accepted features are not a subset of the offer");

    this.reset();
    this.status = status;
    this.deviceFeaturesSel = deviceFeaturesSel;
    this.driverFeaturesSel = driverFeaturesSel;
    this.driverFeaturesLo = lo;
    this.driverFeaturesHi = hi;
    this.queueSel = queueSel;
    this.configGeneration = configGeneration;
    if (status & VIRTIO_STATUS_FEATURES_OK) this.applyFeaturesToQueues(lo);
    this.queues.forEach((q, i) => {
      q.restoreState(s.queues[i]);
    });
    for (const i of pending) this.pending[i] = true;
    if (status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) for (const q of this.queues) q.broken = true;
    if (this.active) this.device.activate();
    this.device.restoreState(s.device);
    this.interruptStatus = interruptStatus;
    this.irqLevel = interruptStatus !== 0;
    this.irq.set(this.irqLevel);
  }
}

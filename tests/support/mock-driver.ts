/**
 * A mock virtio driver for unit tests (after rust-vmm virtio-queue's
 * mock.rs): lays out descriptor tables and rings in a GuestMemory the way a
 * driver would, so tests can feed any device well-formed and hostile queues,
 * and drives a virtio-mmio transport through its registers.
 *
 *   const mem = new GuestMemory(1 << 20);
 *   const irq = new TestIrq();
 *   const t = new VirtioMmio(device, { mem, irq });
 *   const drv = new MockMmioDriver(t, mem);
 *   const [q] = drv.init();                                   // ACK, DRIVER, features, FEATURES_OK, queues, DRIVER_OK
 *   const head = q.addChain([{ data: request }, { len: 512, write: true }]);
 *   drv.kick(0);
 *   q.used(0)                                                 // → { id: head, len }
 */
import type { MmioDevice } from "../../src/machine/bus/mmio.ts";
import type { IrqLine } from "../../src/machine/devices/backends.ts";
import type { GuestMemory } from "../../src/machine/memory/guest-memory.ts";
import {
  VIRTIO_STATUS_ACKNOWLEDGE,
  VIRTIO_STATUS_DRIVER,
  VIRTIO_STATUS_DRIVER_OK,
  VIRTIO_STATUS_FEATURES_OK,
} from "../../src/machine/virtio/device.ts";
import * as R from "../../src/machine/virtio/mmio.ts";
import {
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  virtqueueLayout,
} from "../../src/machine/virtio/queue.ts";

/** An interrupt line that records its level and how often it rose. */
export class TestIrq implements IrqLine {
  level = false;
  rises = 0;
  set(level: boolean): void {
    if (level && !this.level) this.rises++;
    this.level = level;
  }
}

/** One buffer of a chain: `data` to place in guest RAM (device-readable), or `len` bytes for the device to fill (`write`). */
export interface MockBuffer {
  data?: Uint8Array;
  len?: number;
  write?: boolean;
  /** Put the buffer here instead of allocating (hostile tests: outside RAM, overlapping…). */
  addr?: number;
}

/** A raw descriptor, for tests that build tables by hand. */
export interface MockDesc {
  addr: number;
  len: number;
  flags: number;
  next: number;
}

/** A bump allocator over guest-physical addresses. */
export class GuestAllocator {
  private next: number;
  private readonly end: number;
  constructor(start: number, end: number) {
    this.next = start;
    this.end = end;
  }
  alloc(len: number, align = 16): number {
    const at = Math.ceil(this.next / align) * align;
    if (at + len > this.end) throw new Error("mock driver: out of guest memory");
    this.next = at + len;
    return at;
  }
}

/**
 * The driver side of one split virtqueue in guest memory: descriptor
 * table, available ring and used ring, written and read the way Linux's
 * virtio_ring does.
 */
export class MockVirtQueue {
  readonly mem: GuestMemory;
  readonly size: number;
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  readonly heap: GuestAllocator;
  /** The driver's avail idx (free-running). */
  availIdx = 0;
  /** Next free descriptor (the mock never recycles; tests are short). */
  private nextDesc = 0;
  private readonly dv: DataView;

  constructor(mem: GuestMemory, size: number, heap: GuestAllocator) {
    this.mem = mem;
    this.size = size;
    this.heap = heap;
    const l = virtqueueLayout(size);
    this.desc = heap.alloc(l.desc, 16);
    this.avail = heap.alloc(l.avail, 2);
    this.used = heap.alloc(l.used, 4);
    this.dv = new DataView(mem.buffer);
  }

  /** Linear offset of a guest-physical address (must be in RAM). */
  private lin(addr: number): number {
    const at = this.mem.ramOffset(addr, 1);
    if (at < 0) throw new Error(`mock driver: 0x${addr.toString(16)} is outside RAM`);
    return at;
  }

  /** Writes descriptor `i` of the table at `table` (default: the queue's own table). */
  setDesc(i: number, d: MockDesc, table = this.desc): void {
    const at = this.lin(table + 16 * i);
    this.dv.setUint32(at, d.addr % 2 ** 32, true);
    this.dv.setUint32(at + 4, Math.floor(d.addr / 2 ** 32), true);
    this.dv.setUint32(at + 8, d.len, true);
    this.dv.setUint16(at + 12, d.flags, true);
    this.dv.setUint16(at + 14, d.next, true);
  }

  /** Allocates descriptors from the table (no recycling). */
  allocDesc(n: number): number {
    if (this.nextDesc + n > this.size) this.nextDesc = 0;
    const first = this.nextDesc;
    this.nextDesc += n;
    return first;
  }

  /** Places each buffer in guest RAM (allocating where no addr is given) and returns raw descriptors chained 0→1→…. */
  private buffers(bufs: MockBuffer[], firstIndex: number): MockDesc[] {
    return bufs.map((b, k) => {
      const len = b.data?.length ?? b.len ?? 0;
      const addr = b.addr ?? this.heap.alloc(Math.max(len, 1), 8);
      if (b.data !== undefined && b.addr === undefined) this.mem.writePhys(addr, b.data);
      const last = k === bufs.length - 1;
      return {
        addr,
        len,
        flags: (b.write ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT),
        next: last ? 0 : firstIndex + k + 1,
      };
    });
  }

  /**
   * Builds a chain of `bufs` (in the descriptor table, or in one indirect
   * table when `indirect`), makes it available and returns its head.
   */
  addChain(bufs: MockBuffer[], opts: { indirect?: boolean; publish?: boolean } = {}): number {
    let head: number;
    if (opts.indirect) {
      const descs = this.buffers(bufs, 0);
      const table = this.heap.alloc(16 * descs.length, 16);
      descs.forEach((d, k) => {
        this.setDesc(k, d, table);
      });
      head = this.allocDesc(1);
      this.setDesc(head, { addr: table, len: 16 * descs.length, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
    } else {
      head = this.allocDesc(bufs.length);
      this.buffers(bufs, head).forEach((d, k) => {
        this.setDesc(head + k, d);
      });
    }
    if (opts.publish !== false) this.publish(head);
    return head;
  }

  /** Puts `head` in the available ring and bumps avail idx. */
  publish(head: number): void {
    this.dv.setUint16(this.lin(this.avail + 4 + 2 * (this.availIdx % this.size)), head, true);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.setAvailIdx(this.availIdx);
  }

  /** Writes avail idx directly (hostile tests). */
  setAvailIdx(idx: number): void {
    this.dv.setUint16(this.lin(this.avail + 2), idx, true);
  }

  setAvailFlags(flags: number): void {
    this.dv.setUint16(this.lin(this.avail), flags, true);
  }

  /** used_event (EVENT_IDX): interrupt me once the used idx passes this. */
  setUsedEvent(idx: number): void {
    this.dv.setUint16(this.lin(this.avail + 4 + 2 * this.size), idx, true);
  }

  /** avail_event written by the device. */
  availEvent(): number {
    return this.dv.getUint16(this.lin(this.used + 4 + 8 * this.size), true);
  }

  usedIdx(): number {
    return this.dv.getUint16(this.lin(this.used + 2), true);
  }

  /** Used element `n` (by used-ring position, mod size). */
  usedElem(n: number): { id: number; len: number } {
    const at = this.lin(this.used + 4 + 8 * (n % this.size));
    return { id: this.dv.getUint32(at, true), len: this.dv.getUint32(at + 4, true) };
  }

  read(addr: number, len: number): Uint8Array {
    return this.mem.readPhys(addr, len);
  }
}

/** Options for MockMmioDriver.init(). */
export interface MockInitOptions {
  /** Features to accept [lo, hi]; default: everything offered. */
  features?: [number, number];
  /** Queue sizes to configure (default: each queue's QueueNumMax, at most 64). */
  sizes?: number[];
  /** Stop before DRIVER_OK. */
  noDriverOk?: boolean;
}

/**
 * Drives a virtio-mmio transport through its registers as Linux's
 * virtio_mmio does (4.2.3.1 initialization, 4.2.3.2 queue setup).
 */
export class MockMmioDriver {
  readonly dev: MmioDevice;
  readonly mem: GuestMemory;
  readonly heap: GuestAllocator;
  private readonly res = { hi: 0 };

  /** Queues and buffers go in guest RAM from `heapStart` (default: the start of RAM). */
  constructor(dev: MmioDevice, mem: GuestMemory, heapStart = mem.ramBase) {
    this.dev = dev;
    this.mem = mem;
    this.heap = new GuestAllocator(heapStart, mem.ramBase + mem.ramSize);
  }

  read(off: number): number {
    return this.dev.read(off, 4, this.res) >>> 0;
  }

  write(off: number, v: number): void {
    this.dev.write(off, 4, v | 0, 0);
  }

  status(): number {
    return this.read(R.REG_STATUS);
  }

  /** Device features as [lo, hi]. */
  deviceFeatures(): [number, number] {
    this.write(R.REG_DEVICE_FEATURES_SEL, 0);
    const lo = this.read(R.REG_DEVICE_FEATURES);
    this.write(R.REG_DEVICE_FEATURES_SEL, 1);
    return [lo, this.read(R.REG_DEVICE_FEATURES)];
  }

  setDriverFeatures(lo: number, hi: number): void {
    this.write(R.REG_DRIVER_FEATURES_SEL, 0);
    this.write(R.REG_DRIVER_FEATURES, lo);
    this.write(R.REG_DRIVER_FEATURES_SEL, 1);
    this.write(R.REG_DRIVER_FEATURES, hi);
  }

  /** Programs queue `index` with a fresh MockVirtQueue of `size` and sets QueueReady. */
  setupQueue(index: number, size: number): MockVirtQueue {
    const q = new MockVirtQueue(this.mem, size, this.heap);
    this.write(R.REG_QUEUE_SEL, index);
    this.write(R.REG_QUEUE_NUM, size);
    this.writeAddr(R.REG_QUEUE_DESC_LOW, q.desc);
    this.writeAddr(R.REG_QUEUE_DRIVER_LOW, q.avail);
    this.writeAddr(R.REG_QUEUE_DEVICE_LOW, q.used);
    this.write(R.REG_QUEUE_READY, 1);
    return q;
  }

  /** Writes a 64-bit address register pair (low at `off`, high at off + 4). */
  writeAddr(off: number, addr: number): void {
    this.write(off, addr % 2 ** 32);
    this.write(off + 4, Math.floor(addr / 2 ** 32));
  }

  /** The full initialization sequence; returns the configured queues. */
  init(opts: MockInitOptions = {}): MockVirtQueue[] {
    this.write(R.REG_STATUS, 0);
    this.write(R.REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    this.write(R.REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    const [lo, hi] = opts.features ?? this.deviceFeatures();
    this.setDriverFeatures(lo, hi);
    const s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
    this.write(R.REG_STATUS, s);
    if (!(this.status() & VIRTIO_STATUS_FEATURES_OK)) throw new Error("mock driver: FEATURES_OK refused");
    const queues: MockVirtQueue[] = [];
    for (let i = 0; ; i++) {
      this.write(R.REG_QUEUE_SEL, i);
      const max = this.read(R.REG_QUEUE_NUM_MAX);
      if (max === 0) break;
      queues.push(this.setupQueue(i, opts.sizes?.[i] ?? Math.min(max, 64)));
    }
    if (!opts.noDriverOk) this.write(R.REG_STATUS, s | VIRTIO_STATUS_DRIVER_OK);
    return queues;
  }

  kick(queue: number): void {
    this.write(R.REG_QUEUE_NOTIFY, queue);
  }

  /** Reads InterruptStatus and acknowledges all of it; returns what was set. */
  ack(): number {
    const s = this.read(R.REG_INTERRUPT_STATUS);
    this.write(R.REG_INTERRUPT_ACK, s);
    return s;
  }

  /** Reads `size` bytes of configuration space at `off`. */
  config(off: number, size: 1 | 2 | 4): number {
    return this.dev.read(R.REG_CONFIG + off, size, this.res) >>> 0;
  }
}

/**
 * Split virtqueues (virtio 1.2, 2.7), device side.
 *
 * Guest memory layout of a queue of size N (all little-endian):
 *
 *   descriptor table (align 16)  N × { addr u64, len u32, flags u16, next u16 }
 *   available ring   (align 2)   flags u16, idx u16, ring[N] u16, used_event u16
 *   used ring        (align 4)   flags u16, idx u16, ring[N] { id u32, len u32 }, avail_event u16
 *
 * Everything the guest wrote is untrusted (design 2.9): every index, length,
 * address and flag is checked before use, walks are bounded by the table
 * size, and a violation is reported once through VirtQueueOwner.queueError
 * (the transport then sets DEVICE_NEEDS_RESET). Nothing here throws or
 * touches memory outside guest RAM.
 *
 *   const chain = new DescriptorChain(mem);       // one per queue, reused
 *   while (vq.pop(chain)) {
 *     chain.copyFromReadable(0, header);          // request header
 *     const n = chain.copyToWritable(0, reply);   // response
 *     vq.push(chain, n);
 *   }
 *   vq.notify();                                  // interrupt if the driver wants one
 */
import type { GuestMemory } from "../memory/guest-memory.ts";
import { expectNumber, expectVersion, StateError } from "../snapshot/state.ts";

/** Descriptor flags (2.7.5). */
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
/** Available ring flag: the driver does not want used-buffer interrupts (ignored with EVENT_IDX). */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** Used ring flag: the device does not need notifications (Virtus never sets it). */
export const VIRTQ_USED_F_NO_NOTIFY = 1;
/** Largest split queue size (2.7: a power of 2, at most 32768). */
export const VIRTQ_MAX_SIZE = 32768;
/** Bytes one descriptor occupies. */
export const VIRTQ_DESC_SIZE = 16;
/**
 * Cap on the bytes one chain may describe. Linux never builds chains near
 * this; it keeps a hostile chain from making the device copy gigabytes.
 */
export const MAX_CHAIN_BYTES = 64 << 20;

/** Bytes of the descriptor table, available ring and used ring of a queue of `size` entries (event fields included). */
export function virtqueueLayout(size: number): { desc: number; avail: number; used: number } {
  return { desc: VIRTQ_DESC_SIZE * size, avail: 6 + 2 * size, used: 6 + 8 * size };
}

/** What a queue reports to: the transport (or a test). */
export interface VirtQueueOwner {
  /** The device published used buffers and the driver asked to hear about it: raise the used-buffer interrupt. */
  queueInterrupt(index: number): void;
  /** The driver broke the rules on queue `index`; the queue is already marked broken. */
  queueError(index: number, why: string): void;
}

/**
 * One descriptor chain taken from a queue, split into its device-readable
 * part (the request) and its device-writable part (the response), each a
 * list of RAM segments. Segment positions are byte offsets into `mem.u8`
 * (already translated and bounds-checked), so devices may also read or
 * fill them directly; code that writes guest RAM itself must go through
 * writableSlice() (it keeps decoded instructions coherent).
 *
 * A device may keep a chain across calls (an asynchronous request) and push
 * it later; a chain taken before a queue reset is dropped by push().
 */
export class DescriptorChain {
  readonly mem: GuestMemory;
  /** Index of the head descriptor: the id push() returns to the driver. */
  head = 0;
  /** The queue's reset generation when the chain was taken. */
  generation = -1;
  /** Number of device-readable segments. */
  readCount = 0;
  /** Offsets into mem.u8 of the readable segments, in chain order (entries ≥ readCount are stale). */
  readonly readAt: number[] = [];
  /** Lengths of the readable segments. */
  readonly readLen: number[] = [];
  /** Total device-readable bytes. */
  readBytes = 0;
  /** Number of device-writable segments. */
  writeCount = 0;
  /** Offsets into mem.u8 of the writable segments. */
  readonly writeAt: number[] = [];
  /** Lengths of the writable segments. */
  readonly writeLen: number[] = [];
  /** Total device-writable bytes. */
  writeBytes = 0;

  constructor(mem: GuestMemory) {
    this.mem = mem;
  }

  /** Empties the chain (pop() does this before filling it). */
  clear(): void {
    this.readCount = 0;
    this.readBytes = 0;
    this.writeCount = 0;
    this.writeBytes = 0;
  }

  /**
   * Copies readable bytes from chain offset `offset` into `dst[dstStart..]`,
   * at most `len` of them; returns how many were copied (fewer when the
   * readable part ends first).
   */
  copyFromReadable(offset: number, dst: Uint8Array, dstStart = 0, len = dst.length - dstStart): number {
    const u8 = this.mem.u8;
    let done = 0;
    for (let i = 0; i < this.readCount && done < len; i++) {
      const segLen = this.readLen[i];
      if (offset >= segLen) {
        offset -= segLen;
        continue;
      }
      const n = Math.min(segLen - offset, len - done);
      const from = this.readAt[i] + offset;
      dst.set(u8.subarray(from, from + n), dstStart + done);
      done += n;
      offset = 0;
    }
    return done;
  }

  /**
   * Copies `src[srcStart..srcStart+len)` into the writable part at chain
   * offset `offset` (0 = the first writable byte); returns how many bytes
   * fitted. Keeps the decoded-instruction cache coherent.
   */
  copyToWritable(offset: number, src: Uint8Array, srcStart = 0, len = src.length - srcStart): number {
    const mem = this.mem;
    let done = 0;
    for (let i = 0; i < this.writeCount && done < len; i++) {
      const segLen = this.writeLen[i];
      if (offset >= segLen) {
        offset -= segLen;
        continue;
      }
      const n = Math.min(segLen - offset, len - done);
      const to = this.writeAt[i] + offset;
      mem.u8.set(src.subarray(srcStart + done, srcStart + done + n), to);
      mem.code.invalidateRange(to - mem.ramLinear, n);
      done += n;
      offset = 0;
    }
    return done;
  }

  /** Writes one byte at writable offset `offset` (a status byte); returns false if the writable part is shorter. */
  setWritableByte(offset: number, value: number): boolean {
    const mem = this.mem;
    for (let i = 0; i < this.writeCount; i++) {
      const segLen = this.writeLen[i];
      if (offset < segLen) {
        const to = this.writeAt[i] + offset;
        mem.u8[to] = value;
        mem.code.invalidateRange(to - mem.ramLinear, 1);
        return true;
      }
      offset -= segLen;
    }
    return false;
  }

  /** Readable segment `i` as a view of guest RAM (no copy). */
  readableSlice(i: number): Uint8Array {
    const at = this.readAt[i];
    return this.mem.u8.subarray(at, at + this.readLen[i]);
  }

  /**
   * Writable segment `i` as a view of guest RAM, for a backend to fill in
   * place. Drops decoded instructions of that range first; fill it before
   * the guest runs again.
   */
  writableSlice(i: number): Uint8Array {
    const at = this.writeAt[i];
    const len = this.writeLen[i];
    this.mem.code.invalidateRange(at - this.mem.ramLinear, len);
    return this.mem.u8.subarray(at, at + len);
  }
}

/** A queue as plain data (design 2.8). Addresses are guest-physical. */
export interface VirtQueueState {
  version: 1;
  size: number;
  ready: boolean;
  desc: number;
  avail: number;
  used: number;
  lastAvail: number;
  usedIdx: number;
  signalledUsed: number;
}

/** Highest guest-physical address a queue field may hold in a state record (64-bit values beyond RAM are rejected anyway). */
const MAX_ADDR = 2 ** 53;

/**
 * The device side of one split virtqueue. The transport sets `size` and
 * the three addresses from the driver's register writes, then enable()
 * checks them; devices use pop(), push() and notify().
 */
export class VirtQueue {
  /** Queue index within the device. */
  readonly index: number;
  /** QueueNumMax. */
  readonly maxSize: number;
  /** QueueNum: the size the driver chose (checked by enable()). */
  size: number;
  /** Guest-physical address of the descriptor table (QueueDesc). */
  desc = 0;
  /** Guest-physical address of the available ring (QueueDriver). */
  avail = 0;
  /** Guest-physical address of the used ring (QueueDevice). */
  used = 0;
  /** QueueReady as the driver set it and enable() accepted it. */
  ready = false;
  /** Set on the first rule violation; the queue does nothing until reset(). */
  broken = false;
  /** VIRTIO_F_RING_EVENT_IDX negotiated. */
  eventIdx = false;
  /** VIRTIO_F_RING_INDIRECT_DESC negotiated. */
  indirect = false;
  /** Next available-ring index the device will take (free-running, mod 2^16). */
  lastAvail = 0;
  /** Next used-ring index the device will fill (free-running, mod 2^16). */
  usedIdx = 0;
  /** usedIdx when the driver was last considered for an interrupt (EVENT_IDX bookkeeping). */
  signalledUsed = 0;
  /** Bumped by reset(): chains taken before it are not pushed. */
  generation = 0;

  private readonly mem: GuestMemory;
  private readonly dv: DataView;
  private readonly owner: VirtQueueOwner;
  /** Linear offsets (into mem.u8) of the three areas, valid while ready. */
  private descLin = 0;
  private availLin = 0;
  private usedLin = 0;

  constructor(mem: GuestMemory, index: number, maxSize: number, owner: VirtQueueOwner) {
    if (!isPowerOfTwo(maxSize) || maxSize > VIRTQ_MAX_SIZE)
      throw new RangeError(
        `queue ${index}: maximum size ${maxSize} is not a power of 2 up to ${VIRTQ_MAX_SIZE}`,
      );
    this.mem = mem;
    this.dv = new DataView(mem.buffer);
    this.index = index;
    this.maxSize = maxSize;
    this.size = maxSize;
    this.owner = owner;
  }

  /** Back to the power-on state (device reset, 2.4): not ready, size = max, addresses 0. */
  reset(): void {
    this.size = this.maxSize;
    this.desc = 0;
    this.avail = 0;
    this.used = 0;
    this.ready = false;
    this.broken = false;
    this.eventIdx = false;
    this.indirect = false;
    this.lastAvail = 0;
    this.usedIdx = 0;
    this.signalledUsed = 0;
    this.generation++;
  }

  /**
   * QueueReady = 1: checks the size and that the three areas are aligned
   * and lie in RAM, then serves the queue. A bad layout is reported to the
   * owner (NEEDS_RESET) and the queue stays not ready.
   */
  enable(): boolean {
    const why = this.layoutError();
    if (why !== undefined) {
      this.fail(why);
      return false;
    }
    this.ready = true;
    return true;
  }

  /** QueueReady = 0: the driver takes the queue back (Linux does this when deleting queues). */
  disable(): void {
    this.ready = false;
  }

  /** Why the configured size and addresses are unusable, or undefined; also computes the linear offsets. */
  private layoutError(): string | undefined {
    const { size, mem } = this;
    if (size === 0 || !isPowerOfTwo(size) || size > this.maxSize)
      return `queue size ${size} is not a power of 2 in 1..${this.maxSize}`;
    const l = virtqueueLayout(size);
    if (this.desc % 16 !== 0) return `descriptor table 0x${this.desc.toString(16)} is not 16-byte aligned`;
    if (this.avail % 2 !== 0) return `available ring 0x${this.avail.toString(16)} is not 2-byte aligned`;
    if (this.used % 4 !== 0) return `used ring 0x${this.used.toString(16)} is not 4-byte aligned`;
    const d = mem.ramOffset(this.desc, l.desc);
    const a = mem.ramOffset(this.avail, l.avail);
    const u = mem.ramOffset(this.used, l.used);
    if (d < 0) return `descriptor table 0x${this.desc.toString(16)}+${l.desc} is outside RAM`;
    if (a < 0) return `available ring 0x${this.avail.toString(16)}+${l.avail} is outside RAM`;
    if (u < 0) return `used ring 0x${this.used.toString(16)}+${l.used} is outside RAM`;
    this.descLin = d;
    this.availLin = a;
    this.usedLin = u;
    return undefined;
  }

  /** Marks the queue broken and reports why; returns false for `return this.fail(...)` in pop(). */
  private fail(why: string): false {
    if (!this.broken) {
      this.broken = true;
      this.owner.queueError(this.index, why);
    }
    return false;
  }

  /**
   * Chains the driver has made available and the device has not taken yet,
   * or 0 when the queue is not usable (a driver that claims more than
   * `size` breaks the queue).
   */
  available(): number {
    if (!this.ready || this.broken) return 0;
    const n = (this.dv.getUint16(this.availLin + 2, true) - this.lastAvail) & 0xffff;
    if (n > this.size) {
      this.fail(
        `available index moved ${n} entries ahead of the device, more than the queue size ${this.size}`,
      );
      return 0;
    }
    return n;
  }

  /**
   * Takes the next available chain into `chain`. Returns false when there
   * is none, or when the chain breaks a rule (then the queue is broken and
   * the owner told). With EVENT_IDX, also asks the driver to notify again
   * once it makes the next chain available (avail_event).
   */
  pop(chain: DescriptorChain): boolean {
    if (this.available() === 0) {
      if (this.ready && !this.broken && this.eventIdx) this.setAvailEvent();
      return false;
    }
    const head = this.dv.getUint16(this.availLin + 4 + 2 * (this.lastAvail & (this.size - 1)), true);
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    if (this.eventIdx) this.setAvailEvent();
    return this.walk(head, chain);
  }

  /** Gives back the chain pop() just took, to be taken again later (a device that cannot use it yet). */
  undoPop(): void {
    if (!this.ready || this.broken) return;
    this.lastAvail = (this.lastAvail - 1) & 0xffff;
    if (this.eventIdx) this.setAvailEvent();
  }

  /** avail_event = lastAvail: "notify me when you make entry lastAvail available" (2.7.10). */
  private setAvailEvent(): void {
    const at = this.usedLin + 4 + 8 * this.size;
    this.dv.setUint16(at, this.lastAvail, true);
    this.mem.code.invalidateRange(at - this.mem.ramLinear, 2);
  }

  /** Walks the chain from `head`, checking everything (2.7.5, 2.7.5.3). */
  private walk(head: number, c: DescriptorChain): boolean {
    c.clear();
    c.head = head;
    c.generation = this.generation;
    if (head >= this.size)
      return this.fail(`head descriptor ${head} is out of range (queue size ${this.size})`);
    const dv = this.dv;
    let table = this.descLin;
    let tableSize = this.size;
    let inIndirect = false;
    let i = head;
    let count = 0;
    let total = 0;
    for (;;) {
      const d = table + VIRTQ_DESC_SIZE * i;
      const addrLo = dv.getUint32(d, true);
      const addrHi = dv.getUint32(d + 4, true);
      const len = dv.getUint32(d + 8, true);
      const flags = dv.getUint16(d + 12, true);
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        if (!this.indirect)
          return this.fail(`descriptor ${i} is INDIRECT but the feature was not negotiated`);
        if (inIndirect) return this.fail("an indirect table holds an INDIRECT descriptor (nested indirect)");
        if (count !== 0) return this.fail(`descriptor ${i} is INDIRECT but not the head of its chain`);
        if (flags & VIRTQ_DESC_F_NEXT) return this.fail(`descriptor ${i} has both INDIRECT and NEXT`);
        if (len === 0 || len % VIRTQ_DESC_SIZE !== 0 || len / VIRTQ_DESC_SIZE > VIRTQ_MAX_SIZE)
          return this.fail(
            `indirect table length ${len} is not a multiple of 16 in 16..${VIRTQ_MAX_SIZE * 16}`,
          );
        const lin = this.linear(addrLo, addrHi, len);
        if (lin < 0) return this.fail(`indirect table ${hex(addrLo, addrHi)}+${len} is outside RAM`);
        table = lin;
        tableSize = len / VIRTQ_DESC_SIZE;
        inIndirect = true;
        i = 0;
        continue;
      }
      // Each table entry at most once: a longer walk means the chain loops (2.7.5.2: no longer than the table).
      if (++count > tableSize)
        return this.fail(`descriptor chain from ${head} loops or is longer than ${tableSize}`);
      if (len === 0) return this.fail(`descriptor ${i} has length 0`);
      total += len;
      if (total > MAX_CHAIN_BYTES)
        return this.fail(`descriptor chain from ${head} describes more than ${MAX_CHAIN_BYTES} bytes`);
      const lin = this.linear(addrLo, addrHi, len);
      if (lin < 0) return this.fail(`descriptor ${i} buffer ${hex(addrLo, addrHi)}+${len} is outside RAM`);
      if (flags & VIRTQ_DESC_F_WRITE) {
        c.writeAt[c.writeCount] = lin;
        c.writeLen[c.writeCount++] = len;
        c.writeBytes += len;
      } else {
        // 2.7.4.2: device-writable descriptors come after all device-readable ones.
        if (c.writeCount !== 0)
          return this.fail(`descriptor ${i} is device-readable after a device-writable one`);
        c.readAt[c.readCount] = lin;
        c.readLen[c.readCount++] = len;
        c.readBytes += len;
      }
      if (!(flags & VIRTQ_DESC_F_NEXT)) return true;
      i = dv.getUint16(d + 14, true);
      if (i >= tableSize)
        return this.fail(`descriptor next index ${i} is out of range (table of ${tableSize})`);
    }
  }

  /** Offset into mem.u8 of guest-physical [hi:lo, +len) when it lies in RAM, else -1. */
  private linear(lo: number, hi: number, len: number): number {
    // hi beyond a few bits cannot be RAM; the double is then inexact but still far out of range.
    const off = hi * 4294967296 + lo - this.mem.ramBase;
    return off >= 0 && off + len <= this.mem.ramSize ? this.mem.ramLinear + off : -1;
  }

  /**
   * Returns a chain to the driver: a used element {head, written} and the
   * new used index. `written` is the number of bytes the device wrote into
   * the chain's writable part. A chain taken before a reset is dropped.
   */
  push(chain: DescriptorChain, written: number): void {
    if (chain.generation !== this.generation) return;
    this.pushHead(chain.head, written);
  }

  /** push() by head index, for devices that keep only the id of a chain. */
  pushHead(head: number, written: number): void {
    if (!this.ready || this.broken) return;
    const dv = this.dv;
    const e = this.usedLin + 4 + 8 * (this.usedIdx & (this.size - 1));
    dv.setUint32(e, head, true);
    dv.setUint32(e + 4, written, true);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    dv.setUint16(this.usedLin + 2, this.usedIdx, true);
    const code = this.mem.code;
    const ramLinear = this.mem.ramLinear;
    code.invalidateRange(e - ramLinear, 8);
    code.invalidateRange(this.usedLin + 2 - ramLinear, 2);
  }

  /**
   * After a batch of push()es: asks the owner for a used-buffer interrupt
   * if the driver wants one — with EVENT_IDX when the used index passed
   * used_event since the last call (2.7.10), otherwise unless the driver set
   * VIRTQ_AVAIL_F_NO_INTERRUPT. Does nothing when nothing was pushed.
   */
  notify(): void {
    if (!this.ready || this.broken) return;
    const now = this.usedIdx;
    const old = this.signalledUsed;
    if (now === old) return;
    this.signalledUsed = now;
    if (this.needInterrupt(now, old)) this.owner.queueInterrupt(this.index);
  }

  private needInterrupt(now: number, old: number): boolean {
    if (this.eventIdx) {
      const usedEvent = this.dv.getUint16(this.availLin + 4 + 2 * this.size, true);
      // vring_need_event(): did [old, now) step over used_event?
      return ((now - usedEvent - 1) & 0xffff) < ((now - old) & 0xffff);
    }
    return (this.dv.getUint16(this.availLin, true) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  saveState(): VirtQueueState {
    return {
      version: 1,
      size: this.size,
      ready: this.ready,
      desc: this.desc,
      avail: this.avail,
      used: this.used,
      lastAvail: this.lastAvail,
      usedIdx: this.usedIdx,
      signalledUsed: this.signalledUsed,
    };
  }

  /**
   * Loads a record (after reset() and with eventIdx/indirect already set
   * from the restored features). A record claiming a ready queue must
   * describe a valid layout: it is checked like a QueueReady write.
   */
  restoreState(s: VirtQueueState): void {
    const who = `virtqueue ${this.index}`;
    expectVersion(who, s, 1);
    if (typeof s.ready !== "boolean") throw new StateError(who, "ready must be a boolean");
    // A queue that is not ready may hold any QueueNum the driver wrote; enable() checks it.
    const size = expectNumber(who, "size", s.size, 0, 0xffff_ffff);
    const desc = expectNumber(who, "desc", s.desc, 0, MAX_ADDR);
    const avail = expectNumber(who, "avail", s.avail, 0, MAX_ADDR);
    const used = expectNumber(who, "used", s.used, 0, MAX_ADDR);
    const lastAvail = expectNumber(who, "lastAvail", s.lastAvail, 0, 0xffff);
    const usedIdx = expectNumber(who, "usedIdx", s.usedIdx, 0, 0xffff);
    const signalledUsed = expectNumber(who, "signalledUsed", s.signalledUsed, 0, 0xffff);
    this.size = size;
    this.desc = desc;
    this.avail = avail;
    this.used = used;
    if (s.ready) {
      const why = this.layoutError();
      if (why !== undefined) throw new StateError(who, why);
    }
    this.ready = s.ready;
    this.lastAvail = lastAvail;
    this.usedIdx = usedIdx;
    this.signalledUsed = signalledUsed;
  }
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function hex(lo: number, hi: number): string {
  return `0x${hi !== 0 ? hi.toString(16) + lo.toString(16).padStart(8, "0") : lo.toString(16)}`;
}

/**
 * virtio-blk (virtio 1.2, 5.2): one request queue over a BlockBackend.
 *
 * A request is one descriptor chain (5.2.6):
 *
 *   readable   struct { le32 type; le32 reserved; le64 sector; }   16 bytes
 *   readable   data (OUT: what to write)
 *   writable   data (IN: where to read to; GET_ID: up to 20 bytes)
 *   writable   u8 status  (the chain's last writable byte)
 *
 * Data moves straight between the backend and guest RAM (no bounce
 * buffer): a read request hands the backend views of the writable
 * segments, a write request views of the readable ones.
 */
import type { BlockBackend } from "../devices/backends.ts";
import { expectBoolean, expectFinite, expectNumber, expectVersion, StateError } from "../snapshot/state.ts";
import { readConfigBytes, VIRTIO_ID_BLOCK, type VirtioContext, type VirtioDevice } from "./device.ts";
import { DescriptorChain } from "./queue.ts";
import type { RateLimiter, RateLimiterState } from "./rate-limiter.ts";

/** Feature bits (5.2.3). */
export const VIRTIO_BLK_F_SIZE_MAX = 1;
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_BLK_SIZE = 6;
export const VIRTIO_BLK_F_FLUSH = 9;

/** Request types (5.2.6). */
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;

/** Status byte values (5.2.6). */
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;

/** Sector size the protocol counts in, whatever the backend. */
export const SECTOR_SIZE = 512;
/** Length of the GET_ID string (not NUL-terminated when it fills all 20 bytes). */
export const VIRTIO_BLK_ID_BYTES = 20;
/** Size of the request queue. */
export const BLK_QUEUE_SIZE = 256;
/** Data segments per request we advertise (seg_max): the queue size minus header and status, as QEMU does. */
export const BLK_SEG_MAX = BLK_QUEUE_SIZE - 2;

/*
 * Configuration space (struct virtio_blk_config, 5.2.4), the fields Virtus fills:
 *   0x00 le64 capacity (512-byte sectors)   0x0c le32 seg_max
 *   0x08 le32 size_max (not offered)        0x14 le32 blk_size (512)
 * The rest (geometry, topology, writeback, discard, write-zeroes) reads 0.
 */
const CONFIG_SIZE = 0x3c;

export interface VirtioBlkOptions {
  /** Serial number returned by GET_ID (ASCII, at most 20 bytes; default none). */
  id?: string;
  /**
   * Bandwidth and operation limits. A request the limiter refuses stays in
   * the ring (undoPop) until poll() finds the buckets refilled, so a
   * throttled disk never stalls the rest of the machine.
   */
  limiter?: RateLimiter;
}

/** A disk image held in memory (tests; a browser host without files). */
export class MemoryBlockBackend implements BlockBackend {
  readonly data: Uint8Array;
  readonly readOnly: boolean;
  flushes = 0;
  constructor(data: Uint8Array, readOnly = false) {
    this.data = data;
    this.readOnly = readOnly;
  }
  get size(): number {
    return this.data.length;
  }
  read(offset: number, dst: Uint8Array): void {
    dst.set(this.data.subarray(offset, offset + dst.length));
  }
  write(offset: number, src: Uint8Array): void {
    this.data.set(src, offset);
  }
  flush(): void {
    this.flushes++;
  }
}

/**
 * What the guest moved through the disk (successful requests only), for the
 * host's statistics (the daemon's /metrics). Not part of VirtioBlkState: a
 * snapshot holds what the guest can observe, and these are the host's view
 * of one run; a restored or cloned VM starts counting afresh instead of
 * inheriting its parent's traffic.
 */
export interface VirtioBlkStats {
  readBytes: number;
  readRequests: number;
  writeBytes: number;
  writeRequests: number;
}

export interface VirtioBlkState {
  version: 1;
  /** Capacity the guest saw: a restore onto a different image is refused. */
  sectors: number;
  readOnly: boolean;
  /** The limiter's buckets (null without limits) and whether a request waits for them, until when. */
  limiter: RateLimiterState | null;
  throttled: boolean;
  wakeAtMs: number;
}

/** virtio-blk over a synchronous BlockBackend. */
export class VirtioBlk implements VirtioDevice {
  readonly name = "virtio-blk";
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly featuresLo: number;
  readonly featuresHi = 0;
  readonly queueSizes = [BLK_QUEUE_SIZE];
  readonly configSize = CONFIG_SIZE;
  readonly backend: BlockBackend;
  /** Capacity in 512-byte sectors (a partial last sector is not exposed). */
  readonly sectors: number;
  readonly stats: VirtioBlkStats = { readBytes: 0, readRequests: 0, writeBytes: 0, writeRequests: 0 };
  private readonly config = new Uint8Array(CONFIG_SIZE);
  private readonly idBytes = new Uint8Array(VIRTIO_BLK_ID_BYTES);
  private readonly header = new Uint8Array(16);
  private readonly headerView = new DataView(this.header.buffer);
  private ctx: VirtioContext | undefined;
  private chain: DescriptorChain | undefined;
  private readonly limiter: RateLimiter | undefined;
  /** A request waits for the limiter; serve again at wakeAtMs (limiter time). */
  private throttled = false;
  private wakeAtMs = 0;

  constructor(backend: BlockBackend, opts: VirtioBlkOptions = {}) {
    this.backend = backend;
    this.limiter = opts.limiter;
    this.sectors = Math.floor(backend.size / SECTOR_SIZE);
    this.featuresLo =
      (1 << VIRTIO_BLK_F_SEG_MAX) |
      (1 << VIRTIO_BLK_F_BLK_SIZE) |
      (1 << VIRTIO_BLK_F_FLUSH) |
      (backend.readOnly ? 1 << VIRTIO_BLK_F_RO : 0);
    const id = opts.id ?? "";
    for (let i = 0; i < Math.min(id.length, VIRTIO_BLK_ID_BYTES); i++)
      this.idBytes[i] = id.charCodeAt(i) & 0x7f;
    const cv = new DataView(this.config.buffer);
    cv.setUint32(0x00, this.sectors % 2 ** 32, true);
    cv.setUint32(0x04, Math.floor(this.sectors / 2 ** 32), true);
    cv.setUint32(0x0c, BLK_SEG_MAX, true);
    cv.setUint32(0x14, SECTOR_SIZE, true);
  }

  readConfig(offset: number, size: number): number {
    return readConfigBytes(this.config, offset, size);
  }

  writeConfig(): void {
    // Every field Virtus offers is read-only (writeback needs VIRTIO_BLK_F_CONFIG_WCE).
  }

  attach(ctx: VirtioContext): void {
    this.ctx = ctx;
    this.chain = new DescriptorChain(ctx.mem);
  }

  activate(): void {}

  reset(): void {
    this.throttled = false;
  }

  queueNotify(index: number): void {
    if (index === 0) this.serve();
  }

  /**
   * For a rate-limited disk, called by the machine between slices: serves
   * the waiting requests once the limiter's buckets allow.
   */
  poll(now: number): void {
    if (this.throttled && now >= this.wakeAtMs) this.serve();
  }

  /** When a throttled request may go (limiter time, ms); Infinity when none waits. */
  get wakeAt(): number {
    return this.throttled ? this.wakeAtMs : Number.POSITIVE_INFINITY;
  }

  private serve(): void {
    const ctx = this.ctx;
    const chain = this.chain;
    if (ctx === undefined || chain === undefined || !ctx.active) return;
    const vq = ctx.queues[0];
    const limiter = this.limiter;
    this.throttled = false;
    while (vq.pop(chain)) {
      if (limiter !== undefined) {
        const bytes = this.dataBytes(chain);
        if (!limiter.consume(bytes)) {
          vq.undoPop();
          this.throttled = true;
          this.wakeAtMs = limiter.wakeAt(bytes);
          break;
        }
      }
      const written = this.handle(chain, ctx);
      if (written < 0) return;
      vq.push(chain, written);
    }
    vq.notify();
  }

  /** Data bytes a request moves, for the bandwidth bucket (0 for flush, GET_ID and malformed requests). */
  private dataBytes(c: DescriptorChain): number {
    if (c.readBytes < 16 || c.writeBytes < 1) return 0;
    c.copyFromReadable(0, this.header);
    const type = this.headerView.getUint32(0, true);
    if (type === VIRTIO_BLK_T_IN) return c.writeBytes - 1;
    if (type === VIRTIO_BLK_T_OUT) return c.readBytes - 16;
    return 0;
  }

  /** Serves one request; returns the bytes written into the chain, or -1 after ctx.fail(). */
  private handle(c: DescriptorChain, ctx: VirtioContext): number {
    if (c.readBytes < 16 || c.writeBytes < 1) {
      ctx.fail(
        `request without a 16-byte header and a status byte (${c.readBytes} readable, ${c.writeBytes} writable)`,
      );
      return -1;
    }
    c.copyFromReadable(0, this.header);
    const h = this.headerView;
    const type = h.getUint32(0, true);
    const sector = h.getUint32(8, true) + h.getUint32(12, true) * 2 ** 32;
    const statusAt = c.writeBytes - 1;
    let status: number;
    let written = 1;
    switch (type) {
      case VIRTIO_BLK_T_IN: {
        const len = c.writeBytes - 1;
        status = this.transfer(c, sector, len, false);
        if (status === VIRTIO_BLK_S_OK) {
          written += len;
          this.stats.readBytes += len;
          this.stats.readRequests++;
        }
        break;
      }
      case VIRTIO_BLK_T_OUT: {
        const len = c.readBytes - 16;
        status = this.backend.readOnly ? VIRTIO_BLK_S_IOERR : this.transfer(c, sector, len, true);
        if (status === VIRTIO_BLK_S_OK) {
          this.stats.writeBytes += len;
          this.stats.writeRequests++;
        }
        break;
      }
      case VIRTIO_BLK_T_FLUSH:
        status = this.backend.readOnly ? VIRTIO_BLK_S_OK : this.guard(() => this.backend.flush());
        break;
      case VIRTIO_BLK_T_GET_ID: {
        const n = c.copyToWritable(0, this.idBytes, 0, Math.min(VIRTIO_BLK_ID_BYTES, statusAt));
        written += n;
        status = VIRTIO_BLK_S_OK;
        break;
      }
      default:
        status = VIRTIO_BLK_S_UNSUPP;
    }
    c.setWritableByte(statusAt, status);
    return written;
  }

  /** Runs a backend call, mapping a host error to IOERR. */
  private guard(op: () => void): number {
    try {
      op();
      return VIRTIO_BLK_S_OK;
    } catch {
      return VIRTIO_BLK_S_IOERR;
    }
  }

  /**
   * Moves `len` bytes between sector `sector` and the chain's data part:
   * for a write the readable bytes after the header, for a read the
   * writable bytes before the status byte. Whole sectors inside the disk
   * only (5.2.6.2), else IOERR.
   */
  private transfer(c: DescriptorChain, sector: number, len: number, toDisk: boolean): number {
    if (len % SECTOR_SIZE !== 0 || sector + len / SECTOR_SIZE > this.sectors) return VIRTIO_BLK_S_IOERR;
    let pos = sector * SECTOR_SIZE;
    try {
      if (toDisk) {
        let skip = 16;
        for (let i = 0; i < c.readCount; i++) {
          const seg = c.readableSlice(i);
          if (skip >= seg.length) {
            skip -= seg.length;
            continue;
          }
          const part = skip === 0 ? seg : seg.subarray(skip);
          skip = 0;
          this.backend.write(pos, part);
          pos += part.length;
        }
      } else {
        let left = len;
        for (let i = 0; i < c.writeCount && left > 0; i++) {
          const seg = c.writableSlice(i);
          const part = seg.length <= left ? seg : seg.subarray(0, left);
          this.backend.read(pos, part);
          pos += part.length;
          left -= part.length;
        }
      }
    } catch {
      return VIRTIO_BLK_S_IOERR;
    }
    return VIRTIO_BLK_S_OK;
  }

  saveState(): VirtioBlkState {
    return {
      version: 1,
      sectors: this.sectors,
      readOnly: this.backend.readOnly,
      limiter: this.limiter?.saveState() ?? null,
      throttled: this.throttled,
      wakeAtMs: this.wakeAtMs,
    };
  }

  restoreState(s: VirtioBlkState): void {
    expectVersion(this.name, s, 1);
    const sectors = expectNumber(this.name, "sectors", s.sectors, 0, Number.MAX_SAFE_INTEGER);
    if (sectors !== this.sectors || s.readOnly !== this.backend.readOnly)
      throw new StateError(
        this.name,
        `the disk was ${sectors} sectors${s.readOnly ? " read-only" : ""}; this one is ${this.sectors}${this.backend.readOnly ? " read-only" : ""}`,
      );
    const throttled = expectBoolean(this.name, "throttled", s.throttled);
    const wakeAtMs = expectFinite(this.name, "wakeAtMs", s.wakeAtMs);
    if (this.limiter === undefined) {
      this.throttled = false;
      this.wakeAtMs = 0;
      return;
    }
    if (s.limiter !== null && s.limiter !== undefined) {
      this.limiter.restoreState(this.name, s.limiter);
      this.throttled = throttled;
      this.wakeAtMs = wakeAtMs;
    } else {
      // Limits added at restore: a request may wait in the ring; look at it at the next poll.
      this.throttled = true;
      this.wakeAtMs = 0;
    }
  }
}

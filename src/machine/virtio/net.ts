/**
 * virtio-net (virtio 1.2, 5.1), one queue pair: queue 0 is receiveq1
 * (frames for the guest), queue 1 transmitq1 (frames from the guest). Every
 * buffer starts with struct virtio_net_hdr, 12 bytes with VERSION_1
 * (5.1.6; 10 bytes, without num_buffers, for a driver that negotiated
 * neither VERSION_1 nor MRG_RXBUF, which QEMU accepts: 5.1.6.1 legacy):
 *
 *   u8 flags        NEEDS_CSUM 1 (tx: the checksum is partial), DATA_VALID 2 (rx: checksum verified)
 *   u8 gso_type     NONE 0, TCPV4 1, …
 *   le16 hdr_len, le16 gso_size, le16 csum_start, le16 csum_offset
 *   le16 num_buffers   rx: 1 (no VIRTIO_NET_F_MRG_RXBUF)
 *
 * followed by an Ethernet frame without FCS. Offered features: MAC (the
 * config's mac, 52:54:00:12:34:56 unless given), STATUS (link up), CSUM
 * and HOST_TSO4 when the backend terminates TCP itself (it then needs no
 * finished checksums and takes segments larger than the MTU), and
 * GUEST_CSUM (received frames are marked DATA_VALID: the backend builds
 * them with correct checksums, so the guest need not verify them).
 *
 * Frames for the guest wait in a bounded backlog while the driver has no
 * receive buffers posted; past that they are dropped, as a NIC does.
 */
import { expectVersion, StateError } from "../snapshot/state.ts";
import {
  readConfigBytes,
  VIRTIO_F_VERSION_1,
  VIRTIO_ID_NET,
  type VirtioContext,
  type VirtioDevice,
  type VirtioDeviceState,
} from "./device.ts";
import { DescriptorChain } from "./queue.ts";
import type { RateLimiter, RateLimiterState } from "./rate-limiter.ts";

/** Feature bits (5.1.3). */
export const VIRTIO_NET_F_CSUM = 0;
export const VIRTIO_NET_F_GUEST_CSUM = 1;
export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_GUEST_TSO4 = 7;
export const VIRTIO_NET_F_HOST_TSO4 = 11;
export const VIRTIO_NET_F_MRG_RXBUF = 15;
export const VIRTIO_NET_F_STATUS = 16;

/** virtio_net_hdr flags and GSO types (5.1.6). */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;
/** Size of virtio_net_hdr with VIRTIO_F_VERSION_1 (num_buffers always present). */
export const VIRTIO_NET_HDR_LEN = 12;
/** Size without VERSION_1 and MRG_RXBUF: no num_buffers field. */
export const VIRTIO_NET_HDR_LEN_LEGACY = 10;
/** Config status bit (5.1.4). */
export const VIRTIO_NET_S_LINK_UP = 1;

export const NET_RECEIVEQ = 0;
export const NET_TRANSMITQ = 1;
/** Frames held for the guest while it has no receive buffers. */
export const NET_RX_BACKLOG = 1024;

/** The default MAC, as QEMU gives its first NIC. */
export const DEFAULT_NET_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);

/** How a transmitted frame's checksums stand. */
export interface TransmitInfo {
  /**
   * The guest left the transport checksum partial (NEEDS_CSUM): only the
   * pseudo-header sum is in the field. Set only for backends that declared
   * terminatesTcp.
   */
  checksumOffloaded: boolean;
}

/**
 * The other end of a virtual NIC (design 2.2): user-mode NAT, a switch
 * port, a host tap. Frames are Ethernet frames without FCS.
 */
export interface NetBackend {
  /** The device registers where frames for the guest go; called once, at attach. */
  connect(receive: (frame: Uint8Array) => void): void;
  /** A frame the guest sent. The backend owns `frame` (the device does not reuse it). */
  transmit(frame: Uint8Array, info: TransmitInfo): void;
  /** End of a batch of transmitted frames (lets the backend coalesce replies such as ACKs). */
  flush?(): void;
  /**
   * The backend terminates TCP and UDP itself (user-mode NAT): it accepts
   * partial checksums and TCP segments of any size, so the device offers
   * checksum and segmentation offload to the guest.
   */
  readonly terminatesTcp?: boolean;
  /**
   * The backend's own movable state (a user-mode stack's counters), saved
   * inside the device's record; what cannot move (host connections) is
   * reset by restoreState. A backend without it has nothing to save.
   */
  saveState?(): unknown;
  restoreState?(state: unknown): void;
}

export interface VirtioNetOptions {
  /** The NIC's MAC (default 52:54:00:12:34:56). */
  mac?: Uint8Array;
  /** Receive and transmit queue size (default 256, as QEMU). */
  queueSize?: number;
  /**
   * Token-bucket limits per direction (frames for the guest, frames from
   * it). A frame the limiter refuses waits (rx: in the backlog; tx: in the
   * ring) until poll() finds the buckets refilled.
   */
  rxLimiter?: RateLimiter;
  txLimiter?: RateLimiter;
}

/**
 * Device counters (frames and their Ethernet bytes, without the virtio
 * header), for the host's statistics (the daemon's /metrics). Not part of
 * VirtioNetState: a snapshot holds what the guest can observe, and these
 * are the host's view of one run; a restored or cloned VM starts counting
 * afresh instead of inheriting its parent's traffic.
 */
export interface VirtioNetStats {
  txFrames: number;
  txBytes: number;
  rxFrames: number;
  rxBytes: number;
  /** Frames for the guest dropped: driver not running, backlog full, or a frame larger than the buffer. */
  rxDropped: number;
  /** Transmit chains too short to hold a header and an Ethernet header. */
  txErrors: number;
}

/**
 * Device state: the backend's own record (null when it has none). The
 * backlog is not saved (a NIC may lose frames; TCP retransmits).
 */
export interface VirtioNetState {
  version: 1;
  backend: unknown;
  /** Each direction's limiter (null without limits) and when a throttled one goes again (null: not throttled). */
  rxLimiter: RateLimiterState | null;
  txLimiter: RateLimiterState | null;
  rxWake: number | null;
  txWake: number | null;
}

const CONFIG_SIZE = 8; // mac[6], le16 status

export class VirtioNet implements VirtioDevice {
  readonly name = "virtio-net";
  readonly deviceId = VIRTIO_ID_NET;
  readonly featuresLo: number;
  readonly featuresHi = 0;
  readonly queueSizes: readonly number[];
  readonly configSize = CONFIG_SIZE;
  readonly stats: VirtioNetStats = {
    txFrames: 0,
    txBytes: 0,
    rxFrames: 0,
    rxBytes: 0,
    rxDropped: 0,
    txErrors: 0,
  };
  private readonly backend: NetBackend;
  private readonly config = new Uint8Array(CONFIG_SIZE);
  private readonly backlog: Uint8Array[] = [];
  private backlogHead = 0;
  private readonly rxHeader = new Uint8Array(VIRTIO_NET_HDR_LEN);
  private readonly txHeader = new Uint8Array(VIRTIO_NET_HDR_LEN);
  /** virtio_net_hdr size for the negotiated features (set on activation). */
  private hdrLen = VIRTIO_NET_HDR_LEN;
  private ctx: VirtioContext | undefined;
  private rxChain: DescriptorChain | undefined;
  private txChain: DescriptorChain | undefined;
  private guestCsum = false;
  private readonly rxLimiter: RateLimiter | undefined;
  private readonly txLimiter: RateLimiter | undefined;
  /** When a throttled direction may go again (limiter time, ms; Infinity: not throttled). */
  private rxWake = Number.POSITIVE_INFINITY;
  private txWake = Number.POSITIVE_INFINITY;

  constructor(backend: NetBackend, opts: VirtioNetOptions = {}) {
    this.backend = backend;
    const mac = opts.mac ?? DEFAULT_NET_MAC;
    if (mac.length !== 6) throw new RangeError("a MAC address has 6 bytes");
    this.config.set(mac, 0);
    this.config[6] = VIRTIO_NET_S_LINK_UP; // le16 status
    let f = (1 << VIRTIO_NET_F_MAC) | (1 << VIRTIO_NET_F_STATUS) | (1 << VIRTIO_NET_F_GUEST_CSUM);
    if (backend.terminatesTcp) f |= (1 << VIRTIO_NET_F_CSUM) | (1 << VIRTIO_NET_F_HOST_TSO4);
    this.featuresLo = f >>> 0;
    this.rxLimiter = opts.rxLimiter;
    this.txLimiter = opts.txLimiter;
    const q = opts.queueSize ?? 256;
    this.queueSizes = [q, q];
  }

  /** The configured MAC. */
  get mac(): Uint8Array {
    return this.config.slice(0, 6);
  }

  readConfig(offset: number, size: number): number {
    return readConfigBytes(this.config, offset, size);
  }

  /** The mac field is writable only with VIRTIO_NET_F_CTRL_MAC_ADDR (not offered): ignore writes. */
  writeConfig(): void {}

  attach(ctx: VirtioContext): void {
    this.ctx = ctx;
    this.rxChain = new DescriptorChain(ctx.mem);
    this.txChain = new DescriptorChain(ctx.mem);
    this.backend.connect((frame) => this.receive(frame));
  }

  activate(): void {
    this.guestCsum = this.ctx?.hasFeature(VIRTIO_NET_F_GUEST_CSUM) ?? false;
    const full = this.ctx?.hasFeature(VIRTIO_F_VERSION_1) || this.ctx?.hasFeature(VIRTIO_NET_F_MRG_RXBUF);
    this.hdrLen = full ? VIRTIO_NET_HDR_LEN : VIRTIO_NET_HDR_LEN_LEGACY;
    this.deliver();
    this.transmit();
  }

  /** Frames queued for the previous driver instance are dropped with it. */
  reset(): void {
    this.stats.rxDropped += this.backlog.length - this.backlogHead;
    this.backlog.length = 0;
    this.backlogHead = 0;
    this.rxWake = Number.POSITIVE_INFINITY;
    this.txWake = Number.POSITIVE_INFINITY;
  }

  queueNotify(index: number): void {
    if (index === NET_RECEIVEQ) this.deliver();
    else if (index === NET_TRANSMITQ) this.transmit();
  }

  /** For a rate-limited NIC, called by the machine between slices: resumes a throttled direction. */
  poll(now: number): void {
    if (now >= this.rxWake) this.deliver();
    if (now >= this.txWake) this.transmit();
  }

  /** When a throttled direction may go again (limiter time, ms); Infinity when none waits. */
  get wakeAt(): number {
    return Math.min(this.rxWake, this.txWake);
  }

  /** A frame for the guest (from the backend). */
  receive(frame: Uint8Array): void {
    if (
      this.ctx === undefined ||
      !this.ctx.active ||
      this.backlog.length - this.backlogHead >= NET_RX_BACKLOG
    ) {
      this.stats.rxDropped++;
      return;
    }
    this.backlog.push(frame);
    this.deliver();
  }

  /** Frames waiting for receive buffers. */
  get pendingFrames(): number {
    return this.backlog.length - this.backlogHead;
  }

  /** Copies waiting frames into the guest's receive buffers while both exist (5.1.6.4). */
  private deliver(): void {
    const ctx = this.ctx;
    const c = this.rxChain;
    if (ctx === undefined || c === undefined || !ctx.active) return;
    const vq = ctx.queues[NET_RECEIVEQ];
    const hdr = this.rxHeader;
    hdr.fill(0);
    if (this.guestCsum) hdr[0] = VIRTIO_NET_HDR_F_DATA_VALID;
    hdr[10] = 1; // num_buffers = 1 (no MRG_RXBUF); not copied with the legacy header
    const hdrLen = this.hdrLen;
    let pushed = 0;
    this.rxWake = Number.POSITIVE_INFINITY;
    while (this.backlogHead < this.backlog.length) {
      if (!vq.pop(c)) break;
      const next = this.backlog[this.backlogHead].length;
      if (this.rxLimiter !== undefined && !this.rxLimiter.consume(next)) {
        vq.undoPop();
        this.rxWake = this.rxLimiter.wakeAt(next);
        break;
      }
      const frame = this.backlog[this.backlogHead++];
      if (hdrLen + frame.length > c.writeBytes) {
        // A buffer too small for the frame: drop the frame, return the buffer unused.
        this.stats.rxDropped++;
        vq.push(c, 0);
      } else {
        c.copyToWritable(0, hdr, 0, hdrLen);
        c.copyToWritable(hdrLen, frame);
        vq.push(c, hdrLen + frame.length);
        this.stats.rxFrames++;
        this.stats.rxBytes += frame.length;
      }
      pushed++;
    }
    if (this.backlogHead === this.backlog.length) {
      this.backlog.length = 0;
      this.backlogHead = 0;
    } else if (this.backlogHead > 256) {
      this.backlog.splice(0, this.backlogHead);
      this.backlogHead = 0;
    }
    if (pushed > 0) vq.notify();
  }

  /** Hands every transmitted frame to the backend, then ends the batch. */
  private transmit(): void {
    const ctx = this.ctx;
    const c = this.txChain;
    if (ctx === undefined || c === undefined || !ctx.active) return;
    const vq = ctx.queues[NET_TRANSMITQ];
    const hdr = this.txHeader;
    let n = 0;
    this.txWake = Number.POSITIVE_INFINITY;
    while (vq.pop(c)) {
      const hdrLen = this.hdrLen;
      const len = c.readBytes - hdrLen;
      if (this.txLimiter !== undefined && !this.txLimiter.consume(Math.max(0, len))) {
        vq.undoPop();
        this.txWake = this.txLimiter.wakeAt(Math.max(0, len));
        break;
      }
      n++;
      if (len < 14) {
        this.stats.txErrors++;
        vq.push(c, 0);
        continue;
      }
      c.copyFromReadable(0, hdr, 0, hdrLen);
      const frame = new Uint8Array(len);
      c.copyFromReadable(hdrLen, frame);
      vq.push(c, 0);
      this.stats.txFrames++;
      this.stats.txBytes += len;
      this.backend.transmit(frame, { checksumOffloaded: (hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0 });
    }
    if (n > 0) {
      vq.notify();
      this.backend.flush?.();
    }
  }

  saveState(): VirtioNetState {
    const wake = (t: number) => (Number.isFinite(t) ? t : null);
    return {
      version: 1,
      backend: this.backend.saveState?.() ?? null,
      rxLimiter: this.rxLimiter?.saveState() ?? null,
      txLimiter: this.txLimiter?.saveState() ?? null,
      rxWake: wake(this.rxWake),
      txWake: wake(this.txWake),
    };
  }

  restoreState(s: VirtioDeviceState): void {
    expectVersion(this.name, s, 1);
    const backend = (s as Partial<VirtioNetState>).backend;
    if (this.backend.restoreState === undefined) {
      if (backend !== null)
        throw new StateError(this.name, "the snapshot has network state; this backend has none");
    } else this.backend.restoreState(backend);
    const st = s as Partial<VirtioNetState>;
    this.rxWake = this.restoreLimiter(this.rxLimiter, st.rxLimiter, st.rxWake, "rx");
    this.txWake = this.restoreLimiter(this.txLimiter, st.txLimiter, st.txWake, "tx");
  }

  /**
   * One direction's limiter and wake time. Limits are host policy and may
   * differ at restore: without one now nothing waits; with one the record
   * did not have, a waiting direction is looked at on the next poll.
   */
  private restoreLimiter(
    limiter: RateLimiter | undefined,
    saved: unknown,
    wake: unknown,
    dir: string,
  ): number {
    if (wake !== null && (typeof wake !== "number" || !Number.isFinite(wake)))
      throw new StateError(this.name, `${dir}Wake must be a number or null`);
    if (limiter === undefined) return Number.POSITIVE_INFINITY;
    if (saved === null || saved === undefined) return 0;
    limiter.restoreState(this.name, saved);
    return wake ?? Number.POSITIVE_INFINITY;
  }
}

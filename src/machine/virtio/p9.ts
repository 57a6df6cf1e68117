/**
 * virtio-9p, the 9P transport device (virtio 1.2, 5.x "9P Transport";
 * Linux net/9p/trans_virtio.c): one request queue; each chain carries one
 * 9P2000.L T-message in its device-readable part and gets the R-message in
 * its device-writable part. Configuration space is the mount tag the guest
 * names in `mount -t 9p -o trans=virtio TAG /mnt`:
 *
 *   0x00 tag_len  u16 (little-endian)
 *   0x02 tag      tag_len bytes, no NUL
 *
 * The file server itself is P9Server (./9p/server.ts) over an injected
 * FsBackend; requests complete synchronously inside QueueNotify, so a
 * deterministic run stays deterministic (given the same host files).
 */
import { expectVersion, StateError } from "../snapshot/state.ts";
import type { FsBackend } from "./9p/backend.ts";
import { P9_DEFAULT_MAX_MSIZE, P9Server, type P9ServerState } from "./9p/server.ts";
import {
  readConfigBytes,
  VIRTIO_ID_9P,
  type VirtioContext,
  type VirtioDevice,
  type VirtioDeviceState,
} from "./device.ts";
import { DescriptorChain } from "./queue.ts";

/** Feature bit: the mount tag is in configuration space. */
export const VIRTIO_9P_MOUNT_TAG = 0;
/** Longest mount tag accepted (bytes). */
export const P9_MAX_TAG_LEN = 64;
/**
 * Queue size: Linux's transport uses up to 128 descriptors per request
 * (VIRTQUEUE_NUM) when indirect descriptors are not negotiated.
 */
export const P9_QUEUE_SIZE = 128;

export interface VirtioP9Options {
  /** The mount tag: 1..P9_MAX_TAG_LEN printable ASCII characters. */
  tag: string;
  backend: FsBackend;
  /** Largest msize (default 512 KiB). */
  maxMsize?: number;
  log?: (line: string) => void;
}

export interface VirtioP9State extends VirtioDeviceState {
  version: 1;
  server: P9ServerState;
}

/** True when `tag` can be a mount tag: 1..64 printable ASCII characters other than space, ',' and ':'. */
export function validMountTag(tag: string): boolean {
  return tag.length >= 1 && tag.length <= P9_MAX_TAG_LEN && /^[\x21-\x7e]+$/.test(tag) && !/[,:]/.test(tag);
}

/** A virtio-9p device serving one FsBackend under one mount tag. */
export class VirtioP9 implements VirtioDevice {
  readonly name = "virtio-9p";
  readonly deviceId = VIRTIO_ID_9P;
  readonly featuresLo = 1 << VIRTIO_9P_MOUNT_TAG;
  readonly featuresHi = 0;
  readonly queueSizes = [P9_QUEUE_SIZE];
  readonly configSize: number;
  readonly tag: string;
  readonly server: P9Server;
  private readonly config: Uint8Array;
  /** One request, gathered from the chain's readable part. */
  private readonly request: Uint8Array;
  private ctx: VirtioContext | undefined;
  private chain: DescriptorChain | undefined;

  constructor(opts: VirtioP9Options) {
    if (!validMountTag(opts.tag)) throw new RangeError(`bad 9p mount tag "${opts.tag}"`);
    this.tag = opts.tag;
    this.config = new Uint8Array(2 + opts.tag.length);
    this.config[0] = opts.tag.length;
    for (let i = 0; i < opts.tag.length; i++) this.config[2 + i] = opts.tag.charCodeAt(i);
    this.configSize = this.config.length;
    this.server = new P9Server({
      backend: opts.backend,
      maxMsize: opts.maxMsize ?? P9_DEFAULT_MAX_MSIZE,
      log: opts.log,
    });
    this.request = new Uint8Array(this.server.maxMsize);
  }

  readConfig(offset: number, size: number): number {
    return readConfigBytes(this.config, offset, size);
  }

  writeConfig(): void {}

  attach(ctx: VirtioContext): void {
    this.ctx = ctx;
    this.chain = new DescriptorChain(ctx.mem);
  }

  activate(): void {}

  queueNotify(index: number): void {
    const ctx = this.ctx;
    const chain = this.chain;
    if (ctx === undefined || chain === undefined || index !== 0) return;
    const vq = ctx.queues[0];
    while (vq.pop(chain)) {
      // A request larger than msize is cut here; its size field then says so and it gets an error reply.
      const len = chain.copyFromReadable(0, this.request, 0, Math.min(chain.readBytes, this.request.length));
      const reply = this.server.handle(this.request, len, chain.writeBytes);
      vq.push(chain, chain.copyToWritable(0, reply));
    }
    vq.notify();
  }

  /** The driver reset the device: the 9P session ends (every fid is clunked). */
  reset(): void {
    this.server.reset();
  }

  saveState(): VirtioP9State {
    return { version: 1, server: this.server.saveState() };
  }

  restoreState(s: VirtioDeviceState): void {
    expectVersion(this.name, s, 1);
    const st = s as VirtioP9State;
    if (typeof st.server !== "object" || st.server === null) throw new StateError(this.name, "server");
    this.server.restoreState(st.server);
  }
}

/**
 * virtio-rng, the entropy device (virtio 1.2, 5.4): one request queue; the
 * device fills each chain's writable part with random bytes from an
 * injected EntropySource. No features, no configuration space.
 */
import type { EntropySource } from "../devices/backends.ts";
import { expectInt32Array, expectVersion, StateError, type Stateful } from "../snapshot/state.ts";
import {
  VIRTIO_ID_ENTROPY,
  type VirtioContext,
  type VirtioDevice,
  type VirtioDeviceState,
} from "./device.ts";
import { DescriptorChain } from "./queue.ts";

/** Bytes served per request at most (the guest asks again for more; Web Crypto fills 64 KiB per call). */
export const RNG_MAX_PER_REQUEST = 65536;

/** A seeded source's generator state: a restored deterministic run goes on with the same bytes. */
export interface SeededEntropyState {
  version: 1;
  s: Int32Array;
}

/** The device's record: the source's own state when it has one (a seeded generator), else null. */
export interface VirtioRngState {
  version: 1;
  source: unknown;
}

/**
 * A deterministic entropy source (xorshift128+ over 32-bit halves, seeded
 * through splitmix32) for `--deterministic` runs, where the same inputs must
 * give the same bytes. Not for secrets.
 */
export class SeededEntropy implements EntropySource, Stateful<SeededEntropyState> {
  private s = new Int32Array(4);
  constructor(seed = 0x5eed) {
    let x = seed | 0;
    for (let i = 0; i < 4; i++) {
      // splitmix32
      x = (x + 0x9e37_79b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85eb_ca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2_ae35);
      this.s[i] = z ^ (z >>> 16);
    }
  }
  fill(dst: Uint8Array): void {
    const s = this.s;
    for (let i = 0; i < dst.length; i += 4) {
      // xorshift128 (Marsaglia), 32-bit state words.
      let t = s[3];
      const w = s[0];
      s[3] = s[2];
      s[2] = s[1];
      s[1] = w;
      t ^= t << 11;
      t ^= t >>> 8;
      s[0] = t ^ w ^ (w >>> 19);
      const v = s[0];
      for (let k = 0; k < 4 && i + k < dst.length; k++) dst[i + k] = v >>> (8 * k);
    }
  }

  saveState(): SeededEntropyState {
    return { version: 1, s: this.s.slice() };
  }

  restoreState(st: SeededEntropyState): void {
    expectVersion("seeded entropy", st, 1);
    this.s.set(expectInt32Array("seeded entropy", "s", st.s, 4));
  }
}

/** virtio-rng over an EntropySource. */
export class VirtioRng implements VirtioDevice {
  readonly name = "virtio-rng";
  readonly deviceId = VIRTIO_ID_ENTROPY;
  readonly featuresLo = 0;
  readonly featuresHi = 0;
  readonly queueSizes = [64];
  readonly configSize = 0;
  private readonly source: EntropySource;
  private scratch = new Uint8Array(256);
  private ctx: VirtioContext | undefined;
  private chain: DescriptorChain | undefined;

  constructor(source: EntropySource) {
    this.source = source;
  }

  readConfig(): number {
    return 0;
  }

  writeConfig(): void {}

  attach(ctx: VirtioContext): void {
    this.ctx = ctx;
    this.chain = new DescriptorChain(ctx.mem);
  }

  activate(): void {}

  reset(): void {}

  queueNotify(index: number): void {
    const chain = this.chain;
    if (this.ctx === undefined || chain === undefined || index !== 0) return;
    const vq = this.ctx.queues[0];
    while (vq.pop(chain)) {
      const n = Math.min(chain.writeBytes, RNG_MAX_PER_REQUEST);
      if (this.scratch.length < n)
        this.scratch = new Uint8Array(Math.min(RNG_MAX_PER_REQUEST, 2 ** Math.ceil(Math.log2(n))));
      const buf = this.scratch.subarray(0, n);
      this.source.fill(buf);
      vq.push(chain, chain.copyToWritable(0, buf));
    }
    vq.notify();
  }

  saveState(): VirtioRngState {
    return { version: 1, source: this.sourceState()?.saveState() ?? null };
  }

  restoreState(s: VirtioDeviceState): void {
    expectVersion(this.name, s, 1);
    const source = (s as VirtioRngState).source;
    const st = this.sourceState();
    // The host's CSPRNG has no state to restore; a seeded source must get its own back.
    if (st === undefined) {
      if (source !== null)
        throw new StateError(this.name, "the snapshot has a seeded source; this machine's is not");
    } else {
      if (source === null) throw new StateError(this.name, "the snapshot has no seeded source state");
      st.restoreState(source);
    }
  }

  /** The source as a Stateful, when it is one (SeededEntropy). */
  private sourceState(): Stateful<unknown> | undefined {
    const src = this.source as Partial<Stateful<unknown>>;
    return typeof src.saveState === "function" && typeof src.restoreState === "function"
      ? (src as Stateful<unknown>)
      : undefined;
  }
}

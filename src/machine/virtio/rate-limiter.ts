/**
 * Token-bucket I/O limits, modelled on Firecracker's `rate_limiter`: a
 * limiter has up to two buckets, one counting bytes (bandwidth) and one
 * counting operations. A bucket holds at most `size` tokens and refills
 * `size` tokens every `refillTimeMs`, continuously; `oneTimeBurst` extra
 * tokens are spent first and never come back. An operation goes ahead only
 * when both buckets can pay for it; otherwise the device leaves the
 * request in its queue and retries at `wakeAt()`. A request larger than a
 * whole bucket is let through when the bucket is full and drives it below
 * zero (so it is neither starved nor free): the long-run rate stays exact.
 *
 * Time is injected in milliseconds: wall-clock in real-time runs, virtual
 * (mtime) in deterministic ones, so limits hold in the guest's time and a
 * deterministic run stays deterministic.
 *
 * State (design 2.8): each bucket's tokens, unspent burst and last refill
 * time are saved with the device, so a restored VM goes on exactly. The
 * limits themselves are host policy, not machine state: a VM may be
 * restored with other limits (a bucket that is new starts full, one that
 * is gone is dropped, a smaller one is capped at its size).
 */
import { expectRecord, StateError } from "../snapshot/state.ts";

export interface TokenBucketState {
  budget: number;
  oneTimeBurst: number;
  last: number;
}

export interface RateLimiterState {
  version: 1;
  bandwidth: TokenBucketState | null;
  ops: TokenBucketState | null;
}

export interface TokenBucketConfig {
  /** Tokens the bucket holds when full (bytes or operations). */
  size: number;
  /** Extra tokens available once, before the bucket's own (default 0). */
  oneTimeBurst?: number;
  /** Milliseconds to refill an empty bucket. */
  refillTimeMs: number;
}

export interface RateLimitConfig {
  bandwidth?: TokenBucketConfig;
  ops?: TokenBucketConfig;
}

export class TokenBucket {
  readonly size: number;
  readonly refillTimeMs: number;
  /** Tokens in the bucket (negative after an oversized request). */
  budget: number;
  oneTimeBurst: number;
  private last: number;

  constructor(cfg: TokenBucketConfig, now: number) {
    if (!(cfg.size > 0) || !(cfg.refillTimeMs > 0))
      throw new RangeError("a token bucket needs a size and a refill time above 0");
    this.size = cfg.size;
    this.refillTimeMs = cfg.refillTimeMs;
    this.budget = cfg.size;
    this.oneTimeBurst = Math.max(0, cfg.oneTimeBurst ?? 0);
    this.last = now;
  }

  /** Adds the tokens earned since the last call. */
  refill(now: number): void {
    const dt = now - this.last;
    if (dt <= 0) return;
    this.last = now;
    this.budget = Math.min(this.size, this.budget + (dt * this.size) / this.refillTimeMs);
  }

  /**
   * Whether `tokens` can be paid now (burst first); the bucket must have
   * been refilled. A millionth of a token of slack absorbs the rounding of
   * the refill arithmetic: at exactly wakeAt() the request must go.
   */
  canPay(tokens: number): boolean {
    const need = tokens - this.oneTimeBurst;
    return need <= 0 || this.budget >= Math.min(need, this.size) - 1e-6;
  }

  pay(tokens: number): void {
    const fromBurst = Math.min(tokens, this.oneTimeBurst);
    this.oneTimeBurst -= fromBurst;
    this.budget -= tokens - fromBurst;
  }

  saveState(): TokenBucketState {
    return { budget: this.budget, oneTimeBurst: this.oneTimeBurst, last: this.last };
  }

  /** Loads a saved bucket (validated), capped at this bucket's size. */
  restoreState(who: string, v: unknown): void {
    const s = expectRecord(who, "bucket", v);
    for (const k of ["budget", "oneTimeBurst", "last"] as const) {
      if (typeof s[k] !== "number" || !Number.isFinite(s[k]))
        throw new StateError(who, `bucket ${k} must be a number`);
    }
    const budget = s.budget as number;
    const burst = s.oneTimeBurst as number;
    if (budget > this.size * 2 || budget < -(2 ** 53) || burst < 0 || burst > 2 ** 53)
      throw new StateError(who, "bucket tokens out of range");
    this.budget = Math.min(this.size, budget);
    this.oneTimeBurst = burst;
    this.last = s.last as number;
  }

  /** Milliseconds from the last refill until `tokens` can be paid. */
  waitFor(tokens: number): number {
    const need = Math.min(tokens - this.oneTimeBurst, this.size) - this.budget;
    return need <= 0 ? 0 : (need * this.refillTimeMs) / this.size;
  }
}

export class RateLimiter {
  private readonly bandwidth: TokenBucket | undefined;
  private readonly ops: TokenBucket | undefined;
  private readonly now: () => number;
  /** Operations and bytes refused so far (each refusal counts once). */
  throttled = 0;

  constructor(cfg: RateLimitConfig, now: () => number) {
    this.now = now;
    const t = now();
    this.bandwidth = cfg.bandwidth === undefined ? undefined : new TokenBucket(cfg.bandwidth, t);
    this.ops = cfg.ops === undefined ? undefined : new TokenBucket(cfg.ops, t);
  }

  /** Takes one operation of `bytes` bytes if both buckets allow it now; false means wait until wakeAt(bytes). */
  consume(bytes: number): boolean {
    const t = this.now();
    const bw = this.bandwidth;
    const ops = this.ops;
    bw?.refill(t);
    ops?.refill(t);
    if ((bw !== undefined && !bw.canPay(bytes)) || (ops !== undefined && !ops.canPay(1))) {
      this.throttled++;
      return false;
    }
    bw?.pay(bytes);
    ops?.pay(1);
    return true;
  }

  saveState(): RateLimiterState {
    return {
      version: 1,
      bandwidth: this.bandwidth?.saveState() ?? null,
      ops: this.ops?.saveState() ?? null,
    };
  }

  /** Loads the buckets both the record and this limiter have (see the file comment on changed limits). */
  restoreState(who: string, v: unknown): void {
    const s = expectRecord(who, "limiter", v);
    if (s.version !== 1) throw new StateError(who, `limiter version ${String(s.version)}, expected 1`);
    if (s.bandwidth !== null && this.bandwidth !== undefined) this.bandwidth.restoreState(who, s.bandwidth);
    if (s.ops !== null && this.ops !== undefined) this.ops.restoreState(who, s.ops);
  }

  /** The time (same clock as `now`) at which an operation of `bytes` bytes will be allowed. */
  wakeAt(bytes: number): number {
    const t = this.now();
    this.bandwidth?.refill(t);
    this.ops?.refill(t);
    return t + Math.max(this.bandwidth?.waitFor(bytes) ?? 0, this.ops?.waitFor(1) ?? 0);
  }
}

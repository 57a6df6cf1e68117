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
 */

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

  /** The time (same clock as `now`) at which an operation of `bytes` bytes will be allowed. */
  wakeAt(bytes: number): number {
    const t = this.now();
    this.bandwidth?.refill(t);
    this.ops?.refill(t);
    return t + Math.max(this.bandwidth?.waitFor(bytes) ?? 0, this.ops?.waitFor(1) ?? 0);
  }
}

/**
 * Wiring token-bucket limiters (machine/virtio/rate-limiter.ts) to a
 * machine: the limiter reads the machine's own clock (wall-clock ticks in
 * real time, instruction-count ticks with --deterministic, so limits hold
 * in the guest's time and deterministic runs stay deterministic), the
 * device is polled between slices, and its wake-up time is a deadline an
 * idle deterministic machine jumps to.
 */
import { type Machine, TIMEBASE_HZ } from "../machine/board/machine.ts";
import { type RateLimitConfig, RateLimiter } from "../machine/virtio/rate-limiter.ts";

const TICKS_PER_MS = TIMEBASE_HZ / 1000;

/** A limiter on the machine's clock, in milliseconds. */
export function machineLimiter(m: Machine, cfg: RateLimitConfig): RateLimiter {
  return new RateLimiter(cfg, () => m.clock.now() / TICKS_PER_MS);
}

/** Polls a limited device between slices and tells an idle machine when it wants to run again. */
export function watchLimitedDevice(
  m: Machine,
  dev: { poll(nowMs: number): void; readonly wakeAt: number },
): void {
  m.pollers.push(() => dev.poll(m.clock.now() / TICKS_PER_MS));
  m.wakeups.push(() => dev.wakeAt * TICKS_PER_MS);
}

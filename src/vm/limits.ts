/**
 * Wiring token-bucket limiters (machine/virtio/rate-limiter.ts) to a
 * virtio slot: the limiter reads the machine's own clock (wall-clock in
 * real time, instruction-count time with --deterministic, so limits hold
 * in the guest's time and deterministic runs stay deterministic), the
 * device is polled between slices, and its wake-up time is a deadline an
 * idle deterministic machine jumps to.
 */
import { type RateLimitConfig, RateLimiter } from "../machine/virtio/rate-limiter.ts";
import type { VirtioSlot } from "../machine/virtio/slot.ts";

/** A limiter on the slot's machine clock, in milliseconds. */
export function machineLimiter(slot: VirtioSlot, cfg: RateLimitConfig): RateLimiter {
  return new RateLimiter(cfg, () => slot.nowMs());
}

/** Polls a limited device between slices and tells an idle machine when it wants to run again. */
export function watchLimitedDevice(
  slot: VirtioSlot,
  dev: { poll(nowMs: number): void; readonly wakeAt: number },
): void {
  slot.pollDevice(
    (now) => dev.poll(now),
    () => dev.wakeAt,
  );
}

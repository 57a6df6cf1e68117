/**
 * A virtual disk in a VmConfig: plain data, validated like any other
 * configuration. `virtus run --disk FILE[,options]` parses into it
 * (src/cli/disk.ts) and the host opens it (src/host/node/block-open.ts).
 * New disk options (formats, overlays, rate limits) are added here, to
 * the parser and to the opener: those three places only.
 */
import { VirtusError } from "../machine/errors.ts";
import type { RateLimitConfig, TokenBucketConfig } from "../machine/virtio/rate-limiter.ts";
import { expectBoolean, expectInteger, expectObject, expectString } from "./validate.ts";

export interface DiskConfig {
  /** Path of the image file as the host names it. */
  path: string;
  /** The guest sees a read-only disk (VIRTIO_BLK_F_RO); the file is opened read-only. */
  readOnly: boolean;
  /** Writes go to a temporary qcow2 overlay deleted on exit; the file is never written. */
  snapshot?: boolean;
  /** Take the file as this format without probing its content. */
  format?: "raw" | "qcow2";
  /** Token-bucket limits on the device's bandwidth and operations (src/machine/virtio/rate-limiter.ts). */
  limits?: RateLimitConfig;
}

/** Checks one disk entry of a configuration (untrusted: JSON from a file or a socket). */
export function validateDiskConfig(value: unknown, where: string): DiskConfig {
  const o = expectObject(value, where);
  const path = expectString(o.path, `${where}.path`);
  if (path === "") throw new VirtusError("bad-config", `${where}.path: give a file name`);
  const d: DiskConfig = { path, readOnly: expectBoolean(o.readOnly ?? false, `${where}.readOnly`) };
  if (o.snapshot !== undefined) d.snapshot = expectBoolean(o.snapshot, `${where}.snapshot`);
  if (o.format !== undefined) {
    const f = expectString(o.format, `${where}.format`);
    if (f !== "raw" && f !== "qcow2") throw new VirtusError("bad-config", `${where}.format: raw or qcow2`);
    d.format = f;
  }
  if (o.limits !== undefined) d.limits = validateRateLimit(o.limits, `${where}.limits`);
  return d;
}

/** Checks a RateLimitConfig ({bandwidth?, ops?} buckets of {size, oneTimeBurst?, refillTimeMs}). */
export function validateRateLimit(value: unknown, where: string): RateLimitConfig {
  const o = expectObject(value, where);
  const bucket = (v: unknown, w: string): TokenBucketConfig => {
    const b = expectObject(v, w);
    return {
      size: expectInteger(b.size, `${w}.size`, 1, Number.MAX_SAFE_INTEGER),
      oneTimeBurst: expectInteger(b.oneTimeBurst ?? 0, `${w}.oneTimeBurst`, 0, Number.MAX_SAFE_INTEGER),
      refillTimeMs: expectInteger(b.refillTimeMs, `${w}.refillTimeMs`, 1, 3_600_000),
    };
  };
  const cfg: RateLimitConfig = {};
  if (o.bandwidth !== undefined) cfg.bandwidth = bucket(o.bandwidth, `${where}.bandwidth`);
  if (o.ops !== undefined) cfg.ops = bucket(o.ops, `${where}.ops`);
  return cfg;
}

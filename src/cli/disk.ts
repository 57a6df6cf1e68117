/**
 * `--disk FILE[,readonly][,snapshot][,format=raw|qcow2][,bw=RATE][,iops=N]…`:
 * the one parser from a --disk argument to a DiskConfig
 * (src/vm/disk-config.ts). New disk options are parsed here.
 *
 *   readonly        the guest sees a read-only disk (VIRTIO_BLK_F_RO)
 *   snapshot        writes go to a temporary qcow2 overlay, deleted on exit; FILE is never written
 *   format=F        take FILE as raw or qcow2 without probing (by default the content decides:
 *                   qcow2 magic → qcow2; another known format's magic → refused; anything else → raw)
 *   bw=RATE         bandwidth limit in bytes per second (10M = 10 MiB/s); bw_burst=BYTES one-time extra
 *   iops=N          operations per second; iops_burst=N one-time extra
 */
import { VirtusError } from "../machine/errors.ts";
import type { RateLimitConfig } from "../machine/virtio/rate-limiter.ts";
import type { DiskConfig } from "../vm/disk-config.ts";
import { parseBytes } from "./size.ts";

const OPTIONS = "readonly, snapshot, format=raw|qcow2, bw=, bw_burst=, iops=, iops_burst=";

/** Parses `FILE[,option…]`; an unknown option or a bad value is a one-line error. */
export function parseDiskSpec(spec: string): DiskConfig {
  const [path, ...flags] = spec.split(",");
  const bad = (why: string) => new VirtusError("bad-disk", `--disk ${spec}: ${why}`);
  if (path === "") throw bad("give a file name, e.g. --disk disk.img");
  const d: DiskConfig = { path, readOnly: false };
  const limits = parseLimitOptions(flags, `--disk ${spec}`, (f) => {
    if (f === "readonly") d.readOnly = true;
    else if (f === "snapshot") d.snapshot = true;
    else if (f.startsWith("format=")) {
      const v = f.slice(7);
      if (v !== "raw" && v !== "qcow2") throw bad(`format=${v}: Virtus reads raw and qcow2`);
      d.format = v;
    } else throw bad(`unknown option "${f}" (the options are ${OPTIONS})`);
  });
  if (limits !== undefined) d.limits = limits;
  if (d.snapshot && d.readOnly) throw bad("snapshot and readonly together make no sense: pick one");
  return d;
}

/**
 * Takes the rate-limit options out of `flags` (bw=, bw_burst=, iops=,
 * iops_burst=), passing every other one to `other`; for --disk and --net.
 * Buckets refill over one second: bw=10M lets 10 MiB through per second,
 * and at most 10 MiB at once after an idle second (Firecracker's token
 * buckets with `size` = the rate and `refill_time` = 1000 ms), plus the
 * one-time burst.
 */
export function parseLimitOptions(
  flags: string[],
  what: string,
  other: (flag: string) => void,
): RateLimitConfig | undefined {
  const v: Record<string, number> = {};
  for (const f of flags) {
    const m = /^(bw|bw_burst|iops|iops_burst)=(.*)$/.exec(f);
    if (m === null) {
      other(f);
      continue;
    }
    const [, key, text] = m;
    let n: number;
    if (key.startsWith("bw")) n = parseBytes(text, `${what}: ${key}=`);
    else {
      n = Number(text);
      if (text === "" || !Number.isSafeInteger(n) || n < 0)
        throw new VirtusError("bad-limit", `${what}: ${key}=${text}: give a whole number`);
    }
    if (n <= 0 && !key.endsWith("burst"))
      throw new VirtusError("bad-limit", `${what}: ${key}= must be above 0`);
    v[key] = n;
  }
  for (const k of ["bw", "iops"])
    if (v[`${k}_burst`] !== undefined && v[k] === undefined)
      throw new VirtusError("bad-limit", `${what}: ${k}_burst= needs ${k}=`);
  if (v.bw === undefined && v.iops === undefined) return undefined;
  const cfg: RateLimitConfig = {};
  if (v.bw !== undefined) cfg.bandwidth = { size: v.bw, oneTimeBurst: v.bw_burst ?? 0, refillTimeMs: 1000 };
  if (v.iops !== undefined) cfg.ops = { size: v.iops, oneTimeBurst: v.iops_burst ?? 0, refillTimeMs: 1000 };
  return cfg;
}

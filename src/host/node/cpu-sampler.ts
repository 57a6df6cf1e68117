/**
 * The CPU sampler of `virtus run --profile` (src/vm/profile.ts): V8's
 * sampling profiler on the calling thread (the VM's worker), through an
 * inspector session of that thread, so no flag or second process is
 * needed and only the VM's thread is sampled. Frames of a bundle are
 * renamed after their source modules (cpu-profile.ts unbundleProfile).
 */

import { readFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { fileURLToPath } from "node:url";
import { type CpuProfile, unbundleProfile } from "../../vm/cpu-profile.ts";
import type { CpuSampler } from "../../vm/profile.ts";

/** Microseconds between samples: 2,000 a second, fine enough for a few seconds' workload. */
const SAMPLE_INTERVAL_US = 500;

/** A script's text by its file: URL (a bundle, to find which module a frame's line is in). */
function readScript(url: string): string | undefined {
  try {
    return readFileSync(fileURLToPath(url), "utf8");
  } catch {
    return undefined;
  }
}

export function inspectorSampler(): CpuSampler {
  let session: Session | undefined;
  return {
    async start() {
      if (session === undefined) {
        session = new Session();
        session.connect();
        await session.post("Profiler.enable");
        await session.post("Profiler.setSamplingInterval", { interval: SAMPLE_INTERVAL_US });
      }
      await session.post("Profiler.start");
    },
    now: () => Number(process.hrtime.bigint() / 1000n), // V8's profile clock: the monotonic one, in µs
    async stop() {
      if (session === undefined) throw new Error("the CPU sampler was not started");
      const { profile } = await session.post("Profiler.stop");
      return unbundleProfile(profile as CpuProfile, readScript);
    },
  };
}

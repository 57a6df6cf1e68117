/**
 * The CPU sampler of `virtus run --profile` (src/vm/profile.ts): V8's
 * sampling profiler on the calling thread (the VM's worker), through an
 * inspector session of that thread, so no flag or second process is
 * needed and only the VM's thread is sampled.
 */
import { Session } from "node:inspector/promises";
import type { CpuProfile } from "../../vm/cpu-profile.ts";
import type { CpuSampler } from "../../vm/profile.ts";

/** Microseconds between samples: 2,000 a second, fine enough for a few seconds' workload. */
const SAMPLE_INTERVAL_US = 500;

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
    async stop() {
      if (session === undefined) throw new Error("the CPU sampler was not started");
      const { profile } = await session.post("Profiler.stop");
      return profile as CpuProfile;
    },
  };
}

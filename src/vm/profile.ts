/**
 * A VM's profile (`virtus run --profile FILE`, issue 15 item 6): the JIT's
 * counters (src/machine/jit/profile.ts) and, where the host can sample its
 * thread, where the time went (cpu-profile.ts), in named segments. The
 * first segment starts with the run and is named "boot"; the `profile`
 * command (`virtus ctl PATH profile NAME`) closes the current one and
 * starts one named NAME, so a benchmark can profile each workload of one
 * boot apart; the run's end closes the last. The sampler runs once over
 * the whole run (restarting it per segment would make V8 log all compiled
 * code again each time) and its samples are split among the segments by
 * time at the end: a segment's `cpu` is in the report, not in the reply to
 * `profile`. Platform-neutral: the host passes its sampler.
 */
import { JitProfile, type JitProfileData } from "../machine/jit/profile.ts";
import { type CpuProfile, type CpuSummary, summarizeCpuProfile } from "./cpu-profile.ts";

/** Samples the thread the VM runs on (Node: the inspector's Profiler on the VM's worker). */
export interface CpuSampler {
  start(): Promise<void>;
  stop(): Promise<CpuProfile>;
  /** Now on the profile's clock (microseconds, as its startTime and timeDeltas). */
  now(): number;
}

export interface ProfileSegment {
  name: string;
  /** Host wall-clock milliseconds the segment lasted. */
  wallMs: number;
  /** Instructions retired by all harts in the segment. */
  retired: number;
  jit: JitProfileData;
  /** Where the VM thread's time went; null without a sampler, and until the run's end. */
  cpu: CpuSummary | null;
}

/** What `--profile FILE` writes. */
export interface ProfileReport {
  format: "virtus-profile";
  version: 1;
  segments: ProfileSegment[];
}

/** A segment name: what `profile NAME` accepts. */
export const SEGMENT_NAME = /^[\w.:-]{1,64}$/;

export class VmProfiler {
  /** The counters every machine of this run counts into (MachineOptions.jitProfile). */
  readonly jit = new JitProfile();
  private readonly segments: ProfileSegment[] = [];
  /** Each segment's span on the sampler's clock. */
  private readonly spans: { from: number; to: number }[] = [];
  private name = "boot";
  private startMs = 0;
  private startRetired = 0;
  private startSample = 0;
  private sampling = false;
  private readonly sampler: CpuSampler | undefined;
  private readonly nowMs: () => number;

  constructor(nowMs: () => number, sampler?: CpuSampler) {
    this.nowMs = nowMs;
    this.sampler = sampler;
  }

  /** Starts the first segment; `retired` is the machine's count now. */
  async start(retired: number): Promise<void> {
    if (this.sampler !== undefined && !this.sampling) {
      await this.sampler.start();
      this.sampling = true;
    }
    this.startMs = this.nowMs();
    this.startRetired = retired;
    this.startSample = this.sampler?.now() ?? 0;
    this.jit.reset();
  }

  /** Closes the current segment and starts one named `name`; returns the closed one. */
  async mark(name: string, retired: number): Promise<ProfileSegment> {
    const closed = await this.close(retired);
    this.name = name;
    await this.start(retired);
    return closed;
  }

  /** Closes the last segment; the whole report. */
  async finish(retired: number): Promise<ProfileReport> {
    await this.close(retired);
    if (this.sampler !== undefined && this.sampling) {
      const profile = await this.sampler.stop();
      this.sampling = false;
      this.segments.forEach((s, i) => {
        s.cpu = summarizeCpuProfile(profile, 12, this.spans[i]);
      });
    }
    return { format: "virtus-profile", version: 1, segments: this.segments };
  }

  private async close(retired: number): Promise<ProfileSegment> {
    const jit = this.jit.data();
    // No JIT (`--no-jit`): nothing counted, everything interpreted.
    if (!this.jit.attached) jit.interpInsns = retired - this.startRetired;
    const segment: ProfileSegment = {
      name: this.name,
      wallMs: this.nowMs() - this.startMs,
      retired: retired - this.startRetired,
      jit,
      cpu: null,
    };
    this.segments.push(segment);
    this.spans.push({ from: this.startSample, to: this.sampler?.now() ?? 0 });
    return segment;
  }
}

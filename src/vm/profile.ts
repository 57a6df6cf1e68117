/**
 * A VM's profile (`virtus run --profile FILE`, issue 15 item 6): the JIT's
 * counters (src/machine/jit/profile.ts) and, where the host can sample its
 * thread, where the time went (cpu-profile.ts), in named segments. The
 * first segment starts with the run and is named "boot"; the `profile`
 * command (`virtus ctl PATH profile NAME`) closes the current one and
 * starts one named NAME, so a benchmark can profile each workload of one
 * boot apart; the run's end closes the last. Platform-neutral: the host
 * passes its sampler.
 */
import { JitProfile, type JitProfileData } from "../machine/jit/profile.ts";
import { type CpuProfile, type CpuSummary, summarizeCpuProfile } from "./cpu-profile.ts";

/** Samples the thread the VM runs on (Node: the inspector's Profiler on the VM's worker). */
export interface CpuSampler {
  start(): Promise<void>;
  stop(): Promise<CpuProfile>;
}

export interface ProfileSegment {
  name: string;
  /** Host wall-clock milliseconds the segment lasted. */
  wallMs: number;
  /** Instructions retired by all harts in the segment. */
  retired: number;
  jit: JitProfileData;
  /** Where the VM thread's time went; null without a sampler. */
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
  private name = "boot";
  private startMs = 0;
  private startRetired = 0;
  private readonly sampler: CpuSampler | undefined;
  private readonly nowMs: () => number;

  constructor(nowMs: () => number, sampler?: CpuSampler) {
    this.nowMs = nowMs;
    this.sampler = sampler;
  }

  /** Starts the first segment; `retired` is the machine's count now. */
  async start(retired: number): Promise<void> {
    this.startMs = this.nowMs();
    this.startRetired = retired;
    this.jit.reset();
    await this.sampler?.start();
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
    return { format: "virtus-profile", version: 1, segments: this.segments };
  }

  private async close(retired: number): Promise<ProfileSegment> {
    const cpu = this.sampler === undefined ? null : summarizeCpuProfile(await this.sampler.stop());
    const segment: ProfileSegment = {
      name: this.name,
      wallMs: this.nowMs() - this.startMs,
      retired: retired - this.startRetired,
      jit: this.jit.data(),
      cpu,
    };
    this.segments.push(segment);
    return segment;
  }
}

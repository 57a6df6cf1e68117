/**
 * A VM's CPU cap (issue 13, partitioning): the share of one host core its
 * run loop may use, e.g. 0.25. A token bucket: wall-clock time earns
 * `share` ms of allowance per ms, each chunk of guest instructions spends
 * the CPU time it took (the thread's own CPU clock where the host has
 * one, else the chunk's wall time), and when the allowance is overdrawn
 * the loop sleeps until it is earned back. Over any second the VM thus
 * uses about `share` of a core, also on a loaded host. Unused allowance
 * is kept only up to a few milliseconds, so an idle VM cannot save up a
 * long burst.
 */

/** What the cap needs of the host (VmRunner's RunnerEnv has it). */
export interface CapEnv {
  sleep(ms: number): Promise<void>;
  monotonicMs(): number;
  /** CPU time of the VM's thread in ms, if the host can tell. */
  cpuMs?(): number;
}

/** Overdraft (ms of CPU) before the loop sleeps: timers are no finer than a few ms. */
const MIN_OVERDRAFT_MS = 1;
/** At most this much unused allowance is kept (ms of CPU). */
const MAX_CREDIT_MS = 5;

export class CpuCap {
  private readonly share: number;
  private readonly env: CapEnv;
  private allowance = 0;
  private lastMs: number;
  private lastCpu: number | undefined;

  constructor(share: number, env: CapEnv) {
    if (!(share > 0)) throw new RangeError("a CPU cap is a share above 0");
    this.share = share;
    this.env = env;
    this.lastMs = env.monotonicMs();
    this.lastCpu = env.cpuMs?.();
  }

  /** A share of one core or more leaves a one-thread VM uncapped. */
  static of(share: number | undefined, env: CapEnv): CpuCap | undefined {
    return share === undefined || share >= 1 ? undefined : new CpuCap(share, env);
  }

  /** Called after each chunk with the wall-clock ms it ran; sleeps while the allowance is overdrawn. */
  async afterChunk(busyMs: number): Promise<void> {
    const now = this.env.monotonicMs();
    let used = busyMs;
    if (this.lastCpu !== undefined) {
      const cpu = this.env.cpuMs!();
      used = cpu - this.lastCpu;
      this.lastCpu = cpu;
    }
    this.allowance = Math.min(MAX_CREDIT_MS, this.allowance + (now - this.lastMs) * this.share - used);
    this.lastMs = now;
    if (this.allowance >= -MIN_OVERDRAFT_MS) return;
    await this.env.sleep(-this.allowance / this.share);
  }
}

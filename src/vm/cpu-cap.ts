/**
 * A VM's CPU cap (issue 13, partitioning): the share of one host core its
 * run loop may use, e.g. 0.25. The runner reports how long each chunk of
 * guest instructions kept the thread busy; the cap owes back
 * busy × (1/share − 1) of sleep and takes it once it adds up to a few
 * milliseconds (a timer's resolution), so over any second the VM runs
 * about `share` of it. Sleeping longer than owed is credit, bounded so an
 * idle VM cannot save up a long burst.
 */

/** What the cap needs of the host (VmRunner's CapEnv has both). */
export interface CapEnv {
  sleep(ms: number): Promise<void>;
  monotonicMs(): number;
}

/** Sleep owed before the loop takes it (ms): timers are no finer than this. */
const MIN_SLEEP_MS = 4;
/** At most this much oversleep is kept as credit (ms). */
const MAX_CREDIT_MS = 20;

export class CpuCap {
  private readonly share: number;
  private readonly env: CapEnv;
  private owed = 0;

  constructor(share: number, env: CapEnv) {
    if (!(share > 0)) throw new RangeError("a CPU cap is a share above 0");
    this.share = share;
    this.env = env;
  }

  /** A share of one core or more leaves a one-thread VM uncapped. */
  static of(share: number | undefined, env: CapEnv): CpuCap | undefined {
    return share === undefined || share >= 1 ? undefined : new CpuCap(share, env);
  }

  /** Called after each chunk with the milliseconds it ran; sleeps when enough is owed. */
  async afterChunk(busyMs: number): Promise<void> {
    this.owed += busyMs * (1 / this.share - 1);
    if (this.owed < MIN_SLEEP_MS) return;
    const t0 = this.env.monotonicMs();
    await this.env.sleep(this.owed);
    this.owed = Math.max(-MAX_CREDIT_MS, this.owed - (this.env.monotonicMs() - t0));
  }
}

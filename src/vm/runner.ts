/**
 * Runs a built VM and answers the command vocabulary (src/vm/commands.ts)
 * between chunks of guest instructions. Platform-neutral: the worker
 * thread (src/host/node/vm-worker-main.ts), tests and benchmarks drive
 * it, and a browser Web Worker can too.
 *
 *   const runner = new VmRunner(vm, { env, output, onEvent, rebuild });
 *   runner.input(bytes);                               // keyboard → guest console
 *   runner.endInput();                                 // piped input ended: Ctrl-D (end-of-input.ts)
 *   await runner.execute({ execute: "pause" });         // between two chunks
 *   const outcome = await runner.done;                 // the guest's exit, or stop/quit
 *
 * Commands run on the same thread as the guest, only while the loop
 * awaits (every CHUNK instructions, a few milliseconds), so they never see
 * a machine in the middle of an instruction.
 *
 * A guest reboot resets the machine in place (a fresh VM from the same
 * configuration, as QEMU does) unless the configuration says
 * `reboot: "exit"`; the run then ends with the reboot.
 */
import type { GuestExit, Vm } from "./build.ts";
import {
  type SnapshotResult,
  type VmCommand,
  VmCommandError,
  type VmEvent,
  type VmState,
  type VmStatus,
} from "./commands.ts";
import { CpuCap } from "./cpu-cap.ts";
import { endOfInput, QuietWatch } from "./end-of-input.ts";
import type { VmProfiler } from "./profile.ts";
import { TICKS_PER_MS } from "./run-clock.ts";

/** Instructions between looks at the host (input, commands, output, timers). */
export const CHUNK = 1_000_000;

/** How a run ended: the guest's own exit, or a `stop` or `quit` command. */
export type RunOutcome = GuestExit | { kind: "stopped" } | { kind: "quit" };

/** What the loop needs of the host's event loop. */
export interface RunnerEnv {
  /** Lets pending messages and I/O in (setImmediate in Node). */
  yieldNow(): Promise<void>;
  /** Waits while every hart waits for an interrupt. */
  sleep(ms: number): Promise<void>;
  monotonicMs(): number;
  /** CPU time of the running thread in ms, if the host can tell (a CPU cap uses it). */
  cpuMs?(): number;
}

/** Saving and restoring whole VMs (the snapshot file format lives with the host). */
export interface VmSnapshots {
  /** Writes the VM (paused by the caller) to `file` atomically; returns its size in bytes. */
  save(vm: Vm, file: string): number;
  /**
   * Checks `file` against the running VM (format, versions, configuration,
   * disks) and returns how to build the restored VM. A bad or mismatched
   * file is a VirtusError here, before anything changes.
   */
  prepare(file: string, current: Vm): () => Promise<Vm>;
}

export interface RunnerOptions {
  env: RunnerEnv;
  /** Guest console output, flushed after every chunk; `flushed` counts its bytes (for endInput). */
  output: { flush(): void; readonly flushed?: number };
  /** Console input the guest took (bytes), after each chunk that took some: for backpressure. */
  onInputTaken?: (bytes: number) => void;
  onEvent?: (event: VmEvent) => void;
  /** Builds the VM again from its configuration (`start` after `stop`, a guest reboot). */
  rebuild?: () => Promise<Vm>;
  snapshots?: VmSnapshots;
  /** Start in state "created": the guest runs on `start` (default: running at once). */
  paused?: boolean;
  /** The share of one host core the guest may use (src/vm/cpu-cap.ts); omitted: no cap. */
  cpuLimit?: number;
  /** The run's profile (`--profile`, src/vm/profile.ts): the `profile` command marks its segments. */
  profiler?: VmProfiler;
  /**
   * Console input held for the guest at most, bytes; past it input is
   * dropped, as by a full keyboard buffer (a client typing faster than the
   * guest reads must not grow the host). Omitted: no bound (the front end
   * applies backpressure itself).
   */
  inputLimit?: number;
}

export class VmRunner {
  private vm: Vm;
  private readonly opts: RunnerOptions;
  private stateNow: VmState;
  private readonly pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Console input bytes dropped at inputLimit. */
  inputDropped = 0;
  private lastByte: number | undefined;
  private readonly eof = new QuietWatch();
  private outcome: RunOutcome | undefined;
  private wake: (() => void) | undefined;
  private readonly cap: CpuCap | undefined;
  /** Resolves with how the run ended. */
  readonly done: Promise<RunOutcome>;

  constructor(vm: Vm, opts: RunnerOptions) {
    this.vm = vm;
    this.opts = opts;
    this.cap = CpuCap.of(opts.cpuLimit, opts.env);
    this.stateNow = opts.paused ? "created" : "running";
    if (opts.paused) vm.clock?.pause();
    this.done = this.loop();
  }

  get state(): VmState {
    return this.stateNow;
  }

  /** The VM being run (it changes on restore and on start after stop). */
  get current(): Vm {
    return this.vm;
  }

  /** Console input for the guest; kept in order until the guest takes it (up to inputLimit). */
  input(bytes: Uint8Array): void {
    const room = (this.opts.inputLimit ?? Number.POSITIVE_INFINITY) - this.pendingBytes;
    const kept = bytes.length <= room ? bytes : bytes.subarray(0, Math.max(0, room));
    this.inputDropped += bytes.length - kept.length;
    if (kept.length === 0) return;
    this.queue(kept);
    this.lastByte = kept[kept.length - 1];
  }

  private queue(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  /**
   * The console's input has ended (a pipe closed): the guest gets Ctrl-D, an --exec command at
   * once, a shell once its console is quiet (src/vm/end-of-input.ts).
   */
  endInput(): void {
    const eof = endOfInput(this.lastByte, this.vm.config.exec !== undefined);
    this.queue(eof.now);
    this.eof.hold(eof.whenQuiet);
  }

  status(): VmStatus {
    const c = this.vm.config;
    return {
      state: this.stateNow,
      instructions: this.vm.board.machine.retired(),
      harts: c.harts,
      memory: c.memory,
      mac: c.network.mode === "none" ? null : c.network.mac,
      deterministic: c.deterministic,
      jit: c.jit,
      guestExit: this.vm.guestExit() ?? null,
      io: this.vm.io(),
    };
  }

  /** Runs one command; a refusal is a VmCommandError (the caller turns it into an error reply). */
  async execute(cmd: VmCommand): Promise<unknown> {
    switch (cmd.execute) {
      case "status":
        return this.status();
      case "pause":
        this.expectState("pause", ["running"]);
        this.setState("paused", "pause");
        return {};
      case "resume":
        this.expectState("resume", ["paused"]);
        this.setState("running", "resume");
        return {};
      case "start":
        this.expectState("start", ["created", "stopped"]);
        if (this.stateNow === "stopped") await this.replace(await this.need("rebuild", this.opts.rebuild)());
        this.setState("running", "start");
        return {};
      case "snapshot":
        return this.snapshot(cmd.arguments.file);
      case "restore":
        return this.restore(cmd.arguments.file);
      case "stop":
        this.expectState("stop", ["created", "running", "paused"]);
        this.setState("stopped", "stop");
        this.vm.close();
        return {};
      case "quit":
        this.finish({ kind: "quit" });
        return {};
      case "profile": {
        const profiler = this.opts.profiler;
        if (profiler === undefined)
          throw new VmCommandError(
            "WrongState",
            "profile: this VM runs without a profile (virtus run --profile FILE)",
          );
        return profiler.mark(cmd.arguments.name, this.vm.board.machine.retired());
      }
    }
  }

  private need<T>(what: string, v: T | undefined): T {
    if (v === undefined) throw new VmCommandError("GenericError", `this VM runner cannot ${what}`);
    return v;
  }

  private expectState(command: string, allowed: VmState[]): void {
    if (this.outcome !== undefined) throw new VmCommandError("WrongState", `${command}: the VM has ended`);
    if (!allowed.includes(this.stateNow))
      throw new VmCommandError("WrongState", `${command}: the VM is ${this.stateNow}`);
  }

  private snapshot(file: string): SnapshotResult {
    this.expectState("snapshot", ["created", "running", "paused"]);
    const snapshots = this.need("save snapshots", this.opts.snapshots);
    const t0 = this.opts.env.monotonicMs();
    // Guest time stands still while the file is written (the guest must not see the pause).
    const clock = this.vm.clock;
    const wasRunning = clock?.running ?? false;
    clock?.pause();
    try {
      this.opts.output.flush();
      const bytes = snapshots.save(this.vm, file);
      const result = { file, bytes, ms: Math.round(this.opts.env.monotonicMs() - t0) };
      this.opts.onEvent?.({ event: "SNAPSHOT", data: result });
      return result;
    } finally {
      if (wasRunning) clock?.resume();
    }
  }

  private async restore(file: string): Promise<VmStatus> {
    this.expectState("restore", ["created", "running", "paused", "stopped"]);
    const snapshots = this.need("restore snapshots", this.opts.snapshots);
    const build = snapshots.prepare(file, this.vm);
    // The running VM gives up its host resources (forwarded ports) for the restored one.
    const wasRunning = this.stateNow === "running";
    const hadVm = this.stateNow !== "stopped";
    // No chunk may run while the VM is swapped (building awaits the network).
    this.stateNow = "stopped";
    this.vm.clock?.pause();
    if (hadVm) {
      this.opts.output.flush();
      this.vm.close();
    }
    let fresh: Vm;
    try {
      fresh = await build();
    } catch (e) {
      if (hadVm)
        this.opts.onEvent?.({ event: "STATE", data: { state: "stopped", reason: "restore failed" } });
      throw e;
    }
    await this.replace(fresh);
    this.setState(wasRunning ? "running" : "paused", "restore");
    return this.status();
  }

  /** Swaps in another VM (restored or rebuilt); the old one's host resources are released. */
  private async replace(next: Vm): Promise<void> {
    const old = this.vm;
    this.vm = next;
    if (this.stateNow !== "running") next.clock?.pause();
    if (this.stateNow !== "stopped") old.close();
  }

  private setState(state: VmState, reason: string): void {
    if (state === this.stateNow && reason !== "restore") return;
    this.stateNow = state;
    if (state === "running") this.vm.clock?.resume();
    else this.vm.clock?.pause();
    this.opts.onEvent?.({ event: "STATE", data: { state, reason } });
    this.wake?.();
  }

  private finish(outcome: RunOutcome): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    this.wake?.();
  }

  private feedInput(): void {
    let taken = 0;
    while (this.pending.length) {
      const head = this.pending[0];
      const took = Math.min(this.vm.sendInput(head), head.length);
      this.pendingBytes -= took;
      taken += took;
      if (took >= head.length) this.pending.shift();
      else {
        this.pending[0] = head.subarray(took);
        break;
      }
    }
    if (taken > 0) this.opts.onInputTaken?.(taken);
  }

  /** After a chunk: the held end of input goes in once the console is quiet. */
  private watchQuiet(idle: boolean): void {
    if (!this.eof.holding) return;
    const m = this.vm.board.machine;
    const due = this.eof.check({
      now: m.clock.now(),
      idle,
      deterministic: m.deterministic,
      printed: this.opts.output.flushed ?? 0,
      inputWaiting: this.vm.board.uart.pendingInput + this.pending.length,
    });
    if (due !== undefined) this.queue(due);
  }

  /** A guest reboot: true when the machine was reset in place (the run goes on). */
  private async resetOnReboot(exit: GuestExit): Promise<boolean> {
    const rebuild = this.opts.rebuild;
    if (exit.kind !== "reboot" || this.vm.config.reboot === "exit" || rebuild === undefined) return false;
    // The old machine gives up its host resources (forwarded ports, disks) before the new one takes them.
    this.stateNow = "stopped";
    this.opts.output.flush();
    this.vm.close();
    const fresh = await rebuild();
    this.vm = fresh;
    if (this.outcome !== undefined) return true;
    this.setState("running", "reset");
    return true;
  }

  private async loop(): Promise<RunOutcome> {
    const env = this.opts.env;
    // Let the constructor's caller wire its handlers before the first chunk.
    await env.yieldNow();
    try {
      while (this.outcome === undefined) {
        if (this.stateNow !== "running") {
          await new Promise<void>((r) => (this.wake = r));
          this.wake = undefined;
          continue;
        }
        this.feedInput();
        const m = this.vm.board.machine;
        const t0 = env.monotonicMs();
        const reason = m.run(CHUNK);
        this.opts.output.flush();
        this.watchQuiet(reason === "idle");
        await this.cap?.afterChunk(env.monotonicMs() - t0);
        const exit = this.vm.guestExit();
        if (exit !== undefined && (await this.resetOnReboot(exit))) continue;
        if (exit !== undefined) {
          this.setState("stopped", exit.kind);
          this.opts.onEvent?.({ event: "GUEST_EXIT", data: exit });
          this.finish(exit);
          break;
        }
        if (reason === "idle") {
          const t0 = env.monotonicMs();
          await env.sleep(1);
          // Deterministic time holds still while idle, except while a device waits on the host.
          if (m.deterministic && m.idleHeld()) m.idleFor((env.monotonicMs() - t0) * TICKS_PER_MS);
        } else await env.yieldNow();
      }
    } finally {
      this.opts.output.flush();
      this.vm.close();
    }
    return this.outcome!;
  }
}

/**
 * The host side of a VM in a worker thread (design 2.7): starts
 * vm-worker-main.ts, forwards console input and commands to it as
 * messages, and hands back output, events and how the run ended. Nothing
 * here waits on the guest without a bound: a worker that crashes ends the
 * run as "crashed", one that stops answering fails its commands after a
 * timeout and is terminated by quit(). With `inThread` the same protocol
 * runs over a MessageChannel to a VM on this thread (vm-in-thread.ts:
 * `virtus run`'s), which a hung VM would hang with it.
 *
 *   const w = await VmWorker.start({ boot: { type: "boot", config }, onOutput: (b) => stdout.write(b) });
 *   w.input(bytes);
 *   const reply = await w.execute({ execute: "status" });   // {return: …} or {error: …}
 *   const outcome = await w.ended;
 */
import { getHeapStatistics } from "node:v8";
import { type ResourceLimits, Worker } from "node:worker_threads";
import { VirtusError } from "../../machine/errors.ts";
import type { VmCommand, VmEvent, VmReply, VmStatus } from "../../vm/commands.ts";
import type { VmConfig } from "../../vm/config.ts";
import type { BootRequest, FromWorker, ToWorker } from "../../vm/protocol.ts";
import type { RunOutcome } from "../../vm/runner.ts";
import { traceStartup } from "./startup-trace.ts";
import { InThreadVm, type VmThread } from "./vm-in-thread.ts";
import type { WorkerFaults } from "./vm-worker-main.ts";

/** How a worker's run ended: the VM's own outcome, or the worker died or had to be killed. */
export type WorkerOutcome =
  | RunOutcome
  | { kind: "crashed"; message: string; outOfMemory?: true }
  | { kind: "killed" };

export interface VmWorkerOptions {
  boot: BootRequest;
  onOutput: (bytes: Uint8Array) => void;
  /** The guest took this many bytes of the console input sent so far. */
  onInputTaken?: (bytes: number) => void;
  onEvent?: (event: VmEvent) => void;
  /** Diagnostics from the VM (virtio devices, the network), one line each. */
  onLog?: (text: string) => void;
  /** For tests only: make the worker crash or hang. */
  faults?: WorkerFaults;
  /** Milliseconds a command may take before its reply is an error (default 10 s; snapshot and restore 120 s). */
  commandTimeoutMs?: number;
  /**
   * Bounds on the worker's JavaScript heaps (the guest's RAM is its own,
   * fixed allocation); a worker that passes them ends as crashed with
   * outOfMemory set.
   */
  resourceLimits?: ResourceLimits;
  /**
   * Serve the VM on this thread instead of a worker (vm-in-thread.ts: `virtus run`'s one VM, ~15
   * MiB less memory). Not with faults or resourceLimits, which are a worker's.
   */
  inThread?: boolean;
}

/** What a worker thread uses of the host. */
export interface WorkerUsage {
  /** CPU time of the thread, microseconds. */
  cpuMicros: number;
  /** Bytes of its JavaScript heap in use. */
  heapBytes: number;
}

const SLOW_COMMANDS = new Set(["snapshot", "restore", "start"]);

/**
 * V8's young generation of a VM's worker, MiB (three semi-spaces' worth: 1 MiB each). V8 grows it
 * to 8 MiB of semi-spaces by default; a VM allocates little short-lived JavaScript (guest RAM,
 * decoded code and compiled blocks live outside the heap), and the smaller one is ~6 MiB less peak
 * RSS for the booted default guest with no measured change in boot CPU time (docs/PERFORMANCE.md).
 */
export const WORKER_YOUNG_GENERATION_MB = 3;

/** The worker's entry: the .ts source when run from src/, the compiled .js in the npm package's dist/. */
const WORKER_MAIN = new URL(
  import.meta.url.endsWith(".ts") ? "./vm-worker-start.ts" : "./vm-worker-start.js",
  import.meta.url,
);

function spawnWorker(faults: WorkerFaults | undefined, resourceLimits: ResourceLimits | undefined): Worker {
  traceStartup("worker spawn");
  return new Worker(WORKER_MAIN, {
    workerData: { faults: faults ?? {} },
    stdout: false,
    stderr: false,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB, ...resourceLimits },
  });
}

export class VmWorker {
  private readonly worker: VmThread;
  private readonly opts: VmWorkerOptions;
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: VmReply) => void>();
  private settle!: (o: WorkerOutcome) => void;
  private outcome: WorkerOutcome | undefined;
  /** Resolves once the run is over, however it ended. */
  readonly ended: Promise<WorkerOutcome>;
  /** The configuration the VM runs (from the snapshot when restored). */
  config!: VmConfig;
  /** Its status right after boot. */
  bootStatus!: VmStatus;

  private constructor(opts: VmWorkerOptions) {
    this.opts = opts;
    const plain = opts.faults === undefined && opts.resourceLimits === undefined;
    this.worker =
      plain && opts.inThread === true ? new InThreadVm() : spawnWorker(opts.faults, opts.resourceLimits);
    this.ended = new Promise((r) => (this.settle = r));
  }

  /**
   * Starts a worker and boots (or restores) the VM in it. Bad input (a
   * missing kernel, a corrupt snapshot) rejects with the VirtusError the
   * worker reported; the worker is gone by then.
   */
  static start(opts: VmWorkerOptions): Promise<VmWorker> {
    const w = new VmWorker(opts);
    return new Promise((resolve, reject) => {
      let booted = false;
      w.worker.on("message", (m: FromWorker) => {
        if (m.type === "booted") {
          traceStartup("booted message");
          booted = true;
          w.config = m.config;
          w.bootStatus = m.status;
          resolve(w);
        } else if (m.type === "failed") {
          w.finish({ kind: "crashed", message: m.error.message });
          void w.worker.terminate();
          reject(new VirtusError(m.error.code, m.error.message, m.error.exitCode));
        } else w.receive(m);
      });
      w.worker.on("error", (e) => {
        const message = e instanceof Error ? e.message : String(e);
        // Node ends a worker that passes its resourceLimits with this error (and only the worker).
        const oom = (e as { code?: unknown }).code === "ERR_WORKER_OUT_OF_MEMORY";
        w.finish(oom ? { kind: "crashed", message, outOfMemory: true } : { kind: "crashed", message });
        if (!booted) reject(new Error(`the VM's worker failed while booting: ${message}`));
      });
      w.worker.on("exit", (code) => {
        w.finish({ kind: "crashed", message: `the VM's worker exited (code ${code})` });
        if (!booted) reject(new Error(`the VM's worker exited while booting (code ${code})`));
      });
      w.post(opts.boot);
    });
  }

  private post(m: ToWorker): void {
    if (this.outcome !== undefined) return;
    if (m.type === "input") this.worker.postMessage(m, [m.bytes.buffer as ArrayBuffer]);
    else this.worker.postMessage(m);
  }

  private receive(m: FromWorker): void {
    switch (m.type) {
      case "output":
        this.opts.onOutput(m.bytes);
        break;
      case "input-taken":
        this.opts.onInputTaken?.(m.bytes);
        break;
      case "log":
        this.opts.onLog?.(m.text);
        break;
      case "event":
        this.opts.onEvent?.(m.event);
        break;
      case "reply":
        this.waiting.get(m.id)?.(m.reply);
        break;
      case "ended":
        this.finish(m.outcome);
        // Everything it sent before "ended" has arrived; the thread has nothing left to do.
        void this.worker.terminate();
        break;
    }
  }

  /** Ends the run once: pending commands get an error reply. */
  private finish(outcome: WorkerOutcome): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    const desc =
      outcome.kind === "crashed"
        ? `the VM crashed: ${outcome.message}`
        : `the VM has ended (${outcome.kind})`;
    for (const reply of this.waiting.values()) reply({ error: { class: "GenericError", desc } });
    this.waiting.clear();
    this.settle(outcome);
  }

  /** Console input for the guest (copied: the caller may reuse its buffer). */
  input(bytes: Uint8Array): void {
    // A fresh buffer of its own (a Node Buffer may be a view into a shared pool, which cannot be transferred).
    if (bytes.length > 0) this.post({ type: "input", bytes: new Uint8Array(bytes) });
  }

  /** The console's input has ended: the guest gets its end-of-file (src/vm/end-of-input.ts). */
  endInput(): void {
    this.post({ type: "input-end" });
  }

  /** Runs a command in the VM; never rejects: a dead or silent VM gives an error reply. */
  execute(command: VmCommand): Promise<VmReply> {
    if (this.outcome !== undefined)
      return Promise.resolve({ error: { class: "GenericError", desc: "the VM has ended" } });
    const id = this.nextId++;
    const limit = this.opts.commandTimeoutMs ?? (SLOW_COMMANDS.has(command.execute) ? 120_000 : 10_000);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve({
          error: {
            class: "GenericError",
            desc: `the VM did not answer ${command.execute} within ${limit / 1000} s`,
          },
        });
      }, limit);
      this.waiting.set(id, (reply) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(reply);
      });
      this.post({ type: "command", id, command });
    });
  }

  /**
   * Asks the VM to quit and waits up to `graceMs` for it; a worker that
   * does not end by then (a hung VM) is terminated.
   */
  async quit(graceMs = 2000): Promise<WorkerOutcome> {
    if (this.outcome === undefined) {
      this.post({ type: "command", id: 0, command: { execute: "quit" } });
      const timer = setTimeout(() => this.kill(), graceMs);
      await this.ended;
      clearTimeout(timer);
    }
    return this.ended;
  }

  /** The thread's CPU time and heap (zero once it has ended). */
  /** The bounds on the worker's JavaScript heaps, as V8 applied them (empty once the worker is gone). */
  get heapLimits(): ResourceLimits {
    return this.worker.resourceLimits ?? {};
  }

  async usage(): Promise<WorkerUsage> {
    if (this.outcome !== undefined) return { cpuMicros: 0, heapBytes: 0 };
    if (!(this.worker instanceof Worker)) {
      const cpu = process.threadCpuUsage();
      return { cpuMicros: cpu.user + cpu.system, heapBytes: getHeapStatistics().used_heap_size };
    }
    try {
      const [cpu, heap] = await Promise.all([this.worker.cpuUsage(), this.worker.getHeapStatistics()]);
      return { cpuMicros: cpu.user + cpu.system, heapBytes: heap.used_heap_size };
    } catch {
      return { cpuMicros: 0, heapBytes: 0 };
    }
  }

  /** Stops the worker thread at once, whatever it is doing. */
  kill(): void {
    this.finish({ kind: "killed" });
    void this.worker.terminate();
  }
}

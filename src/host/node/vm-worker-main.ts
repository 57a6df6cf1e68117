/**
 * The VM's side of src/vm/protocol.ts: builds or restores the VM it is
 * asked for, runs it with VmRunner, and answers the host side
 * (src/host/node/vm-worker.ts) through a port. In a worker thread (design
 * 2.7: one VM per worker; the daemon's VMs) the port is the thread's
 * parentPort, a guest that spins never blocks the host side and an
 * exception ends this thread only. `virtus run` serves its one VM on the
 * main thread through a MessageChannel instead (vm-in-thread.ts): a second
 * isolate costs ~15 MiB of peak RSS (docs/PERFORMANCE.md).
 */
import { writeFileSync } from "node:fs";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { MessagePort } from "node:worker_threads";
import { VirtusError } from "../../machine/errors.ts";
import { buildVm, type Vm } from "../../vm/build.ts";
import { errorReply, parseVmCommand } from "../../vm/commands.ts";
import type { VmConfig } from "../../vm/config.ts";
import { BufferedOutput } from "../../vm/console-output.ts";
import { type ProfileReport, VmProfiler } from "../../vm/profile.ts";
import type { BootRequest, FromWorker, ToWorker } from "../../vm/protocol.ts";
import { type RunnerEnv, VmRunner } from "../../vm/runner.ts";
import { keepThrowawayDisks } from "../../vm/throwaway-disks.ts";
import { inspectorSampler } from "./cpu-sampler.ts";
import { nodeHostServices } from "./services.ts";
import { nodeSnapshots } from "./snapshot-store.ts";
import { traceStartup } from "./startup-trace.ts";

traceStartup("worker modules loaded");

/** Faults a test can inject to prove the host side survives them (never set by the CLI). */
export interface WorkerFaults {
  /** Throw from the worker's event loop this many ms after boot. */
  crashAfterMs?: number;
  /** Spin forever (no more messages answered) this many ms after boot. */
  hangAfterMs?: number;
  /** Fill the JavaScript heap, a slice at a time between turns of the event loop, this many ms after boot. */
  exhaustHeapAfterMs?: number;
}

/** The end of the channel the VM answers on: a worker's parentPort, or one end of a MessageChannel. */
export type VmPort = Pick<MessagePort, "postMessage" | "on" | "close">;

export interface ServeOptions {
  /** Messages that arrived before this module had loaded (vm-worker-start.ts held them). */
  held?: readonly ToWorker[];
  faults?: WorkerFaults;
  /**
   * An exception of the VM's own (not bad input, which is a "failed" reply). Omitted (a worker
   * thread): thrown, which ends the thread and the host side sees the worker's "error".
   */
  onCrash?: (e: unknown) => void;
}

/** Serves one VM on `port` until its run ends. */
export function serveVm(port: VmPort, opts: ServeOptions = {}): void {
  const faults = opts.faults ?? {};
  const crash =
    opts.onCrash ??
    ((e: unknown) => {
      throw e;
    });
  const post = (message: FromWorker): void => {
    if (message.type === "output") port.postMessage(message, [message.bytes.buffer as ArrayBuffer]);
    else port.postMessage(message);
  };
  const env: RunnerEnv = {
    yieldNow: () => yieldToEventLoop(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    monotonicMs: () => performance.now(),
    cpuMs: threadCpuMs(),
  };
  // One run per port: `,snapshot` overlays live until it ends, across guest reboots.
  const disks = keepThrowawayDisks(
    nodeHostServices((text) => post({ type: "log", text: `virtus: ${text}` })),
  );
  const host = disks.host;
  let outputs = 0;
  const output = new BufferedOutput((bytes) => {
    if (outputs++ === 0) traceStartup("first output posted");
    post({ type: "output", bytes });
  });
  let inputs = 0;
  const snapshots = nodeSnapshots(host, output);
  let runner: VmRunner | undefined;
  /** Input and commands that arrived while the VM was being built. */
  const early: ToWorker[] = [];

  const firstVm = async (req: BootRequest, profiler: VmProfiler | undefined): Promise<Vm> => {
    if ("config" in req) return buildVm(req.config, host, { console: output, jitProfile: profiler?.jit });
    return snapshots.restoreFile(req.restore.file, req.restore.clone);
  };

  const boot = async (req: BootRequest): Promise<void> => {
    traceStartup("boot request");
    const profiler =
      req.profile === undefined ? undefined : new VmProfiler(() => performance.now(), inspectorSampler());
    let vm: Vm;
    try {
      vm = await firstVm(req, profiler);
      traceStartup("VM built");
    } catch (e) {
      disks.closeAll();
      post({ type: "failed", error: errorData(e) });
      port.close();
      return;
    }
    const config: VmConfig = vm.config;
    runner = new VmRunner(vm, {
      env,
      output,
      paused: req.paused,
      cpuLimit: req.cpuLimit,
      inputLimit: req.inputLimit,
      onEvent: (event) => post({ type: "event", event }),
      onInputTaken: (bytes) => post({ type: "input-taken", bytes }),
      rebuild: () => buildVm(config, host, { console: output, jitProfile: profiler?.jit }),
      snapshots,
      profiler,
    });
    await profiler?.start(vm.board.machine.retired());
    post({ type: "booted", status: runner.status(), config });
    for (const m of early.splice(0)) handle(m);
    injectFaults(faults);
    const outcome = await runner.done;
    disks.closeAll();
    if (profiler !== undefined && req.profile !== undefined)
      writeProfile(post, req.profile, await profiler.finish(runner.current.board.machine.retired()));
    post({ type: "ended", outcome });
    port.close();
  };

  const handle = (m: ToWorker): void => {
    if (m.type === "boot") {
      boot(m).catch(crash);
      return;
    }
    const r = runner;
    if (r === undefined) {
      early.push(m);
      return;
    }
    if (m.type === "input") {
      if (inputs++ === 0) traceStartup("first input");
      r.input(m.bytes);
    } else if (m.type === "input-end") r.endInput();
    else if ((m.command as { execute?: unknown })?.execute === "quit") {
      // Answered first: the "ended" message that follows must not overtake the reply.
      post({ type: "reply", id: m.id, reply: { return: {} } });
      void r.execute({ execute: "quit" });
    }
    // Commands are data from another thread (and, through it, from a socket): checked like any input.
    else
      Promise.resolve()
        .then(() => r.execute(parseVmCommand(m.command)))
        .then(
          (value) => post({ type: "reply", id: m.id, reply: { return: value ?? {} } }),
          (e) => post({ type: "reply", id: m.id, reply: errorReply(e) }),
        );
  };

  port.on("message", handle);
  for (const m of opts.held ?? []) handle(m);
}

/** This thread's CPU clock (process.threadCpuUsage, Node >= 23.9), for CPU caps. */
function threadCpuMs(): (() => number) | undefined {
  const usage = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage;
  if (typeof usage !== "function") return undefined;
  return () => {
    const u = usage.call(process);
    return (u.user + u.system) / 1000;
  };
}

function errorData(e: unknown): { code: string; message: string; exitCode: number } {
  if (e instanceof VirtusError) return { code: e.code, message: e.message, exitCode: e.exitCode };
  throw e;
}

/** The --profile report, written before the run reports its end (the process exits after that). */
function writeProfile(post: (m: FromWorker) => void, file: string, report: ProfileReport): void {
  try {
    writeFileSync(file, `${JSON.stringify(report, null, 1)}\n`);
  } catch (e) {
    post({ type: "log", text: `virtus: --profile ${file}: ${(e as Error).message}` });
  }
}

function injectFaults(faults: WorkerFaults): void {
  if (faults.crashAfterMs !== undefined)
    setTimeout(() => {
      throw new Error("injected fault: the worker crashed");
    }, faults.crashAfterMs);
  if (faults.hangAfterMs !== undefined)
    setTimeout(() => {
      for (;;);
    }, faults.hangAfterMs);
  if (faults.exhaustHeapAfterMs !== undefined) {
    const hog: number[][] = [];
    const grow = () => {
      for (let i = 0; i < 64; i++) hog.push(new Array(4096).fill(hog.length));
      setImmediate(grow);
    };
    setTimeout(grow, faults.exhaustHeapAfterMs);
  }
}

/**
 * The worker-thread side of a VM (design 2.7: one VM per worker): builds
 * or restores the VM it is asked for, runs it with VmRunner, and speaks
 * src/vm/protocol.ts with the thread that started it
 * (src/host/node/vm-worker.ts). A guest that spins never blocks the host
 * side, which lives on another thread; an exception here ends this thread
 * only.
 */
import { writeFileSync } from "node:fs";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { parentPort, workerData } from "node:worker_threads";
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

const port = parentPort;
if (port === null) throw new Error("vm-worker-main.ts runs in a worker thread (from vm-worker-start.ts)");
const faults = (workerData?.faults ?? {}) as WorkerFaults;

function post(message: FromWorker): void {
  if (message.type === "output") port!.postMessage(message, [message.bytes.buffer as ArrayBuffer]);
  else port!.postMessage(message);
}

const env: RunnerEnv = {
  yieldNow: () => yieldToEventLoop(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  monotonicMs: () => performance.now(),
  cpuMs: threadCpuMs(),
};

/** This thread's CPU clock (process.threadCpuUsage, Node >= 23.9), for CPU caps. */
function threadCpuMs(): (() => number) | undefined {
  const usage = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage;
  if (typeof usage !== "function") return undefined;
  return () => {
    const u = usage.call(process);
    return (u.user + u.system) / 1000;
  };
}
// One run per worker: `,snapshot` overlays live until it ends, across guest reboots.
const disks = keepThrowawayDisks(nodeHostServices((text) => post({ type: "log", text: `virtus: ${text}` })));
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

function errorData(e: unknown): { code: string; message: string; exitCode: number } {
  if (e instanceof VirtusError) return { code: e.code, message: e.message, exitCode: e.exitCode };
  throw e;
}

async function firstVm(req: BootRequest, profiler: VmProfiler | undefined): Promise<Vm> {
  if ("config" in req) return buildVm(req.config, host, { console: output, jitProfile: profiler?.jit });
  return snapshots.restoreFile(req.restore.file, req.restore.clone);
}

async function boot(req: BootRequest): Promise<void> {
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
    port!.close();
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
  injectFaults();
  const outcome = await runner.done;
  disks.closeAll();
  if (profiler !== undefined && req.profile !== undefined)
    writeProfile(req.profile, await profiler.finish(runner.current.board.machine.retired()));
  post({ type: "ended", outcome });
  port!.close();
}

/** The --profile report, written before the run reports its end (the process exits after that). */
function writeProfile(file: string, report: ProfileReport): void {
  try {
    writeFileSync(file, `${JSON.stringify(report, null, 1)}\n`);
  } catch (e) {
    post({ type: "log", text: `virtus: --profile ${file}: ${(e as Error).message}` });
  }
}

function handle(m: ToWorker): void {
  if (m.type === "boot") {
    void boot(m);
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
}

function injectFaults(): void {
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

/** Takes the port over from vm-worker-start.ts, with the messages it held while this module loaded. */
export function takeOver(held: readonly ToWorker[]): void {
  port!.on("message", handle);
  for (const m of held) handle(m);
}

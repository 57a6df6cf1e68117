/**
 * The VM's Web Worker (bundled into web/dist/worker.js): builds the VM the
 * page asks for with the library (src/vm/build.ts), runs it with VmRunner
 * (the JIT on unless the configuration says otherwise) and speaks
 * protocol.ts with the page. A spinning guest never blocks the page.
 */
import { buildVm } from "../../vm/build.ts";
import { errorReply, parseVmCommand } from "../../vm/commands.ts";
import { BufferedOutput } from "../../vm/console-output.ts";
import { type RunnerEnv, VmRunner } from "../../vm/runner.ts";
import { openDiskSource } from "./block.ts";
import { MemoryFs } from "./memory-fs.ts";
import { type FromBrowserWorker, PAGE_SHARE_NAME, type ToBrowserWorker } from "./protocol.ts";
import { browserHostServices, emptyResources } from "./services.ts";
import { browserSnapshots, readBrowserSnapshot } from "./snapshots.ts";

const scope = self as unknown as {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToBrowserWorker>) => void) | null;
};

function post(m: FromBrowserWorker): void {
  if (m.type === "output") scope.postMessage(m, [m.bytes.buffer as ArrayBuffer]);
  else scope.postMessage(m);
}

/** A zero-delay yield: setTimeout(0) is clamped to 4 ms once nested, a message is not. */
function yieldNow(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(0);
  });
}

/**
 * The runner sleeps 1 ms at a time while every hart waits for an interrupt.
 * A worker's nested setTimeout is clamped to 4 ms, which would stretch every
 * idle wait of the guest; with cross-origin isolation (`virtus web` sends
 * COOP/COEP) Atomics.wait blocks for the exact time instead.
 */
const idleCell = globalThis.crossOriginIsolated ? new Int32Array(new SharedArrayBuffer(4)) : undefined;

async function sleep(ms: number): Promise<void> {
  if (idleCell === undefined) return new Promise((r) => setTimeout(r, ms));
  Atomics.wait(idleCell, 0, 0, ms);
  await yieldNow();
}

const env: RunnerEnv = {
  yieldNow,
  sleep,
  monotonicMs: () => performance.now(),
};

const resources = emptyResources();
const share = new MemoryFs();
resources.shares.set(PAGE_SHARE_NAME, share);
const host = browserHostServices(resources, (text) => post({ type: "log", text: `virtus: ${text}` }));
const output = new BufferedOutput((bytes) => post({ type: "output", bytes }));
const snapshots = browserSnapshots();
let runner: VmRunner | undefined;
const early: ToBrowserWorker[] = [];

function startStats(r: VmRunner): void {
  let last = { t: performance.now(), n: 0 };
  setInterval(() => {
    const vm = r.current;
    const n = vm.board.machine.retired();
    const t = performance.now();
    const ips = ((n - last.n) * 1000) / Math.max(1, t - last.t);
    last = { t, n };
    const jitBlocks = vm.board.machine.jit?.fns.length ?? 0;
    post({ type: "stats", stats: { instructions: n, ips, jitBlocks, state: r.state } });
  }, 1000);
}

async function boot(m: Extract<ToBrowserWorker, { type: "boot" }>): Promise<void> {
  for (const [name, bytes] of Object.entries(m.files)) resources.files.set(name, bytes);
  resources.relay = m.relay;
  try {
    for (const [name, source] of Object.entries(m.disks ?? {}))
      resources.disks.set(name, await openDiskSource(source));
    // A snapshot brings its own configuration (memory, harts, …); the page's files back it.
    const saved = m.snapshot === undefined ? undefined : readBrowserSnapshot(m.snapshot);
    const config = saved?.config ?? m.config;
    const vm = await buildVm(config, host, { console: output, restore: saved?.snapshot });
    runner = new VmRunner(vm, {
      env,
      output,
      snapshots,
      onEvent: (event) => post({ type: "event", event }),
      rebuild: () => buildVm(config, host, { console: output }),
    });
    post({ type: "booted", config, restored: saved !== undefined });
    startStats(runner);
    for (const e of early.splice(0)) handle(e);
    const outcome = await runner.done;
    post({ type: "ended", outcome });
  } catch (e) {
    post({ type: "failed", message: e instanceof Error ? e.message : String(e) });
  }
}

function handle(m: ToBrowserWorker): void {
  if (m.type === "boot") {
    void boot(m);
    return;
  }
  if (m.type === "put-file") {
    share.putFile(m.name, m.bytes);
    return;
  }
  if (runner === undefined) {
    early.push(m);
    return;
  }
  const r = runner;
  if (m.type === "input") r.input(m.bytes);
  else if (m.type === "save-snapshot") saveSnapshot(r, m.id);
  else if (m.type === "command")
    Promise.resolve()
      .then(() => r.execute(parseVmCommand(m.command)))
      .then(
        (ret) => post({ type: "reply", id: m.id, reply: { return: ret } }),
        (e) => post({ type: "reply", id: m.id, reply: errorReply(e) }),
      );
}

/** Saves the VM (guest time stands still meanwhile) and hands the file to the page. */
function saveSnapshot(r: VmRunner, id: number): void {
  const file = `snapshot-${id}`;
  Promise.resolve()
    .then(() => r.execute({ execute: "snapshot", arguments: { file } }))
    .then(() => {
      const bytes = snapshots.take(file);
      if (bytes === undefined) throw new Error("the snapshot was not kept");
      scope.postMessage({ type: "snapshot", id, bytes } satisfies FromBrowserWorker, [
        bytes.buffer as ArrayBuffer,
      ]);
    })
    .catch((e: Error) => post({ type: "snapshot", id, error: e.message }));
}

scope.onmessage = (e) => handle(e.data);

/**
 * The daemon's VMs in motion: one worker thread per running VM
 * (src/host/node/vm-worker.ts), driven with the command vocabulary
 * (src/vm/commands.ts). The store holds what is defined; this holds what
 * runs, and writes each change of state back to the store.
 *
 * A VM is started at most once: the entry in `live` is taken before the
 * first await, so a second start of the same VM is refused, and a
 * restarted daemon starts nothing by itself (Store.stopOrphans).
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { VmWorker, type WorkerOutcome, type WorkerUsage } from "../host/node/vm-worker.ts";
import type { WorkerFaults } from "../host/node/vm-worker-main.ts";
import { VirtusError } from "../machine/errors.ts";
import type { VmCommand, VmStatus } from "../vm/commands.ts";
import type { BootRequest } from "../vm/protocol.ts";
import { ConsoleHub } from "./console-hub.ts";
import { parseDefinition, type VmDefinition } from "./definition.ts";
import { wrongState } from "./errors.ts";
import type { Store, StoredVmState, VmRow } from "./store.ts";
import { vmConfigOf } from "./vm-config.ts";

/** What the default guest's shell is sent to power off (it runs as root on the console). */
export const POWEROFF_LINE = "\x15sync; poweroff -f\r";

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

/** Console input a VM's worker holds for its guest at most; clients' typing beyond it is dropped. */
export const CONSOLE_INPUT_LIMIT = 1024 * 1024;

/**
 * The bound on a VM's worker's JavaScript heap (V8's old generation), from
 * its definition: 96 MiB for what every VM holds (the VM's objects, device
 * and network state, the JIT's module objects: ~25 MiB for the default
 * guest at its prompt) and 8 MiB per GiB of guest RAM for what grows with
 * it (the code cache's page table, 2 MiB per GiB). The guest's RAM is not
 * in this heap: it is one WebAssembly.Memory of exactly the definition's
 * size (plus 1.125 MiB of hart state), allocated at build and never grown;
 * decoded code and compiled blocks have bounds of their own
 * (memory/code-cache.ts, jit/jit.ts). Passing the bound ends the worker
 * only; its VM is reported failed (docs/API.md, "Partitioning").
 */
export function workerHeapMb(def: Pick<VmDefinition, "memory">): number {
  return 96 + Math.ceil((def.memory / 2 ** 30) * 8);
}

export interface ManagerOptions {
  dataDir: string;
  defaultGuest(): Promise<{ kernel: string; initrd: string }>;
  /** For tests only: make the worker of the VM of this name crash or hang. */
  faults?: (vmName: string) => WorkerFaults | undefined;
  /** Console input held for a guest that does not read it, bytes (default CONSOLE_INPUT_LIMIT; tests lower it). */
  consoleInputLimit?: number;
  /** How long a command may wait for a VM's answer (VmWorker's default: 10 s, snapshots 120 s). */
  commandTimeoutMs?: number;
}

export interface LiveVm {
  readonly id: number;
  readonly tenantId: number;
  readonly name: string;
  readonly def: VmDefinition;
  readonly hub: ConsoleHub;
  state: "starting" | "running" | "paused";
  worker: VmWorker | undefined;
  /** Set when the daemon itself ends the run (destroy, shutdown, reboot, delete). */
  stopping: "destroy" | "shutdown" | "reboot" | undefined;
  /** Resolves when the run is over and the store says so. */
  ended: Promise<void>;
  startedMs: number;
}

export class VmManager {
  private readonly store: Store;
  private readonly opts: ManagerOptions;
  private readonly live = new Map<number, LiveVm>();

  constructor(store: Store, opts: ManagerOptions) {
    this.store = store;
    this.opts = opts;
  }

  get(id: number): LiveVm | undefined {
    return this.live.get(id);
  }

  running(): LiveVm[] {
    return [...this.live.values()];
  }

  snapshotDir(vmId: number): string {
    return join(this.opts.dataDir, "snapshots", String(vmId));
  }

  /** Boots a defined VM in a worker (or from a snapshot with `boot`); refuses one already running. */
  async start(row: VmRow, restore?: BootRequest & { type: "boot" }): Promise<LiveVm> {
    if (this.live.has(row.id)) throw wrongState(`${row.name} is already running`);
    const def = parseDefinition(JSON.parse(row.definition));
    let settle!: () => void;
    const v: LiveVm = {
      id: row.id,
      tenantId: row.tenantId,
      name: row.name,
      def,
      hub: new ConsoleHub(),
      state: "starting",
      worker: undefined,
      stopping: undefined,
      ended: new Promise((r) => (settle = r)),
      startedMs: Date.now(),
    };
    this.live.set(row.id, v);
    try {
      const config = await vmConfigOf(def, {
        image: (name) => this.store.image(row.tenantId, name),
        defaultGuest: () => this.opts.defaultGuest(),
      });
      const boot: BootRequest = restore ?? { type: "boot", config };
      if (def.cpuLimit !== null) boot.cpuLimit = def.cpuLimit;
      boot.inputLimit = this.opts.consoleInputLimit ?? CONSOLE_INPUT_LIMIT;
      v.worker = await VmWorker.start({
        boot,
        onOutput: (b) => v.hub.push(b),
        onEvent: (e) => {
          if (e.event === "STATE" && (e.data.state === "running" || e.data.state === "paused")) {
            v.state = e.data.state;
            this.store.setVmState(v.id, e.data.state);
          }
        },
        resourceLimits: { maxOldGenerationSizeMb: workerHeapMb(def) },
        faults: this.opts.faults?.(row.name),
        commandTimeoutMs: this.opts.commandTimeoutMs,
      });
    } catch (e) {
      this.live.delete(row.id);
      settle();
      this.store.setVmState(row.id, "failed", `start failed: ${e instanceof Error ? e.message : String(e)}`);
      if (e instanceof VirtusError) throw e;
      throw new VirtusError("vm-failed", `${row.name} did not start: ${e instanceof Error ? e.message : e}`);
    }
    v.state = "running";
    this.store.setVmState(row.id, "running");
    void v.worker.ended.then((outcome) => this.onEnded(v, outcome, settle));
    // A destroy that came while it was booting.
    if (v.stopping !== undefined) void v.worker.quit();
    return v;
  }

  private onEnded(v: LiveVm, outcome: WorkerOutcome, settle: () => void): void {
    this.live.delete(v.id);
    const [state, reason] = stateAfter(outcome, v.stopping, workerHeapMb(v.def));
    this.store.setVmState(v.id, state, reason);
    settle();
    // A guest that asks to reboot is booted again, as QEMU does.
    if (outcome.kind === "reboot" && v.stopping === undefined) {
      const row = this.store.vms(v.tenantId).find((r) => r.id === v.id);
      if (row !== undefined) void this.start(row).catch(() => {});
    }
  }

  private need(row: VmRow): LiveVm & { worker: VmWorker } {
    const v = this.live.get(row.id);
    if (v === undefined || v.worker === undefined)
      throw wrongState(`${row.name} is not running (virtus vm start ${row.name})`);
    return v as LiveVm & { worker: VmWorker };
  }

  /** Runs a command in the VM's worker; an error reply is a VirtusError. */
  async command(row: VmRow, cmd: VmCommand): Promise<unknown> {
    const reply = await this.need(row).worker.execute(cmd);
    if ("error" in reply)
      throw new VirtusError(
        reply.error.class === "WrongState" ? "wrong-state" : "vm-failed",
        reply.error.desc,
      );
    return reply.return;
  }

  async status(row: VmRow): Promise<VmStatus | undefined> {
    const v = this.live.get(row.id);
    if (v?.worker === undefined) return undefined;
    const r = await v.worker.execute({ execute: "status" });
    return "return" in r ? (r.return as VmStatus) : undefined;
  }

  async usage(id: number): Promise<WorkerUsage | undefined> {
    return this.live.get(id)?.worker?.usage();
  }

  /** Cuts the power: the worker is told to quit, and killed if it does not within 2 s. */
  async destroy(row: VmRow): Promise<void> {
    const v = this.live.get(row.id);
    if (v === undefined) throw wrongState(`${row.name} is not running`);
    v.stopping = "destroy";
    await v.worker?.quit();
    await v.ended;
  }

  /**
   * Asks the guest to power off (the default guest's shell is sent
   * `sync; poweroff -f`, so its disks are synced), waits up to
   * `timeoutMs`, then destroys it. Returns true if the guest went by itself.
   */
  async shutdown(row: VmRow, timeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS): Promise<boolean> {
    const v = this.need(row);
    v.stopping = "shutdown";
    if (v.def.kernel === undefined) v.worker.input(Buffer.from(POWEROFF_LINE));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<true>((r) => (timer = setTimeout(() => r(true), timeoutMs)));
    const late = await Promise.race([v.ended.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      await v.worker.quit();
      await v.ended;
    }
    return !late;
  }

  /** A reset: the run ends and the VM boots again from its definition. */
  async reboot(row: VmRow): Promise<LiveVm> {
    const v = this.need(row);
    v.stopping = "reboot";
    await v.worker.quit();
    await v.ended;
    return this.start(this.store.vms(row.tenantId).find((r) => r.id === row.id) ?? row);
  }

  /** Removes a stopped VM's snapshot files (its rows go with the VM's). */
  forget(row: VmRow): void {
    if (this.live.has(row.id)) throw wrongState(`${row.name} is running: destroy it first`);
    rmSync(this.snapshotDir(row.id), { recursive: true, force: true });
  }

  snapshotFile(vmId: number, name: string): string {
    mkdirSync(this.snapshotDir(vmId), { recursive: true });
    return join(this.snapshotDir(vmId), `${name}.snap`);
  }

  /** Ends every VM (daemon shutdown): they are stopped, as after a restart. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.running().map(async (v) => {
        v.stopping = "destroy";
        await v.worker?.quit();
        await v.ended;
      }),
    );
  }
}

/** The stored state after a run: stopped when asked or powered off, failed when it crashed. */
function stateAfter(o: WorkerOutcome, stopping: LiveVm["stopping"], heapMb: number): [StoredVmState, string] {
  switch (o.kind) {
    case "poweroff":
      return ["stopped", stopping === "shutdown" ? "shut down" : "the guest powered off"];
    case "quit":
    case "stopped":
    case "killed":
      if (stopping === "destroy") return ["stopped", "destroyed"];
      if (stopping === "shutdown") return ["stopped", "destroyed after the shutdown timeout"];
      if (stopping === "reboot") return ["stopped", "rebooting"];
      return o.kind === "killed"
        ? ["failed", "the VM stopped answering and was killed"]
        : ["stopped", o.kind];
    case "reboot":
      return ["stopped", "the guest rebooted"];
    case "crashed":
      return o.outOfMemory
        ? ["failed", `out of memory: the VM's worker passed its ${heapMb} MiB heap bound`]
        : ["failed", `crashed: ${o.message}`];
    case "panic":
      return ["failed", `kernel panic: ${o.reason}`];
    case "fail":
      return ["failed", `the guest reported failure ${o.code}`];
    case "exec":
      return ["stopped", `exec exited ${o.status}`];
  }
}

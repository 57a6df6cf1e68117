/**
 * A VM served on this thread, shaped like the worker VmWorker otherwise
 * starts: the two ends of a MessageChannel speak src/vm/protocol.ts as a
 * worker's would. `virtus run` runs its one VM so (vm-session.ts): a worker
 * thread's isolate and Node environment are ~15 MiB of peak RSS for the
 * booted default guest (docs/PERFORMANCE.md). The runner yields to the event
 * loop between slices, so console input, Ctrl-A escapes and the control
 * socket are still served while the guest spins; what a worker adds is a
 * host side that survives a hung or crashed VM, which the daemon's many VMs
 * need and a single `virtus run` does not (its VM is the process).
 */
import { EventEmitter } from "node:events";
import { MessageChannel, type ResourceLimits } from "node:worker_threads";
import type { FromWorker, ToWorker } from "../../vm/protocol.ts";
import { serveWhenLoaded } from "./vm-worker-start.ts";

/** What VmWorker needs of its VM's thread: a Worker, or an InThreadVm. */
export interface VmThread {
  postMessage(message: ToWorker, transfer?: ArrayBuffer[]): void;
  on(event: "message", listener: (message: FromWorker) => void): unknown;
  on(event: "error", listener: (error: unknown) => void): unknown;
  on(event: "exit", listener: (code: number) => void): unknown;
  terminate(): Promise<unknown>;
  readonly resourceLimits?: ResourceLimits;
}

export class InThreadVm extends EventEmitter implements VmThread {
  private readonly channel = new MessageChannel();

  constructor() {
    super();
    const { port1: host, port2: vm } = this.channel;
    host.on("message", (m) => this.emit("message", m));
    // An exception of the VM's own: the run ends as crashed, as a worker's "error" would end it.
    serveWhenLoaded(vm, {
      onCrash: (e) => {
        this.emit("error", e);
        void this.terminate();
      },
    });
  }

  postMessage(message: ToWorker, transfer?: ArrayBuffer[]): void {
    this.channel.port1.postMessage(message, transfer);
  }

  /** Closes the channel: the VM has ended (or is left to end; a hung VM here is a hung process). */
  async terminate(): Promise<number> {
    this.channel.port1.close();
    this.channel.port2.close();
    return 0;
  }

  readonly resourceLimits = undefined;
}

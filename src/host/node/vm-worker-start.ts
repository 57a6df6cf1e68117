/**
 * The first module of a VM's worker thread, light on purpose: the VM's own
 * modules (vm-worker-main.ts: the whole machine) take a while to load, and
 * meanwhile this one holds the messages that arrive and, for a restore,
 * reads the snapshot and has its RAM decompressed on libuv's threads
 * (snapshot-file.ts's prefetch), so that work overlaps the loading.
 * vm-in-thread.ts does the same on `virtus run`'s main thread.
 */
import { isMainThread, type MessagePort, parentPort, workerData } from "node:worker_threads";
import type { ToWorker } from "../../vm/protocol.ts";
import { prefetchSnapshotFile } from "./snapshot-file.ts";
import { traceThreadStart } from "./startup-trace.ts";
import type { ServeOptions, VmPort, WorkerFaults } from "./vm-worker-main.ts";

/**
 * Serves a VM on `port` once vm-worker-main.ts has loaded, holding what arrives meanwhile. The
 * VM's modules load only after the boot request (always the first message) has arrived and, for
 * a restore, its prefetch has started.
 */
export function serveWhenLoaded(port: VmPort & Pick<MessagePort, "off">, opts: ServeOptions = {}): void {
  const held: ToWorker[] = [];
  let loading = false;
  const hold = (m: ToWorker) => {
    held.push(m);
    if (loading) return;
    loading = true;
    if (m.type === "boot" && "restore" in m) prefetchSnapshotFile(m.restore.file);
    void import("./vm-worker-main.ts").then((main) => {
      port.off("message", hold);
      main.serveVm(port, { ...opts, held });
    }, opts.onCrash);
  };
  port.on("message", hold);
}

if (!isMainThread) {
  traceThreadStart();
  if (parentPort === null) throw new Error("vm-worker-start.ts runs in a worker thread");
  serveWhenLoaded(parentPort, { faults: (workerData?.faults ?? {}) as WorkerFaults });
}

/**
 * The first module of a VM's worker thread, light on purpose: the VM's own
 * modules (vm-worker-main.ts: the whole machine) take a while to load, and
 * meanwhile this one holds the messages that arrive and, for a restore,
 * reads the snapshot and has its RAM decompressed on libuv's threads
 * (snapshot-file.ts's prefetch), so that work overlaps the loading.
 */
import { parentPort } from "node:worker_threads";
import type { ToWorker } from "../../vm/protocol.ts";
import { prefetchSnapshotFile } from "./snapshot-file.ts";
import { traceThreadStart } from "./startup-trace.ts";

traceThreadStart();
const port = parentPort;
if (port === null) throw new Error("vm-worker-start.ts runs in a worker thread");
const held: ToWorker[] = [];
let loading = false;
// Messages are delivered only while no module is loading: the VM's modules load after the boot
// request (always the first message) has arrived and, for a restore, its prefetch has started.
const hold = (m: ToWorker) => {
  held.push(m);
  if (loading) return;
  loading = true;
  if (m.type === "boot" && "restore" in m) prefetchSnapshotFile(m.restore.file);
  void import("./vm-worker-main.ts").then((main) => {
    port.off("message", hold);
    main.takeOver(held);
  });
};
port.on("message", hold);

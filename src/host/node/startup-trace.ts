/**
 * Where the time of a start goes (docs/PERFORMANCE.md, bench:snapshot): with
 * VIRTUS_TRACE_STARTUP=1 in the environment, `virtus run` and its VM's worker
 * write one line per step to stderr, `virtus-trace: EPOCH_MS THREAD STEP`, in
 * wall-clock milliseconds (fractional) so both threads and the benchmark that
 * spawned the process share one time line. Off by default: a check of one
 * boolean.
 */
import { isMainThread } from "node:worker_threads";

export const TRACE_STARTUP = process.env.VIRTUS_TRACE_STARTUP === "1";

/** Now, in ms since the epoch, with performance.now()'s resolution. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

export function traceStartup(step: string, at = epochMs()): void {
  if (!TRACE_STARTUP) return;
  process.stderr.write(`virtus-trace: ${at.toFixed(1)} ${isMainThread ? "main" : "worker"} ${step}\n`);
}

/** The process's start (on the main thread: its time origin) or the worker's first module running. */
export function traceThreadStart(): void {
  if (isMainThread) traceStartup("process start", performance.timeOrigin);
  else traceStartup("entry module running");
}

/**
 * `virtus run` serves its VM on the main thread (host/node/vm-in-thread.ts): no worker thread's
 * isolate, ~15 MiB less memory for the booted guest (docs/PERFORMANCE.md).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { findGuest } from "../../src/host/node/guest.ts";

const bin = join(import.meta.dirname, "../../bin/virtus.js");

test("`virtus run` builds and runs its VM on the main thread, with no worker", {
  skip: findGuest() === undefined && "the default guest is not built",
}, async () => {
  const p = spawn(process.execPath, [bin, "run", "--paused", "--net", "none"], {
    env: { ...process.env, VIRTUS_TRACE_STARTUP: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let err = "";
  try {
    await new Promise<void>((resolve, reject) => {
      p.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        if (/ booted message\n/.test(err)) resolve();
      });
      p.once("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
  } finally {
    p.kill("SIGKILL");
  }
  // Each trace line names its thread: `virtus-trace: EPOCH_MS main|worker STEP`.
  assert.match(err, /^virtus-trace: [\d.]+ main VM built$/m);
  assert.match(err, /^virtus-trace: [\d.]+ main boot request$/m);
  assert.doesNotMatch(err, /^virtus-trace: [\d.]+ worker /m);
});

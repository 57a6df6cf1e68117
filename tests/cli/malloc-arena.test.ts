/**
 * `virtus run` re-executes itself once with one glibc malloc arena (bin/malloc-arena.js); other
 * commands, a restore and a GLIBC_TUNABLES that already sets the arena count are left alone.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { oneArenaEnv, reexecArgv } from "../../bin/malloc-arena.js";
import { findGuest } from "../../src/host/node/guest.ts";

const bin = join(import.meta.dirname, "../../bin/virtus.js");

test("only `run` on Linux gets one arena, added to the user's own tunables, never twice", () => {
  const run = ["run", "--mem", "256M"];
  assert.equal(oneArenaEnv(run, { A: "1" }, "linux")?.GLIBC_TUNABLES, "glibc.malloc.arena_max=1");
  assert.equal(oneArenaEnv(run, { A: "1" }, "linux")?.A, "1");
  assert.equal(
    oneArenaEnv(run, { GLIBC_TUNABLES: "glibc.malloc.tcache_count=0" }, "linux")?.GLIBC_TUNABLES,
    "glibc.malloc.tcache_count=0:glibc.malloc.arena_max=1",
  );
  assert.equal(oneArenaEnv(run, { GLIBC_TUNABLES: "glibc.malloc.arena_max=4" }, "linux"), undefined);
  assert.equal(oneArenaEnv(run, {}, "darwin"), undefined);
  for (const other of [["run-elf", "x.elf"], ["daemon"], ["ctl", "sock", "status"], []])
    assert.equal(oneArenaEnv(other, {}, "linux"), undefined, other.join(" "));
});

test("the re-execution gives the main thread a 1 MiB semi-space unless Node's options set one", () => {
  assert.deepEqual(reexecArgv([]), ["--max-semi-space-size=1"]);
  assert.deepEqual(reexecArgv(["--inspect"]), ["--max-semi-space-size=1", "--inspect"]);
  assert.deepEqual(reexecArgv(["--max-semi-space-size=4"]), ["--max-semi-space-size=4"]);
});

test("a restore starts without the re-execution (its start is what should be fast)", () => {
  for (const restore of [
    ["run", "--restore", "f.vsnap"],
    ["run", "--clone", "--restore=f.vsnap"],
  ])
    assert.equal(oneArenaEnv(restore, {}, "linux"), undefined, restore.join(" "));
});

test("a running `virtus run` is the same process, re-executed with one arena", {
  skip: (process.platform !== "linux" || findGuest() === undefined) && "Linux with the default guest only",
}, async () => {
  const p = spawn(process.execPath, [bin, "run", "--paused", "--net", "none"], {
    env: { ...process.env, GLIBC_TUNABLES: undefined, VIRTUS_TRACE_STARTUP: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  try {
    let err = "";
    // The trace's first line comes from bin/virtus.js after the re-execution.
    await new Promise<void>((resolve, reject) => {
      p.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        if (/code from/.test(err)) resolve();
      });
      p.once("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    const environ = readFileSync(`/proc/${p.pid}/environ`, "utf8").split("\0");
    assert.ok(environ.includes("GLIBC_TUNABLES=glibc.malloc.arena_max=1"), environ.join(" "));
    const cmdline = readFileSync(`/proc/${p.pid}/cmdline`, "utf8").split("\0");
    assert.ok(cmdline.includes("--max-semi-space-size=1"), cmdline.join(" "));
  } finally {
    p.kill("SIGKILL");
  }
});

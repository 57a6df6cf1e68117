import assert from "node:assert/strict";
import { test } from "node:test";
import { VmWorker, WORKER_YOUNG_GENERATION_MB } from "../../src/host/node/vm-worker.ts";
import { VirtusError } from "../../src/machine/errors.ts";
import type { VmReply, VmStatus } from "../../src/vm/commands.ts";
import { haveCrossGcc } from "../support/cross.ts";
import { ECHO_SPIN, programConfig } from "../support/vm-programs.ts";

const skip = !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed";

/** Starts ECHO_SPIN in a worker and collects its console output. */
async function spinner(faults?: { crashAfterMs?: number; hangAfterMs?: number }, commandTimeoutMs?: number) {
  const out = { text: "" };
  const w = await VmWorker.start({
    boot: { type: "boot", config: programConfig("echo-spin", ECHO_SPIN) },
    onOutput: (b) => (out.text += Buffer.from(b).toString("latin1")),
    faults,
    commandTimeoutMs,
  });
  return { w, out };
}

async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ret = (r: VmReply): VmStatus => {
  if ("error" in r) throw new Error(r.error.desc);
  return r.return as VmStatus;
};

test("a guest running flat out in a worker still echoes console input and answers pause, status, resume, quit", {
  skip,
}, async () => {
  const { w, out } = await spinner();
  await until(() => out.text.includes("ready\n"), "the guest's banner");
  w.input(Buffer.from("ping"));
  await until(() => out.text.includes("ready\nping"), "the echo");
  const a = ret(await w.execute({ execute: "status" }));
  assert.equal(a.state, "running");
  assert.ok(a.instructions > 0);
  assert.deepEqual(await w.execute({ execute: "pause" }), { return: {} });
  const p1 = ret(await w.execute({ execute: "status" }));
  await new Promise((r) => setTimeout(r, 50));
  const p2 = ret(await w.execute({ execute: "status" }));
  assert.equal(p1.state, "paused");
  assert.equal(p2.instructions, p1.instructions, "a paused guest retires nothing");
  const again = await w.execute({ execute: "pause" });
  assert.ok("error" in again && again.error.class === "WrongState", JSON.stringify(again));
  w.input(Buffer.from("!"));
  assert.deepEqual(await w.execute({ execute: "resume" }), { return: {} });
  await until(() => out.text.endsWith("ping!"), "input typed while paused");
  const unknown = await w.execute({ execute: "reboot" } as never);
  assert.ok("error" in unknown && unknown.error.class === "CommandNotFound", JSON.stringify(unknown));
  assert.deepEqual(await w.quit(), { kind: "quit" });
  const late = await w.execute({ execute: "status" });
  assert.ok("error" in late && /ended/.test(late.error.desc));
});

test("an exception in the worker ends the run as crashed; the host side is not left waiting", {
  skip,
}, async () => {
  const { w } = await spinner({ crashAfterMs: 100 });
  const outcome = await w.ended;
  assert.equal(outcome.kind, "crashed");
  assert.match((outcome as { message: string }).message, /injected fault/);
  const r = await w.execute({ execute: "status" });
  assert.ok("error" in r);
});

test("a worker that stops answering fails its commands after the timeout and is killed by quit", {
  skip,
}, async () => {
  const { w } = await spinner({ hangAfterMs: 50 }, 500);
  await new Promise((r) => setTimeout(r, 200));
  const r = await w.execute({ execute: "status" });
  assert.ok("error" in r && /did not answer status/.test(r.error.desc), JSON.stringify(r));
  assert.deepEqual(await w.quit(300), { kind: "killed" });
});

test("bad input while booting rejects with the worker's VirtusError", { skip }, async () => {
  const config = { ...programConfig("echo-spin", ECHO_SPIN), kernel: "/nonexistent/kernel" };
  await assert.rejects(
    VmWorker.start({ boot: { type: "boot", config }, onOutput: () => {} }),
    (e) =>
      e instanceof VirtusError &&
      e.exitCode === 2 &&
      /--kernel \/nonexistent\/kernel: no such file/.test(e.message),
  );
});

test("a VM's worker has a small young generation unless its caller sets one; other limits are kept", {
  skip,
}, async () => {
  const start = (resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number }) =>
    VmWorker.start({
      boot: { type: "boot", config: programConfig("echo-spin", ECHO_SPIN) },
      onOutput: () => {},
      resourceLimits,
    });
  const plain = await start();
  assert.equal(plain.heapLimits.maxYoungGenerationSizeMb, WORKER_YOUNG_GENERATION_MB);
  await plain.quit();
  const bounded = await start({ maxOldGenerationSizeMb: 200 });
  assert.equal(bounded.heapLimits.maxYoungGenerationSizeMb, WORKER_YOUNG_GENERATION_MB);
  assert.equal(bounded.heapLimits.maxOldGenerationSizeMb, 200);
  await bounded.quit();
  const own = await start({ maxYoungGenerationSizeMb: 12 });
  assert.equal(own.heapLimits.maxYoungGenerationSizeMb, 12);
  await own.quit();
});

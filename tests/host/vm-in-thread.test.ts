import assert from "node:assert/strict";
import { test } from "node:test";
import { VmWorker } from "../../src/host/node/vm-worker.ts";
import { VirtusError } from "../../src/machine/errors.ts";
import type { VmReply, VmStatus } from "../../src/vm/commands.ts";
import type { VmConfig } from "../../src/vm/config.ts";
import { haveCrossGcc } from "../support/cross.ts";
import { ECHO_SPIN, programConfig } from "../support/vm-programs.ts";

const skip = !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed";

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

const cpuMicros = (u: NodeJS.CpuUsage) => u.user + u.system;

test("a VM served on this thread runs here, echoes input, and answers status, pause, resume and quit", {
  skip,
}, async () => {
  const out = { text: "" };
  const w = await VmWorker.start({
    boot: { type: "boot", config: programConfig("echo-spin", ECHO_SPIN) },
    onOutput: (b) => (out.text += Buffer.from(b).toString("latin1")),
    inThread: true,
  });
  await until(() => out.text.includes("ready\n"), "the guest's banner");
  // The guest spins flat out: its CPU time is this thread's (in a worker it would be another's),
  // and this thread's timers still fire between the runner's slices.
  const [thread0, process0] = [process.threadCpuUsage(), process.cpuUsage()];
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const s0 = ret(await w.execute({ execute: "status" }));
  await new Promise((r) => setTimeout(r, 300));
  const s1 = ret(await w.execute({ execute: "status" }));
  clearInterval(timer);
  const thread = cpuMicros(process.threadCpuUsage(thread0));
  const all = cpuMicros(process.cpuUsage(process0));
  assert.ok(s1.instructions > s0.instructions, "the guest ran");
  assert.ok(thread > all / 2, `this thread used ${thread} of the process's ${all} µs`);
  assert.ok(ticks > 2, `the timer fired ${ticks} times`);
  w.input(Buffer.from("ping"));
  await until(() => out.text.includes("ready\nping"), "the echo");
  assert.deepEqual(await w.execute({ execute: "pause" }), { return: {} });
  const p1 = ret(await w.execute({ execute: "status" }));
  await new Promise((r) => setTimeout(r, 50));
  const p2 = ret(await w.execute({ execute: "status" }));
  assert.equal(p2.instructions, p1.instructions, "a paused guest retires nothing");
  assert.deepEqual(await w.execute({ execute: "resume" }), { return: {} });
  assert.deepEqual(await w.quit(), { kind: "quit" });
  const late = await w.execute({ execute: "status" });
  assert.ok("error" in late && /ended/.test(late.error.desc));
});

test("an exception of a VM on this thread ends its run as crashed, and the process goes on", {
  skip,
}, async () => {
  // Not a configuration a user can give (the CLI builds and checks them): the builder fails on it
  // with a TypeError, not with bad input's VirtusError.
  const config = { ...programConfig("echo-spin", ECHO_SPIN), disks: null } as unknown as VmConfig;
  await assert.rejects(
    VmWorker.start({ boot: { type: "boot", config }, onOutput: () => {}, inThread: true }),
    /the VM's worker failed while booting: .*null/,
  );
  // The test's process ends (node --test would time out otherwise): nothing of the VM is left open.
});

test("bad input to a VM on this thread rejects with its VirtusError and leaves nothing open", {
  skip,
}, async () => {
  const config = { ...programConfig("echo-spin", ECHO_SPIN), kernel: "/nonexistent/kernel" };
  await assert.rejects(
    VmWorker.start({ boot: { type: "boot", config }, onOutput: () => {}, inThread: true }),
    (e) => e instanceof VirtusError && e.exitCode === 2 && /no such file/.test(e.message),
  );
  // Its channel closes (a port closes asynchronously); one left open would keep the process alive.
  await until(() => !process.getActiveResourcesInfo().includes("MessagePort"), "the channel to close", 5000);
});

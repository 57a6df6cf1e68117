/** VmRunner's console contracts on a fake VM: end of input, input taken, a guest reboot. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate } from "node:timers/promises";
import type { GuestExit, Vm } from "../../src/vm/build.ts";
import { EOF_QUIET_TICKS, endOfInput } from "../../src/vm/end-of-input.ts";
import { type RunnerEnv, VmRunner } from "../../src/vm/runner.ts";

const env: RunnerEnv = {
  yieldNow: () => setImmediate(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  monotonicMs: () => performance.now(),
};

/** A deterministic machine whose clock moves `ticksPerChunk` per chunk and whose console takes what it is given. */
function fakeVm(over: {
  exec?: boolean;
  reboot?: "exit";
  exit?: () => GuestExit | undefined;
  ticksPerChunk?: number;
}) {
  let now = 0;
  const taken: number[] = [];
  const vm = {
    /** Moves guest time on (for a machine made with ticksPerChunk 0). */
    advance(ticks: number) {
      now += ticks;
    },
    config: { ...(over.exec ? { exec: { command: "cat", stty: "" } } : {}), reboot: over.reboot },
    closed: false,
    board: {
      machine: {
        run: () => {
          now += over.ticksPerChunk ?? 100_000;
          return "budget";
        },
        deterministic: true,
        idleHeld: () => false,
        clock: { now: () => now },
        retired: () => 0,
      },
      uart: { pendingInput: 0 },
    },
    sendInput: (b: Uint8Array) => {
      taken.push(...b);
      return b.length;
    },
    guestExit: () => over.exit?.(),
    close() {
      vm.closed = true;
    },
    taken,
  };
  return vm as unknown as Vm & { taken: number[]; closed: boolean; advance(ticks: number): void };
}

const output = { flush: () => {}, flushed: 0 };
const until = async (what: () => boolean) => {
  for (let i = 0; i < 500 && !what(); i++) await env.sleep(2);
  assert.ok(what());
};

test("end of input: Ctrl-D for an --exec command at once (twice after an unfinished line)", () => {
  assert.deepEqual([...endOfInput(0x0a, true).now], [0x04]);
  assert.deepEqual([...endOfInput(0x61, true).now], [0x04, 0x04]);
  assert.deepEqual([...endOfInput(undefined, true).now], [0x04]);
  // A shell: a newline now if the last line is unfinished, Ctrl-D once it waits.
  assert.deepEqual([...endOfInput(0x61, false).now], [0x0a]);
  assert.deepEqual([...endOfInput(0x0a, false).now], []);
  assert.deepEqual([...endOfInput(0x0a, false).whenQuiet], [0x04]);
});

test("a shell gets the newline at once and its Ctrl-D only after half a second of quiet guest time", async () => {
  const vm = fakeVm({ ticksPerChunk: 0 });
  const out = { flush: () => {}, flushed: 0 };
  const tookTotal: number[] = [];
  const r = new VmRunner(vm, { env, output: out, onInputTaken: (n) => tookTotal.push(n) });
  try {
    r.input(new TextEncoder().encode("echo hi"));
    r.endInput();
    await until(() => vm.taken.length === 8);
    assert.deepEqual(vm.taken.slice(-1), [0x0a], "the unfinished line is finished");
    const quietFor = async (ticks: number) => {
      vm.advance(ticks);
      await env.sleep(20);
    };
    await quietFor(EOF_QUIET_TICKS * 0.8);
    out.flushed += 10; // the guest prints: the quiet time starts again
    await quietFor(0);
    await quietFor(EOF_QUIET_TICKS * 0.8);
    assert.equal(vm.taken.includes(0x04), false, "no Ctrl-D before half a second of quiet");
    await quietFor(EOF_QUIET_TICKS * 0.3);
    await until(() => vm.taken.includes(0x04));
    assert.equal(
      tookTotal.reduce((a, b) => a + b, 0),
      9,
      "every byte taken was reported (for the host's backpressure)",
    );
  } finally {
    await r.execute({ execute: "quit" });
  }
  assert.deepEqual(await r.done, { kind: "quit" });
});

test("an --exec command gets Ctrl-D at once", async () => {
  const vm = fakeVm({ exec: true, ticksPerChunk: 1 });
  const r = new VmRunner(vm, { env, output });
  r.input(new Uint8Array([0x61]));
  r.endInput();
  await until(() => vm.taken.length === 3);
  assert.deepEqual(vm.taken, [0x61, 0x04, 0x04]);
  await r.execute({ execute: "quit" });
  await r.done;
});

test("a guest reboot builds a fresh VM in place and runs on; with reboot: exit the run ends with it", async () => {
  let rebooted = false;
  const first = fakeVm({ exit: () => (rebooted ? undefined : ((rebooted = true), { kind: "reboot" })) });
  const second = fakeVm({});
  const states: string[] = [];
  const r = new VmRunner(first, {
    env,
    output,
    rebuild: async () => second,
    onEvent: (e) => e.event === "STATE" && states.push(`${e.data.state}:${e.data.reason}`),
  });
  await until(() => r.current === second);
  assert.equal(first.closed, true, "the old machine let go of its host resources");
  assert.equal(r.state, "running");
  assert.deepEqual(states, ["running:reset"]);
  r.input(new Uint8Array([0x6b]));
  await until(() => second.taken.length === 1);
  await r.execute({ execute: "quit" });
  assert.deepEqual(await r.done, { kind: "quit" });

  const exits = fakeVm({ reboot: "exit", exit: () => ({ kind: "reboot" }) });
  const r2 = new VmRunner(exits, {
    env,
    output,
    rebuild: async () => assert.fail("no rebuild with reboot: exit"),
  });
  assert.deepEqual(await r2.done, { kind: "reboot" });
});

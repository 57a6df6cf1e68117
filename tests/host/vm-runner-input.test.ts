import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import {
  BufferedOutput,
  EXIT_PANIC,
  endOfInput,
  exitCodeOf,
  INPUT_LIMIT,
  runVm,
} from "../../src/host/node/vm-runner.ts";
import type { GuestExit, Vm } from "../../src/vm/build.ts";

/** A VM whose console takes `accept()` bytes per call and that ends when `exit()` says so. */
function fakeVm(accept: () => number, exit: () => GuestExit | undefined, exec = false): Vm {
  const taken: number[] = [];
  const vm = {
    config: exec ? { exec: { command: "cat", stty: "" } } : {},
    board: {
      machine: { run: () => "budget", deterministic: true, idleHeld: () => false, clock: { now: () => 0 } },
      uart: { pendingInput: 0 },
    },
    sendInput: (b: Uint8Array) => {
      const n = Math.min(b.length, accept());
      taken.push(...b.subarray(0, n));
      return n;
    },
    guestExit: exit,
    taken,
  };
  return vm as unknown as Vm;
}

test("console input the guest does not take is kept up to 1 MiB; beyond that the pipe is paused, then resumed", async () => {
  let open = false;
  let done = false;
  const vm = fakeVm(
    () => (open ? 1 << 20 : 0),
    () => (done ? { kind: "poweroff" } : undefined),
  );
  const input = new PassThrough();
  const run = runVm(vm, { input, output: new BufferedOutput(() => {}), writeHost: () => {} });
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  try {
    for (let i = 0; i < 40; i++) input.write(chunk); // 2.5 MiB
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(input.isPaused(), true, "paused once more than INPUT_LIMIT waits");
    open = true;
    const taken = (vm as unknown as { taken: number[] }).taken;
    for (let i = 0; i < 200 && taken.length < 40 * chunk.length; i++)
      await new Promise((r) => setTimeout(r, 10));
  } finally {
    done = true;
  }
  assert.deepEqual(await run, { kind: "poweroff" });
  const taken = (vm as unknown as { taken: number[] }).taken;
  assert.equal(taken.length, 40 * chunk.length, "resumed once the guest took it, and nothing was dropped");
  assert.ok(INPUT_LIMIT === 1 << 20);
});

test("end of input: Ctrl-D for an --exec command at once (twice after an unfinished line)", () => {
  assert.deepEqual([...endOfInput(0x0a, true).now], [0x04]);
  assert.deepEqual([...endOfInput(0x61, true).now], [0x04, 0x04]);
  assert.deepEqual([...endOfInput(undefined, true).now], [0x04]);
  // A shell: a newline now if the last line is unfinished, Ctrl-D once it waits.
  assert.deepEqual([...endOfInput(0x61, false).now], [0x0a]);
  assert.deepEqual([...endOfInput(0x0a, false).now], []);
  assert.deepEqual([...endOfInput(0x0a, false).whenQuiet], [0x04]);
});

test("exit codes: an --exec status as is, a panic 125 with its reason on stderr, reboot 0", () => {
  const lines: string[] = [];
  const w = (t: string) => lines.push(t);
  assert.equal(exitCodeOf({ kind: "exec", status: 42 }, w), 42);
  assert.equal(exitCodeOf({ kind: "panic", reason: "VFS: Unable to mount root fs" }, w), EXIT_PANIC);
  assert.deepEqual(lines, ["virtus: the guest kernel panicked: VFS: Unable to mount root fs\n"]);
  assert.equal(exitCodeOf({ kind: "reboot" }, w), 0);
  assert.equal(exitCodeOf({ kind: "fail", code: 300 }, w), 255);
});

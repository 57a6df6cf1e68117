import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { ConsoleInput, INPUT_LIMIT } from "../../src/host/node/console-input.ts";
import { EXIT_PANIC, EXIT_VM_CRASHED, exitCodeOf } from "../../src/host/node/exit-code.ts";

/** A sink that records what reaches the VM. */
function sink() {
  const got = { bytes: [] as number[], ends: 0 };
  return {
    got,
    input: (b: Uint8Array) => got.bytes.push(...b),
    endInput: () => got.ends++,
  };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

test("input the guest has not taken is bounded: above 1 MiB the stream pauses, at half it resumes, nothing is dropped", async () => {
  const input = new PassThrough();
  const s = sink();
  const c = new ConsoleInput(input, s, { escapes: true, onEscape: () => {} });
  input.resume();
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  for (let i = 0; i < 40; i++) input.write(chunk); // 2.5 MiB
  await tick();
  assert.equal(input.isPaused(), true, "paused once more than INPUT_LIMIT waits");
  assert.ok(c.waiting > INPUT_LIMIT && c.waiting <= INPUT_LIMIT + chunk.length, `${c.waiting} in flight`);
  c.taken(c.waiting - INPUT_LIMIT / 2 - 1);
  assert.equal(input.isPaused(), true, "still above half the limit");
  c.taken(1);
  assert.equal(input.isPaused(), false, "resumed at half the limit");
  for (let i = 0; i < 100 && s.got.bytes.length < 40 * chunk.length; i++) {
    c.taken(c.waiting);
    await tick();
  }
  assert.equal(s.got.bytes.length, 40 * chunk.length, "every byte reached the VM");
  assert.equal(INPUT_LIMIT, 1 << 20);
  c.close();
});

test("Ctrl-A escapes are taken out of typed input; with escapes off (piped --exec data) Ctrl-A is data", async () => {
  const actions: string[] = [];
  const on = sink();
  const a = new PassThrough();
  new ConsoleInput(a, on, { escapes: true, onEscape: (x) => actions.push(x) });
  a.write("l\x01s\x01\x01\x01x");
  await tick();
  assert.deepEqual(on.got.bytes, [0x6c, 0x01]);
  assert.deepEqual(actions, ["snapshot", "quit"]);
  const off = sink();
  const b = new PassThrough();
  new ConsoleInput(b, off, { escapes: false, onEscape: () => assert.fail("no escapes") });
  b.end("a\x01x");
  await tick();
  assert.deepEqual(off.got.bytes, [0x61, 0x01, 0x78]);
  assert.equal(off.got.ends, 1, "the end of the pipe reaches the VM as endInput");
});

test("exit codes: an --exec status as is, a panic 125 with its reason, reboot 0, a crashed worker 70", () => {
  const lines: string[] = [];
  const w = (t: string) => lines.push(t);
  assert.equal(exitCodeOf({ kind: "exec", status: 42 }, w), 42);
  assert.equal(exitCodeOf({ kind: "panic", reason: "VFS: Unable to mount root fs" }, w), EXIT_PANIC);
  assert.equal(EXIT_PANIC, 125);
  assert.deepEqual(lines, ["virtus: the guest kernel panicked: VFS: Unable to mount root fs\n"]);
  assert.equal(exitCodeOf({ kind: "reboot" }, w), 0);
  assert.equal(exitCodeOf({ kind: "fail", code: 300 }, w), 255);
  assert.equal(exitCodeOf({ kind: "crashed", message: "boom" }, w), EXIT_VM_CRASHED);
  assert.equal(lines.at(-1), "virtus: the VM crashed: boom\n");
});

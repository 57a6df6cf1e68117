import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate } from "node:timers/promises";
import { nodeHostServices } from "../../src/host/node/services.ts";
import { buildVm } from "../../src/vm/build.ts";
import { parseVmCommand, VmCommandError, type VmEvent } from "../../src/vm/commands.ts";
import { BufferedOutput } from "../../src/vm/console-output.ts";
import { VmRunner } from "../../src/vm/runner.ts";
import { haveCrossGcc } from "../support/cross.ts";
import { ECHO_SPIN, programConfig } from "../support/vm-programs.ts";

const env = {
  yieldNow: () => setImmediate(),
  sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  monotonicMs: () => performance.now(),
};

test("parseVmCommand accepts the vocabulary and names what is wrong with anything else", () => {
  assert.deepEqual(parseVmCommand({ execute: "status" }), { execute: "status" });
  assert.deepEqual(parseVmCommand({ execute: "snapshot", arguments: { file: "/x" } }), {
    execute: "snapshot",
    arguments: { file: "/x" },
  });
  const refuses = (v: unknown, cls: string, msg: RegExp) =>
    assert.throws(
      () => parseVmCommand(v),
      (e) => e instanceof VmCommandError && e.errorClass === cls && msg.test(e.message),
    );
  refuses("status", "InvalidArguments", /expected an object/);
  refuses({}, "InvalidArguments", /"execute"/);
  refuses({ execute: "reboot" }, "CommandNotFound", /"reboot" has not been found/);
  refuses({ execute: "snapshot" }, "InvalidArguments", /snapshot needs "arguments": \{"file": PATH\}/);
  refuses({ execute: "restore", arguments: { file: 3 } }, "InvalidArguments", /restore needs/);
  refuses({ execute: "status", arguments: [] }, "InvalidArguments", /must be an object/);
});

test("in-process: created paused, start, stop releases the VM, start builds a fresh one, quit ends the run", {
  skip: !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed",
}, async () => {
  const config = programConfig("runner", ECHO_SPIN);
  const host = nodeHostServices(() => {});
  let text = "";
  const output = new BufferedOutput((b) => (text += Buffer.from(b).toString("latin1")));
  const events: VmEvent[] = [];
  let builds = 0;
  const build = () => {
    builds++;
    return buildVm(config, host, { console: output });
  };
  const runner = new VmRunner(await build(), {
    env,
    output,
    paused: true,
    onEvent: (e) => events.push(e),
    rebuild: build,
  });
  await setImmediate();
  assert.equal(runner.status().state, "created");
  assert.equal(runner.status().instructions, 0, "nothing runs before start");
  await runner.execute({ execute: "start" });
  while (!text.includes("ready")) await env.sleep(5);
  const first = runner.current;
  await runner.execute({ execute: "stop" });
  assert.equal(runner.state, "stopped");
  await assert.rejects(runner.execute({ execute: "resume" }), /resume: the VM is stopped/);
  await assert.rejects(
    runner.execute({ execute: "snapshot", arguments: { file: "/tmp/x" } }),
    /snapshot: the VM is stopped/,
  );
  await runner.execute({ execute: "start" });
  assert.notEqual(runner.current, first);
  assert.equal(builds, 2);
  while (!text.includes("ready\nready")) await env.sleep(5);
  await runner.execute({ execute: "quit" });
  assert.deepEqual(await runner.done, { kind: "quit" });
  assert.deepEqual(
    events.map((e) => (e.event === "STATE" ? `${e.data.state}:${e.data.reason}` : e.event)),
    ["running:start", "stopped:stop", "running:start"],
  );
});

test("console input beyond inputLimit waits for nobody: it is dropped while the guest does not read, the rest reaches it in order", {
  skip: !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed",
}, async () => {
  const config = programConfig("runner-input", ECHO_SPIN);
  let text = "";
  const output = new BufferedOutput((b) => (text += Buffer.from(b).toString("latin1")));
  const vm = await buildVm(
    config,
    nodeHostServices(() => {}),
    { console: output },
  );
  const runner = new VmRunner(vm, { env, output, paused: true, inputLimit: 10 });
  await setImmediate();
  // Not started: the guest reads nothing, so everything waits in the runner.
  runner.input(Buffer.from("abcdef"));
  runner.input(Buffer.from("ghijkl"));
  runner.input(Buffer.from("mnop"));
  assert.equal(runner.inputDropped, 6, "10 bytes kept, the rest dropped");
  await runner.execute({ execute: "start" });
  while (!text.includes("ready\nabcdefghij")) await env.sleep(5);
  runner.input(Buffer.from("XY")); // room again once the guest took the rest
  while (!text.includes("abcdefghijXY")) await env.sleep(5);
  await runner.execute({ execute: "quit" });
  await runner.done;
  assert.equal(text, "ready\nabcdefghijXY");
});

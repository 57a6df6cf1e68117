/**
 * A VM's profile (src/vm/profile.ts): the `profile NAME` command and its
 * checks, and segments that count what the machine retired in each,
 * blocks and interpreter together, with the sampler's profile summarized.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate } from "node:timers/promises";
import { ctlRequest } from "../../src/cli/ctl.ts";
import { nodeHostServices } from "../../src/host/node/services.ts";
import { buildVm } from "../../src/vm/build.ts";
import { parseVmCommand, VmCommandError } from "../../src/vm/commands.ts";
import { BufferedOutput } from "../../src/vm/console-output.ts";
import type { CpuProfile } from "../../src/vm/cpu-profile.ts";
import { type ProfileSegment, VmProfiler } from "../../src/vm/profile.ts";
import { VmRunner } from "../../src/vm/runner.ts";
import { haveCrossGcc } from "../support/cross.ts";
import { ECHO_SPIN, programConfig } from "../support/vm-programs.ts";

const env = {
  yieldNow: () => setImmediate(),
  sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  monotonicMs: () => performance.now(),
};

test("profile NAME: the command and ctl's arguments are checked", () => {
  assert.deepEqual(parseVmCommand({ execute: "profile", arguments: { name: "gzip" } }), {
    execute: "profile",
    arguments: { name: "gzip" },
  });
  for (const args of [undefined, {}, { name: "" }, { name: "a b" }, { name: "x".repeat(65) }, { name: 3 }])
    assert.throws(
      () => parseVmCommand({ execute: "profile", arguments: args }),
      (e) =>
        e instanceof VmCommandError && e.errorClass === "InvalidArguments" && /profile needs/.test(e.message),
    );
  assert.deepEqual(ctlRequest("profile", ["lua"]), { execute: "profile", arguments: { name: "lua" } });
  assert.throws(() => ctlRequest("profile", []), /ctl profile: give one NAME/);
  assert.throws(() => ctlRequest("profile", ["a", "b"]), /ctl profile: give one NAME/);
  assert.throws(() => ctlRequest("profile", ["a/b"]), /ctl profile: give one NAME/);
});

/**
 * A sampler on a clock that moves 10 ms at each look: its profile, from
 * the first look to the last, is one 1 ms sample of compiled code per ms.
 */
function fakeSampler() {
  let clock = 0;
  let running = false;
  let started = 0;
  return {
    now: () => (clock += 10_000),
    async start() {
      assert.equal(running, false, "started twice");
      running = true;
      started = clock;
    },
    async stop(): Promise<CpuProfile> {
      assert.equal(running, true, "stopped before a start");
      running = false;
      const n = (clock - started) / 1000;
      return {
        nodes: [
          { id: 1, callFrame: { functionName: "(root)", url: "" }, children: [2] },
          { id: 2, callFrame: { functionName: "wasm-function[3]", url: "wasm://wasm/ab" } },
        ],
        startTime: started,
        endTime: clock,
        samples: new Array(n).fill(2),
        timeDeltas: new Array(n).fill(1000),
      };
    },
  };
}

test("segments: each counts its own instructions, blocks plus interpreter, and its time", {
  skip: !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed",
}, async () => {
  const config = programConfig("profile", ECHO_SPIN, { jitHot: 1 });
  let text = "";
  const output = new BufferedOutput((b) => (text += Buffer.from(b).toString("latin1")));
  const profiler = new VmProfiler(() => performance.now(), fakeSampler());
  const host = nodeHostServices(() => {});
  const vm = await buildVm(config, host, { console: output, jitProfile: profiler.jit });
  const runner = new VmRunner(vm, { env, output, profiler });
  await profiler.start(vm.board.machine.retired());
  while (!text.includes("ready")) await env.sleep(5);
  const boot = (await runner.execute({ execute: "profile", arguments: { name: "spin" } })) as ProfileSegment;
  const atMark = vm.board.machine.retired();
  while (vm.board.machine.retired() < atMark + 2_000_000) await env.sleep(5);
  await runner.execute({ execute: "quit" });
  await runner.done;
  const report = await profiler.finish(vm.board.machine.retired());
  assert.deepEqual(
    report.segments.map((s) => s.name),
    ["boot", "spin"],
  );
  assert.equal(report.segments[0], boot);
  const total = report.segments.reduce((a, s) => a + s.retired, 0);
  assert.equal(total, vm.board.machine.retired());
  for (const s of report.segments) {
    assert.equal(s.jit.blockInsns + s.jit.interpInsns, s.retired, `${s.name}: blocks + interpreter`);
    // The sampler ran once; each segment got the samples of its own span (10 ms, one look each end).
    assert.equal(s.cpu?.ms.compiled, 10, `${s.name}: ${JSON.stringify(s.cpu)}`);
  }
  assert.ok(report.segments[1].retired >= 2_000_000);
  // The spin reads the UART's status register each pass: compiled code returns before the MMIO load.
  const spin = report.segments[1].jit;
  assert.ok(spin.blockInsns > 0, "the spin runs compiled");
  assert.ok(spin.exits.memory >= 0.9 * (spin.entries - spin.refused), JSON.stringify(spin.exits));
  // MMIO: the interpreter's load leaves no TLB entry.
  assert.ok(spin.memory.uncached >= 0.9 * spin.exits.memory, JSON.stringify(spin.memory));
});

test("profile without --profile: the runner says how to get one", {
  skip: !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed",
}, async () => {
  const output = new BufferedOutput(() => {});
  const vm = await buildVm(
    programConfig("no-profile", ECHO_SPIN),
    nodeHostServices(() => {}),
    { console: output },
  );
  const runner = new VmRunner(vm, { env, output });
  await assert.rejects(
    runner.execute({ execute: "profile", arguments: { name: "x" } }),
    (e) => e instanceof VmCommandError && e.errorClass === "WrongState" && /--profile FILE/.test(e.message),
  );
  await runner.execute({ execute: "quit" });
  await runner.done;
});

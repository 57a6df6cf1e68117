import assert from "node:assert/strict";
import { test } from "node:test";
import { CpuCap } from "../../src/vm/cpu-cap.ts";

/** A host whose clocks only move when a chunk "runs" or the cap sleeps; timers fire 1 ms late. */
function fakeEnv(withCpuClock: boolean) {
  const env = {
    now: 0,
    cpu: 0,
    slept: 0,
    monotonicMs: () => env.now,
    sleep: async (ms: number) => {
      env.now += ms + 1;
      env.slept += ms + 1;
    },
    cpuMs: withCpuClock ? () => env.cpu : undefined,
  };
  return env;
}

for (const withCpuClock of [false, true])
  test(`a CPU cap of 0.25 keeps a spinning VM at a quarter of the wall-clock time (${withCpuClock ? "thread CPU clock" : "wall-clock chunks"})`, async () => {
    const env = fakeEnv(withCpuClock);
    const cap = new CpuCap(0.25, env);
    let busy = 0;
    for (let i = 0; i < 1000; i++) {
      env.now += 3;
      env.cpu += 3;
      busy += 3;
      await cap.afterChunk(3);
    }
    const share = busy / env.now;
    assert.ok(share > 0.24 && share < 0.26, `share ${share}`);
  });

test("on a loaded host (the thread gets half the wall time it is busy) the CPU clock still grants the full share", async () => {
  const env = fakeEnv(true);
  const cap = new CpuCap(0.25, env);
  for (let i = 0; i < 1000; i++) {
    env.now += 4;
    env.cpu += 2;
    await cap.afterChunk(4);
  }
  const share = env.cpu / env.now;
  assert.ok(share > 0.24 && share < 0.26, `share ${share}`);
});

test("unused allowance is bounded: after a long idle time only a few ms run before the cap sleeps", async () => {
  const env = fakeEnv(true);
  const cap = new CpuCap(0.5, env);
  env.now += 10_000;
  await cap.afterChunk(0);
  env.now += 20;
  env.cpu += 20;
  await cap.afterChunk(20);
  // 20 ms of CPU at half a core: 10 ms earned while it ran, at most 5 ms of credit, 10 ms slept
  // (without the bound, the 10 s idle would have paid for the whole burst).
  assert.equal(env.slept, 11, `slept ${env.slept} ms after a 20 ms burst`);
});

test("no cap for a share of one core or more, or none given", () => {
  const env = fakeEnv(false);
  assert.equal(CpuCap.of(undefined, env), undefined);
  assert.equal(CpuCap.of(1, env), undefined);
  assert.ok(CpuCap.of(0.5, env) instanceof CpuCap);
  assert.throws(() => new CpuCap(0, env), RangeError);
});

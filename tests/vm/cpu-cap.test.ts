import assert from "node:assert/strict";
import { test } from "node:test";
import { CpuCap } from "../../src/vm/cpu-cap.ts";

/** A clock that only moves when the cap sleeps or a chunk "runs". */
function fakeEnv() {
  const env = {
    now: 0,
    slept: 0,
    monotonicMs: () => env.now,
    sleep: async (ms: number) => {
      // A timer fires a little late, as real ones do.
      const late = ms + 1;
      env.now += late;
      env.slept += late;
    },
  };
  return env;
}

test("a CPU cap of 0.25 sleeps three times as long as the VM ran, in steps no finer than a timer", async () => {
  const env = fakeEnv();
  const cap = new CpuCap(0.25, env);
  let busy = 0;
  for (let i = 0; i < 1000; i++) {
    env.now += 2;
    busy += 2;
    await cap.afterChunk(2);
  }
  const share = busy / env.now;
  assert.ok(share > 0.24 && share < 0.26, `share ${share}`);
});

test("oversleeping is credit, but bounded: an idle VM does not save up a long burst", async () => {
  const env = fakeEnv();
  const cap = new CpuCap(0.5, env);
  env.now += 10;
  await cap.afterChunk(10);
  const before = env.slept;
  env.slept = 0;
  // Owed 10 ms, slept 11: 1 ms of credit, so the next 1 ms chunk sleeps nothing.
  assert.equal(before, 11);
  await cap.afterChunk(1);
  assert.equal(env.slept, 0);
});

test("no cap for a share of one core or more, or none given", () => {
  const env = fakeEnv();
  assert.equal(CpuCap.of(undefined, env), undefined);
  assert.equal(CpuCap.of(1, env), undefined);
  assert.ok(CpuCap.of(0.5, env) instanceof CpuCap);
  assert.throws(() => new CpuCap(0, env), RangeError);
});

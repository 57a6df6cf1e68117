import assert from "node:assert/strict";
import { test } from "node:test";
import { configFromFlags, type RunOptions } from "../../src/cli/run.ts";

/** `virtus run --kernel /k` with every other flag at its default. */
const flags: RunOptions = {
  kernel: "/k",
  mem: "64M",
  smp: "1",
  bios: "builtin",
  jit: true,
  disk: [],
  share: [],
  virtioConsole: true,
  rng: true,
  net: "none",
  forward: [],
  reboot: true,
};

test("run --jit-hot N sets the configuration's JIT threshold; without it the JIT keeps its own", async () => {
  assert.equal((await configFromFlags({ ...flags, jitHot: "1" })).jitHot, 1);
  assert.equal((await configFromFlags({ ...flags, jitHot: "250" })).jitHot, 250);
  assert.equal("jitHot" in (await configFromFlags(flags)), false);
});

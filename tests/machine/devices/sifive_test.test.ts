import assert from "node:assert/strict";
import { test } from "node:test";
import { SifiveTest, type TestExit } from "../../../src/machine/devices/sifive_test.ts";
import { StateError } from "../../../src/machine/snapshot/state.ts";
import { assertRoundTrip } from "../../support/roundtrip.ts";

function setup() {
  const exits: TestExit[] = [];
  const dev = new SifiveTest((e) => exits.push(e), 0x10_0000);
  return { dev, exits };
}

test("finisher codes: 0x5555 powers off, 0x7777 reboots, (code << 16) | 0x3333 fails with code", () => {
  const { dev, exits } = setup();
  dev.write(0, 4, 0x5555, 0);
  dev.write(0, 4, 0x7777, 0);
  dev.write(0, 4, (42 << 16) | 0x3333, 0);
  dev.write(0, 4, (0xffff << 16) | 0x3333, 0);
  dev.write(0, 8, 0x5555, 0x1234);
  assert.deepEqual(exits, [
    { kind: "poweroff", code: 0 },
    { kind: "reboot", code: 0 },
    { kind: "fail", code: 42 },
    { kind: "fail", code: 0xffff },
    { kind: "poweroff", code: 0 },
  ]);
});

test("other values, offsets and byte writes do nothing; reads return 0", () => {
  const { dev, exits } = setup();
  dev.write(0, 4, 0x1234, 0);
  dev.write(0, 4, 0x5556, 0);
  dev.write(4, 4, 0x5555, 0);
  dev.write(0, 1, 0x55, 0);
  assert.deepEqual(exits, []);
  dev.write(0, 2, 0x3333 | (7 << 16), 0); // a 16-bit write carries no code
  assert.deepEqual(exits, [{ kind: "fail", code: 0 }]);
  assert.equal(dev.read(0, 4, { hi: 0 }), 0);
  assert.equal(dev.base, 0x10_0000);
});

test("sifive_test state round-trips (it has none) and checks the version", () => {
  assertRoundTrip(
    setup().dev,
    setup().dev,
    (d) => d.saveState(),
    (d, s) => d.restoreState(s),
  );
  assert.throws(() => setup().dev.restoreState({ version: 2 as 1 }), StateError);
});

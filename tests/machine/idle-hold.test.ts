import assert from "node:assert/strict";
import { test } from "node:test";
import { Machine } from "../../src/machine/board/machine.ts";

/** A deterministic machine whose only hart waits for an interrupt it never enables, with a timer deadline at 5000. */
function idleMachine(): Machine {
  const m = new Machine({ ramSize: 1 << 20 });
  m.harts[0].waiting = true;
  m.clint.write(0x4000, 8, 5000, 0); // mtimecmp[0] = 5000
  return m;
}

test("an idle deterministic machine jumps to its next timer deadline when nothing holds it", () => {
  const m = idleMachine();
  assert.equal(m.run(10_000), "idle");
  assert.equal(m.clock.now(), 5000);
});

test("an idle hold keeps deterministic time still; idleFor lets it pass up to the next deadline", () => {
  const m = idleMachine();
  let held = true;
  m.idleHolds.push(() => held);
  assert.equal(m.idleHeld(), true);
  assert.equal(m.run(10_000), "idle");
  assert.equal(m.clock.now(), 0);
  m.idleFor(1234.7);
  assert.equal(m.clock.now(), 1234);
  m.idleFor(1e9); // bounded by the deadline, which the next run serves
  assert.equal(m.clock.now(), 5000);
  held = false;
  assert.equal(m.idleHeld(), false);
});

test("idleFor does nothing on a real-time machine", () => {
  let t = 100;
  const m = new Machine({ ramSize: 1 << 20, clock: { now: () => t } });
  m.idleFor(1000);
  assert.equal(m.clock.now(), 100);
  t = 200;
  assert.equal(m.clock.now(), 200);
});

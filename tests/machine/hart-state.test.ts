import assert from "node:assert/strict";
import { test } from "node:test";
import { Machine } from "../../src/machine/board/machine.ts";
import { S_MSTATUS, S_PRIV } from "../../src/machine/cpu/csr-slots.ts";
import type { Hart } from "../../src/machine/cpu/hart.ts";
import { type HartState, restoreHartState, saveHartState } from "../../src/machine/cpu/hart-state.ts";
import { runSlice } from "../../src/machine/cpu/interpreter.ts";
import { assertRoundTrip } from "../support/roundtrip.ts";

/** Runs exactly n instructions (slices may end early, e.g. on a store into the code page). */
function runExactly(h: Hart, n: number): void {
  const end = h.icount + n;
  while (h.icount < end) runSlice(h, end - h.icount);
}

/** A tiny program: a counting loop with a store, written straight into RAM. */
function machineWithLoop(): Machine {
  const m = new Machine({ ramSize: 1 << 20 });
  const prog = [
    0x00000293, // li t0, 0
    0x06400313, // li t1, 100
    0x00128293, // 1: addi t0, t0, 1
    0x00000417, // auipc s0, 0
    0x10542023, // sw t0, 256(s0)  (offset 0x100)
    0xfe62cae3, // blt t0, t1, 1b
    0x0000006f, // j .
  ];
  const bytes = new Uint8Array(new Int32Array(prog).buffer);
  m.mem.writePhys(0x8000_0000, bytes);
  m.harts[0].setPc(0x8000_0000 | 0, 0);
  return m;
}

test("hart state round-trips through plain data and resumes identically", () => {
  const a = machineWithLoop();
  runExactly(a.harts[0], 57);
  a.harts[0].pmp.writeAddr(0, 0x2000_0000 - 1);
  a.harts[0].pmp.writeCfg(0, 0x1f);
  a.harts[0].f[6] = 0x12345678;
  const b = machineWithLoop();
  const state = assertRoundTrip(a.harts[0], b.harts[0], saveHartState, restoreHartState);
  assert.equal(state.icount, 57);
  // Both continue to the same place.
  b.mem.u8.set(a.mem.u8.subarray(a.mem.ramLinear, a.mem.ramLinear + 4096), b.mem.ramLinear);
  runExactly(a.harts[0], 500);
  runExactly(b.harts[0], 500);
  assert.deepStrictEqual(saveHartState(b.harts[0]), saveHartState(a.harts[0]));
  assert.equal(a.harts[0].x[10], 100); // t0 reached the loop bound
});

test("a corrupt hart state is rejected and changes nothing", () => {
  const m = machineWithLoop();
  runExactly(m.harts[0], 10);
  const good = saveHartState(m.harts[0]);
  const before = saveHartState(m.harts[0]);
  const bad: [string, (s: HartState) => void][] = [
    ["version", (s) => ((s as { version: number }).version = 2)],
    ["short x", (s) => (s.x = new Int32Array(10))],
    ["priv 2", (s) => (s.csr[S_PRIV * 2] = 2)],
    ["pc not a number", (s) => ((s as unknown as { pcLo: string }).pcLo = "0")],
    ["pmp cfg 300", (s) => (s.pmpCfg[3] = 300)],
    ["H extension on a hart without it", (s) => (s.hExt = true)],
  ];
  for (const [name, corrupt] of bad) {
    const s = structuredClone(good);
    s.csr[S_MSTATUS * 2] ^= 0x8; // a change that must not leak in
    corrupt(s);
    assert.throws(() => restoreHartState(m.harts[0], s), /hart 0 state/, name);
    assert.deepStrictEqual(saveHartState(m.harts[0]), before, name);
  }
});

test("Machine.run returns even when a hart only traps and never retires an instruction", () => {
  const m = new Machine({ ramSize: 1 << 20 });
  // pc and mtvec at an address with no memory: every fetch faults into a vector that faults again.
  m.harts[0].setPc(0x1000, 0);
  assert.equal(m.run(100_000), "budget");
  assert.equal(m.retired(), 0);
});

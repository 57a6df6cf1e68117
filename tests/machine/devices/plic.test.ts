import assert from "node:assert/strict";
import { test } from "node:test";
import { Machine } from "../../../src/machine/board/machine.ts";
import { MIP_MEIP, MIP_SEIP } from "../../../src/machine/cpu/constants.ts";
import { PLIC_NDEV, Plic, type PlicState } from "../../../src/machine/devices/plic.ts";
import { StateError } from "../../../src/machine/snapshot/state.ts";
import { assertRoundTrip } from "../../support/roundtrip.ts";

/** Records the lines a context drives, like a hart's mip hardware bits. */
class FakeHart {
  mip = 0;
  calls = 0;
  setIrqLine(mask: number, level: boolean): void {
    this.calls++;
    this.mip = level ? this.mip | mask : this.mip & ~mask;
  }
}

const res = { hi: 0 };
const r32 = (p: Plic, off: number) => p.read(off, 4, res) >>> 0;
const w32 = (p: Plic, off: number, v: number) => p.write(off, 4, v, 0);
const prio = (p: Plic, id: number, v: number) => w32(p, 4 * id, v);
const enable = (p: Plic, ctx: number, id: number, on = true) => {
  const off = 0x2000 + 0x80 * ctx + 4 * (id >> 5);
  const cur = r32(p, off);
  w32(p, off, on ? cur | (1 << (id & 31)) : cur & ~(1 << (id & 31)));
};
const threshold = (p: Plic, ctx: number, v: number) => w32(p, 0x20_0000 + 0x1000 * ctx, v);
const claim = (p: Plic, ctx: number) => r32(p, 0x20_0004 + 0x1000 * ctx);
const complete = (p: Plic, ctx: number, id: number) => w32(p, 0x20_0004 + 0x1000 * ctx, id);

function setup(harts = 2): { p: Plic; h: FakeHart[] } {
  const h = Array.from({ length: harts }, () => new FakeHart());
  return { p: new Plic(h, 0x0c00_0000), h };
}

test("priority registers keep 3 bits; source 0 and sources beyond riscv,ndev read 0", () => {
  const { p } = setup();
  prio(p, 1, 0xff);
  assert.equal(r32(p, 4), 7);
  prio(p, PLIC_NDEV, 5);
  assert.equal(r32(p, 4 * PLIC_NDEV), 5);
  prio(p, 0, 3);
  assert.equal(r32(p, 0), 0);
  prio(p, PLIC_NDEV + 1, 3);
  assert.equal(r32(p, 4 * (PLIC_NDEV + 1)), 0);
  // Enable bit 0 (source 0) is hardwired to zero.
  w32(p, 0x2000, 0xffff_ffff);
  assert.equal(r32(p, 0x2000), 0xffff_fffe);
  assert.throws(() => p.line(0), RangeError);
  assert.throws(() => p.line(PLIC_NDEV + 1), RangeError);
});

test("a source drives only the contexts that enable it: context 2i = M (MEIP), 2i+1 = S (SEIP)", () => {
  const { p, h } = setup();
  prio(p, 10, 1);
  p.line(10).set(true);
  assert.equal(r32(p, 0x1000) & (1 << 10), 1 << 10, "pending bit set");
  assert.equal(h[0].mip | h[1].mip, 0, "nothing enabled yet");
  enable(p, 1, 10); // hart 0, S-mode
  assert.equal(h[0].mip, MIP_SEIP);
  enable(p, 2, 10); // hart 1, M-mode
  assert.equal(h[1].mip, MIP_MEIP);
  enable(p, 1, 10, false);
  assert.equal(h[0].mip, 0);
  // A line that drops before the claim takes its pending bit with it (level-triggered).
  p.line(10).set(false);
  assert.equal(r32(p, 0x1000), 0);
  assert.equal(h[1].mip, 0);
});

test("priority 0 never interrupts, and the threshold masks priorities at or below it", () => {
  const { p, h } = setup(1);
  enable(p, 1, 5);
  p.line(5).set(true);
  assert.equal(h[0].mip, 0, "priority 0 means never");
  prio(p, 5, 3);
  assert.equal(h[0].mip, MIP_SEIP);
  threshold(p, 1, 3);
  assert.equal(h[0].mip, 0, "priority must exceed the threshold");
  assert.equal(claim(p, 1), 0, "claim finds nothing above the threshold");
  threshold(p, 1, 2);
  assert.equal(h[0].mip, MIP_SEIP);
  assert.equal(r32(p, 0x20_1000), 2, "threshold reads back");
});

test("claim returns the highest priority, lowest id on ties, and holds the source until complete", () => {
  const { p, h } = setup(1);
  for (const [id, pr] of [
    [3, 2],
    [7, 5],
    [40, 5],
    [90, 1],
  ]) {
    prio(p, id, pr);
    enable(p, 1, id);
    p.line(id).set(true);
  }
  assert.equal(claim(p, 1), 7);
  assert.equal(r32(p, 0x1000) & (1 << 7), 0, "claim clears the pending bit");
  assert.equal(claim(p, 1), 40, "7 is held while claimed");
  assert.equal(claim(p, 1), 3);
  assert.equal(h[0].mip, MIP_SEIP, "90 still pending");
  assert.equal(claim(p, 1), 90);
  assert.equal(h[0].mip, 0, "all claimed: the line drops");
  assert.equal(claim(p, 1), 0);
  // Completing a source whose line is still high makes it pending again.
  complete(p, 1, 7);
  assert.equal(h[0].mip, MIP_SEIP);
  assert.equal(claim(p, 1), 7);
  // A line that dropped while claimed is not pending after complete.
  p.line(40).set(false);
  complete(p, 1, 40);
  assert.equal(r32(p, 0x1000 + 4) & (1 << 8), 0);
  // Complete from a context that does not enable the source is ignored (PLIC spec ch. 9).
  complete(p, 0, 3);
  assert.equal(claim(p, 1), 0, "3, 7 and 90 are still claimed");
  complete(p, 1, 3);
  assert.equal(claim(p, 1), 3);
});

test("a line raised while its source is claimed is delivered after complete", () => {
  const { p, h } = setup(1);
  prio(p, 10, 1);
  enable(p, 1, 10);
  p.line(10).set(true);
  assert.equal(claim(p, 1), 10);
  p.line(10).set(false);
  p.line(10).set(true);
  assert.equal(h[0].mip, 0, "held by the gateway");
  complete(p, 1, 10);
  assert.equal(h[0].mip, MIP_SEIP);
});

test("the PLIC drives a real hart's mip through setIrqLine", () => {
  const m = new Machine({ ramSize: 1 << 20, harts: 2 });
  const p = new Plic(m.harts, 0x0c00_0000);
  prio(p, 1, 1);
  enable(p, 0, 1);
  enable(p, 3, 1);
  p.line(1).set(true);
  assert.equal(m.harts[0].mip() & (MIP_MEIP | MIP_SEIP), MIP_MEIP);
  assert.equal(m.harts[1].mip() & (MIP_MEIP | MIP_SEIP), MIP_SEIP);
  assert.equal(claim(p, 0), 1);
  assert.equal(m.harts[0].mip() & MIP_MEIP, 0);
});

test("8-byte accesses are two 32-bit ones; narrow accesses are ignored", () => {
  const { p } = setup(1);
  p.write(0x4, 8, 3, 6); // priorities 1 and 2
  assert.equal(r32(p, 4), 3);
  assert.equal(r32(p, 8), 6);
  const r = { hi: 0 };
  assert.equal(p.read(4, 8, r), 3);
  assert.equal(r.hi, 6);
  p.write(4, 1, 1, 0);
  assert.equal(r32(p, 4), 3);
  assert.equal(p.read(4, 2, r), 0);
  // Pending is read-only.
  w32(p, 0x1000, 0xffff_ffff);
  assert.equal(r32(p, 0x1000), 0);
});

test("an idle PLIC does not touch the harts on every update", () => {
  const { p, h } = setup(1);
  prio(p, 2, 1);
  enable(p, 1, 2);
  const before = h[0].calls;
  for (let i = 0; i < 5; i++) prio(p, 3, i);
  assert.equal(h[0].calls, before);
});

test("PLIC state round-trips and restore re-drives the hart lines", () => {
  const a = setup(2);
  for (const id of [1, 10, 33, 96]) {
    prio(a.p, id, id % 7);
    enable(a.p, 1, id);
    enable(a.p, 2, id);
    a.p.line(id).set(true);
  }
  threshold(a.p, 2, 4);
  assert.equal(claim(a.p, 1), 33);
  const b = setup(2);
  const s = assertRoundTrip(
    a.p,
    b.p,
    (p) => p.saveState(),
    (p, st) => p.restoreState(st),
  );
  assert.deepEqual(b.h[0].mip, a.h[0].mip);
  assert.deepEqual(b.h[1].mip, a.h[1].mip);
  assert.equal(claim(b.p, 1), claim(a.p, 1));

  const bad = (f: (st: PlicState) => void) => {
    const st = structuredClone(s);
    f(st);
    assert.throws(() => setup(2).p.restoreState(st), StateError);
  };
  bad((st) => {
    st.version = 2 as 1;
  });
  bad((st) => {
    st.contexts = 2;
  });
  bad((st) => {
    st.priority[1] = 8;
  });
  bad((st) => {
    st.enable = new Int32Array(3);
  });
  bad((st) => {
    st.pending[3] |= 1 << 5; // source 101 does not exist
  });
  bad((st) => {
    st.claimed[0] |= st.pending[0] & -st.pending[0];
  });
  assert.throws(() => setup(1).p.restoreState(s), StateError, "a 2-hart state does not fit a 1-hart PLIC");
});

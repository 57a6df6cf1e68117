import assert from "node:assert/strict";
import { test } from "node:test";
import { virtioSlotBase } from "../../../src/machine/board/memory-map.ts";
import { StateError } from "../../../src/machine/snapshot/state.ts";
import { EmptyVirtioSlot } from "../../../src/machine/virtio/empty-slot.ts";
import { assertRoundTrip } from "../../support/roundtrip.ts";

test("an empty virtio-mmio slot answers magic, version 2, device ID 0 and the QEMU vendor ID", () => {
  const s = new EmptyVirtioSlot(virtioSlotBase(3), 4);
  const r = { hi: 0 };
  const rd = (off: number) => s.read(off, 4, r) >>> 0;
  assert.equal(rd(0x000), 0x7472_6976); // "virt"
  assert.equal(rd(0x004), 2);
  assert.equal(rd(0x008), 0);
  assert.equal(rd(0x00c), 0x554d_4551); // "QEMU"
  for (const off of [0x010, 0x034, 0x070, 0x0fc, 0x100, 0xffc])
    assert.equal(rd(off), 0, `0x${off.toString(16)}`);
  // Writes change nothing (a driver that ignores device ID 0 and writes Status anyway).
  s.write(0x070, 4, 0xff, 0);
  s.write(0x000, 4, 0, 0);
  assert.equal(rd(0x070), 0);
  assert.equal(rd(0x000), 0x7472_6976);
  // 64-bit read of magic + version; narrow reads see 0.
  assert.equal(s.read(0, 8, r) >>> 0, 0x7472_6976);
  assert.equal(r.hi, 2);
  assert.equal(s.read(0, 1, r), 0);
  assert.equal(s.base, 0x1000_4000);
  assert.equal(s.irqNumber, 4);
});

test("empty slot state round-trips (it has none) and checks the version", () => {
  const mk = () => new EmptyVirtioSlot(virtioSlotBase(0), 1);
  assertRoundTrip(
    mk(),
    mk(),
    (d) => d.saveState(),
    (d, s) => d.restoreState(s),
  );
  assert.throws(() => mk().restoreState({ version: 3 as 1 }), StateError);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { plainCodec } from "../../../src/formats/snapshot/codec.ts";
import { decodeSnapshotFile, encodeSnapshotFile } from "../../../src/formats/snapshot/file.ts";
import { nodeSnapshotCodec } from "../../../src/host/node/snapshot-file.ts";
import { VirtMachine } from "../../../src/machine/board/virt.ts";
import type { MmioDevice } from "../../../src/machine/bus/mmio.ts";
import { restoreVm, saveVm } from "../../../src/machine/snapshot/machine-snapshot.ts";
import { StateError } from "../../../src/machine/snapshot/state.ts";
import { equippedBoard, useBoard } from "../../support/equipped-board.ts";

/** The snapshot with RAM copied, so it can be compared after the machine moves on. */
function snap(vm: VirtMachine) {
  return saveVm(vm, { copyRam: true });
}

test("every component of a fully equipped board survives save -> restore into a fresh board -> save", () => {
  const a = equippedBoard();
  useBoard(a);
  const first = snap(a);
  const b = equippedBoard();
  restoreVm(b, structuredClone(first));
  const second = snap(b);
  assert.deepStrictEqual(second.components, first.components);
  assert.ok(Buffer.from(second.ram as Uint8Array).equals(first.ram as Uint8Array), "RAM differs");
  // The names are the contract between files and boards.
  assert.deepEqual(
    first.components.map((c) => c.name),
    ["hart0", "hart1", "time", "clint", "plic", "uart", "rtc", "test"]
      .concat([0, 1, 2, 3, 4, 5, 6, 7].map((n) => `virtio${n}`))
      .concat(["sbi"]),
  );
});

test("the board lists every device it holds: anything on the bus or with state is a component", () => {
  const vm = equippedBoard();
  const listed = new Set<unknown>(vm.components.map((c) => c.state));
  for (const map of vm.machine.bus.mappings)
    assert.ok(listed.has(map.device), `${map.device.name} has no state`);
  // Devices the board or the machine hold as fields must be listed too (a device added beside the list fails here).
  for (const holder of [vm, vm.machine] as unknown as Record<string, unknown>[]) {
    for (const [key, v] of Object.entries(holder)) {
      const hasState = typeof (v as { saveState?: unknown } | null)?.saveState === "function";
      const onBus = typeof (v as MmioDevice | null)?.read === "function";
      if (hasState || onBus) assert.ok(listed.has(v), `${key} is not among the board's components`);
    }
  }
  assert.ok(listed.has(vm.sbi));
});

test("a virtio slot device without state does not compile", () => {
  const plain: MmioDevice = { name: "stateless", read: () => 0, write: () => {} };
  // @ts-expect-error — a slot device must implement Stateful (the board saves it)
  const vm = new VirtMachine({ ramSize: 1 << 20, virtio: [() => plain] });
  assert.equal(vm.virtio[0], plain);
});

test("a snapshot is refused by a board with other harts, devices or RAM, before anything is loaded", () => {
  const a = equippedBoard();
  useBoard(a);
  const s = snap(a);
  assert.throws(() => restoreVm(equippedBoard({ harts: 1 }), s), StateError);
  assert.throws(() => restoreVm(equippedBoard({ ramSize: 8 << 20 }), s), /RAM/);
  const bare = new VirtMachine({ ramSize: 4 << 20, harts: 2 });
  assert.throws(() => restoreVm(bare, s), /restore with the configuration/);
  assert.throws(() => restoreVm(equippedBoard(), { ...s, model: 99 }), /machine model 99/);
  assert.throws(
    () => restoreVm(equippedBoard(), { ...s, layout: s.layout.replace("S_MIP=12", "S_MIP=40") }),
    /other CSRs/,
  );
});

for (const codec of [plainCodec, nodeSnapshotCodec]) {
  test(`a snapshot file (${codec.name}) restores the same machine`, () => {
    const a = equippedBoard();
    useBoard(a);
    const first = snap(a);
    const parts = encodeSnapshotFile(first, { config: { note: "test" }, disks: [] }, codec);
    const bytes = Buffer.concat(parts);
    const decoded = decodeSnapshotFile(bytes, codec);
    assert.deepEqual(decoded.meta, { config: { note: "test" }, disks: [] });
    const b = equippedBoard();
    restoreVm(b, decoded.snapshot);
    const second = snap(b);
    assert.deepStrictEqual(second.components, first.components);
    assert.ok(Buffer.from(second.ram as Uint8Array).equals(first.ram as Uint8Array), "RAM differs");
    assert.ok(decoded.info.ramStoredPages < (4 << 20) / 4096, "zero pages are elided");
  });
}

test("a restored machine runs on exactly as the original", () => {
  const a = equippedBoard();
  useBoard(a);
  const b = equippedBoard();
  restoreVm(b, snap(a));
  a.machine.run(12_345);
  b.machine.run(12_345);
  const sa = snap(a);
  const sb = snap(b);
  assert.deepStrictEqual(sb.components, sa.components);
  assert.ok(Buffer.from(sb.ram as Uint8Array).equals(sa.ram as Uint8Array));
});

test("guest time goes on from the snapshot: real time through an offset, deterministic through idle ticks", () => {
  const hostA = 5_000_000;
  const a = new VirtMachine({ ramSize: 1 << 20, clock: { now: () => hostA } });
  a.machine.clint.write(0x4000, 8, 5_000_100, 0); // mtimecmp just ahead
  const s = snap(a);
  let hostB = 42;
  const b = new VirtMachine({ ramSize: 1 << 20, clock: { now: () => hostB } });
  restoreVm(b, structuredClone(s));
  assert.equal(b.machine.clock.now(), 5_000_000, "time reads the saved mtime right after the restore");
  hostB += 150;
  assert.equal(b.machine.clock.now(), 5_000_150, "and advances with the host clock");
  b.machine.updateTimers();
  assert.ok(b.machine.harts[0].mip() & 0x80, "the deadline saved in the CLINT fires at the saved time");

  // A real-time snapshot restored into a deterministic machine (and back) keeps the time too.
  const d = new VirtMachine({ ramSize: 1 << 20 });
  restoreVm(d, structuredClone(s));
  assert.equal(d.machine.clock.now(), 5_000_000);
  const e = new VirtMachine({ ramSize: 1 << 20 });
  restoreVm(e, snap(d));
  assert.equal(e.machine.clock.now(), 5_000_000);
});

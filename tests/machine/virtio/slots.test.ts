import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtMachine } from "../../../src/machine/board/virt.ts";
import {
  assignVirtioSlots,
  describeVirtioSlots,
  VIRTIO_SLOT_ORDER,
  type VirtioKind,
  type VirtioPlacement,
} from "../../../src/machine/board/virtio-slots.ts";
import { VirtusError } from "../../../src/machine/errors.ts";
import { MemoryBlockBackend, VirtioBlk } from "../../../src/machine/virtio/blk.ts";
import { VirtioConsole } from "../../../src/machine/virtio/console.ts";
import { EmptyVirtioSlot } from "../../../src/machine/virtio/empty-slot.ts";
import { VirtioMmio, virtioMmio } from "../../../src/machine/virtio/mmio.ts";
import { SeededEntropy, VirtioRng } from "../../../src/machine/virtio/rng.ts";

const stub = (kind: VirtioKind, what: string): VirtioPlacement => ({
  kind,
  what,
  make: (slot) => new EmptyVirtioSlot(slot.base, slot.irqNumber),
});

test("slot order is disks, network, shares, console, rng; command-line order within a kind", () => {
  assert.deepEqual(VIRTIO_SLOT_ORDER, ["disk", "net", "share", "console", "rng"]);
  const lines = describeVirtioSlots([
    stub("rng", "virtio-rng"),
    stub("console", "virtio-console"),
    stub("share", "--share a:x"),
    stub("disk", "--disk a.img"),
    stub("net", "--net user"),
    stub("disk", "--disk b.img"),
    stub("share", "--share b:y"),
  ]);
  assert.deepEqual(lines, [
    "slot 0 @ 0x10001000 irq 1: --disk a.img",
    "slot 1 @ 0x10002000 irq 2: --disk b.img",
    "slot 2 @ 0x10003000 irq 3: --net user",
    "slot 3 @ 0x10004000 irq 4: --share a:x",
    "slot 4 @ 0x10005000 irq 5: --share b:y",
    "slot 5 @ 0x10006000 irq 6: virtio-console",
    "slot 6 @ 0x10007000 irq 7: virtio-rng",
  ]);
});

test("more than 8 virtio devices is a one-line VirtusError naming them", () => {
  const many = Array.from({ length: 9 }, (_, i) => stub("disk", `--disk d${i}.img`));
  assert.throws(
    () => assignVirtioSlots(many),
    (e: unknown) =>
      e instanceof VirtusError &&
      /9 virtio devices \(--disk d0\.img, .*\) but the virt board has 8/.test(e.message),
  );
});

test("devices land in their slots on the virt board's bus with their own interrupt line", () => {
  const vm = new VirtMachine({
    ramSize: 1 << 20,
    virtio: assignVirtioSlots([
      { kind: "rng", what: "rng", make: virtioMmio(() => new VirtioRng(new SeededEntropy())) },
      { kind: "console", what: "console", make: virtioMmio(() => new VirtioConsole()) },
      {
        kind: "disk",
        what: "disk",
        make: virtioMmio(() => new VirtioBlk(new MemoryBlockBackend(new Uint8Array(4096)))),
      },
    ]),
  });
  const res = { hi: 0 };
  const id = (n: number) => {
    const m = vm.machine.bus.find(0x1000_1000 + n * 0x1000, 4);
    assert.ok(m);
    return m.device.read(0x008, 4, res);
  };
  assert.deepEqual([0, 1, 2, 3].map(id), [2, 3, 4, 0]);
  assert.ok(vm.virtio[0] instanceof VirtioMmio);
  assert.equal((vm.virtio[0] as VirtioMmio).device.name, "virtio-blk");
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_SLICE } from "../../../src/machine/board/machine.ts";
import { type VirtioSlotDevice, VirtMachine } from "../../../src/machine/board/virt.ts";
import { MIP_MEIP, MIP_SEIP } from "../../../src/machine/cpu/constants.ts";
import type { TestExit } from "../../../src/machine/devices/sifive_test.ts";
import { assertRoundTrip } from "../../support/roundtrip.ts";

class Sink {
  text = "";
  write(d: Uint8Array) {
    this.text += String.fromCharCode(...d);
  }
}

function load(vm: VirtMachine, words: number[]): void {
  vm.machine.mem.writePhys(0x8000_0000, new Uint8Array(new Int32Array(words).buffer));
  for (const h of vm.machine.harts) h.setPc(0x8000_0000 | 0, 0);
}

/** Bus access as the hart does it: find the mapping, device-relative offset. */
function busRead(vm: VirtMachine, pa: number, size = 4): number {
  const m = vm.machine.bus.find(pa, size);
  assert.ok(m, `nothing mapped at 0x${pa.toString(16)}`);
  return m.device.read(pa - m.base, size, vm.machine.bus.res) >>> 0;
}
function busWrite(vm: VirtMachine, pa: number, v: number, size = 4): void {
  const m = vm.machine.bus.find(pa, size);
  assert.ok(m, `nothing mapped at 0x${pa.toString(16)}`);
  m.device.write(pa - m.base, size, v, 0);
}

test("a guest prints through the UART and powers off through sifive_test: run() stops, exit is reported", () => {
  const out = new Sink();
  const exits: TestExit[] = [];
  const vm = new VirtMachine({ ramSize: 1 << 20, console: out, onExit: (e) => exits.push(e) });
  load(vm, [
    0x100002b7, // lui  t0, 0x10000      t0 = UART
    0x04800313, // li   t1, 'H'
    0x00628023, // sb   t1, 0(t0)
    0x06900313, // li   t1, 'i'
    0x00628023, // sb   t1, 0(t0)
    0x001002b7, // lui  t0, 0x100        t0 = sifive_test
    0x00005337, // lui  t1, 0x5
    0x55530313, // addi t1, t1, 0x555    t1 = 0x5555
    0x0062a023, // sw   t1, 0(t0)
    0x0000006f, // j    .
  ]);
  assert.equal(vm.machine.run(1_000_000), "stopped");
  assert.equal(out.text, "Hi");
  assert.deepEqual(exits, [{ kind: "poweroff", code: 0 }]);
  assert.deepEqual(vm.exit, { kind: "poweroff", code: 0 });
});

test("every device sits at its QEMU virt address", () => {
  const vm = new VirtMachine({ ramSize: 1 << 20, harts: 2 });
  const at = (pa: number) => vm.machine.bus.find(pa, 4)?.device;
  assert.equal(at(0x0200_0000), vm.machine.clint);
  assert.equal(at(0x0c00_0000), vm.plic);
  assert.equal(at(0x0c5f_fffc), vm.plic);
  assert.equal(at(0x1000_0000), vm.uart);
  assert.equal(at(0x0010_0000), vm.test);
  assert.equal(at(0x0010_1000), vm.rtc);
  for (let n = 0; n < 8; n++) {
    assert.equal(at(0x1000_1000 + n * 0x1000), vm.virtio[n]);
    assert.equal(busRead(vm, 0x1000_1000 + n * 0x1000), 0x7472_6976);
  }
  assert.equal(at(0x1000_9000), undefined);
});

test("UART input reaches hart 1's SEIP through the PLIC, and claim/complete clears it", () => {
  const vm = new VirtMachine({ ramSize: 1 << 20, harts: 2 });
  const h1 = vm.machine.harts[1];
  busWrite(vm, 0x0c00_0000 + 4 * 10, 1); // priority of source 10
  busWrite(vm, 0x0c00_2000 + 0x80 * 3, 1 << 10); // context 3 = hart 1 S-mode
  busWrite(vm, 0x1000_0001, 0x01, 1); // UART IER: received data
  vm.receive(new TextEncoder().encode("k"));
  assert.equal(h1.mip() & (MIP_SEIP | MIP_MEIP), MIP_SEIP);
  assert.equal(vm.machine.harts[0].mip() & (MIP_SEIP | MIP_MEIP), 0);
  assert.equal(busRead(vm, 0x0c20_3004), 10, "claim");
  assert.equal(h1.mip() & MIP_SEIP, 0);
  assert.equal(busRead(vm, 0x1000_0000, 1), "k".charCodeAt(0));
  busWrite(vm, 0x0c20_3004, 10); // complete: the UART line is low now
  assert.equal(h1.mip() & MIP_SEIP, 0);
});

test("the RTC alarm is polled by the machine loop", () => {
  let ms = 5000;
  const vm = new VirtMachine({ ramSize: 1 << 20, wallClock: { nowMs: () => ms } });
  busWrite(vm, 0x0c00_0000 + 4 * 11, 1);
  busWrite(vm, 0x0c00_2000, 1 << 11); // context 0 = hart 0 M-mode
  busWrite(vm, 0x0010_1010, 1); // IRQ_ENABLED
  busWrite(vm, 0x0010_100c, 1); // ALARM_HIGH: 2^32 ns ≈ 4.29 s
  busWrite(vm, 0x0010_1008, 0); // ALARM_LOW (arms)
  assert.equal(vm.machine.harts[0].mip() & MIP_MEIP, MIP_MEIP, "5 s is past the alarm: fires at once");
  busWrite(vm, 0x0010_101c, 1);
  busWrite(vm, 0x0010_100c, 2); // ≈ 8.59 s
  busWrite(vm, 0x0010_1008, 0);
  assert.equal(vm.machine.harts[0].mip() & MIP_MEIP, 0);
  load(vm, [0x0000006f]); // j .
  ms = 9000;
  vm.machine.run(MAX_SLICE + 10); // a lone hart's slice ends by then, and the round's pollers run
  assert.equal(vm.machine.harts[0].mip() & MIP_MEIP, MIP_MEIP);
});

test("deterministic machines get a deterministic RTC: the epoch plus mtime", () => {
  const vm = new VirtMachine({ ramSize: 1 << 20 });
  load(vm, [0x0000006f]);
  vm.machine.run(100_000);
  const ticks = vm.machine.clock.now();
  assert.ok(ticks > 0);
  assert.equal(busRead(vm, 0x0010_1000), ticks * 100); // 10 MHz timebase: 100 ns per tick
  assert.equal(busRead(vm, 0x0010_1004), 0);
});

test("virtio factories get their slot, line and IRQ; the other slots stay empty", () => {
  const seen: number[] = [];
  const dev: VirtioSlotDevice = {
    name: "fake-virtio",
    read: () => 0xabcd,
    write: () => {},
    saveState: () => ({ version: 1 }),
    restoreState: () => {},
  };
  const vm = new VirtMachine({
    ramSize: 1 << 20,
    virtio: [
      undefined,
      (slot) => {
        seen.push(slot.index, slot.base, slot.irqNumber, slot.size);
        slot.irq.set(true);
        return dev;
      },
    ],
  });
  assert.deepEqual(seen, [1, 0x1000_2000, 2, 0x1000]);
  assert.equal(vm.virtio[1], dev);
  assert.equal(busRead(vm, 0x1000_2000), 0xabcd);
  assert.equal(busRead(vm, 0x1000_1000), 0x7472_6976);
  assert.equal(busRead(vm, 0x0c00_1000) & (1 << 2), 1 << 2, "source 2 pending");
  assert.throws(
    () => new VirtMachine({ ramSize: 1 << 20, virtio: new Array(9).fill(undefined) }),
    RangeError,
  );
  assert.throws(() => new VirtMachine({ ramSize: 1 << 20, harts: 9 }), RangeError);
});

test("the board's device state round-trips as one record", () => {
  const mk = () => new VirtMachine({ ramSize: 1 << 20, harts: 2, wallClock: { nowMs: () => 1e12 } });
  const a = mk();
  busWrite(a, 0x0c00_0000 + 4 * 10, 3);
  busWrite(a, 0x0c00_2080, 1 << 10);
  busWrite(a, 0x1000_0002, 0x07, 1);
  busWrite(a, 0x1000_0001, 0x01, 1);
  a.receive(new TextEncoder().encode("state"));
  busWrite(a, 0x0010_1010, 1);
  const b = mk();
  assertRoundTrip(
    a,
    b,
    (vm) => vm.saveComponents(),
    (vm, s) => vm.restoreComponents(s),
  );
  assert.equal(b.machine.harts[0].mip() & MIP_SEIP, MIP_SEIP);
  assert.equal(busRead(b, 0x1000_0000, 1), "s".charCodeAt(0));
});

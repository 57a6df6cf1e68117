import assert from "node:assert/strict";
import { test } from "node:test";
import { GuestMemory } from "../../../src/machine/memory/guest-memory.ts";
import { StateError } from "../../../src/machine/snapshot/state.ts";
import {
  readConfigBytes,
  VIRTIO_STATUS_ACKNOWLEDGE,
  VIRTIO_STATUS_DEVICE_NEEDS_RESET,
  VIRTIO_STATUS_DRIVER,
  VIRTIO_STATUS_DRIVER_OK,
  VIRTIO_STATUS_FEATURES_OK,
  type VirtioContext,
  type VirtioDevice,
  type VirtioDeviceState,
} from "../../../src/machine/virtio/device.ts";
import * as R from "../../../src/machine/virtio/mmio.ts";
import { VirtioMmio } from "../../../src/machine/virtio/mmio.ts";
import { DescriptorChain } from "../../../src/machine/virtio/queue.ts";
import { MockMmioDriver, TestIrq } from "../../support/mock-driver.ts";
import { assertRoundTrip } from "../../support/roundtrip.ts";

interface EchoState extends VirtioDeviceState {
  version: 1;
  echoed: number;
}

/** A test device: two queues; queue 0 echoes its readable bytes into the writable part. */
class EchoDevice implements VirtioDevice {
  readonly name = "echo";
  readonly deviceId = 42;
  readonly featuresLo = 1 << 3;
  readonly featuresHi = 1 << 3; // bit 35
  readonly queueSizes = [8, 16];
  readonly configSize = 6;
  readonly config = Uint8Array.from([1, 2, 3, 4, 5, 6]);
  ctx!: VirtioContext;
  calls: string[] = [];
  echoed = 0;
  veto = false;
  private chain: DescriptorChain | undefined;
  readConfig(off: number, size: number): number {
    return readConfigBytes(this.config, off, size);
  }
  writeConfig(off: number, size: number, value: number): void {
    this.calls.push(`writeConfig ${off} ${size} ${value}`);
  }
  attach(ctx: VirtioContext): void {
    this.ctx = ctx;
    this.chain = new DescriptorChain(ctx.mem);
  }
  acceptFeatures(lo: number, hi: number): boolean {
    this.calls.push(`accept ${lo} ${hi}`);
    return !this.veto;
  }
  activate(): void {
    this.calls.push("activate");
  }
  queueNotify(q: number): void {
    this.calls.push(`notify ${q}`);
    const vq = this.ctx.queues[q];
    const c = this.chain!;
    const buf = new Uint8Array(64);
    while (vq.pop(c)) {
      const n = c.copyFromReadable(0, buf);
      vq.push(c, c.copyToWritable(0, buf, 0, n));
      this.echoed++;
    }
    vq.notify();
  }
  reset(): void {
    this.calls.push("reset");
    this.echoed = 0;
  }
  saveState(): EchoState {
    return { version: 1, echoed: this.echoed };
  }
  restoreState(s: EchoState): void {
    this.echoed = s.echoed;
  }
}

function setup(mem = new GuestMemory(1 << 20)) {
  const irq = new TestIrq();
  const dev = new EchoDevice();
  const logs: string[] = [];
  const t = new VirtioMmio(dev, { mem, irq, log: (m) => logs.push(m) });
  const drv = new MockMmioDriver(t, mem);
  return { mem, irq, dev, t, drv, logs };
}

const S_ALL =
  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;

test("identification registers, feature words, queue sizes and configuration space", () => {
  const { drv, t, dev } = setup();
  assert.equal(drv.read(R.REG_MAGIC_VALUE), 0x7472_6976);
  assert.equal(drv.read(R.REG_VERSION), 2);
  assert.equal(drv.read(R.REG_DEVICE_ID), 42);
  assert.equal(drv.read(R.REG_VENDOR_ID), 0x554d_4551);
  // bit 3 from the device, 28 (INDIRECT_DESC) and 29 (EVENT_IDX) from the transport; bit 32 VERSION_1 and 35.
  assert.deepEqual(drv.deviceFeatures(), [(1 << 3) | (1 << 28) | (1 << 29), 0b1001]);
  drv.write(R.REG_DEVICE_FEATURES_SEL, 2);
  assert.equal(drv.read(R.REG_DEVICE_FEATURES), 0);
  for (const [q, max] of [
    [0, 8],
    [1, 16],
    [2, 0],
    [0xffff_ffff, 0],
  ]) {
    drv.write(R.REG_QUEUE_SEL, q);
    assert.equal(drv.read(R.REG_QUEUE_NUM_MAX), max);
    assert.equal(drv.read(R.REG_QUEUE_READY), 0);
  }
  assert.equal(drv.read(R.REG_SHM_LEN_LOW), 0xffff_ffff);
  assert.equal(drv.read(R.REG_SHM_BASE_HIGH), 0xffff_ffff);
  assert.equal(drv.read(R.REG_STATUS), 0);
  assert.equal(drv.read(R.REG_CONFIG_GENERATION), 0);
  // Configuration space: 1/2/4-byte little-endian reads, bounds-checked, 8 as two halves.
  assert.equal(drv.config(0, 1), 1);
  assert.equal(drv.config(1, 2), 0x0302);
  assert.equal(drv.config(2, 4), 0x0605_0403);
  assert.equal(drv.config(4, 4), 0, "runs past the 6-byte space");
  assert.equal(drv.config(0x100, 4), 0);
  const res = { hi: 0 };
  assert.equal(t.read(R.REG_CONFIG + 0, 8, res), 0x0403_0201);
  assert.equal(res.hi, 0, "bytes 4..7 run past the space");
  assert.equal(t.read(R.REG_MAGIC_VALUE, 8, res), 0x7472_6976);
  assert.equal(res.hi, 2);
  // Registers want 32-bit accesses: narrow ones read 0 and are ignored.
  assert.equal(t.read(R.REG_MAGIC_VALUE, 1, res), 0);
  t.write(R.REG_STATUS, 1, 1, 0);
  assert.equal(drv.status(), 0);
  t.write(R.REG_CONFIG + 1, 2, 0x12345, 0);
  t.write(R.REG_CONFIG + 5, 4, 1, 0);
  assert.deepEqual(dev.calls, ["writeConfig 1 2 9029"]);
});

test("FEATURES_OK as on QEMU: no VERSION_1 needed, bits not offered dropped, the device may veto; features then freeze", () => {
  const { drv, t, dev } = setup();
  const begin = () => {
    drv.write(R.REG_STATUS, 0);
    drv.write(R.REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
  };
  const tryFeatures = (lo: number, hi: number) => {
    begin();
    drv.setDriverFeatures(lo, hi);
    drv.write(R.REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    return (drv.status() & VIRTIO_STATUS_FEATURES_OK) !== 0;
  };
  // QEMU's virtio-mmio accepts a driver that never acknowledges VIRTIO_F_VERSION_1.
  assert.equal(tryFeatures(1 << 3, 0), true, "driver without VERSION_1");
  assert.equal(t.hasFeature(3), true);
  assert.equal(t.hasFeature(32), false);
  // Bits the device did not offer are masked off (virtio_set_features), not refused.
  assert.equal(tryFeatures((1 << 4) | (1 << 3), 1 | (1 << 4)), true, "bits not offered");
  assert.equal(t.hasFeature(4), false);
  assert.equal(t.hasFeature(36), false);
  assert.equal(t.hasFeature(3), true);
  assert.equal(t.hasFeature(32), true);
  dev.veto = true;
  assert.equal(tryFeatures(1 << 3, 1), false, "device veto");
  dev.veto = false;
  assert.equal(tryFeatures((1 << 3) | (1 << 29), 1 | (1 << 3)), true);
  assert.equal(t.hasFeature(3), true);
  assert.equal(t.hasFeature(29), true);
  assert.equal(t.hasFeature(28), false);
  assert.equal(t.hasFeature(35), true);
  assert.equal(t.hasFeature(32), true);
  assert.equal(t.queues[0].eventIdx, true);
  assert.equal(t.queues[0].indirect, false);
  // Frozen after FEATURES_OK.
  drv.setDriverFeatures(0, 1);
  assert.equal(t.hasFeature(3), true);
  // DRIVER_OK without FEATURES_OK: QEMU runs the device with no features negotiated.
  begin();
  drv.setDriverFeatures(1 << 29, 1);
  drv.write(R.REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
  assert.equal(drv.status() & VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);
  assert.equal(t.active, true);
  assert.equal(t.hasFeature(29), false);
  assert.equal(t.queues[0].eventIdx, false);
  assert.equal(dev.calls.includes("activate"), true);
});

test("DRIVER_OK activates; notifications reach the device and raise the used-buffer interrupt until ACK", () => {
  const { drv, dev, irq, t } = setup();
  const [q0] = drv.init({ noDriverOk: true });
  const head = q0.addChain([{ data: Uint8Array.from([5, 6, 7]) }, { len: 8, write: true }]);
  drv.kick(0); // before DRIVER_OK: remembered
  assert.equal(dev.echoed, 0);
  drv.write(R.REG_STATUS, S_ALL);
  assert.equal(t.active, true);
  assert.deepEqual(
    dev.calls.filter((c) => !c.startsWith("accept")),
    ["reset", "activate", "notify 0"],
  );
  assert.equal(dev.echoed, 1);
  assert.deepEqual(q0.usedElem(0), { id: head, len: 3 });
  assert.equal(irq.level, true);
  assert.equal(drv.read(R.REG_INTERRUPT_STATUS), R.VIRTIO_MMIO_INT_VRING);
  drv.write(R.REG_INTERRUPT_ACK, R.VIRTIO_MMIO_INT_VRING);
  assert.equal(irq.level, false);
  assert.equal(drv.read(R.REG_INTERRUPT_STATUS), 0);
  // Notifying a queue that does not exist, or that is not ready, does nothing.
  drv.kick(7);
  drv.kick(0xffff);
  assert.equal(dev.calls.at(-1), "notify 0");
});

test("queue registers are ignored while the queue is ready; QueueReady 0 takes it back", () => {
  const { drv, t } = setup();
  drv.init();
  const q = t.queues[0];
  const desc = q.desc;
  drv.write(R.REG_QUEUE_SEL, 0);
  drv.write(R.REG_QUEUE_NUM, 2);
  drv.writeAddr(R.REG_QUEUE_DESC_LOW, 0x8008_0000);
  assert.equal(q.size, 8);
  assert.equal(q.desc, desc);
  drv.write(R.REG_QUEUE_READY, 0);
  assert.equal(drv.read(R.REG_QUEUE_READY), 0);
  drv.writeAddr(R.REG_QUEUE_DESC_LOW, 0x8008_0000);
  assert.equal(q.desc, 0x8008_0000);
  // A hostile high word is kept exact (clamped far outside RAM).
  drv.writeAddr(R.REG_QUEUE_DEVICE_LOW, 0xffff_ffff_0000_0000);
  assert.equal(q.used, 2 ** 52);
});

test("writing Status 0 resets the transport, its queues and the device, and lowers the line", () => {
  const { drv, dev, irq, t } = setup();
  const [q0] = drv.init();
  q0.addChain([{ data: Uint8Array.of(1) }, { len: 1, write: true }]);
  drv.kick(0);
  assert.equal(irq.level, true);
  dev.calls = [];
  drv.write(R.REG_STATUS, 0);
  assert.deepEqual(dev.calls, ["reset"]);
  assert.equal(irq.level, false);
  assert.equal(drv.status(), 0);
  assert.equal(drv.read(R.REG_INTERRUPT_STATUS), 0);
  assert.equal(t.hasFeature(32), false);
  for (const q of t.queues) {
    assert.equal(q.ready, false);
    assert.equal(q.size, q.maxSize);
    assert.equal(q.usedIdx, 0);
  }
  assert.equal(t.active, false);
});

test("a bad queue configuration sets DEVICE_NEEDS_RESET with a configuration-change interrupt", () => {
  const { drv, irq, t, logs } = setup();
  drv.init();
  drv.write(R.REG_QUEUE_SEL, 1);
  drv.write(R.REG_QUEUE_READY, 0);
  drv.write(R.REG_QUEUE_NUM, 3);
  drv.write(R.REG_QUEUE_READY, 1);
  assert.equal(drv.read(R.REG_QUEUE_READY), 0);
  assert.equal(drv.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET, VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  assert.equal(drv.read(R.REG_INTERRUPT_STATUS), R.VIRTIO_MMIO_INT_CONFIG);
  assert.equal(irq.level, true);
  assert.equal(t.active, false);
  assert.match(t.lastError ?? "", /queue 1: queue size 3 is not a power of 2/);
  assert.equal(logs.length, 1);
  // The driver cannot clear NEEDS_RESET by writing Status; only a reset does.
  drv.write(R.REG_STATUS, S_ALL);
  assert.notEqual(drv.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
  drv.write(R.REG_STATUS, 0);
  assert.equal(drv.status(), 0);
  drv.init();
  assert.equal(t.active, true);
});

test("a hostile chain breaks the device: NEEDS_RESET, config interrupt, later notifications ignored", () => {
  const { drv, dev, t } = setup();
  const [q0] = drv.init();
  q0.setDesc(0, { addr: 0x1000, len: 4, flags: 0, next: 0 });
  q0.publish(0);
  drv.kick(0);
  assert.notEqual(drv.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
  assert.equal(drv.ack(), R.VIRTIO_MMIO_INT_CONFIG);
  assert.match(t.lastError ?? "", /outside RAM/);
  dev.calls = [];
  q0.addChain([{ data: Uint8Array.of(1) }, { len: 1, write: true }]);
  drv.kick(0);
  assert.deepEqual(dev.calls, []);
  assert.equal(q0.usedIdx(), 0);
});

test("NEEDS_RESET before DRIVER_OK raises no interrupt (2.1.2)", () => {
  const { drv, irq } = setup();
  drv.init({ noDriverOk: true });
  drv.write(R.REG_QUEUE_SEL, 0);
  drv.write(R.REG_QUEUE_READY, 0);
  drv.writeAddr(R.REG_QUEUE_DESC_LOW, 0x10);
  drv.write(R.REG_QUEUE_READY, 1);
  assert.notEqual(drv.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
  assert.equal(irq.level, false);
});

test("configChanged bumps ConfigGeneration and interrupts a running driver", () => {
  const { drv, dev, irq } = setup();
  dev.ctx.configChanged();
  assert.equal(drv.read(R.REG_CONFIG_GENERATION), 1);
  assert.equal(irq.level, false);
  drv.init();
  dev.ctx.configChanged();
  assert.equal(drv.read(R.REG_CONFIG_GENERATION), 2);
  assert.equal(drv.ack(), R.VIRTIO_MMIO_INT_CONFIG);
});

test("transport state round-trips with its queues and device record, and bad records are refused", () => {
  const a = setup();
  const [q0] = a.drv.init();
  q0.addChain([{ data: Uint8Array.of(9) }, { len: 1, write: true }]);
  a.drv.kick(0);
  const b = setup(a.mem); // RAM is restored by its owner; here both share it
  const s = assertRoundTrip(
    a.t,
    b.t,
    (t) => t.saveState(),
    (t, st) => t.restoreState(st),
  );
  assert.equal(s.interruptStatus, 1);
  assert.equal(b.irq.level, true);
  assert.equal(b.dev.echoed, 1);
  assert.equal(b.t.active, true);
  assert.ok(b.dev.calls.includes("activate"));
  // The restored transport keeps serving the queue where the first left off.
  q0.addChain([{ data: Uint8Array.of(8) }, { len: 1, write: true }]);
  b.drv.kick(0);
  assert.equal(q0.usedIdx(), 2);
  const bad: [string, Partial<R.VirtioMmioState>][] = [
    ["device id", { deviceId: 1 }],
    ["status", { status: 0x100 }],
    ["features", { driverFeaturesLo: 1 << 4 }],
    ["high bits not offered", { driverFeaturesHi: 1 | (1 << 4) }],
    ["queues", { queues: [] }],
    ["pending", { pendingNotify: [5] }],
    ["interrupt", { interruptStatus: 4 }],
  ];
  for (const [what, change] of bad)
    assert.throws(() => setup().t.restoreState({ ...s, ...change }), StateError, what);
});

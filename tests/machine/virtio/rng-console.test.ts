import assert from "node:assert/strict";
import { test } from "node:test";
import { GuestMemory } from "../../../src/machine/memory/guest-memory.ts";
import { StateError } from "../../../src/machine/snapshot/state.ts";
import {
  CONSOLE_INPUT_BUFFER,
  CONSOLE_RECEIVEQ,
  CONSOLE_TRANSMITQ,
  VirtioConsole,
} from "../../../src/machine/virtio/console.ts";
import { VIRTIO_ID_CONSOLE, VIRTIO_ID_ENTROPY } from "../../../src/machine/virtio/device.ts";
import * as R from "../../../src/machine/virtio/mmio.ts";
import { VirtioMmio } from "../../../src/machine/virtio/mmio.ts";
import { RNG_MAX_PER_REQUEST, SeededEntropy, VirtioRng } from "../../../src/machine/virtio/rng.ts";
import { MockMmioDriver, TestIrq } from "../../support/mock-driver.ts";
import { assertRoundTrip } from "../../support/roundtrip.ts";

test("virtio-rng fills each request's writable part from its entropy source", () => {
  const mem = new GuestMemory(1 << 20);
  const irq = new TestIrq();
  const calls: number[] = [];
  const src = {
    fill(b: Uint8Array) {
      calls.push(b.length);
      b.fill(0xa5);
    },
  };
  const t = new VirtioMmio(new VirtioRng(src), { mem, irq });
  const drv = new MockMmioDriver(t, mem);
  assert.equal(drv.read(R.REG_DEVICE_ID), VIRTIO_ID_ENTROPY);
  const [q] = drv.init();
  const a = drv.heap.alloc(64);
  const b = drv.heap.alloc(16);
  q.addChain([
    { addr: a, len: 48, write: true },
    { addr: b, len: 16, write: true },
  ]);
  drv.kick(0);
  assert.deepEqual(q.usedElem(0), { id: 0, len: 64 });
  assert.deepEqual([...q.read(a, 48), ...q.read(b, 16)], new Array(64).fill(0xa5));
  assert.equal(irq.level, true);
  // A huge request is served in part (the guest asks again).
  const big = drv.heap.alloc(RNG_MAX_PER_REQUEST + 4096);
  q.addChain([{ addr: big, len: RNG_MAX_PER_REQUEST + 4096, write: true }]);
  drv.kick(0);
  assert.equal(q.usedElem(1).len, RNG_MAX_PER_REQUEST);
  assert.deepEqual(calls, [64, RNG_MAX_PER_REQUEST]);
});

test("the seeded entropy source is deterministic and not constant", () => {
  const x = new Uint8Array(37);
  const y = new Uint8Array(37);
  new SeededEntropy(7).fill(x);
  new SeededEntropy(7).fill(y);
  assert.deepEqual(x, y);
  assert.ok(new Set(x).size > 20);
  const z = new Uint8Array(37);
  new SeededEntropy(8).fill(z);
  assert.notDeepEqual(x, z);
});

function consoleSetup() {
  const mem = new GuestMemory(1 << 20);
  const irq = new TestIrq();
  const out: number[] = [];
  const dev = new VirtioConsole({ output: { write: (d) => out.push(...d) } });
  const t = new VirtioMmio(dev, { mem, irq });
  const drv = new MockMmioDriver(t, mem);
  return { mem, irq, out, dev, t, drv };
}

test("virtio-console: transmitq bytes reach the backend; config is 12 bytes of zeros", () => {
  const { drv, out, irq } = consoleSetup();
  assert.equal(drv.read(R.REG_DEVICE_ID), VIRTIO_ID_CONSOLE);
  assert.deepEqual(drv.deviceFeatures(), [(1 << 28) | (1 << 29), 1]);
  for (let off = 0; off < 12; off += 4) assert.equal(drv.config(off, 4), 0);
  const [, tx] = drv.init();
  const text = new TextEncoder().encode("hello ");
  tx.addChain([{ data: text }, { data: new TextEncoder().encode("hvc") }]);
  drv.kick(CONSOLE_TRANSMITQ);
  assert.equal(new TextDecoder().decode(Uint8Array.from(out)), "hello hvc");
  assert.deepEqual(tx.usedElem(0), { id: 0, len: 0 });
  assert.equal(irq.level, true);
});

test("virtio-console: input waits for receive buffers, fills them in order, and is bounded", () => {
  const { drv, dev } = consoleSetup();
  // Before the driver is up, input is held.
  assert.equal(dev.receive(new TextEncoder().encode("abcdef")), 6);
  const [rx] = drv.init();
  assert.equal(dev.pendingInput, 6);
  const a = drv.heap.alloc(4);
  const b = drv.heap.alloc(4);
  rx.addChain([{ addr: a, len: 4, write: true }]);
  rx.addChain([{ addr: b, len: 4, write: true }]);
  drv.kick(CONSOLE_RECEIVEQ);
  assert.equal(dev.pendingInput, 0);
  assert.deepEqual(rx.usedElem(0), { id: 0, len: 4 });
  assert.deepEqual(rx.usedElem(1), { id: 1, len: 2 });
  assert.equal(new TextDecoder().decode(rx.read(a, 4)), "abcd");
  assert.equal(new TextDecoder().decode(rx.read(b, 2)), "ef");
  // No buffers posted: input queues up to the bound, the rest is refused.
  assert.equal(dev.receive(new Uint8Array(CONSOLE_INPUT_BUFFER + 10).fill(0x41)), CONSOLE_INPUT_BUFFER);
  assert.equal(dev.receive(Uint8Array.of(1)), 0);
  // Input that wraps around the internal ring arrives intact.
  const c = drv.heap.alloc(CONSOLE_INPUT_BUFFER);
  rx.addChain([{ addr: c, len: 100, write: true }]);
  drv.kick(CONSOLE_RECEIVEQ);
  assert.equal(dev.receive(new TextEncoder().encode("XYZ")), 3);
  rx.addChain([{ addr: c, len: CONSOLE_INPUT_BUFFER, write: true }]);
  drv.kick(CONSOLE_RECEIVEQ);
  const n = CONSOLE_INPUT_BUFFER - 100 + 3;
  assert.equal(rx.usedElem(3).len, n);
  const got = rx.read(c, n);
  assert.equal(new TextDecoder().decode(got.subarray(n - 3)), "XYZ");
  assert.ok(got.subarray(0, n - 3).every((x) => x === 0x41));
});

test("virtio-console and virtio-rng state round-trip", () => {
  const a = consoleSetup();
  a.drv.init();
  a.dev.receive(new TextEncoder().encode("pending"));
  const b = consoleSetup();
  const s = assertRoundTrip(
    a.t,
    new VirtioMmio(b.dev, { mem: a.mem, irq: new TestIrq() }),
    (t) => t.saveState(),
    (t, st) => t.restoreState(st),
  );
  assert.equal(b.dev.pendingInput, 7);
  assert.throws(
    () => b.dev.restoreState({ version: 1, input: new Uint8Array(CONSOLE_INPUT_BUFFER + 1) }),
    StateError,
  );
  assert.throws(() => b.dev.restoreState({ ...s.device, version: 2 } as never), StateError);
  const mem = new GuestMemory(1 << 16);
  const src = new SeededEntropy();
  assertRoundTrip(
    new VirtioMmio(new VirtioRng(src), { mem, irq: new TestIrq() }),
    new VirtioMmio(new VirtioRng(src), { mem, irq: new TestIrq() }),
    (t) => t.saveState(),
    (t, st) => t.restoreState(st),
  );
});

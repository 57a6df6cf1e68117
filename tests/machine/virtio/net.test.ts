import assert from "node:assert/strict";
import { test } from "node:test";
import { GuestMemory } from "../../../src/machine/memory/guest-memory.ts";
import { StateError } from "../../../src/machine/snapshot/state.ts";
import { VIRTIO_ID_NET, VIRTIO_STATUS_FEATURES_OK } from "../../../src/machine/virtio/device.ts";
import * as R from "../../../src/machine/virtio/mmio.ts";
import { VirtioMmio } from "../../../src/machine/virtio/mmio.ts";
import {
  NET_RECEIVEQ,
  NET_RX_BACKLOG,
  NET_TRANSMITQ,
  type NetBackend,
  type TransmitInfo,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_LEN,
  VIRTIO_NET_HDR_LEN_LEGACY,
  VirtioNet,
} from "../../../src/machine/virtio/net.ts";
import { MockMmioDriver, TestIrq } from "../../support/mock-driver.ts";
import { assertRoundTrip } from "../../support/roundtrip.ts";

class TestBackend implements NetBackend {
  sent: { frame: Uint8Array; info: TransmitInfo }[] = [];
  flushes = 0;
  deliver: ((f: Uint8Array) => void) | undefined;
  readonly terminatesTcp: boolean;
  constructor(terminatesTcp = false) {
    this.terminatesTcp = terminatesTcp;
  }
  connect(receive: (frame: Uint8Array) => void): void {
    this.deliver = receive;
  }
  transmit(frame: Uint8Array, info: TransmitInfo): void {
    this.sent.push({ frame, info });
  }
  flush(): void {
    this.flushes++;
  }
}

function setup(opts: { terminatesTcp?: boolean; mac?: Uint8Array; features?: [number, number] } = {}) {
  const mem = new GuestMemory(1 << 20);
  const irq = new TestIrq();
  const backend = new TestBackend(opts.terminatesTcp);
  const dev = new VirtioNet(backend, { mac: opts.mac });
  const t = new VirtioMmio(dev, { mem, irq });
  const drv = new MockMmioDriver(t, mem);
  return { mem, irq, backend, dev, t, drv };
}

/** An Ethernet frame of `len` bytes with a recognisable pattern. */
function frame(len: number, seed = 1): Uint8Array {
  const f = new Uint8Array(len);
  for (let i = 0; i < len; i++) f[i] = (i * 7 + seed) & 255;
  return f;
}

test("virtio-net offers MAC, STATUS and GUEST_CSUM, and CSUM + HOST_TSO4 only to a TCP-terminating backend", () => {
  const plain = setup();
  assert.equal(plain.drv.read(R.REG_DEVICE_ID), VIRTIO_ID_NET);
  const [lo, hi] = plain.drv.deviceFeatures();
  assert.ok(lo & (1 << VIRTIO_NET_F_MAC));
  assert.ok(lo & (1 << VIRTIO_NET_F_STATUS));
  assert.ok(lo & (1 << VIRTIO_NET_F_GUEST_CSUM));
  assert.equal(lo & (1 << VIRTIO_NET_F_CSUM), 0);
  assert.equal(lo & (1 << VIRTIO_NET_F_HOST_TSO4), 0);
  assert.equal(hi & 1, 1); // VERSION_1
  const [lo2] = setup({ terminatesTcp: true }).drv.deviceFeatures();
  assert.ok(lo2 & (1 << VIRTIO_NET_F_CSUM));
  assert.ok(lo2 & (1 << VIRTIO_NET_F_HOST_TSO4));
});

test("virtio-net config space holds the MAC (52:54:00:12:34:56 by default) and link up", () => {
  const { drv } = setup();
  const mac = [0, 1, 2, 3, 4, 5].map((i) => drv.config(i, 1));
  assert.deepEqual(mac, [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
  assert.equal(drv.config(6, 2), 1);
  assert.equal(drv.config(0, 4), 0x12005452);
  const other = setup({ mac: Uint8Array.of(2, 0, 0, 0, 0, 9) });
  assert.equal(other.drv.config(5, 1), 9);
  other.drv.dev.write(R.REG_CONFIG, 1, 0xff, 0); // read-only: ignored
  assert.equal(other.drv.config(0, 1), 2);
  assert.throws(() => new VirtioNet(new TestBackend(), { mac: new Uint8Array(5) }), RangeError);
});

test("virtio-net transmit: header and frame in one buffer or split; one flush per batch; short chains are errors", () => {
  const { drv, backend, dev } = setup({ terminatesTcp: true });
  const [, tx] = drv.init();
  const f1 = frame(60, 1);
  const f2 = frame(1514, 2);
  const hdr = new Uint8Array(VIRTIO_NET_HDR_LEN);
  tx.addChain([{ data: new Uint8Array([...hdr, ...f1]) }]);
  const csumHdr = hdr.slice();
  csumHdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  tx.addChain([{ data: csumHdr }, { data: f2.slice(0, 100) }, { data: f2.slice(100) }]);
  tx.addChain([{ data: new Uint8Array(VIRTIO_NET_HDR_LEN + 5) }]);
  drv.kick(NET_TRANSMITQ);
  assert.equal(backend.sent.length, 2);
  assert.deepEqual(backend.sent[0].frame, f1);
  assert.equal(backend.sent[0].info.checksumOffloaded, false);
  assert.deepEqual(backend.sent[1].frame, f2);
  assert.equal(backend.sent[1].info.checksumOffloaded, true);
  assert.equal(backend.flushes, 1);
  assert.equal(tx.usedIdx(), 3);
  assert.equal(dev.stats.txErrors, 1);
  assert.equal(dev.stats.txFrames, 2);
  assert.equal(dev.stats.txBytes, 60 + 1514);
});

test("virtio-net receive: frames wait for buffers, then get a header with num_buffers 1 and DATA_VALID", () => {
  const { drv, backend, dev, irq } = setup();
  // Before the driver runs, frames are dropped like on a NIC that is down.
  backend.deliver!(frame(60));
  assert.equal(dev.stats.rxDropped, 1);
  const [rx] = drv.init();
  backend.deliver!(frame(60, 3));
  backend.deliver!(frame(1514, 4));
  assert.equal(dev.pendingFrames, 2);
  const bufLen = VIRTIO_NET_HDR_LEN + 1518;
  const a = drv.heap.alloc(bufLen);
  const b = drv.heap.alloc(bufLen);
  rx.addChain([{ addr: a, len: bufLen, write: true }]);
  drv.kick(NET_RECEIVEQ);
  assert.equal(dev.pendingFrames, 1);
  assert.deepEqual(rx.usedElem(0), { id: 0, len: VIRTIO_NET_HDR_LEN + 60 });
  const h = rx.read(a, VIRTIO_NET_HDR_LEN);
  assert.equal(h[0], VIRTIO_NET_HDR_F_DATA_VALID); // GUEST_CSUM negotiated by the mock (it takes every feature)
  assert.equal(h[10] | (h[11] << 8), 1);
  assert.deepEqual(rx.read(a + VIRTIO_NET_HDR_LEN, 60), frame(60, 3));
  assert.equal(irq.level, true);
  drv.ack();
  rx.addChain([{ addr: b, len: bufLen, write: true }]);
  drv.kick(NET_RECEIVEQ);
  assert.equal(rx.usedElem(1).len, VIRTIO_NET_HDR_LEN + 1514);
  assert.deepEqual(rx.read(b + VIRTIO_NET_HDR_LEN, 1514), frame(1514, 4));
  // A buffer already posted takes the next frame at once.
  const c = drv.heap.alloc(bufLen);
  rx.addChain([{ addr: c, len: bufLen, write: true }]);
  drv.kick(NET_RECEIVEQ);
  backend.deliver!(frame(100, 5));
  assert.equal(rx.usedIdx(), 3);
  assert.equal(dev.stats.rxFrames, 3);
  assert.equal(dev.stats.rxBytes, 60 + 1514 + 100, "the frame dropped before the driver ran is not counted");
});

test("virtio-net without VERSION_1 (accepted as on QEMU) uses the 10-byte header without num_buffers", () => {
  const { drv, backend } = setup({ terminatesTcp: true });
  const [rx, tx] = drv.init({ features: [(1 << VIRTIO_NET_F_MAC) | (1 << VIRTIO_NET_F_CSUM), 0] });
  assert.ok(drv.status() & VIRTIO_STATUS_FEATURES_OK);
  const f = frame(60, 7);
  const hdr = new Uint8Array(VIRTIO_NET_HDR_LEN_LEGACY);
  hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  tx.addChain([{ data: new Uint8Array([...hdr, ...f]) }]);
  drv.kick(NET_TRANSMITQ);
  assert.deepEqual(backend.sent[0].frame, f);
  assert.equal(backend.sent[0].info.checksumOffloaded, true);
  const buf = drv.heap.alloc(200);
  rx.addChain([{ addr: buf, len: 200, write: true }]);
  backend.deliver!(frame(60, 8));
  assert.deepEqual(rx.usedElem(0), { id: 0, len: VIRTIO_NET_HDR_LEN_LEGACY + 60 });
  assert.deepEqual(rx.read(buf + VIRTIO_NET_HDR_LEN_LEGACY, 60), frame(60, 8));
});

test("virtio-net receive: no DATA_VALID without GUEST_CSUM; a too-small buffer drops the frame; the backlog is bounded", () => {
  const { drv, backend, dev } = setup();
  const [rx] = drv.init({ features: [(1 << VIRTIO_NET_F_MAC) | (1 << VIRTIO_NET_F_STATUS), 1] });
  const small = drv.heap.alloc(64);
  rx.addChain([{ addr: small, len: 64, write: true }]);
  backend.deliver!(frame(100));
  assert.deepEqual(rx.usedElem(0), { id: 0, len: 0 });
  assert.equal(dev.stats.rxDropped, 1);
  for (let i = 0; i < NET_RX_BACKLOG + 10; i++) backend.deliver!(frame(60, i));
  assert.equal(dev.pendingFrames, NET_RX_BACKLOG);
  assert.equal(dev.stats.rxDropped, 11);
  const buf = drv.heap.alloc(200);
  rx.addChain([{ addr: buf, len: 200, write: true }]);
  drv.kick(NET_RECEIVEQ);
  assert.equal(rx.read(buf, 1)[0], 0); // no DATA_VALID
  assert.deepEqual(rx.read(buf + VIRTIO_NET_HDR_LEN, 60), frame(60, 0));
  // A reset drops what waited for the old driver.
  drv.write(R.REG_STATUS, 0);
  assert.equal(dev.pendingFrames, 0);
});

test("virtio-net state round-trips and rejects a bad version", () => {
  const a = setup();
  a.drv.init();
  const b = setup();
  assertRoundTrip(
    a.t,
    new VirtioMmio(b.dev, { mem: a.mem, irq: new TestIrq() }),
    (t) => t.saveState(),
    (t, st) => t.restoreState(st),
  );
  assert.throws(() => b.dev.restoreState({ version: 2 }), StateError);
});

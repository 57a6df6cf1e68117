/**
 * Token buckets (Firecracker's rate_limiter model) and the devices that
 * use them, in virtual time: a limited virtio-blk holds its bandwidth and
 * IOPS limits within 10% while an unlimited neighbour on the same clock
 * completes every request at once.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { GuestMemory } from "../../../src/machine/memory/guest-memory.ts";
import { MemoryBlockBackend, VIRTIO_BLK_T_IN, VirtioBlk } from "../../../src/machine/virtio/blk.ts";
import { VirtioMmio } from "../../../src/machine/virtio/mmio.ts";
import { NET_RECEIVEQ, NET_TRANSMITQ, type NetBackend, VirtioNet } from "../../../src/machine/virtio/net.ts";
import { RateLimiter, TokenBucket } from "../../../src/machine/virtio/rate-limiter.ts";
import { MockMmioDriver, TestIrq } from "../../support/mock-driver.ts";

test("a token bucket refills continuously up to its size; the one-time burst is spent first and never returns", () => {
  const b = new TokenBucket({ size: 1000, oneTimeBurst: 500, refillTimeMs: 100 }, 0);
  assert.ok(b.canPay(1500));
  b.pay(1500);
  assert.equal(b.oneTimeBurst, 0);
  assert.equal(b.budget, 0);
  assert.ok(!b.canPay(1));
  assert.equal(b.waitFor(250), 25);
  b.refill(25);
  assert.ok(b.canPay(250));
  b.refill(10_000);
  assert.equal(b.budget, 1000, "never above size");
  // A request bigger than the bucket goes when it is full and leaves it in debt.
  assert.ok(b.canPay(3000));
  b.pay(3000);
  assert.equal(b.budget, -2000);
  assert.equal(b.waitFor(1), 200.1);
});

test("a limiter needs both buckets; wakeAt says when a refused operation may go", () => {
  let now = 0;
  const l = new RateLimiter(
    { bandwidth: { size: 1 << 20, refillTimeMs: 1000 }, ops: { size: 10, refillTimeMs: 1000 } },
    () => now,
  );
  let ops = 0;
  while (l.consume(4096)) ops++;
  assert.equal(ops, 10, "the ops bucket runs out first");
  assert.equal(l.wakeAt(4096), 100);
  now = 100;
  assert.ok(l.consume(4096));
  assert.ok(!l.consume(1 << 20), "bandwidth: 1 MiB does not fit after 11 × 4 KiB");
  assert.ok(l.throttled >= 2);
});

/** A virtio-blk on a mock driver that keeps `depth` 64 KiB reads queued, on a shared virtual clock. */
function disk(clock: { now: number }, limits?: ConstructorParameters<typeof RateLimiter>[0], size = 65536) {
  const mem = new GuestMemory(4 << 20);
  const irq = new TestIrq();
  const limiter = limits === undefined ? undefined : new RateLimiter(limits, () => clock.now);
  const blk = new VirtioBlk(new MemoryBlockBackend(new Uint8Array(1 << 20)), { limiter });
  const t = new VirtioMmio(blk, { mem, irq });
  const drv = new MockMmioDriver(t, mem);
  const [q] = drv.init({ sizes: [64] });
  const hdr = q.heap.alloc(16);
  const h = new Uint8Array(16);
  new DataView(h.buffer).setUint32(0, VIRTIO_BLK_T_IN, true);
  mem.writePhys(hdr, h);
  const data = q.heap.alloc(size);
  const status = q.heap.alloc(1);
  const post = () =>
    q.addChain([
      { addr: hdr, len: 16 },
      { addr: data, len: size, write: true },
      { addr: status, len: 1, write: true },
    ]);
  let seen = 0;
  return {
    blk,
    start(depth: number) {
      for (let i = 0; i < depth; i++) post();
      drv.kick(0);
    },
    /** Collects completions, re-posts as many, and returns the bytes completed. */
    reap(): number {
      const used = q.usedIdx();
      const n = (used - seen) & 0xffff;
      seen = used;
      for (let i = 0; i < n; i++) post();
      if (n > 0) drv.kick(0);
      return n * size;
    },
  };
}

test("a limited disk holds bw= and iops= within 10% in virtual time; an unlimited neighbour is unaffected", () => {
  const clock = { now: 0 };
  const bw = disk(clock, { bandwidth: { size: 2 << 20, refillTimeMs: 1000 } });
  const iops = disk(clock, { ops: { size: 50, refillTimeMs: 1000 } }, 4096);
  const free = disk(clock);
  bw.start(8);
  iops.start(8);
  free.start(8);
  const done = { bw: 0, iops: 0, free: 0 };
  // Ten virtual seconds in 1 ms steps; the first second holds the initial full buckets and is not counted.
  for (let ms = 1; ms <= 10_000; ms++) {
    clock.now = ms;
    for (const d of [bw, iops]) d.blk.poll(ms);
    const b = bw.reap();
    const o = iops.reap();
    const f = free.reap();
    if (ms > 1000) {
      done.bw += b;
      done.iops += o / 4096;
      done.free += f;
    }
  }
  const bwRate = done.bw / 9 / (2 << 20);
  const opsRate = done.iops / 9 / 50;
  assert.ok(Math.abs(bwRate - 1) < 0.1, `bandwidth at ${(bwRate * 100).toFixed(1)}% of the limit`);
  assert.ok(Math.abs(opsRate - 1) < 0.1, `IOPS at ${(opsRate * 100).toFixed(1)}% of the limit`);
  // The unlimited disk completes its 8 queued requests on every step: 8 × 64 KiB per ms.
  assert.equal(done.free, 9000 * 8 * 65536);
  assert.equal(free.blk.wakeAt, Number.POSITIVE_INFINITY);
});

/**
 * A virtio-net whose guest side keeps 16 transmit frames and 16 receive
 * buffers posted, and whose backend offers a 1500-byte frame for the guest
 * every 0.1 ms (15 MB/s, more than any limit below).
 */
function nic(clock: { now: number }, limits?: ConstructorParameters<typeof RateLimiter>[0]) {
  const mem = new GuestMemory(4 << 20);
  let deliver: (f: Uint8Array) => void = () => {};
  let sent = 0;
  const backend: NetBackend = {
    connect: (r) => {
      deliver = r;
    },
    transmit: (f) => {
      sent += f.length;
    },
  };
  const limiter = () => (limits === undefined ? undefined : new RateLimiter(limits, () => clock.now));
  const dev = new VirtioNet(backend, { rxLimiter: limiter(), txLimiter: limiter() });
  const drv = new MockMmioDriver(new VirtioMmio(dev, { mem, irq: new TestIrq() }), mem);
  const [rx, tx] = drv.init({ sizes: [64, 64] });
  const txBuf = tx.heap.alloc(12 + 1500);
  mem.writePhys(txBuf + 12, new Uint8Array(1500).fill(0x42));
  const rxBuf = rx.heap.alloc(12 + 1514);
  const postTx = () => tx.addChain([{ addr: txBuf, len: 12 + 1500 }]);
  const postRx = () => rx.addChain([{ addr: rxBuf, len: 12 + 1514, write: true }]);
  for (let i = 0; i < 16; i++) {
    postTx();
    postRx();
  }
  drv.kick(NET_RECEIVEQ);
  drv.kick(NET_TRANSMITQ);
  let txSeen = 0;
  let rxSeen = 0;
  const frame = new Uint8Array(1500);
  return {
    dev,
    /** Offers frames to the guest, re-posts used buffers; returns [bytes sent by the guest, bytes received]. */
    step(): [number, number] {
      for (let i = 0; i < 10; i++) if (dev.pendingFrames < 64) deliver(frame);
      const rxUsed = rx.usedIdx();
      const rxN = (rxUsed - rxSeen) & 0xffff;
      rxSeen = rxUsed;
      for (let i = 0; i < rxN; i++) postRx();
      if (rxN) drv.kick(NET_RECEIVEQ);
      const txUsed = tx.usedIdx();
      const txN = (txUsed - txSeen) & 0xffff;
      txSeen = txUsed;
      for (let i = 0; i < txN; i++) postTx();
      if (txN) drv.kick(NET_TRANSMITQ);
      const out = sent;
      sent = 0;
      return [out, rxN * 1500];
    },
  };
}

test("a limited NIC holds bw= within 10% both ways in virtual time; an unlimited neighbour is unaffected", () => {
  const clock = { now: 0 };
  const limited = nic(clock, { bandwidth: { size: 1 << 20, refillTimeMs: 1000 } });
  const free = nic(clock);
  const total = { ltx: 0, lrx: 0, ftx: 0, frx: 0 };
  for (let ms = 1; ms <= 10_000; ms++) {
    clock.now = ms;
    limited.dev.poll(ms);
    const [ltx, lrx] = limited.step();
    const [ftx, frx] = free.step();
    if (ms > 1000) {
      total.ltx += ltx;
      total.lrx += lrx;
      total.ftx += ftx;
      total.frx += frx;
    }
  }
  for (const [dir, bytes] of [
    ["transmit", total.ltx],
    ["receive", total.lrx],
  ] as const) {
    const rate = bytes / 9 / (1 << 20);
    assert.ok(Math.abs(rate - 1) < 0.1, `${dir} at ${(rate * 100).toFixed(1)}% of the limit`);
  }
  // Unlimited: all 16 posted frames go out every step, and the 10 offered frames come in.
  assert.equal(total.ftx, 9000 * 16 * 1500);
  assert.equal(total.frx, 9000 * 10 * 1500);
  assert.equal(free.dev.wakeAt, Number.POSITIVE_INFINITY);
});

test("a request waiting for the limiter survives save and restore: the restored disk serves it when the saved buckets allow", () => {
  const clock = { now: 0 };
  const mem = new GuestMemory(4 << 20);
  const limits = { ops: { size: 1, refillTimeMs: 1000 } };
  const make = () => {
    const blk = new VirtioBlk(new MemoryBlockBackend(new Uint8Array(1 << 20)), {
      limiter: new RateLimiter(limits, () => clock.now),
    });
    return { blk, t: new VirtioMmio(blk, { mem, irq: new TestIrq() }) };
  };
  const a = make();
  const drv = new MockMmioDriver(a.t, mem);
  const [q] = drv.init({ sizes: [64] });
  const h = new Uint8Array(16);
  new DataView(h.buffer).setUint32(0, VIRTIO_BLK_T_IN, true);
  for (let i = 0; i < 2; i++) q.addChain([{ data: h }, { len: 512, write: true }, { len: 1, write: true }]);
  drv.kick(0);
  assert.equal(q.usedIdx(), 1, "one op per second: the second request waits");
  const saved = a.t.saveState();
  const b = make();
  b.t.restoreState(saved);
  // Bucket levels are state: the restored device is as empty as the saved one and waits as long.
  b.blk.poll(clock.now);
  assert.equal(q.usedIdx(), 1, "the bucket is still empty after the restore");
  clock.now = 1000;
  b.blk.poll(clock.now);
  assert.equal(q.usedIdx(), 2, "the waiting request is served once the bucket refills, without a new kick");
});

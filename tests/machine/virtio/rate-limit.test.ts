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

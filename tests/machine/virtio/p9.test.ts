/**
 * virtio-9p through the virtio-mmio transport and the mock driver: device
 * ID, features and mount tag, requests and replies split over descriptors
 * the way Linux's trans_virtio lays them out (zero-copy reads put an
 * 11-byte header buffer before the data pages), reset, and state.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { NodeFsBackend } from "../../../src/host/node/p9-fs.ts";
import { GuestMemory } from "../../../src/machine/memory/guest-memory.ts";
import { StateError } from "../../../src/machine/snapshot/state.ts";
import { O_RDONLY } from "../../../src/machine/virtio/9p/backend.ts";
import {
  P9_RLERROR,
  P9_TATTACH,
  P9_TLOPEN,
  P9_TREAD,
  P9_TVERSION,
  P9_TWALK,
} from "../../../src/machine/virtio/9p/wire.ts";
import { VIRTIO_ID_9P } from "../../../src/machine/virtio/device.ts";
import * as R from "../../../src/machine/virtio/mmio.ts";
import { VirtioMmio } from "../../../src/machine/virtio/mmio.ts";
import { P9_QUEUE_SIZE, VirtioP9, validMountTag } from "../../../src/machine/virtio/p9.ts";
import { MockMmioDriver, type MockVirtQueue, TestIrq } from "../../support/mock-driver.ts";
import { MsgBuilder } from "../../support/p9-client.ts";
import { assertRoundTrip } from "../../support/roundtrip.ts";

const tmp = mkdtempSync(join(tmpdir(), "virtus-9p-dev-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

function rig(tag = "hostshare") {
  const root = join(tmp, `s${n++}`);
  mkdirSync(root);
  writeFileSync(join(root, "hello.txt"), "hello from the host\n");
  writeFileSync(join(root, "big"), Buffer.alloc(10_000, 0x61));
  const mem = new GuestMemory(4 << 20);
  const irq = new TestIrq();
  const dev = new VirtioP9({ tag, backend: new NodeFsBackend(root) });
  const t = new VirtioMmio(dev, { mem, irq });
  const drv = new MockMmioDriver(t, mem);
  return { root, mem, irq, dev, t, drv };
}

/** Sends `req` as one chain (request split into `splits` readable pieces; reply space as given) and returns the reply bytes. */
function send(
  drv: MockMmioDriver,
  q: MockVirtQueue,
  req: Uint8Array,
  replyBufs: number[] = [8192],
  splits = 1,
  indirect = false,
): Uint8Array {
  const bufs = [];
  const step = Math.ceil(req.length / splits);
  for (let i = 0; i < req.length; i += step) bufs.push({ data: req.subarray(i, i + step) });
  const addrs = replyBufs.map((len) => drv.heap.alloc(len));
  replyBufs.forEach((len, i) => {
    bufs.push({ addr: addrs[i], len, write: true } as never);
  });
  const before = q.usedIdx();
  q.addChain(bufs, { indirect });
  drv.kick(0);
  assert.equal(q.usedIdx(), (before + 1) & 0xffff, "the chain was used");
  const { len } = q.usedElem(before);
  const out = new Uint8Array(len);
  let at = 0;
  for (let i = 0; i < replyBufs.length && at < len; i++) {
    const k = Math.min(replyBufs[i], len - at);
    out.set(q.read(addrs[i], k), at);
    at += k;
  }
  return out;
}

test("virtio-9p identifies itself: device ID 9, MOUNT_TAG feature, tag in configuration space", () => {
  const { drv } = rig("my_tag-1");
  assert.equal(drv.read(R.REG_DEVICE_ID), VIRTIO_ID_9P);
  const [lo, hi] = drv.deviceFeatures();
  assert.equal(lo & 1, 1, "VIRTIO_9P_MOUNT_TAG");
  assert.equal(hi & 1, 1, "VERSION_1");
  drv.write(R.REG_QUEUE_SEL, 0);
  assert.equal(drv.read(R.REG_QUEUE_NUM_MAX), P9_QUEUE_SIZE);
  drv.write(R.REG_QUEUE_SEL, 1);
  assert.equal(drv.read(R.REG_QUEUE_NUM_MAX), 0, "one queue");
  assert.equal(drv.config(0, 2), 8);
  const tag = Array.from({ length: 8 }, (_, i) => String.fromCharCode(drv.config(2 + i, 1))).join("");
  assert.equal(tag, "my_tag-1");
  assert.equal(drv.config(10, 1), 0, "nothing after the tag");
  assert.equal(validMountTag(""), false);
  assert.equal(validMountTag("a b"), false);
  assert.equal(validMountTag("x".repeat(65)), false);
  assert.throws(() => new VirtioP9({ tag: "", backend: new NodeFsBackend(tmp) }), RangeError);
});

test("requests and replies cross descriptor boundaries, direct and indirect, and interrupt the driver", () => {
  const { drv, irq } = rig();
  const [q] = drv.init();
  const v = send(
    drv,
    q,
    new MsgBuilder(P9_TVERSION, 0xffff).u32(65536).str("9P2000.L").done(),
    [5, 3, 4096],
    3,
  );
  assert.equal(v[4], P9_TVERSION + 1);
  assert.equal(Buffer.from(v.subarray(13)).toString(), "9P2000.L");
  assert.equal(irq.level, true);
  drv.ack();
  const a = send(
    drv,
    q,
    new MsgBuilder(P9_TATTACH, 1).u32(1).u32(~0).str("").str("").u32(0).done(),
    [64],
    2,
    true,
  );
  assert.equal(a[4], P9_TATTACH + 1);
  send(drv, q, new MsgBuilder(P9_TWALK, 2).u32(1).u32(2).u16(1).str("big").done());
  send(drv, q, new MsgBuilder(P9_TLOPEN, 3).u32(2).u32(O_RDONLY).done());
  // A zero-copy read: an 11-byte header buffer, then the data in page-sized pieces.
  const r = send(
    drv,
    q,
    new MsgBuilder(P9_TREAD, 4).u32(2).u64(0).u32(10_000).done(),
    [11, 4096, 4096, 1808],
  );
  assert.equal(r[4], P9_TREAD + 1);
  assert.equal(new DataView(r.buffer).getUint32(7, true), 10_000);
  assert.equal(r.length, 11 + 10_000);
  assert.ok(r.subarray(11).every((b) => b === 0x61));
  // Reply space smaller than the request's count: the count is cut to fit.
  const small = send(drv, q, new MsgBuilder(P9_TREAD, 5).u32(2).u64(0).u32(10_000).done(), [11, 100]);
  assert.equal(new DataView(small.buffer).getUint32(7, true), 100);
  // A malformed request still gets an answer and the queue keeps working.
  const bad = send(drv, q, new Uint8Array([9, 0, 0, 0, P9_TWALK, 6, 0, 1, 2]));
  assert.equal(bad[4], P9_RLERROR);
  assert.equal(drv.status() & 0x40, 0, "no DEVICE_NEEDS_RESET for a bad 9P message");
  const again = send(drv, q, new MsgBuilder(P9_TREAD, 7).u32(2).u64(0).u32(3).done());
  assert.equal(Buffer.from(again.subarray(11)).toString(), "aaa");
});

test("a driver reset ends the 9P session; state round-trips through the transport", () => {
  const { drv, dev, t, mem } = rig();
  const [q] = drv.init();
  send(drv, q, new MsgBuilder(P9_TVERSION, 0xffff).u32(65536).str("9P2000.L").done());
  send(drv, q, new MsgBuilder(P9_TATTACH, 1).u32(1).u32(~0).str("").str("").u32(0).done());
  send(drv, q, new MsgBuilder(P9_TWALK, 2).u32(1).u32(2).u16(1).str("hello.txt").done());
  send(drv, q, new MsgBuilder(P9_TLOPEN, 3).u32(2).u32(O_RDONLY).done());
  assert.equal(dev.server.fidCount, 2);

  const dev2 = new VirtioP9({ tag: "hostshare", backend: dev.server.backend });
  const t2 = new VirtioMmio(dev2, { mem, irq: new TestIrq() });
  const s = assertRoundTrip(
    t,
    t2,
    (x) => x.saveState(),
    (x, st) => x.restoreState(st),
  );
  assert.equal(dev2.server.fidCount, 2);
  assert.equal(dev2.server.openFids, 1);
  assert.throws(() => dev2.restoreState({ version: 1 } as never), StateError);
  assert.throws(() => dev2.restoreState({ ...s.device, version: 9 } as never), StateError);

  drv.write(R.REG_STATUS, 0);
  assert.equal(dev.server.fidCount, 0);
  assert.equal(dev.server.msize, 0);
});

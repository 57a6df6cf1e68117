import assert from "node:assert/strict";
import { test } from "node:test";
import { GuestMemory } from "../../../src/machine/memory/guest-memory.ts";
import { StateError } from "../../../src/machine/snapshot/state.ts";
import {
  BLK_SEG_MAX,
  MemoryBlockBackend,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_F_SEG_MAX,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VirtioBlk,
} from "../../../src/machine/virtio/blk.ts";
import { VIRTIO_STATUS_DEVICE_NEEDS_RESET } from "../../../src/machine/virtio/device.ts";
import { VirtioMmio } from "../../../src/machine/virtio/mmio.ts";
import { type MockBuffer, MockMmioDriver, TestIrq } from "../../support/mock-driver.ts";
import { assertRoundTrip } from "../../support/roundtrip.ts";

const DISK = 64 * 1024; // 128 sectors

function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

function setup(opts: { readOnly?: boolean; id?: string; indirect?: boolean } = {}) {
  const mem = new GuestMemory(1 << 20);
  const irq = new TestIrq();
  const disk = new MemoryBlockBackend(pattern(DISK, 3), opts.readOnly);
  const blk = new VirtioBlk(disk, { id: opts.id });
  const t = new VirtioMmio(blk, { mem, irq });
  const drv = new MockMmioDriver(t, mem);
  const [q] = drv.init();
  return { mem, irq, disk, blk, t, drv, q, indirect: opts.indirect ?? false };
}

function header(type: number, sector: number): Uint8Array {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  v.setUint32(0, type, true);
  v.setUint32(8, sector % 2 ** 32, true);
  v.setUint32(12, Math.floor(sector / 2 ** 32), true);
  return h;
}

/** Sends one request and returns its status byte, the used length and the writable buffers' contents. */
function request(
  s: ReturnType<typeof setup>,
  bufs: MockBuffer[],
): { status: number; usedLen: number; data: Uint8Array[] } {
  const { q, drv } = s;
  const status: MockBuffer = { len: 1, write: true, addr: drv.heap.alloc(1, 1) };
  const all = [...bufs, status];
  for (const b of all) if (b.write && b.addr === undefined) b.addr = drv.heap.alloc(b.len ?? 0, 8);
  const before = q.usedIdx();
  q.addChain(all, { indirect: s.indirect });
  drv.kick(0);
  assert.equal(q.usedIdx(), (before + 1) & 0xffff, "request completed");
  const used = q.usedElem(before);
  return {
    status: q.read(status.addr!, 1)[0],
    usedLen: used.len,
    data: bufs.filter((b) => b.write).map((b) => q.read(b.addr!, b.len!)),
  };
}

test("offers SEG_MAX and FLUSH, reports capacity and seg_max in configuration space", () => {
  const s = setup();
  const [lo] = s.drv.deviceFeatures();
  assert.ok(lo & (1 << VIRTIO_BLK_F_SEG_MAX));
  assert.ok(lo & (1 << VIRTIO_BLK_F_FLUSH));
  assert.equal(lo & (1 << VIRTIO_BLK_F_RO), 0);
  assert.equal(s.drv.config(0, 4), DISK / 512);
  assert.equal(s.drv.config(4, 4), 0);
  assert.equal(s.drv.config(12, 4), BLK_SEG_MAX);
  assert.equal(s.drv.config(20, 4), 512);
  const ro = setup({ readOnly: true });
  assert.ok(ro.drv.deviceFeatures()[0] & (1 << VIRTIO_BLK_F_RO));
});

for (const indirect of [false, true]) {
  test(`reads and writes sectors across several data segments${indirect ? " (indirect)" : ""}`, () => {
    const s = setup({ indirect });
    const r = request(s, [
      { data: header(VIRTIO_BLK_T_IN, 3) },
      { len: 512, write: true },
      { len: 1024, write: true },
    ]);
    assert.equal(r.status, VIRTIO_BLK_S_OK);
    assert.equal(r.usedLen, 1537);
    assert.deepEqual(r.data[0], s.disk.data.slice(3 * 512, 4 * 512));
    assert.deepEqual(r.data[1], s.disk.data.slice(4 * 512, 6 * 512));
    assert.equal(s.irq.level, true);

    const a = pattern(512, 99);
    const b = pattern(1536, 42);
    const w = request(s, [{ data: header(VIRTIO_BLK_T_OUT, 10) }, { data: a }, { data: b }]);
    assert.equal(w.status, VIRTIO_BLK_S_OK);
    assert.equal(w.usedLen, 1);
    assert.deepEqual(s.disk.data.slice(10 * 512, 11 * 512), a);
    assert.deepEqual(s.disk.data.slice(11 * 512, 14 * 512), b);
    assert.deepEqual(s.disk.data.slice(14 * 512, 15 * 512), pattern(DISK, 3).slice(14 * 512, 15 * 512));
    assert.deepEqual(s.blk.stats, { readBytes: 1536, readRequests: 1, writeBytes: 2048, writeRequests: 1 });
  });
}

test("a header and data in one buffer, and the status byte in the data's buffer, are handled", () => {
  const s = setup();
  const data = pattern(512, 5);
  const hdr = header(VIRTIO_BLK_T_OUT, 1);
  const joined = new Uint8Array(528);
  joined.set(hdr);
  joined.set(data, 16);
  // Build the chain by hand: [header+data readable][data+status writable].
  const rAddr = s.drv.heap.alloc(528);
  s.mem.writePhys(rAddr, joined);
  const wAddr = s.drv.heap.alloc(513);
  s.q.addChain([{ addr: rAddr, len: 528 }]);
  s.drv.kick(0);
  assert.equal(s.q.usedIdx(), 0, "no writable status byte: the device needs a reset");
  assert.notEqual(s.drv.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);

  const t = setup();
  t.mem.writePhys(rAddr, joined);
  t.q.addChain([
    { addr: rAddr, len: 528 },
    { addr: wAddr, len: 1, write: true },
  ]);
  t.drv.kick(0);
  assert.equal(t.q.read(wAddr, 1)[0], VIRTIO_BLK_S_OK);
  assert.deepEqual(t.disk.data.slice(512, 1024), data);
  const rd = t.q.addChain([{ data: header(VIRTIO_BLK_T_IN, 1) }, { addr: wAddr, len: 513, write: true }]);
  t.drv.kick(0);
  assert.deepEqual(t.q.usedElem(1), { id: rd, len: 513 });
  assert.deepEqual(t.q.read(wAddr, 512), data);
  assert.equal(t.q.read(wAddr + 512, 1)[0], VIRTIO_BLK_S_OK);
});

test("flush reaches the backend; GET_ID returns the serial, padded or cut to 20 bytes", () => {
  const s = setup({ id: "virtus-disk-0" });
  assert.equal(request(s, [{ data: header(VIRTIO_BLK_T_FLUSH, 0) }]).status, VIRTIO_BLK_S_OK);
  assert.equal(s.disk.flushes, 1);
  const id = request(s, [{ data: header(VIRTIO_BLK_T_GET_ID, 0) }, { len: 20, write: true }]);
  assert.equal(id.status, VIRTIO_BLK_S_OK);
  assert.equal(id.usedLen, 21);
  assert.equal(new TextDecoder().decode(id.data[0]), "virtus-disk-0\0\0\0\0\0\0\0");
  const long = setup({ id: "0123456789abcdefghijKLMN" });
  const r = request(long, [{ data: header(VIRTIO_BLK_T_GET_ID, 0) }, { len: 8, write: true }]);
  assert.equal(new TextDecoder().decode(r.data[0]), "01234567");
});

test("out-of-range, partial-sector and unknown requests fail without touching the disk", () => {
  const s = setup();
  const before = s.disk.data.slice();
  const cases: [MockBuffer[], number][] = [
    [[{ data: header(VIRTIO_BLK_T_IN, DISK / 512) }, { len: 512, write: true }], VIRTIO_BLK_S_IOERR],
    [[{ data: header(VIRTIO_BLK_T_IN, DISK / 512 - 1) }, { len: 1024, write: true }], VIRTIO_BLK_S_IOERR],
    [[{ data: header(VIRTIO_BLK_T_IN, 2 ** 63) }, { len: 512, write: true }], VIRTIO_BLK_S_IOERR],
    [[{ data: header(VIRTIO_BLK_T_OUT, DISK / 512) }, { data: pattern(512, 1) }], VIRTIO_BLK_S_IOERR],
    [[{ data: header(VIRTIO_BLK_T_OUT, 0) }, { data: pattern(100, 1) }], VIRTIO_BLK_S_IOERR],
    [[{ data: header(VIRTIO_BLK_T_IN, 0) }, { len: 300, write: true }], VIRTIO_BLK_S_IOERR],
    [[{ data: header(11 /* DISCARD */, 0) }, { data: new Uint8Array(16) }], VIRTIO_BLK_S_UNSUPP],
  ];
  for (const [bufs, want] of cases) assert.equal(request(s, bufs).status, want);
  assert.deepEqual(s.disk.data, before);
  assert.deepEqual(
    s.blk.stats,
    { readBytes: 0, readRequests: 0, writeBytes: 0, writeRequests: 0 },
    "failed requests move no data",
  );
  assert.equal(s.drv.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
});

test("a read-only disk refuses writes with IOERR and its image stays unchanged", () => {
  const s = setup({ readOnly: true });
  const before = s.disk.data.slice();
  assert.equal(
    request(s, [{ data: header(VIRTIO_BLK_T_OUT, 0) }, { data: pattern(512, 9) }]).status,
    VIRTIO_BLK_S_IOERR,
  );
  assert.deepEqual(s.disk.data, before);
  assert.equal(request(s, [{ data: header(VIRTIO_BLK_T_FLUSH, 0) }]).status, VIRTIO_BLK_S_OK);
  assert.equal(s.disk.flushes, 0);
  const r = request(s, [{ data: header(VIRTIO_BLK_T_IN, 0) }, { len: 512, write: true }]);
  assert.deepEqual(r.data[0], before.slice(0, 512));
});

test("host I/O errors become IOERR", () => {
  const s = setup();
  const eio = () => {
    throw new Error("EIO");
  };
  s.disk.read = eio;
  s.disk.write = eio;
  s.disk.flush = eio;
  assert.equal(
    request(s, [{ data: header(VIRTIO_BLK_T_IN, 0) }, { len: 512, write: true }]).status,
    VIRTIO_BLK_S_IOERR,
  );
  assert.equal(
    request(s, [{ data: header(VIRTIO_BLK_T_OUT, 0) }, { data: pattern(512, 1) }]).status,
    VIRTIO_BLK_S_IOERR,
  );
  assert.equal(request(s, [{ data: header(VIRTIO_BLK_T_FLUSH, 0) }]).status, VIRTIO_BLK_S_IOERR);
});

test("a request shorter than its header sets DEVICE_NEEDS_RESET", () => {
  const s = setup();
  s.q.addChain([{ data: new Uint8Array(8) }, { len: 1, write: true }]);
  s.drv.kick(0);
  assert.notEqual(s.drv.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
  assert.match(s.t.lastError ?? "", /16-byte header/);
});

test("a batch of requests completes in order with one interrupt", () => {
  const s = setup();
  const heads: number[] = [];
  for (let i = 0; i < 5; i++)
    heads.push(
      s.q.addChain([
        { data: header(VIRTIO_BLK_T_IN, i) },
        { len: 512, write: true },
        { len: 1, write: true },
      ]),
    );
  s.drv.kick(0);
  assert.equal(s.q.usedIdx(), 5);
  for (let i = 0; i < 5; i++) assert.deepEqual(s.q.usedElem(i), { id: heads[i], len: 513 });
  assert.equal(s.irq.rises, 1);
});

test("blk state round-trips inside its transport and refuses a different disk", () => {
  const a = setup();
  request(a, [{ data: header(VIRTIO_BLK_T_IN, 0) }, { len: 512, write: true }]);
  const b = new VirtioMmio(new VirtioBlk(new MemoryBlockBackend(new Uint8Array(DISK))), {
    mem: a.mem,
    irq: new TestIrq(),
  });
  const s = assertRoundTrip(
    a.t,
    b,
    (t) => t.saveState(),
    (t, st) => t.restoreState(st),
  );
  const other = new VirtioMmio(new VirtioBlk(new MemoryBlockBackend(new Uint8Array(DISK * 2))), {
    mem: a.mem,
    irq: new TestIrq(),
  });
  assert.throws(() => other.restoreState(s), StateError);
});

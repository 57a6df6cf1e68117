import assert from "node:assert/strict";
import { test } from "node:test";
import { GuestMemory } from "../../../src/machine/memory/guest-memory.ts";
import { StateError } from "../../../src/machine/snapshot/state.ts";
import {
  DescriptorChain,
  MAX_CHAIN_BYTES,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VirtQueue,
  type VirtQueueOwner,
} from "../../../src/machine/virtio/queue.ts";
import { GuestAllocator, MockVirtQueue } from "../../support/mock-driver.ts";
import { assertRoundTrip } from "../../support/roundtrip.ts";

const RAM = 0x8000_0000;
const RAM_SIZE = 1 << 20;

class Owner implements VirtQueueOwner {
  interrupts = 0;
  errors: string[] = [];
  queueInterrupt(): void {
    this.interrupts++;
  }
  queueError(_i: number, why: string): void {
    this.errors.push(why);
  }
}

/** A memory, a driver-side queue and the device-side queue over it. */
function setup(
  opts: { size?: number; max?: number; eventIdx?: boolean; indirect?: boolean; ramSize?: number } = {},
) {
  const ramSize = opts.ramSize ?? RAM_SIZE;
  const mem = new GuestMemory(ramSize);
  const heap = new GuestAllocator(RAM, RAM + ramSize);
  const size = opts.size ?? 16;
  const drv = new MockVirtQueue(mem, size, heap);
  const owner = new Owner();
  const vq = new VirtQueue(mem, 0, opts.max ?? 256, owner);
  vq.size = size;
  vq.desc = drv.desc;
  vq.avail = drv.avail;
  vq.used = drv.used;
  vq.eventIdx = opts.eventIdx ?? false;
  vq.indirect = opts.indirect ?? true;
  assert.equal(vq.enable(), true);
  return { mem, drv, owner, vq, chain: new DescriptorChain(mem), heap };
}

const bytes = (...v: number[]) => Uint8Array.from(v);

test("a chain splits into readable and writable segments; copies cross segment borders", () => {
  const { drv, vq, chain, owner, mem } = setup();
  const head = drv.addChain([
    { data: bytes(1, 2, 3) },
    { data: bytes(4, 5) },
    { len: 2, write: true },
    { len: 4, write: true },
  ]);
  assert.equal(vq.available(), 1);
  assert.equal(vq.pop(chain), true);
  assert.equal(chain.head, head);
  assert.equal(chain.readCount, 2);
  assert.equal(chain.readBytes, 5);
  assert.equal(chain.writeCount, 2);
  assert.equal(chain.writeBytes, 6);
  const got = new Uint8Array(6);
  assert.equal(chain.copyFromReadable(0, got), 5);
  assert.deepEqual(got, bytes(1, 2, 3, 4, 5, 0));
  const mid = new Uint8Array(3);
  assert.equal(chain.copyFromReadable(2, mid), 3);
  assert.deepEqual(mid, bytes(3, 4, 5));
  assert.equal(chain.copyFromReadable(9, mid), 0);
  assert.equal(chain.copyToWritable(1, bytes(9, 8, 7, 6, 5, 4)), 5);
  assert.equal(chain.setWritableByte(0, 0xaa), true);
  assert.equal(chain.setWritableByte(6, 0xaa), false);
  const w0 = mem.readPhys(chain.writeAt[0] - mem.ramLinear + RAM, 2);
  const w1 = mem.readPhys(chain.writeAt[1] - mem.ramLinear + RAM, 4);
  assert.deepEqual([...w0, ...w1], [0xaa, 9, 8, 7, 6, 5]);
  assert.deepEqual(chain.readableSlice(1), bytes(4, 5));
  vq.push(chain, 6);
  assert.equal(drv.usedIdx(), 1);
  assert.deepEqual(drv.usedElem(0), { id: head, len: 6 });
  assert.equal(vq.pop(chain), false);
  vq.notify();
  assert.equal(owner.interrupts, 1);
  vq.notify(); // nothing new pushed
  assert.equal(owner.interrupts, 1);
  assert.deepEqual(owner.errors, []);
});

test("indirect descriptor tables are walked when negotiated", () => {
  const { drv, vq, chain, owner } = setup();
  const head = drv.addChain([{ data: bytes(7, 7) }, { len: 8, write: true }, { len: 8, write: true }], {
    indirect: true,
  });
  assert.equal(vq.pop(chain), true);
  assert.equal(chain.head, head);
  assert.equal(chain.readBytes, 2);
  assert.equal(chain.writeCount, 2);
  assert.equal(chain.writeBytes, 16);
  assert.deepEqual(owner.errors, []);
});

test("without EVENT_IDX, NO_INTERRUPT suppresses used-buffer interrupts", () => {
  const { drv, vq, chain, owner } = setup();
  drv.setAvailFlags(VIRTQ_AVAIL_F_NO_INTERRUPT);
  drv.addChain([{ len: 4, write: true }]);
  assert.equal(vq.pop(chain), true);
  vq.push(chain, 0);
  vq.notify();
  assert.equal(owner.interrupts, 0);
  drv.setAvailFlags(0);
  drv.addChain([{ len: 4, write: true }]);
  assert.equal(vq.pop(chain), true);
  vq.push(chain, 0);
  vq.notify();
  assert.equal(owner.interrupts, 1);
});

test("EVENT_IDX: interrupts only when the used index passes used_event; avail_event follows the device", () => {
  const { drv, vq, chain, owner } = setup({ eventIdx: true });
  drv.setAvailFlags(VIRTQ_AVAIL_F_NO_INTERRUPT); // ignored with EVENT_IDX
  drv.setUsedEvent(2); // interrupt me when used idx goes past 2, i.e. after the third element
  for (let i = 0; i < 5; i++) drv.addChain([{ len: 4, write: true }]);
  const seen: number[] = [];
  for (let i = 0; i < 5; i++) {
    assert.equal(vq.pop(chain), true);
    assert.equal(drv.availEvent(), i + 1, "avail_event = next entry the device will take");
    vq.push(chain, 4);
    vq.notify();
    seen.push(owner.interrupts);
  }
  assert.deepEqual(seen, [0, 0, 1, 1, 1]);
  // A batch that jumps over used_event still interrupts once.
  drv.setUsedEvent(6);
  for (let i = 0; i < 3; i++) drv.addChain([{ len: 4, write: true }]);
  for (let i = 0; i < 3; i++) {
    assert.equal(vq.pop(chain), true);
    vq.push(chain, 4);
  }
  vq.notify();
  assert.equal(owner.interrupts, 2);
  // An empty pop also publishes avail_event.
  assert.equal(vq.pop(chain), false);
  assert.equal(drv.availEvent(), 8);
  assert.deepEqual(owner.errors, []);
});

test("undoPop gives a chain back; available() counts chains not yet taken", () => {
  const { drv, vq, chain } = setup();
  const a = drv.addChain([{ len: 4, write: true }]);
  drv.addChain([{ len: 4, write: true }]);
  assert.equal(vq.available(), 2);
  assert.equal(vq.pop(chain), true);
  vq.undoPop();
  assert.equal(vq.available(), 2);
  assert.equal(vq.pop(chain), true);
  assert.equal(chain.head, a);
});

test("writes into guest RAM drop decoded instructions of the pages they touch", () => {
  const { drv, vq, chain, mem } = setup();
  drv.addChain([{ len: 64, write: true }]);
  assert.equal(vq.pop(chain), true);
  const page = Math.floor((chain.writeAt[0] - mem.ramLinear) / 4096);
  const usedPage = Math.floor((drv.used - RAM) / 4096);
  mem.code.page(page);
  chain.copyToWritable(0, bytes(1));
  assert.equal(mem.code.pages[page], undefined);
  mem.code.page(page);
  chain.writableSlice(0);
  assert.equal(mem.code.pages[page], undefined);
  mem.code.page(usedPage);
  vq.push(chain, 1);
  assert.equal(mem.code.pages[usedPage], undefined);
});

test("a chain taken before a reset is not pushed after it", () => {
  const { drv, vq, chain } = setup();
  drv.addChain([{ len: 4, write: true }]);
  assert.equal(vq.pop(chain), true);
  const desc = vq.desc;
  const avail = vq.avail;
  const used = vq.used;
  vq.reset();
  Object.assign(vq, { size: 16, desc, avail, used });
  assert.equal(vq.enable(), true);
  vq.push(chain, 4);
  assert.equal(drv.usedIdx(), 0);
});

/** Hostile queues: each must break the queue with a reason, never throw, never touch memory outside RAM. */
const hostile: [string, (q: ReturnType<typeof setup>) => void, RegExp, number?][] = [
  [
    "a looped chain",
    ({ drv }) => {
      const a = drv.heap.alloc(8);
      drv.setDesc(0, { addr: a, len: 8, flags: VIRTQ_DESC_F_NEXT, next: 1 });
      drv.setDesc(1, { addr: a, len: 8, flags: VIRTQ_DESC_F_NEXT, next: 0 });
      drv.publish(0);
    },
    /loops/,
  ],
  [
    "a self-loop inside an indirect table",
    ({ drv }) => {
      const a = drv.heap.alloc(8);
      const t = drv.heap.alloc(32);
      drv.setDesc(0, { addr: a, len: 8, flags: VIRTQ_DESC_F_NEXT, next: 1 }, t);
      drv.setDesc(1, { addr: a, len: 8, flags: VIRTQ_DESC_F_NEXT, next: 1 }, t);
      drv.setDesc(0, { addr: t, len: 32, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
      drv.publish(0);
    },
    /loops/,
  ],
  [
    "a head index out of range",
    ({ drv }) => {
      drv.publish(16);
    },
    /head descriptor 16 is out of range/,
  ],
  [
    "a next index out of range",
    ({ drv }) => {
      drv.setDesc(0, { addr: drv.heap.alloc(8), len: 8, flags: VIRTQ_DESC_F_NEXT, next: 0xffff });
      drv.publish(0);
    },
    /next index 65535 is out of range/,
  ],
  [
    "a buffer outside RAM",
    ({ drv }) => {
      drv.setDesc(0, { addr: 0x1000_0000, len: 8, flags: 0, next: 0 });
      drv.publish(0);
    },
    /outside RAM/,
  ],
  [
    "a buffer running past the end of RAM",
    ({ drv }) => {
      drv.setDesc(0, { addr: RAM + RAM_SIZE - 4, len: 8, flags: VIRTQ_DESC_F_WRITE, next: 0 });
      drv.publish(0);
    },
    /outside RAM/,
  ],
  [
    "an address that wraps around 2^64",
    ({ drv }) => {
      drv.setDesc(0, { addr: 2 ** 64 - 4096, len: 8192, flags: 0, next: 0 });
      drv.publish(0);
    },
    /outside RAM/,
  ],
  [
    "a zero-length buffer",
    ({ drv }) => {
      drv.setDesc(0, { addr: RAM, len: 0, flags: 0, next: 0 });
      drv.publish(0);
    },
    /length 0/,
  ],
  [
    "a huge length",
    ({ drv }) => {
      drv.setDesc(0, { addr: RAM, len: 0xffff_ffff, flags: VIRTQ_DESC_F_WRITE, next: 0 });
      drv.publish(0);
    },
    new RegExp(`more than ${MAX_CHAIN_BYTES} bytes`),
  ],
  [
    "lengths that add up past the per-chain cap",
    ({ drv }) => {
      for (let i = 0; i < 3; i++)
        drv.setDesc(i, { addr: RAM, len: 30 << 20, flags: VIRTQ_DESC_F_NEXT, next: i + 1 });
      drv.publish(0);
    },
    /more than/,
    96 << 20,
  ],
  [
    "a readable buffer after a writable one",
    ({ drv }) => {
      drv.addChain([{ len: 4, write: true }, { data: bytes(1) }]);
    },
    /readable after a device-writable/,
  ],
  [
    "nested indirect tables",
    ({ drv }) => {
      const inner = drv.heap.alloc(16);
      drv.setDesc(0, { addr: drv.heap.alloc(8), len: 8, flags: 0, next: 0 }, inner);
      const outer = drv.heap.alloc(16);
      drv.setDesc(0, { addr: inner, len: 16, flags: VIRTQ_DESC_F_INDIRECT, next: 0 }, outer);
      drv.setDesc(0, { addr: outer, len: 16, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
      drv.publish(0);
    },
    /nested indirect/,
  ],
  [
    "an indirect table with a length that is not a multiple of 16",
    ({ drv }) => {
      drv.setDesc(0, { addr: drv.heap.alloc(32), len: 17, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
      drv.publish(0);
    },
    /indirect table length 17/,
  ],
  [
    "an empty indirect table",
    ({ drv }) => {
      drv.setDesc(0, { addr: drv.heap.alloc(32), len: 0, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
      drv.publish(0);
    },
    /indirect table length 0/,
  ],
  [
    "an indirect table outside RAM",
    ({ drv }) => {
      drv.setDesc(0, { addr: RAM + RAM_SIZE - 16, len: 64, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
      drv.publish(0);
    },
    /indirect table .* is outside RAM/,
  ],
  [
    "INDIRECT together with NEXT",
    ({ drv }) => {
      const t = drv.heap.alloc(16);
      drv.setDesc(0, { addr: drv.heap.alloc(8), len: 8, flags: 0, next: 0 }, t);
      drv.setDesc(0, { addr: t, len: 16, flags: VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, next: 1 });
      drv.publish(0);
    },
    /both INDIRECT and NEXT/,
  ],
  [
    "an INDIRECT descriptor in the middle of a chain",
    ({ drv }) => {
      const t = drv.heap.alloc(16);
      drv.setDesc(0, { addr: drv.heap.alloc(8), len: 8, flags: 0, next: 0 }, t);
      drv.setDesc(0, { addr: drv.heap.alloc(8), len: 8, flags: VIRTQ_DESC_F_NEXT, next: 1 });
      drv.setDesc(1, { addr: t, len: 16, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
      drv.publish(0);
    },
    /not the head/,
  ],
  [
    "an avail index more than a queue ahead",
    ({ drv }) => {
      drv.setAvailIdx(17);
    },
    /more than the queue size/,
  ],
];

for (const [what, build, why, ramSize] of hostile) {
  test(`hostile queue: ${what} breaks the queue and is reported once`, () => {
    const q = setup({ ramSize });
    build(q);
    const { vq, chain, owner, drv } = q;
    assert.equal(vq.pop(chain), false);
    assert.equal(vq.broken, true);
    assert.equal(owner.errors.length, 1, owner.errors.join("; "));
    assert.match(owner.errors[0], why);
    // Broken: nothing more is taken, pushed or signalled, and nothing else is reported.
    drv.addChain([{ len: 4, write: true }]);
    assert.equal(vq.pop(chain), false);
    vq.pushHead(0, 0);
    vq.notify();
    assert.equal(drv.usedIdx(), 0);
    assert.equal(owner.interrupts, 0);
    assert.equal(owner.errors.length, 1);
  });
}

test("INDIRECT without the feature negotiated breaks the queue", () => {
  const q = setup({ indirect: false });
  q.drv.addChain([{ len: 4, write: true }], { indirect: true });
  assert.equal(q.vq.pop(q.chain), false);
  assert.match(q.owner.errors[0], /not negotiated/);
});

test("bad queue configurations are refused by enable() and reported", () => {
  const cases: [string, Partial<VirtQueue>, RegExp][] = [
    ["size not a power of 2", { size: 24 }, /not a power of 2/],
    ["size 0", { size: 0 }, /not a power of 2/],
    ["size above QueueNumMax", { size: 512 }, /not a power of 2 in 1\.\.256/],
    ["descriptor table outside RAM", { desc: 0x1000 }, /descriptor table .* outside RAM/],
    ["available ring past the end of RAM", { avail: RAM + RAM_SIZE - 8 }, /available ring .* outside RAM/],
    ["used ring at an absurd address", { used: 2 ** 52 }, /used ring .* outside RAM/],
    ["misaligned descriptor table", { desc: RAM + 8 }, /not 16-byte aligned/],
    ["misaligned used ring", { used: RAM + 0x1002 }, /not 4-byte aligned/],
  ];
  for (const [what, change, why] of cases) {
    const owner = new Owner();
    const mem = new GuestMemory(RAM_SIZE);
    const vq = new VirtQueue(mem, 3, 256, owner);
    Object.assign(vq, { size: 16, desc: RAM, avail: RAM + 0x1000, used: RAM + 0x2000 }, change);
    assert.equal(vq.enable(), false, what);
    assert.equal(vq.ready, false, what);
    assert.match(owner.errors[0] ?? "", why, what);
    assert.equal(vq.pop(new DescriptorChain(mem)), false);
  }
  assert.throws(() => new VirtQueue(new GuestMemory(4096), 0, 100, new Owner()), RangeError);
});

test("queue state round-trips and a record with a bad layout is refused", () => {
  const { drv, vq, chain, mem } = setup({ eventIdx: true });
  drv.addChain([{ len: 4, write: true }]);
  vq.pop(chain);
  vq.push(chain, 4);
  vq.notify();
  const fresh = () => {
    const q = new VirtQueue(mem, 0, 256, new Owner());
    q.eventIdx = true;
    return q;
  };
  const s = assertRoundTrip(
    vq,
    fresh(),
    (q) => q.saveState(),
    (q, st) => q.restoreState(st),
  );
  assert.equal(s.usedIdx, 1);
  assert.throws(() => fresh().restoreState({ ...s, desc: 0x1000 }), StateError);
  assert.throws(() => fresh().restoreState({ ...s, usedIdx: 70000 }), StateError);
  assert.throws(() => fresh().restoreState({ ...s, version: 2 as 1 }), StateError);
  // A queue that is not ready may hold any size the driver wrote.
  fresh().restoreState({ ...s, ready: false, size: 0xffff_ffff });
});

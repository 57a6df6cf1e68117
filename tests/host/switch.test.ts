/**
 * The switch service and VM ports over real Unix sockets (Linux abstract
 * namespace), without VMs: frames pass between ports, VLANs separate them,
 * a peer that stops reading loses frames instead of stalling the switch,
 * and a port starts the service when there is none and reconnects when it
 * goes away.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { test } from "node:test";
import { SwitchPort } from "../../src/host/node/switch-port.ts";
import { startSwitchService, switchSocketName } from "../../src/host/node/switch-service.ts";
import { frameMessage, helloMessage } from "../../src/net/switch.ts";

const linux = process.platform === "linux" || "abstract Unix sockets are Linux-only";
let seq = 0;
const uniqueName = () => `t${process.pid}-${Date.now()}-${seq++}`;

function frame(dst: number, src: number, n: number, size = 60): Uint8Array {
  const f = new Uint8Array(size);
  f.set([0x52, 0x54, 0, 0, 0, dst], 0);
  f.set([0x52, 0x54, 0, 0, 0, src], 6);
  if (dst === 0xff) f.fill(0xff, 0, 6);
  f[12] = 0x08;
  f[14] = n >> 8;
  f[15] = n & 255;
  return f;
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A started port and the frames it received. */
async function port(name: string, vlan = 1) {
  const p = new SwitchPort(name, vlan);
  const got: Uint8Array[] = [];
  p.connect((f) => got.push(f));
  await p.start();
  return { p, got };
}

test("frames pass between ports of a VLAN with MAC learning, and never into another VLAN", {
  skip: linux !== true && linux,
}, async () => {
  const name = uniqueName();
  const svc = await startSwitchService(name, { lingerMs: 0 });
  const a = await port(name);
  const b = await port(name);
  const c = await port(name, 7);
  try {
    await until(() => svc.sw.portCount === 3, "three ports");
    a.p.transmit(frame(0xff, 0x0a, 1));
    a.p.flush();
    await until(() => b.got.length === 1, "broadcast at b");
    b.p.transmit(frame(0x0a, 0x0b, 2));
    b.p.flush();
    await until(() => a.got.length === 1, "unicast at a");
    assert.equal(a.got[0][15], 2);
    // VLAN 7 got nothing; its own broadcast reaches nobody.
    c.p.transmit(frame(0xff, 0x0c, 3));
    c.p.flush();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.got.length, 0);
    assert.equal(a.got.length, 1);
    assert.equal(b.got.length, 1);
    assert.equal(svc.sw.stats.forwarded, 1);
  } finally {
    a.p.close();
    b.p.close();
    c.p.close();
    svc.close();
  }
});

test("a peer that stops reading loses frames; the others get every one", {
  skip: linux !== true && linux,
}, async () => {
  const name = uniqueName();
  const svc = await startSwitchService(name, { lingerMs: 0 });
  const a = await port(name);
  const b = await port(name);
  // A raw client that joins and never reads, like a hung VM.
  const stuck = connect({ path: switchSocketName(name) });
  await new Promise<void>((r) => stuck.on("connect", r));
  stuck.write(frameMessage(helloMessage(1)));
  stuck.pause();
  try {
    await until(() => svc.sw.portCount === 3, "three ports");
    // 9 MB of broadcasts, more than the stuck peer's socket and its 4 MiB allowance, in paced batches:
    // b must get each batch while the stuck peer holds nothing up.
    const count = 6000;
    for (let i = 0; i < count; i += 100) {
      for (let j = i; j < i + 100; j++) a.p.transmit(frame(0xff, 0x0a, j, 1514));
      a.p.flush();
      await until(() => b.got.length === i + 100, `b got ${b.got.length} of ${i + 100}`);
    }
    assert.ok(svc.sw.stats.dropped > 0, "frames for the stuck peer were dropped");
    assert.equal(a.p.stats.dropped, 0);
  } finally {
    stuck.destroy();
    a.p.close();
    b.p.close();
    svc.close();
  }
});

test("the first port starts the switch service; ports reconnect when it goes away", {
  skip: linux !== true && linux,
}, async () => {
  const name = uniqueName();
  // No service yet: start() spawns one (a detached process that ends 10 s after its last port).
  const a = await port(name);
  const b = await port(name);
  try {
    // Until both hellos are in, a frame may find no port to go to (as on a switch whose port is still coming up).
    await until(() => {
      a.p.transmit(frame(0xff, 0x0a, 1));
      a.p.flush();
      return b.got.length > 0;
    }, "frame through the spawned service");
    // A second service for the same name cannot start while the first runs.
    await assert.rejects(startSwitchService(name, { lingerMs: 0 }), /EADDRINUSE/);
  } finally {
    a.p.close();
    b.p.close();
  }
  // An in-process service that is closed under its ports: they reconnect to a new one.
  const name2 = uniqueName();
  const svc = await startSwitchService(name2, { lingerMs: 0 });
  const c = await port(name2);
  const d = await port(name2);
  try {
    svc.close();
    await until(() => c.p.stats.reconnects === 1 && d.p.stats.reconnects === 1, "both reconnected");
    await until(() => {
      c.p.transmit(frame(0xff, 0x0c, 9));
      c.p.flush();
      return d.got.length > 0;
    }, "frames through the new service");
  } finally {
    c.p.close();
    d.p.close();
  }
});

import assert from "node:assert/strict";
import { test } from "node:test";
import type { NetBackend } from "../../src/machine/virtio/net.ts";
import { MacTranslator } from "../../src/vm/mac-translate.ts";
import { parseMac } from "../../src/vm/network-config.ts";

const OLD = parseMac("52:54:00:12:34:56")!;
const NEW = parseMac("52:54:00:ab:cd:ef")!;
const GW = parseMac("52:55:0a:00:02:02")!;
const BCAST = new Uint8Array(6).fill(0xff);

function ethernet(dst: Uint8Array, src: Uint8Array, type: number, payload: number[]): Uint8Array {
  return Uint8Array.from([...dst, ...src, type >> 8, type & 0xff, ...payload]);
}

/** An ARP packet over Ethernet/IPv4 (RFC 826): op, sender MAC/IP, target MAC/IP. */
function arp(op: number, sha: Uint8Array, tha: Uint8Array): number[] {
  return [0, 1, 8, 0, 6, 4, 0, op, ...sha, 10, 0, 2, 15, ...tha, 10, 0, 2, 2];
}

function rig() {
  const sent: Uint8Array[] = [];
  const got: Uint8Array[] = [];
  let deliver: (f: Uint8Array) => void = () => {};
  const inner: NetBackend = {
    connect: (r) => (deliver = r),
    transmit: (f) => sent.push(f),
    terminatesTcp: true,
  };
  const t = new MacTranslator(inner, OLD, NEW);
  t.connect((f) => got.push(f));
  return { t, sent, got, deliver: (f: Uint8Array) => deliver(f) };
}

const mac = (f: Uint8Array, off: number) => f.subarray(off, off + 6);

test("a clone's frames leave with its own MAC, and frames for it reach the guest under the old one", () => {
  const { t, sent, got, deliver } = rig();
  assert.equal(t.terminatesTcp, true);
  t.transmit(ethernet(GW, OLD, 0x0800, [0x45, 1, 2, 3]), { checksumOffloaded: false });
  assert.deepEqual(mac(sent[0], 6), NEW, "Ethernet source rewritten");
  assert.deepEqual(sent[0].subarray(12), Uint8Array.of(8, 0, 0x45, 1, 2, 3), "payload untouched");
  t.transmit(ethernet(BCAST, OLD, 0x0806, arp(1, OLD, new Uint8Array(6))), { checksumOffloaded: false });
  assert.deepEqual(mac(sent[1], 22), NEW, "ARP sender hardware address rewritten");
  const reply = ethernet(NEW, GW, 0x0806, arp(2, GW, NEW));
  deliver(reply);
  assert.deepEqual(mac(got[0], 0), OLD, "Ethernet destination back to the guest's MAC");
  assert.deepEqual(mac(got[0], 32), OLD, "ARP target hardware address back too");
  assert.deepEqual(mac(reply, 0), NEW, "the backend's own frame is not modified");
  const other = ethernet(BCAST, GW, 0x0800, [1]);
  deliver(other);
  assert.equal(got[1], other, "a broadcast passes as it is");
});

test("once the guest uses the new MAC itself (its driver probed again), nothing is translated", () => {
  const { t, sent, got, deliver } = rig();
  t.transmit(ethernet(GW, NEW, 0x0800, [0x45]), { checksumOffloaded: false });
  assert.deepEqual(mac(sent[0], 6), NEW);
  deliver(ethernet(NEW, GW, 0x0800, [0x45]));
  assert.deepEqual(mac(got[0], 0), NEW);
});

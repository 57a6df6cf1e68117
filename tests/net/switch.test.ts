/**
 * The learning switch and its stream framing (src/net/switch.ts), and the
 * libpcap format (src/net/pcap.ts), without sockets.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PcapTap, pcapFileHeader, pcapRecord } from "../../src/net/pcap.ts";
import {
  EthernetSwitch,
  frameMessage,
  HELLO_LEN,
  helloMessage,
  MAC_AGEING_MS,
  MAC_TABLE_MAX,
  MessageReader,
  parseHello,
  SWITCH_MAX_FRAME,
} from "../../src/net/switch.ts";
import { mac } from "../../src/net/wire.ts";

const BCAST = "ff:ff:ff:ff:ff:ff";

function frame(dst: string, src: string, tag = 0): Uint8Array {
  const f = new Uint8Array(60);
  f.set(mac(dst), 0);
  f.set(mac(src), 6);
  f[12] = 0x08;
  f[14] = tag;
  return f;
}

/** A switch with recording ports; `full` ports refuse every frame. */
function rig(vlans: number[], full: number[] = []) {
  let t = 0;
  const sw = new EthernetSwitch(() => t);
  const got: number[][] = vlans.map(() => []);
  const ids = vlans.map((vlan, i) =>
    sw.addPort(vlan, {
      send: (f) => {
        if (full.includes(i)) return false;
        got[i].push(f[14]);
        return true;
      },
    }),
  );
  return {
    sw,
    ids,
    got,
    advance: (ms: number) => {
      t += ms;
    },
    take: () => got.map((g) => g.splice(0)),
  };
}

const A = "52:54:00:00:00:0a";
const B = "52:54:00:00:00:0b";
const C = "52:54:00:00:00:0c";

test("unknown and broadcast destinations flood the VLAN; learned ones go to one port", () => {
  const r = rig([1, 1, 1]);
  r.sw.input(r.ids[0], frame(BCAST, A, 1));
  assert.deepEqual(r.take(), [[], [1], [1]]);
  r.sw.input(r.ids[1], frame(A, B, 2)); // A is known: only port 0
  assert.deepEqual(r.take(), [[2], [], []]);
  r.sw.input(r.ids[0], frame(B, A, 3)); // B learned from the last frame
  assert.deepEqual(r.take(), [[], [3], []]);
  r.sw.input(r.ids[0], frame(C, A, 4)); // C unknown: flood
  assert.deepEqual(r.take(), [[], [4], [4]]);
  r.sw.input(r.ids[0], frame("01:00:5e:00:00:01", A, 5)); // multicast: flood
  assert.deepEqual(r.take(), [[], [5], [5]]);
  assert.equal(r.sw.stats.forwarded, 2);
  // A frame to a MAC on its own port is not sent back.
  r.sw.input(r.ids[0], frame(A, A, 6));
  assert.deepEqual(r.take(), [[], [], []]);
});

test("VLANs are separate: no flood, no unicast, and the same MAC may live in two VLANs", () => {
  const r = rig([1, 1, 2, 2]);
  r.sw.input(r.ids[0], frame(BCAST, A, 1));
  assert.deepEqual(r.take(), [[], [1], [], []]);
  r.sw.input(r.ids[2], frame(BCAST, A, 2)); // A again, in VLAN 2
  assert.deepEqual(r.take(), [[], [], [], [2]]);
  r.sw.input(r.ids[1], frame(A, B, 3));
  assert.deepEqual(r.take(), [[3], [], [], []]);
  r.sw.input(r.ids[3], frame(A, B, 4));
  assert.deepEqual(r.take(), [[], [], [4], []]);
  // B is known in VLAN 1 only; from VLAN 2 it is unknown and flooded within VLAN 2.
  r.sw.input(r.ids[2], frame(B, A, 5));
  assert.deepEqual(r.take(), [[], [], [], [5]]);
});

test("a port that moves, leaves or ages out is relearned; a removed port gets nothing", () => {
  const r = rig([1, 1, 1]);
  r.sw.input(r.ids[0], frame(BCAST, A, 1));
  r.take();
  r.sw.input(r.ids[2], frame(BCAST, A, 2)); // A moved to port 2
  r.take();
  r.sw.input(r.ids[1], frame(A, B, 3));
  assert.deepEqual(r.take(), [[], [], [3]]);
  r.sw.removePort(r.ids[2]);
  r.sw.input(r.ids[1], frame(A, B, 4)); // forgotten with its port: flooded to those left
  assert.deepEqual(r.take(), [[4], [], []]);
  r.sw.input(r.ids[0], frame(BCAST, A, 5));
  r.take();
  r.advance(MAC_AGEING_MS + 1);
  r.sw.input(r.ids[1], frame(A, B, 6));
  assert.deepEqual(r.take(), [[6], [], []], "aged out: flooded again");
  assert.equal(r.sw.portCount, 2);
  r.sw.input(r.ids[2], frame(BCAST, C, 7)); // from a removed port: ignored
  assert.deepEqual(r.take(), [[], [], []]);
});

test("a congested port loses its frames without holding up the others", () => {
  const r = rig([1, 1, 1], [1]);
  for (let i = 0; i < 100; i++) r.sw.input(r.ids[0], frame(BCAST, A, i));
  const [a, b, c] = r.take();
  assert.deepEqual([a.length, b.length, c.length], [0, 0, 100]);
  assert.equal(r.sw.stats.dropped, 100);
});

test("runts and oversized frames are refused; the MAC table is bounded", () => {
  const r = rig([1, 1]);
  r.sw.input(r.ids[0], new Uint8Array(13));
  r.sw.input(r.ids[0], new Uint8Array(SWITCH_MAX_FRAME + 1));
  assert.deepEqual(r.take(), [[], []]);
  assert.equal(r.sw.stats.refused, 2);
  // A flood of fake sources keeps at most MAC_TABLE_MAX entries and the switch keeps working.
  for (let i = 0; i < MAC_TABLE_MAX + 50; i++) {
    const f = frame(BCAST, A);
    f[9] = i >> 16;
    f[10] = (i >> 8) & 255;
    f[11] = i & 255;
    r.advance(1);
    r.sw.input(r.ids[0], f);
  }
  r.take();
  r.sw.input(r.ids[1], frame(BCAST, B, 9));
  r.sw.input(r.ids[0], frame(B, A, 10));
  assert.deepEqual(r.take(), [[9], [10]]);
});

test("hello and length-prefixed messages survive any split of the stream; a bad length is refused", () => {
  assert.equal(parseHello(helloMessage(42)), 42);
  assert.equal(helloMessage(1).length, HELLO_LEN);
  assert.match(String(parseHello(helloMessage(1).subarray(0, 7))), /wrong length/);
  const badVlan = helloMessage(1);
  badVlan[6] = 0x0f;
  badVlan[7] = 0xff;
  assert.match(String(parseHello(badVlan)), /VLAN 4095/);
  const other = helloMessage(1);
  other[0] = 0;
  assert.match(String(parseHello(other)), /not a Virtus switch hello/);
  const msgs = [frame(BCAST, A, 1), frame(B, A, 2), new Uint8Array(1500).fill(7)];
  const stream = new Uint8Array(msgs.reduce((n, m) => n + 4 + m.length, 0));
  let at = 0;
  for (const m of msgs) {
    stream.set(frameMessage(m), at);
    at += 4 + m.length;
  }
  for (const step of [1, 3, 5, 64, 1000, stream.length]) {
    const out: Uint8Array[] = [];
    const reader = new MessageReader((m) => out.push(m));
    for (let i = 0; i < stream.length; i += step)
      assert.equal(reader.push(stream.subarray(i, i + step)), undefined);
    assert.deepEqual(out, msgs);
  }
  const reader = new MessageReader(() => assert.fail("no message"));
  assert.match(String(reader.push(Uint8Array.of(0, 0, 0, 0))), /message length 0/);
  assert.match(String(new MessageReader(() => {}).push(Uint8Array.of(0x7f, 0, 0, 0))), /message length/);
});

test("pcap: the file header and records are libpcap 2.4 little-endian; the tap records both directions", () => {
  const h = pcapFileHeader();
  assert.deepEqual([...h.subarray(0, 8)], [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
  assert.equal(new DataView(h.buffer).getUint32(20, true), 1);
  const f = frame(BCAST, A, 1);
  const r = pcapRecord(f, 1_700_000_000_123.456);
  const v = new DataView(r.buffer);
  assert.equal(v.getUint32(0, true), 1_700_000_000);
  assert.equal(v.getUint32(4, true), 123_456);
  assert.equal(v.getUint32(8, true), 60);
  assert.equal(v.getUint32(12, true), 60);
  assert.deepEqual(r.subarray(16), f);
  const written: Uint8Array[] = [];
  const sent: Uint8Array[] = [];
  let deliver: (f: Uint8Array) => void = () => {};
  const tap = new PcapTap(
    {
      connect: (rx) => {
        deliver = rx;
      },
      transmit: (fr) => sent.push(fr),
      terminatesTcp: true,
    },
    { write: (b) => written.push(b) },
    () => 0,
  );
  const received: Uint8Array[] = [];
  tap.connect((fr) => received.push(fr));
  tap.transmit(frame(B, A, 2), { checksumOffloaded: false });
  deliver(frame(A, B, 3));
  assert.equal(tap.terminatesTcp, true);
  assert.deepEqual([written.length, sent.length, received.length], [3, 1, 1]);
  assert.equal(written[1][16 + 14], 2);
  assert.equal(written[2][16 + 14], 3);
  assert.equal(tap.saveState, undefined, "no state when the inner backend has none");
  let restored: unknown;
  const stateful = new PcapTap(
    {
      connect() {},
      transmit() {},
      saveState: () => ({ n: 1 }),
      restoreState: (st) => {
        restored = st;
      },
    },
    { write() {} },
    () => 0,
  );
  assert.deepEqual(stateful.saveState?.(), { n: 1 });
  stateful.restoreState?.({ n: 2 });
  assert.deepEqual(restored, { n: 2 });
});

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DHCPACK,
  DHCPDISCOVER,
  DHCPINFORM,
  DHCPNAK,
  DHCPOFFER,
  DHCPRELEASE,
  DHCPREQUEST,
  parseDhcp,
} from "../../src/net/dhcp.ts";
import {
  ARP_REPLY,
  ETHERTYPE_IPV4,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  IPPROTO_ICMP,
  ipv4Frame,
  L4_OFF,
  parseArp,
  parseIpv4,
  TCP_ACK,
  TCP_RST,
  TCP_SYN,
  tcpFrame,
} from "../../src/net/frames.ts";
import {
  DEFAULT_GUEST_MAC,
  DNS_IP,
  DNS_MAC,
  GATEWAY_IP,
  GATEWAY_MAC,
  GUEST_IP,
} from "../../src/net/user-net.ts";
import { checksum, ip4, ip4String, macString, put16, put32, u16, u32 } from "../../src/net/wire.ts";
import { bytes, Harness } from "../support/net-fakes.ts";

test("the Internet checksum matches RFC 1071's worked example and verifies to zero", () => {
  // RFC 1071 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (one's complement), so the checksum is 220d.
  const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7, 0, 0]);
  assert.equal(checksum(b, 0, 8), 0x220d);
  put16(b, 8, 0x220d);
  assert.equal(checksum(b, 0, 10), 0);
  assert.equal(checksum(Uint8Array.from([0xff]), 0, 1), 0x00ff); // odd length pads with zero
});

test("ARP: the gateway and the name server answer with their MACs; other addresses get nothing", () => {
  const h = new Harness();
  h.send(
    h.arpRequest(GATEWAY_IP),
    h.arpRequest(DNS_IP),
    h.arpRequest(ip4("10.0.2.99")),
    h.arpRequest(GUEST_IP),
  );
  const out = h.take();
  assert.equal(out.length, 2);
  const a = parseArp(out[0].frame);
  const b = parseArp(out[1].frame);
  assert.ok(typeof a !== "string" && typeof b !== "string");
  assert.equal(a.op, ARP_REPLY);
  assert.equal(macString(a.senderMac), macString(GATEWAY_MAC));
  assert.equal(ip4String(a.senderIp), "10.0.2.2");
  assert.equal(macString(a.targetMac), macString(DEFAULT_GUEST_MAC));
  assert.equal(ip4String(a.targetIp), "10.0.2.15");
  assert.equal(macString(out[0].frame, 0), macString(DEFAULT_GUEST_MAC)); // unicast back to the asker
  assert.equal(macString(out[0].frame, 6), macString(GATEWAY_MAC));
  assert.equal(macString(b.senderMac), macString(DNS_MAC));
  assert.equal(ip4String(b.senderIp), "10.0.2.3");
});

/** A DHCP client message as udhcpc sends it (from 0.0.0.0 to the broadcast address). */
function dhcpMessage(
  type: number,
  opts: { requested?: string; server?: string; ciaddr?: string; xid?: number } = {},
) {
  const p = new Uint8Array(300);
  p[0] = 1; // BOOTREQUEST
  p[1] = 1;
  p[2] = 6;
  put32(p, 4, opts.xid ?? 0xdeadbeef);
  put16(p, 10, 0x8000); // broadcast flag
  if (opts.ciaddr) put32(p, 12, ip4(opts.ciaddr));
  p.set(DEFAULT_GUEST_MAC, 28);
  put32(p, 236, 0x63825363);
  let i = 240;
  p.set([53, 1, type], i);
  i += 3;
  if (opts.requested) {
    p.set([50, 4], i);
    put32(p, i + 2, ip4(opts.requested));
    i += 6;
  }
  if (opts.server) {
    p.set([54, 4], i);
    put32(p, i + 2, ip4(opts.server));
    i += 6;
  }
  p[i] = 255;
  return p;
}

/** Reads the options of a DHCP reply into a map code -> bytes. */
function dhcpOptions(p: Uint8Array): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>();
  for (let i = 240; i < p.length && p[i] !== 255; ) {
    if (p[i] === 0) {
      i++;
      continue;
    }
    m.set(p[i], p.slice(i + 2, i + 2 + p[i + 1]));
    i += 2 + p[i + 1];
  }
  return m;
}

test("DHCP: DISCOVER -> OFFER, REQUEST -> ACK with 10.0.2.15/24, router 10.0.2.2, DNS 10.0.2.3 and a lease", () => {
  const h = new Harness();
  const from0 = (p: Uint8Array) => h.udp(68, 0xffffffff, 67, p, 0);
  h.send(from0(dhcpMessage(DHCPDISCOVER)));
  const [offer] = h.take();
  assert.ok(offer.udp);
  assert.equal(offer.udp.srcPort, 67);
  assert.equal(offer.udp.dstPort, 68);
  assert.equal(ip4String(offer.ip!.src), "10.0.2.2");
  assert.equal(ip4String(offer.ip!.dst), "255.255.255.255"); // the client asked for broadcast
  const o = offer.udp.payload;
  assert.equal(o[0], 2); // BOOTREPLY
  assert.equal(u32(o, 4), 0xdeadbeef);
  assert.equal(ip4String(u32(o, 16)), "10.0.2.15");
  const oo = dhcpOptions(o);
  assert.deepEqual([...oo.get(53)!], [DHCPOFFER]);
  assert.equal(ip4String(u32(oo.get(54)!, 0)), "10.0.2.2");
  assert.equal(ip4String(u32(oo.get(1)!, 0)), "255.255.255.0");
  assert.equal(ip4String(u32(oo.get(3)!, 0)), "10.0.2.2");
  assert.equal(ip4String(u32(oo.get(6)!, 0)), "10.0.2.3");
  assert.equal(u32(oo.get(51)!, 0), 86400);

  h.send(from0(dhcpMessage(DHCPREQUEST, { requested: "10.0.2.15", server: "10.0.2.2" })));
  const [ack] = h.take();
  const ao = dhcpOptions(ack.udp!.payload);
  assert.deepEqual([...ao.get(53)!], [DHCPACK]);
  assert.equal(ip4String(u32(ack.udp!.payload, 16)), "10.0.2.15");
  assert.equal(u32(ao.get(51)!, 0), 86400);

  // Renewal: unicast from the leased address, answered to it.
  h.send(h.udp(68, GATEWAY_IP, 67, dhcpMessage(DHCPREQUEST, { ciaddr: "10.0.2.15" })));
  const [renew] = h.take();
  assert.deepEqual([...dhcpOptions(renew.udp!.payload).get(53)!], [DHCPACK]);
  assert.equal(ip4String(renew.ip!.dst), "10.0.2.15");
});

test("DHCP: a REQUEST for another address is NAKed, one for another server ignored, INFORM gets no lease", () => {
  const h = new Harness();
  const from0 = (p: Uint8Array) => h.udp(68, 0xffffffff, 67, p, 0);
  h.send(from0(dhcpMessage(DHCPREQUEST, { requested: "10.0.2.99" })));
  const [nak] = h.take();
  assert.deepEqual([...dhcpOptions(nak.udp!.payload).get(53)!], [DHCPNAK]);
  assert.equal(u32(nak.udp!.payload, 16), 0);
  h.send(from0(dhcpMessage(DHCPREQUEST, { requested: "10.0.2.15", server: "10.0.2.9" })));
  h.send(from0(dhcpMessage(DHCPRELEASE)));
  assert.equal(h.take().length, 0);
  h.send(h.udp(68, GATEWAY_IP, 67, dhcpMessage(DHCPINFORM, { ciaddr: "10.0.2.15" })));
  const [inf] = h.take();
  const io = dhcpOptions(inf.udp!.payload);
  assert.deepEqual([...io.get(53)!], [DHCPACK]);
  assert.equal(io.has(51), false);
  assert.equal(u32(inf.udp!.payload, 16), 0);
});

test("DHCP parser rejects truncated, non-DHCP and option-overrunning messages", () => {
  assert.equal(typeof parseDhcp(new Uint8Array(100)), "string");
  const bootp = dhcpMessage(DHCPDISCOVER);
  put32(bootp, 236, 0);
  assert.equal(parseDhcp(bootp), "no DHCP magic cookie (plain BOOTP)");
  const overrun = dhcpMessage(DHCPDISCOVER).slice(0, 244);
  overrun[242] = 50;
  overrun[243] = 200;
  assert.equal(parseDhcp(overrun), "truncated DHCP option");
});

function echoRequest(dst: number, id: number, seq: number, data: Uint8Array): Uint8Array {
  const f = ipv4Frame(GATEWAY_MAC, DEFAULT_GUEST_MAC, GUEST_IP, dst, IPPROTO_ICMP, 8 + data.length, 7);
  f[L4_OFF] = ICMP_ECHO_REQUEST;
  put16(f, L4_OFF + 4, id);
  put16(f, L4_OFF + 6, seq);
  f.set(data, L4_OFF + 8);
  put16(f, L4_OFF + 2, checksum(f, L4_OFF, 8 + data.length));
  return f;
}

test("ICMP: echo to the gateway is answered by it with the same id, sequence and data and a valid checksum", () => {
  const h = new Harness();
  const data = bytes("abcdefghijklmnopqrstuvwxyz0123456789!"); // odd length exercises the checksum padding
  h.send(echoRequest(GATEWAY_IP, 0x1234, 7, data));
  const [r] = h.take();
  const ip = r.ip!;
  assert.equal(ip.proto, IPPROTO_ICMP);
  assert.equal(ip4String(ip.src), "10.0.2.2");
  assert.equal(ip4String(ip.dst), "10.0.2.15");
  const f = r.frame;
  assert.equal(f[ip.l4], ICMP_ECHO_REPLY);
  assert.equal(u16(f, ip.l4 + 4), 0x1234);
  assert.equal(u16(f, ip.l4 + 6), 7);
  assert.deepEqual(f.slice(ip.l4 + 8, ip.l4 + ip.l4len), data);
  assert.equal(checksum(f, ip.l4, ip.l4len), 0);
  assert.notEqual(u16(f, ip.l4 + 2), 0);
});

test("ICMP: echo to other hosts, bad checksums and non-echo messages are dropped", () => {
  const h = new Harness();
  const bad = echoRequest(GATEWAY_IP, 1, 1, bytes("x"));
  bad[L4_OFF + 8] ^= 1;
  h.send(echoRequest(ip4("8.8.8.8"), 1, 1, bytes("x")), bad);
  assert.equal(h.take().length, 0);
  assert.equal(h.net.stats.dropped["ICMP echo to another host"], 1);
  assert.equal(h.net.stats.dropped["bad ICMP checksum"], 1);
  h.send(echoRequest(DNS_IP, 1, 1, bytes("x")));
  assert.equal(ip4String(h.take()[0].ip!.src), "10.0.2.3");
});

test("UDP: datagrams to 10.0.2.2 go to the host's 127.0.0.1 from one socket per guest port; replies come back", () => {
  const h = new Harness();
  h.send(h.udp(5000, GATEWAY_IP, 7777, bytes("ping")));
  h.send(h.udp(5000, GATEWAY_IP, 7778, bytes("pong?")));
  assert.equal(h.host.udpSockets.length, 1);
  const s = h.host.udpSockets[0];
  assert.deepEqual(
    s.sent.map((x) => [new TextDecoder().decode(x.bytes), x.addr, x.port]),
    [
      ["ping", "127.0.0.1", 7777],
      ["pong?", "127.0.0.1", 7778],
    ],
  );
  s.events.message(bytes("reply"), "127.0.0.1", 7777);
  const [r] = h.take();
  assert.equal(ip4String(r.ip!.src), "10.0.2.2");
  assert.equal(ip4String(r.ip!.dst), "10.0.2.15");
  assert.equal(r.udp!.srcPort, 7777);
  assert.equal(r.udp!.dstPort, 5000);
  assert.equal(new TextDecoder().decode(r.udp!.payload), "reply");
  h.send(h.udp(5001, GATEWAY_IP, 7777, bytes("other")));
  assert.equal(h.host.udpSockets.length, 2);
  // Idle bindings are closed after two minutes.
  h.timers.advance(200_000);
  assert.ok(h.host.udpSockets.every((x) => x.closed));
});

test("UDP to addresses with nothing behind them is dropped, with a bad checksum too", () => {
  const h = new Harness();
  h.send(
    h.udp(5000, ip4("10.0.2.77"), 53, bytes("q")),
    h.udp(5000, ip4("127.0.0.1"), 53, bytes("q")),
    h.udp(5000, ip4("224.0.0.251"), 5353, bytes("q")),
    h.udp(5000, DNS_IP, 54, bytes("q")),
  );
  const bad = h.udp(5000, GATEWAY_IP, 9, bytes("zzz"));
  bad[bad.length - 1] ^= 0xff;
  h.send(bad);
  assert.equal(h.host.udpSockets.length, 0);
  assert.equal(h.net.stats.dropped["UDP to an address without a relay"], 3);
  assert.equal(h.net.stats.dropped["UDP to the name server, not port 53"], 1);
  assert.equal(h.net.stats.dropped["bad UDP checksum"], 1);
});

test("UDP forward: host datagrams reach the guest port from 10.0.2.2, and the guest's replies reach the client", async () => {
  const h = new Harness({ forwards: [{ proto: "udp", hostPort: 5353, guestPort: 53 }] });
  await h.net.start();
  const l = h.host.udpListeners.get(5353)!;
  l.events.message(bytes("query"), "127.0.0.1", 61000);
  const [q] = h.take();
  assert.equal(q.udp!.dstPort, 53);
  assert.equal(ip4String(q.ip!.src), "10.0.2.2");
  const gwPort = q.udp!.srcPort;
  h.send(h.udp(53, GATEWAY_IP, gwPort, bytes("answer")));
  assert.deepEqual(
    l.sent.map((x) => [new TextDecoder().decode(x.bytes), x.addr, x.port]),
    [["answer", "127.0.0.1", 61000]],
  );
  assert.equal(h.host.udpSockets.length, 0); // not relayed as an outbound datagram
});

test("start() fails when a forwarded port cannot be bound, and closes what it had bound", async () => {
  const h = new Harness({
    forwards: [
      { proto: "tcp", hostPort: 8080, guestPort: 80 },
      { proto: "tcp", hostPort: 8081, guestPort: 81 },
    ],
  });
  h.host.busy.add(8081);
  await assert.rejects(h.net.start(), /8081 in use/);
  assert.deepEqual(h.host.closedListeners, [8080]);
});

test("malformed and truncated frames are dropped without throwing", () => {
  const h = new Harness();
  const good = [
    h.arpRequest(GATEWAY_IP),
    h.udp(68, 0xffffffff, 67, dhcpMessage(DHCPDISCOVER), 0),
    echoRequest(GATEWAY_IP, 1, 2, bytes("hello")),
    h.udp(5000, GATEWAY_IP, 7, bytes("data")),
    h.tcp({
      srcPort: 40000,
      dstPort: 80,
      seq: 1,
      ack: 0,
      flags: TCP_SYN,
      window: 1000,
      mss: 1460,
      wscale: 7,
    }),
    h.tcp({ srcPort: 40001, dstPort: 80, seq: 1, ack: 5, flags: TCP_ACK, window: 1000 }, bytes("xyz")),
  ];
  // Every truncation of every frame, and single-byte corruptions of each.
  let rng = 12345;
  const rand = () => {
    rng = (rng * 1103515245 + 12345) >>> 0;
    return rng;
  };
  for (const f of good) {
    for (let n = 0; n < f.length; n++) h.net.transmit(f.slice(0, n));
    for (let k = 0; k < 300; k++) {
      const c = f.slice();
      c[rand() % c.length] = rand() & 255;
      h.net.transmit(c);
    }
  }
  h.net.transmit(new Uint8Array(0));
  const frag = echoRequest(GATEWAY_IP, 1, 2, bytes("x"));
  put16(frag, 14 + 6, 0x2000); // more fragments
  put16(frag, 14 + 10, 0);
  put16(frag, 14 + 10, checksum(frag, 14, 20));
  h.net.transmit(frag);
  h.net.flush();
  assert.equal(h.net.stats.dropped["IPv4 fragment"] >= 1, true);
  assert.ok((h.net.stats.dropped["runt frame"] ?? 0) >= 1);
  assert.ok((h.net.stats.dropped["bad IPv4 header checksum"] ?? 0) >= 1);
  // Whatever the stack did send in reply is well-formed (decode throws otherwise).
  assert.ok(h.take().every((s) => s.type === 0x0806 || s.type === ETHERTYPE_IPV4));
  // A frame with an IPv4 total length beyond the frame is caught too.
  const long = echoRequest(GATEWAY_IP, 1, 2, bytes("abc"));
  put16(long, 16, 200);
  put16(long, 24, 0);
  put16(long, 24, checksum(long, 14, 20));
  assert.equal(parseIpv4(long), "bad IPv4 total length");
});

test("TCP to an address with nothing behind it (the LAN, loopback, multicast) is reset", () => {
  const h = new Harness();
  for (const dst of ["10.0.2.99", "127.0.0.1", "239.1.1.1"]) {
    const syn = { srcPort: 40000, dstPort: 80, seq: 100, ack: 0, flags: TCP_SYN, window: 1000 };
    h.send(tcpFrame(GATEWAY_MAC, DEFAULT_GUEST_MAC, GUEST_IP, ip4(dst), syn, 0, 1));
    const [r] = h.take();
    assert.equal(r.tcp!.flags, TCP_RST | TCP_ACK);
    assert.equal(r.tcp!.ack, 101);
    assert.equal(ip4String(r.ip!.src), dst);
  }
  assert.equal(h.host.connects.length, 0);
});

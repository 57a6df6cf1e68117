/**
 * NAT to any IPv4 address (as QEMU's slirp): guest TCP and UDP to an
 * address beyond the virtual LAN go to a host socket connected to the same
 * address, and the answers come back from it; 10.0.2.2 stays the host's
 * loopback; restrict keeps the guest off the host altogether. Host sockets
 * are fakes here: nothing leaves the process.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { TCP_ACK, TCP_RST, TCP_SYN, tcpFrame } from "../../src/net/frames.ts";
import { DEFAULT_GUEST_MAC, GATEWAY_IP, GATEWAY_MAC, GUEST_IP } from "../../src/net/user-net.ts";
import { ip4, ip4String, seqAdd } from "../../src/net/wire.ts";
import { bytes, Harness, segData } from "../support/net-fakes.ts";

/** A documentation address (RFC 5737): never contacted, the host is a fake. */
const FAR = ip4("198.51.100.7");

function syn(h: Harness, dst: number, srcPort: number, dstPort: number): void {
  h.send(
    tcpFrame(
      GATEWAY_MAC,
      DEFAULT_GUEST_MAC,
      GUEST_IP,
      dst,
      { srcPort, dstPort, seq: 100, ack: 0, flags: TCP_SYN, window: 65535, mss: 1460 },
      0,
      1,
    ),
  );
}

test("TCP to an outside address connects a host socket to that address; segments come back from it", () => {
  const h = new Harness();
  syn(h, FAR, 40000, 443);
  const sock = h.host.connects[0];
  assert.equal(sock.addr, "198.51.100.7");
  assert.equal(sock.port, 443);
  sock.events!.connected();
  const [synack] = h.tcpOut();
  assert.equal(synack.tcp.flags, TCP_SYN | TCP_ACK);
  assert.equal(ip4String(synack.ip!.src), "198.51.100.7");
  assert.equal(synack.tcp.srcPort, 443);
  // Data both ways, on a connection keyed by the remote address too.
  const ack = seqAdd(synack.tcp.seq, 1);
  h.send(
    h.tcp({ srcPort: 40000, dstPort: 443, seq: 101, ack, flags: TCP_ACK, window: 65535 }, bytes("hi"), FAR),
  );
  assert.equal(sock.text(), "hi");
  sock.events!.data(bytes("there"));
  const [d] = h.tcpOut().filter((s) => s.tcp.dataLen > 0);
  assert.equal(new TextDecoder().decode(segData(d)), "there");
  assert.equal(ip4String(d.ip!.src), "198.51.100.7");
  // The same guest port to the same port on another address is another connection.
  syn(h, GATEWAY_IP, 40000, 443);
  assert.equal(h.host.connects.length, 2);
  assert.equal(h.host.connects[1].addr, "127.0.0.1");
  assert.equal(h.net.tcpConnections, 2);
});

test("a refused outside connection resets the guest from the address it asked for", () => {
  const h = new Harness();
  syn(h, FAR, 40001, 25);
  h.host.connects[0].events!.closed("ECONNREFUSED");
  const [r] = h.tcpOut();
  assert.equal(r.tcp.flags, TCP_RST | TCP_ACK);
  assert.equal(ip4String(r.ip!.src), "198.51.100.7");
  assert.equal(h.net.tcpConnections, 0);
});

test("UDP to an outside address goes out of one socket bound to every host address; only that address may answer", () => {
  const h = new Harness();
  h.send(h.udp(5000, FAR, 123, bytes("ntp?")));
  h.send(h.udp(5000, GATEWAY_IP, 7, bytes("echo?")));
  assert.equal(h.host.udpSockets.length, 1);
  const s = h.host.udpSockets[0];
  assert.deepEqual(
    s.sent.map((x) => [x.addr, x.port]),
    [
      ["198.51.100.7", 123],
      ["127.0.0.1", 7],
    ],
  );
  s.events.message(bytes("time"), "198.51.100.7", 123);
  s.events.message(bytes("echo"), "127.0.0.1", 7);
  s.events.message(bytes("spoof"), "203.0.113.9", 123);
  const out = h.take();
  assert.deepEqual(
    out.map((o) => [ip4String(o.ip!.src), o.udp!.srcPort, new TextDecoder().decode(o.udp!.payload)]),
    [
      ["198.51.100.7", 123, "time"],
      ["10.0.2.2", 7, "echo"],
    ],
  );
  assert.equal(h.net.stats.dropped["UDP from a host the guest did not send to"], 1);
});

test("restrict: TCP to the gateway and to outside addresses is reset, UDP dropped; forwards still reach the guest", async () => {
  const h = new Harness({ restrict: true, forwards: [{ proto: "tcp", hostPort: 8080, guestPort: 80 }] });
  await h.net.start();
  for (const dst of [GATEWAY_IP, FAR]) {
    syn(h, dst, 40002, 22);
    const [r] = h.tcpOut();
    assert.equal(r.tcp.flags, TCP_RST | TCP_ACK);
  }
  h.send(h.udp(5000, GATEWAY_IP, 7, bytes("x")), h.udp(5000, FAR, 7, bytes("x")));
  assert.equal(h.host.connects.length, 0);
  assert.equal(h.host.udpSockets.length, 0);
  assert.equal(h.net.stats.dropped["TCP to an address without a relay"], 2);
  assert.equal(h.net.stats.dropped["UDP to an address without a relay"], 2);
  // A host client on the forwarded port still gets a connection to the guest.
  h.host.accept(8080);
  const [s] = h.tcpOut();
  assert.equal(s.tcp.flags, TCP_SYN);
  assert.equal(s.tcp.dstPort, 80);
});

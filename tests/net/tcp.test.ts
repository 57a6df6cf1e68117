import assert from "node:assert/strict";
import { test } from "node:test";
import {
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  type TcpHeader,
  type TcpSegment,
} from "../../src/net/frames.ts";
import { DEFAULT_TCP_CONFIG } from "../../src/net/tcp.ts";
import { GATEWAY_IP } from "../../src/net/user-net.ts";
import { ip4String, seqAdd } from "../../src/net/wire.ts";
import { bytes, type FakeTcpSocket, Harness, segData } from "../support/net-fakes.ts";

const GUEST_PORT = 40000;
const HOST_PORT = 8000;

/**
 * The guest's side of one connection, played by the test: tracks its own
 * sequence numbers and sends segments through the harness.
 */
class Guest {
  readonly h: Harness;
  seq: number;
  ack = 0;
  wnd: number;
  readonly port: number;
  readonly dst: number;
  constructor(h: Harness, opts: { seq?: number; wnd?: number; port?: number; dst?: number } = {}) {
    this.h = h;
    this.seq = opts.seq ?? 1000;
    this.wnd = opts.wnd ?? 65535;
    this.port = opts.port ?? GUEST_PORT;
    this.dst = opts.dst ?? HOST_PORT;
  }
  seg(flags: number, data = new Uint8Array(0), extra: Partial<TcpHeader> = {}): Uint8Array {
    return this.h.tcp(
      {
        srcPort: this.port,
        dstPort: this.dst,
        seq: this.seq,
        ack: this.ack,
        flags,
        window: this.wnd,
        ...extra,
      },
      data,
    );
  }
  /** Sends a segment and advances the guest's sequence number past it. */
  send(flags: number, data = new Uint8Array(0), extra: Partial<TcpHeader> = {}): void {
    const f = this.seg(flags, data, extra);
    this.seq = seqAdd(this.seq, data.length + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0));
    this.h.send(f);
  }
  /** ACKs everything received so far (from segments the test took). */
  ackAll(segs: { tcp: TcpSegment }[]): void {
    for (const s of segs) {
      const t = s.tcp;
      const end = seqAdd(t.seq, t.dataLen + (t.flags & TCP_SYN ? 1 : 0) + (t.flags & TCP_FIN ? 1 : 0));
      if (((end - this.ack) | 0) > 0) this.ack = end;
    }
    this.send(TCP_ACK);
  }
}

/** Opens a guest connection to 10.0.2.2:HOST_PORT and completes the handshake. */
function open(
  h: Harness,
  opts: { wscale?: number; mss?: number; wnd?: number; seq?: number; port?: number } = {},
) {
  const g = new Guest(h, { seq: opts.seq, port: opts.port });
  g.send(TCP_SYN, new Uint8Array(0), { mss: opts.mss ?? 1460, wscale: opts.wscale ?? 7, window: 64240 });
  assert.equal(h.take().length, 0, "no SYN-ACK before the host socket connects");
  const sock = h.host.connects.at(-1)!;
  assert.equal(sock.addr, "127.0.0.1");
  assert.equal(sock.port, HOST_PORT);
  sock.events!.connected();
  const [synack] = h.tcpOut();
  g.ack = seqAdd(synack.tcp.seq, 1);
  if (opts.wnd !== undefined) g.wnd = opts.wnd;
  else g.wnd = 502; // 502 << 7 = 64256 bytes
  g.send(TCP_ACK);
  return { g, sock, synack: synack.tcp };
}

function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

test("TCP handshake: SYN waits for the host connect, then SYN-ACK with MSS and window scale", () => {
  const h = new Harness();
  const { synack } = open(h);
  assert.equal(synack.flags, TCP_SYN | TCP_ACK);
  assert.equal(synack.ack, 1001);
  assert.equal(synack.mss, 1460);
  assert.equal(synack.wscale, DEFAULT_TCP_CONFIG.rcvShift);
  assert.equal(synack.srcPort, HOST_PORT);
  assert.equal(synack.dstPort, GUEST_PORT);
  assert.equal(h.net.tcpConnections, 1);
  assert.equal(h.take().length, 0, "the final ACK needs no answer");
});

test("TCP without window scaling from the guest: none offered back, windows unscaled", () => {
  const h = new Harness();
  const g = new Guest(h);
  g.send(TCP_SYN, new Uint8Array(0), { mss: 1000, window: 8192 });
  h.host.connects[0].events!.connected();
  const [synack] = h.tcpOut();
  assert.equal(synack.tcp.wscale, -1);
  assert.equal(synack.tcp.window, 65535);
  g.ack = seqAdd(synack.tcp.seq, 1);
  g.wnd = 3000;
  g.send(TCP_ACK);
  // The guest's MSS (1000) and window (3000, unscaled) bound what the stack sends.
  h.host.connects[0].events!.data(new Uint8Array(5000));
  const segs = h.tcpOut();
  assert.deepEqual(
    segs.map((s) => s.tcp.dataLen),
    [1000, 1000, 1000],
  );
});

test("TCP data both ways, then the guest closes first (FIN, host half-close) and the host finishes", () => {
  const h = new Harness();
  const { g, sock } = open(h);
  g.send(TCP_ACK | TCP_PSH, bytes("GET / HTTP/1.0\r\n\r\n"));
  assert.equal(text(Buffer.concat(sock.written)), "GET / HTTP/1.0\r\n\r\n");
  const [ack] = h.tcpOut(); // the deferred ACK, sent at the end of the batch
  assert.equal(ack.tcp.ack, g.seq);
  assert.equal(ack.tcp.dataLen, 0);

  sock.events!.data(bytes("HTTP/1.0 200 OK\r\n\r\nhello"));
  const [d] = h.tcpOut();
  assert.equal(text(segData(d)), "HTTP/1.0 200 OK\r\n\r\nhello");
  assert.equal(d.tcp.flags, TCP_ACK | TCP_PSH);
  assert.equal(d.tcp.seq, g.ack);
  g.ackAll([d]);

  // Guest half-closes: the host socket is ended, and data can still flow to the guest.
  g.send(TCP_ACK | TCP_FIN);
  assert.equal(sock.ended, true);
  const [finAck] = h.tcpOut();
  assert.equal(finAck.tcp.ack, g.seq);
  sock.events!.data(bytes("more"));
  const [more] = h.tcpOut();
  assert.equal(text(segData(more)), "more");
  g.ackAll([more]);

  // Host closes: FIN to the guest; its ACK ends the connection.
  sock.events!.end();
  const [fin] = h.tcpOut();
  assert.equal(fin.tcp.flags & TCP_FIN, TCP_FIN);
  assert.equal(h.net.tcpConnections, 1);
  g.ackAll([fin]);
  assert.equal(h.net.tcpConnections, 0);
  assert.equal(sock.wasReset, false);
});

test("TCP: the host closes first; the guest keeps sending (half-close), then FINs; TIME-WAIT ends the connection", () => {
  const h = new Harness();
  const { g, sock } = open(h);
  sock.events!.data(bytes("bye"));
  sock.events!.end();
  const segs = h.tcpOut();
  assert.equal(segs.length, 2);
  assert.equal(text(segData(segs[0])), "bye");
  assert.equal(segs[1].tcp.flags, TCP_FIN | TCP_ACK);
  g.ackAll(segs);
  g.send(TCP_ACK | TCP_PSH, bytes("still talking"));
  assert.equal(text(Buffer.concat(sock.written)), "still talking");
  h.take();
  g.send(TCP_ACK | TCP_FIN);
  const [lastAck] = h.tcpOut();
  assert.equal(lastAck.tcp.ack, g.seq);
  assert.equal(sock.ended, true);
  assert.equal(h.net.tcpConnections, 1); // TIME-WAIT
  // A retransmitted FIN in TIME-WAIT is ACKed again.
  h.send(g.seg(TCP_ACK | TCP_FIN, new Uint8Array(0), { seq: seqAdd(g.seq, -1) }));
  assert.equal(h.tcpOut()[0].tcp.ack, g.seq);
  h.timers.advance(DEFAULT_TCP_CONFIG.timeWait + 1);
  assert.equal(h.net.tcpConnections, 0);
});

test("TCP: the host refuses the connection, so the guest gets RST|ACK for its SYN", () => {
  const h = new Harness();
  const g = new Guest(h);
  g.send(TCP_SYN, new Uint8Array(0), { mss: 1460 });
  h.host.connects[0].events!.closed("ECONNREFUSED");
  const [rst] = h.tcpOut();
  assert.equal(rst.tcp.flags, TCP_RST | TCP_ACK);
  assert.equal(rst.tcp.ack, 1001);
  assert.equal(rst.tcp.srcPort, HOST_PORT);
  assert.equal(h.net.tcpConnections, 0);
});

test("TCP: a guest RST resets the host socket; a host error resets the guest", () => {
  const h = new Harness();
  const a = open(h, { port: 40001 });
  a.g.send(TCP_RST | TCP_ACK);
  assert.equal(a.sock.wasReset, true);
  assert.equal(h.net.tcpConnections, 0);

  const b = open(h, { port: 40002 });
  b.sock.events!.closed("ECONNRESET");
  const [rst] = h.tcpOut();
  assert.equal(rst.tcp.flags & TCP_RST, TCP_RST);
  assert.equal(rst.tcp.seq, b.g.ack);
  assert.equal(h.net.tcpConnections, 0);
});

test("TCP: an RST outside the window is ignored, an in-window one gets a challenge ACK (RFC 5961)", () => {
  const h = new Harness();
  const { g, sock } = open(h);
  h.send(g.seg(TCP_RST, new Uint8Array(0), { seq: seqAdd(g.seq, 10_000_000) }));
  assert.equal(h.take().length, 0, "an unacceptable RST is dropped silently");
  h.send(g.seg(TCP_RST, new Uint8Array(0), { seq: seqAdd(g.seq, 100) }));
  const [challenge] = h.tcpOut();
  assert.equal(challenge.tcp.flags, TCP_ACK);
  assert.equal(challenge.tcp.ack, g.seq);
  assert.equal(sock.wasReset, false);
  assert.equal(h.net.tcpConnections, 1);
  // A SYN on an established connection gets a challenge ACK too.
  h.send(g.seg(TCP_SYN, new Uint8Array(0), { seq: 5 }));
  assert.equal(h.tcpOut()[0].tcp.flags, TCP_ACK);
  assert.equal(h.net.tcpConnections, 1);
});

test("TCP: segments for no connection get a RST (with the ACK's number, or ACKing the segment)", () => {
  const h = new Harness();
  const g = new Guest(h);
  g.send(TCP_ACK, bytes("stray"));
  const [r1] = h.tcpOut();
  assert.equal(r1.tcp.flags, TCP_RST);
  assert.equal(r1.tcp.seq, 0); // the stray segment's ACK field was 0
  h.send(g.seg(TCP_FIN, bytes("ab"), { ack: 0 }));
  const [r2] = h.tcpOut();
  assert.equal(r2.tcp.flags, TCP_RST | TCP_ACK);
  assert.equal(r2.tcp.ack, seqAdd(g.seq, 3));
  h.send(g.seg(TCP_RST));
  assert.equal(h.take().length, 0, "never a RST for a RST");
  assert.equal(ip4String(r1.ip!.src), ip4String(GATEWAY_IP));
});

test("TCP retransmission: an unacknowledged segment is resent after the RTO with backoff, then the connection is reset", () => {
  const h = new Harness({ tcp: { maxRetries: 3 } });
  const { sock } = open(h);
  // The handshake's round trip took no time on the fake clock: the RTO is at its floor.
  const rto = DEFAULT_TCP_CONFIG.minRto;
  sock.events!.data(bytes("data that gets lost"));
  const [first] = h.tcpOut();
  h.timers.advance(rto - 1);
  assert.equal(h.take().length, 0);
  h.timers.advance(1);
  const [re1] = h.tcpOut();
  assert.equal(re1.tcp.seq, first.tcp.seq);
  assert.equal(text(segData(re1)), "data that gets lost");
  // Backoff: the next one comes twice the RTO later.
  h.timers.advance(2 * rto - 1);
  assert.equal(h.take().length, 0);
  h.timers.advance(1);
  assert.equal(h.tcpOut()[0].tcp.seq, first.tcp.seq);
  h.timers.advance(4 * rto);
  assert.equal(h.tcpOut()[0].tcp.seq, first.tcp.seq);
  assert.equal(h.net.tcpConnections, 1);
  // After maxRetries the connection gives up with a RST and resets the host socket.
  h.timers.advance(8 * rto);
  const [rst] = h.tcpOut();
  assert.equal(rst.tcp.flags & TCP_RST, TCP_RST);
  assert.equal(h.net.tcpConnections, 0);
  assert.equal(sock.wasReset, true);
});

test("TCP retransmission: a lost SYN-ACK is resent, and a retransmitted SYN is answered again", () => {
  const h = new Harness();
  const g = new Guest(h);
  g.send(TCP_SYN, new Uint8Array(0), { mss: 1460 });
  h.host.connects[0].events!.connected();
  const [s1] = h.tcpOut();
  h.timers.advance(DEFAULT_TCP_CONFIG.initialRto + 1);
  const [s2] = h.tcpOut();
  assert.equal(s2.tcp.flags, TCP_SYN | TCP_ACK);
  assert.equal(s2.tcp.seq, s1.tcp.seq);
  h.send(g.seg(TCP_SYN, new Uint8Array(0), { seq: 1000, mss: 1460 }));
  const [s3] = h.tcpOut();
  assert.equal(s3.tcp.flags, TCP_SYN | TCP_ACK);
  assert.equal(h.host.connects.length, 1, "no second host connection for a retransmitted SYN");
});

test("TCP: after a loss the RTO goes back N and resends in order; three duplicate ACKs trigger fast retransmit", () => {
  const h = new Harness();
  const { g, sock } = open(h);
  const data = new Uint8Array(6 * 1460).map((_, i) => i & 255);
  sock.events!.data(data);
  const segs = h.tcpOut();
  assert.equal(segs.length, 6);
  // The guest got segment 0 and lost segment 1: it ACKs 0, then repeats that ACK for 2, 3 and 4.
  g.ack = seqAdd(segs[0].tcp.seq, 1460);
  g.send(TCP_ACK);
  g.send(TCP_ACK);
  g.send(TCP_ACK);
  assert.equal(h.take().length, 0);
  g.send(TCP_ACK);
  const [fast] = h.tcpOut();
  assert.equal(fast.tcp.seq, segs[1].tcp.seq);
  assert.deepEqual(segData(fast), data.subarray(1460, 2920));
  // Everything acknowledged: nothing more is resent.
  g.ack = seqAdd(segs[0].tcp.seq, data.length);
  g.send(TCP_ACK);
  h.timers.advance(120_000);
  assert.equal(h.take().length, 0);
});

test("TCP flow control toward the guest: its window bounds what is in flight; a zero window is probed", () => {
  const h = new Harness();
  const { g, sock } = open(h, { wscale: 0, wnd: 2000 });
  sock.events!.data(new Uint8Array(5000).fill(7));
  const first = h.tcpOut();
  assert.deepEqual(
    first.map((s) => s.tcp.dataLen),
    [1460, 540],
  );
  // The guest takes it all but its application reads nothing: window 0.
  g.wnd = 0;
  g.ackAll(first);
  assert.equal(h.take().length, 0);
  // The persist timer sends a one-byte probe; the guest still says 0.
  h.timers.advance(DEFAULT_TCP_CONFIG.initialRto + 1);
  const [probe] = h.tcpOut();
  assert.equal(probe.tcp.dataLen, 1);
  g.send(TCP_ACK); // acks nothing new, window still 0
  h.timers.advance(2 * DEFAULT_TCP_CONFIG.initialRto + 1);
  const again = h.tcpOut();
  assert.ok(again.length >= 1 && again[0].tcp.dataLen <= 1);
  // The window opens: the rest flows.
  g.wnd = 60000;
  g.ack = seqAdd(probe.tcp.seq, 1);
  g.send(TCP_ACK);
  const rest = h.tcpOut();
  assert.equal(
    rest.reduce((n, s) => n + s.tcp.dataLen, 0),
    5000 - 2000 - 1,
  );
  assert.equal(h.net.tcpConnections, 1);
});

test("TCP: data in flight toward the guest never exceeds maxCwnd, however large its window", () => {
  const h = new Harness({ tcp: { maxCwnd: 20 * 1460 } });
  const { g, sock } = open(h, { wscale: 7, wnd: 0xffff }); // an 8 MiB window
  sock.events!.data(new Uint8Array(200 * 1460));
  let inflight = h.tcpOut();
  for (let round = 0; round < 20 && inflight.length > 0; round++) {
    const bytes = inflight.reduce((n, s) => n + s.tcp.dataLen, 0);
    assert.ok(bytes <= 20 * 1460, `round ${round}: ${bytes} bytes in flight`);
    g.ackAll(inflight);
    inflight = h.tcpOut();
  }
  assert.equal(h.net.tcpConnections, 1);
});

test("TCP backpressure host -> guest: the host socket is paused when too much waits for the guest, resumed as it drains", () => {
  const h = new Harness({ tcp: { sndBuf: 16 * 1024 } });
  const { g, sock } = open(h, { wscale: 0, wnd: 4096 });
  for (let i = 0; i < 8; i++) sock.events!.data(new Uint8Array(4096).fill(i));
  assert.equal(sock.paused, true);
  let got = 0;
  while (got < 8 * 4096) {
    const segs = h.tcpOut();
    got += segs.reduce((n, s) => n + s.tcp.dataLen, 0);
    if (segs.length === 0) break;
    g.ackAll(segs);
  }
  assert.equal(got, 8 * 4096);
  assert.equal(sock.paused, false);
});

test("TCP backpressure guest -> host: the window shrinks with the host socket's queue and reopens on drain", () => {
  const h = new Harness({ tcp: { rcvBuf: 64 * 1024, rcvShift: 0 } });
  const { g, sock } = open(h, { wscale: 0 });
  // The host socket does not take data: its queue grows with everything written.
  sock.holdWrites = true;
  const chunk = new Uint8Array(1460);
  for (let i = 0; i < 10; i++) g.send(TCP_ACK, chunk);
  const acks = h.tcpOut();
  const last = acks.at(-1)!.tcp;
  assert.equal(last.ack, g.seq);
  assert.equal(last.window, 65535 - 10 * 1460); // without scaling the window tops out at 65535
  // Fill the rest of the window: the guest may send exactly what was advertised.
  const left = last.window;
  g.send(TCP_ACK, new Uint8Array(left));
  const [full] = h.tcpOut();
  assert.equal(full.tcp.window, 0);
  // Data beyond a zero window is not taken.
  const before = sock.writtenBytes;
  g.send(TCP_ACK, bytes("x"));
  assert.equal(sock.writtenBytes, before);
  const [rej] = h.tcpOut();
  assert.equal(rej.tcp.ack, seqAdd(g.seq, -1));
  g.seq = seqAdd(g.seq, -1);
  // The host socket drains: a window update goes out without the guest asking.
  sock.buffered = 0;
  sock.events!.drain();
  const [upd] = h.tcpOut();
  assert.equal(upd.tcp.window, 65535);
  assert.equal(upd.tcp.dataLen, 0);
});

test("TCP: out-of-order data is dropped and re-ACKed; overlapping retransmissions deliver only new bytes", () => {
  const h = new Harness();
  const { g, sock } = open(h);
  const start = g.seq;
  h.send(g.seg(TCP_ACK, bytes("world"), { seq: seqAdd(start, 5) }));
  assert.equal(sock.writtenBytes, 0);
  assert.equal(h.tcpOut()[0].tcp.ack, start);
  g.send(TCP_ACK, bytes("hello"));
  h.send(g.seg(TCP_ACK, bytes("loworld"), { seq: seqAdd(start, 3) }));
  assert.equal(text(Buffer.concat(sock.written)), "helloworld");
  assert.equal(h.tcpOut().at(-1)!.tcp.ack, seqAdd(start, 10));
});

test("TCP sequence numbers wrap around 2^32", () => {
  const h = new Harness();
  const { g, sock } = open(h, { seq: 0xfffffff0 });
  g.send(TCP_ACK, bytes("0123456789abcdefghijklmnop")); // crosses 2^32
  assert.equal(text(Buffer.concat(sock.written)), "0123456789abcdefghijklmnop");
  g.send(TCP_ACK, bytes("after"));
  assert.equal(text(Buffer.concat(sock.written)).endsWith("after"), true);
  assert.equal(h.tcpOut().at(-1)!.tcp.ack, g.seq);
  assert.ok(g.seq < 0x100);
});

test("TCP: a new SYN on a port in TIME-WAIT opens a fresh connection", () => {
  const h = new Harness();
  const { g, sock } = open(h);
  sock.events!.end();
  const [fin] = h.tcpOut();
  g.ackAll([fin]);
  g.send(TCP_ACK | TCP_FIN);
  h.take();
  assert.equal(h.net.tcpConnections, 1);
  const g2 = new Guest(h, { seq: 99999 });
  g2.send(TCP_SYN, new Uint8Array(0), { mss: 1460 });
  assert.equal(h.host.connects.length, 2);
  h.host.connects[1].events!.connected();
  assert.equal(h.tcpOut()[0].tcp.flags, TCP_SYN | TCP_ACK);
});

test("port forward: a host client becomes a connection from 10.0.2.2 to the guest port; data and close relay both ways", async () => {
  const h = new Harness({ forwards: [{ proto: "tcp", hostPort: 18080, guestPort: 8080 }] });
  await h.net.start();
  const client: FakeTcpSocket = h.host.accept(18080);
  assert.equal(client.paused, true);
  const [syn] = h.tcpOut();
  assert.equal(syn.tcp.flags, TCP_SYN);
  assert.equal(syn.tcp.dstPort, 8080);
  assert.equal(syn.tcp.mss, 1460);
  assert.equal(ip4String(syn.ip!.src), "10.0.2.2");
  assert.equal(ip4String(syn.ip!.dst), "10.0.2.15");
  // The guest (the server now) answers SYN-ACK.
  const g = new Guest(h, { port: 8080, dst: syn.tcp.srcPort, seq: 5000 });
  g.ack = seqAdd(syn.tcp.seq, 1);
  g.send(TCP_SYN | TCP_ACK, new Uint8Array(0), { mss: 1460, wscale: 7, window: 64240 });
  const [ack] = h.tcpOut();
  assert.equal(ack.tcp.flags, TCP_ACK);
  assert.equal(ack.tcp.ack, 5001);
  assert.equal(client.paused, false, "the client is resumed once the guest accepted");
  client.events!.data(bytes("GET / HTTP/1.0\r\n\r\n"));
  const [req] = h.tcpOut();
  assert.equal(text(segData(req)), "GET / HTTP/1.0\r\n\r\n");
  g.ackAll([req]);
  g.send(TCP_ACK | TCP_PSH | TCP_FIN, bytes("HTTP/1.0 200 OK\r\n\r\nhi"));
  assert.equal(client.text(), "HTTP/1.0 200 OK\r\n\r\nhi");
  assert.equal(client.ended, true);
  h.take();
  client.events!.end();
  const [fin] = h.tcpOut();
  assert.equal(fin.tcp.flags & TCP_FIN, TCP_FIN);
  g.ackAll([fin]);
  h.timers.advance(5000);
  assert.equal(h.net.tcpConnections, 0);
});

test("port forward: the guest refusing (RST) resets the host client; the client leaving early aborts the handshake", async () => {
  const h = new Harness({ forwards: [{ proto: "tcp", hostPort: 18080, guestPort: 8080 }] });
  await h.net.start();
  const c1 = h.host.accept(18080);
  const [syn] = h.tcpOut();
  const g = new Guest(h, { port: 8080, dst: syn.tcp.srcPort, seq: 0 });
  g.ack = seqAdd(syn.tcp.seq, 1);
  g.send(TCP_RST | TCP_ACK);
  assert.equal(c1.wasReset, true);
  assert.equal(h.net.tcpConnections, 0);

  const c2 = h.host.accept(18080);
  const [syn2] = h.tcpOut();
  assert.notEqual(syn2.tcp.srcPort, syn.tcp.srcPort);
  c2.events!.closed();
  const [rst] = h.tcpOut();
  assert.equal(rst.tcp.flags & TCP_RST, TCP_RST);
  assert.equal(h.net.tcpConnections, 0);
  // An unanswered SYN is retransmitted, then given up.
  h.host.accept(18080);
  h.take();
  h.timers.advance(DEFAULT_TCP_CONFIG.initialRto + 1);
  assert.equal(h.tcpOut()[0].tcp.flags, TCP_SYN);
});

test("close() resets every host socket and drops later frames", () => {
  const h = new Harness();
  const { g, sock } = open(h);
  h.net.close();
  assert.equal(sock.wasReset, true);
  g.send(TCP_ACK, bytes("late"));
  assert.equal(h.take().length, 0);
  assert.equal(sock.writtenBytes, 0);
});

/**
 * Fakes for testing the user-mode network without a network: manual
 * timers, host sockets that record what the stack did and let the test
 * play the host peer, and a guest that builds and parses frames.
 */
import {
  ARP_REQUEST,
  arpFrame,
  ETHERTYPE_ARP,
  etherType,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type Ipv4Packet,
  parseArp,
  parseIpv4,
  parseTcp,
  parseUdp,
  TCP_ACK,
  type TcpHeader,
  type TcpSegment,
  tcpFrame,
  udpFrame,
} from "../../src/net/frames.ts";
import type {
  HostDnsAnswer,
  HostDnsType,
  HostListener,
  HostNet,
  HostTcpEvents,
  HostTcpSocket,
  HostUdpEvents,
  HostUdpSocket,
  NetTimers,
} from "../../src/net/host.ts";
import {
  DEFAULT_GUEST_MAC,
  GATEWAY_IP,
  GATEWAY_MAC,
  GUEST_IP,
  UserNet,
  type UserNetOptions,
} from "../../src/net/user-net.ts";
import { BROADCAST_MAC, type Ip4 } from "../../src/net/wire.ts";

export class FakeTimers implements NetTimers {
  t = 0;
  private pending: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;
  now(): number {
    return this.t;
  }
  after(ms: number, fn: () => void): () => void {
    const id = ++this.ids;
    this.pending.push({ at: this.t + ms, fn, id });
    return () => {
      this.pending = this.pending.filter((p) => p.id !== id);
    };
  }
  /** Moves time forward, running due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.pending[0];
      if (next === undefined || next.at > end) break;
      this.pending.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
  get count(): number {
    return this.pending.length;
  }
}

export class FakeTcpSocket implements HostTcpSocket {
  events: HostTcpEvents | undefined;
  written: Uint8Array[] = [];
  ended = false;
  wasReset = false;
  paused = false;
  buffered = 0;
  /** Writes stay queued (buffered grows with them) until the test sets buffered. */
  holdWrites = false;
  readonly addr: string;
  readonly port: number;
  constructor(addr: string, port: number, events?: HostTcpEvents) {
    this.addr = addr;
    this.port = port;
    this.events = events;
  }
  write(bytes: Uint8Array): void {
    this.written.push(bytes.slice());
    if (this.holdWrites) this.buffered += bytes.length;
  }
  end(): void {
    this.ended = true;
  }
  reset(): void {
    this.wasReset = true;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  /** Everything written so far, as text. */
  text(): string {
    return Buffer.concat(this.written).toString("latin1");
  }
  get writtenBytes(): number {
    return this.written.reduce((n, b) => n + b.length, 0);
  }
}

export class FakeUdpSocket implements HostUdpSocket {
  sent: { bytes: Uint8Array; addr: string; port: number }[] = [];
  closed = false;
  readonly events: HostUdpEvents;
  readonly port: number;
  constructor(events: HostUdpEvents, port: number) {
    this.events = events;
    this.port = port;
  }
  send(bytes: Uint8Array, addr: string, port: number): void {
    this.sent.push({ bytes: bytes.slice(), addr, port });
  }
  close(): void {
    this.closed = true;
  }
}

export class FakeHostNet implements HostNet {
  connects: FakeTcpSocket[] = [];
  listeners = new Map<number, (s: HostTcpSocket) => HostTcpEvents>();
  udpSockets: FakeUdpSocket[] = [];
  udpListeners = new Map<number, FakeUdpSocket>();
  /** Ports whose listen fails (as if in use). */
  busy = new Set<number>();
  /** Name queries the stack asked; the test answers them by calling `done`. */
  lookups: { name: string; type: HostDnsType; done: (a: HostDnsAnswer) => void }[] = [];
  closedListeners: number[] = [];

  resolve(name: string, type: HostDnsType, done: (a: HostDnsAnswer) => void): void {
    this.lookups.push({ name, type, done });
  }
  connectTcp(addr: string, port: number, events: HostTcpEvents): HostTcpSocket {
    const s = new FakeTcpSocket(addr, port, events);
    this.connects.push(s);
    return s;
  }
  async listenTcp(
    addr: string,
    port: number,
    accept: (s: HostTcpSocket) => HostTcpEvents,
  ): Promise<HostListener> {
    if (this.busy.has(port)) throw new Error(`${addr}:${port} in use`);
    this.listeners.set(port, accept);
    return { port, close: () => this.closedListeners.push(port) };
  }
  openUdp(_addr: string, events: HostUdpEvents): HostUdpSocket {
    const s = new FakeUdpSocket(events, 40000 + this.udpSockets.length);
    this.udpSockets.push(s);
    return s;
  }
  async listenUdp(
    _addr: string,
    port: number,
    events: HostUdpEvents,
  ): Promise<HostUdpSocket & { port: number }> {
    if (this.busy.has(port)) throw new Error(`port ${port} in use`);
    const s = new FakeUdpSocket(events, port);
    this.udpListeners.set(port, s);
    return s;
  }
  /** A host client connects to forwarded `port`. */
  accept(port: number): FakeTcpSocket {
    const accept = this.listeners.get(port);
    if (!accept) throw new Error(`nothing listens on ${port}`);
    const s = new FakeTcpSocket("127.0.0.1", 55555);
    s.paused = true;
    s.events = accept(s);
    return s;
  }
}

/** A parsed frame the stack sent to the guest. */
export interface Sent {
  frame: Uint8Array;
  type: number;
  ip?: Ipv4Packet;
  tcp?: TcpSegment;
  udp?: { srcPort: number; dstPort: number; payload: Uint8Array };
}

/** A stack with fake host and timers, and the frames it sends to the guest. */
export class Harness {
  readonly timers = new FakeTimers();
  readonly host = new FakeHostNet();
  readonly net: UserNet;
  readonly out: Sent[] = [];
  private ipId = 0;

  constructor(opts: Partial<UserNetOptions> = {}) {
    this.net = new UserNet({ host: this.host, timers: this.timers, ...opts });
    this.net.connect((frame) => this.out.push(decode(frame)));
  }

  /** Sends frames from the guest as one batch (then flush, as the device does). */
  send(...frames: Uint8Array[]): void {
    for (const f of frames) this.net.transmit(f);
    this.net.flush();
  }

  /** Frames sent to the guest since the last call. */
  take(): Sent[] {
    return this.out.splice(0);
  }

  /** TCP frames sent to the guest since the last take (throws on anything else). */
  tcpOut(): (Sent & { tcp: TcpSegment })[] {
    return this.take().map((s) => {
      if (!s.tcp) throw new Error("expected only TCP frames");
      return s as Sent & { tcp: TcpSegment };
    });
  }

  udp(srcPort: number, dst: Ip4, dstPort: number, payload: Uint8Array, src = GUEST_IP): Uint8Array {
    return udpFrame(GATEWAY_MAC, DEFAULT_GUEST_MAC, src, srcPort, dst, dstPort, payload, ++this.ipId);
  }

  tcp(h: TcpHeader, data: Uint8Array = new Uint8Array(0), dst = GATEWAY_IP): Uint8Array {
    return tcpFrame(GATEWAY_MAC, DEFAULT_GUEST_MAC, GUEST_IP, dst, h, data.length, ++this.ipId, (f, at) =>
      f.set(data, at),
    );
  }

  arpRequest(targetIp: Ip4): Uint8Array {
    return arpFrame(BROADCAST_MAC, {
      op: ARP_REQUEST,
      senderMac: DEFAULT_GUEST_MAC,
      senderIp: GUEST_IP,
      targetMac: new Uint8Array(6),
      targetIp,
    });
  }
}

export function decode(frame: Uint8Array): Sent {
  const type = etherType(frame);
  if (typeof type === "string") throw new Error(`stack sent a bad frame: ${type}`);
  const s: Sent = { frame, type };
  if (type === ETHERTYPE_ARP) {
    if (typeof parseArp(frame) === "string") throw new Error("stack sent bad ARP");
    return s;
  }
  const ip = parseIpv4(frame);
  if (typeof ip === "string") throw new Error(`stack sent a bad IPv4 packet: ${ip}`);
  s.ip = ip;
  if (ip.proto === IPPROTO_TCP) {
    const t = parseTcp(ip);
    if (typeof t === "string") throw new Error(`stack sent a bad TCP segment: ${t}`);
    s.tcp = t;
  } else if (ip.proto === IPPROTO_UDP) {
    const u = parseUdp(ip);
    if (typeof u === "string") throw new Error(`stack sent a bad UDP datagram: ${u}`);
    s.udp = { srcPort: u.srcPort, dstPort: u.dstPort, payload: frame.slice(u.data, u.data + u.dataLen) };
  }
  return s;
}

export function segData(s: Sent | { frame: Uint8Array; tcp: TcpSegment }): Uint8Array {
  const t = s.tcp!;
  return s.frame.slice(t.data, t.data + t.dataLen);
}

export const bytes = (text: string) => new TextEncoder().encode(text);
export const ACK = TCP_ACK;

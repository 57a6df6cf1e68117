/**
 * User-mode networking (QEMU's "slirp" model, design 1): a virtual LAN
 * 10.0.2.0/24 between the guest's NIC and a gateway that lives in the
 * emulator.
 *
 *   10.0.2.2   gateway, DHCP server; TCP and UDP to it reach the host's 127.0.0.1
 *   10.0.2.3   name server: DNS queries are answered by the host's resolver
 *   10.0.2.15  the guest's DHCP lease
 *
 * Frames from the guest come in through transmit(); frames for the guest go
 * out through the function given to connect() (a virtio-net device, a test).
 * ARP, ICMP echo, DHCP and DNS are answered here; TCP connections are
 * terminated here (tcp.ts) and their bytes proxied to host sockets
 * connected to the same address (NAT: the host's sockets are the guest's
 * way out, as slirp's); UDP datagrams are relayed through host UDP sockets.
 * Port forwards (`--forward tcp:HOSTPORT:GUESTPORT`) listen on the host and
 * open connections from the gateway to the guest.
 *
 * With `restrict` (`--net user,restrict=on`, QEMU's option of that name)
 * the guest reaches nothing on or beyond the host: connections get a reset,
 * datagrams are dropped, name queries are refused. DHCP and forwards into
 * the guest still work.
 */
import { expectNumber, expectVersion } from "../machine/snapshot/state.ts";
import type { NetBackend } from "../machine/virtio/net.ts";
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, type DhcpConfig, dhcpAnswer, parseDhcp } from "./dhcp.ts";
import {
  buildDnsResponse,
  DNS_NOERROR,
  DNS_NXDOMAIN,
  DNS_PORT,
  DNS_REFUSED,
  DNS_SERVFAIL,
  DNS_TYPE_A,
  DNS_TYPE_AAAA,
  DNS_TYPE_PTR,
  type DnsQuery,
  type DnsRecord,
  parseDnsQuery,
  ptrAddress,
} from "./dns.ts";
import {
  ARP_REPLY,
  ARP_REQUEST,
  arpFrame,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  etherType,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type Ipv4Packet,
  ipv4Frame,
  L4_OFF,
  parseArp,
  parseIpv4,
  parseTcp,
  parseUdp,
  TCP_ACK,
  TCP_RST,
  TCP_SYN,
  type TcpHeader,
  type TcpSegment,
  tcpFrame,
  udpFrame,
} from "./frames.ts";
import type {
  HostDnsAnswer,
  HostDnsType,
  HostNet,
  HostTcpEvents,
  HostTcpSocket,
  HostUdpSocket,
  NetTimers,
} from "./host.ts";
import { type TcpApp, type TcpCloseReason, type TcpConfig, TcpConn, type TcpSynInfo } from "./tcp.ts";
import {
  checksum,
  type Ip4,
  ip4,
  ip4String,
  ip6Bytes,
  type Mac,
  mac,
  macEquals,
  put16,
  seqAdd,
} from "./wire.ts";

export const GUEST_NET = ip4("10.0.2.0");
export const NETMASK = ip4("255.255.255.0");
export const GATEWAY_IP = ip4("10.0.2.2");
export const DNS_IP = ip4("10.0.2.3");
export const GUEST_IP = ip4("10.0.2.15");
/** The NIC's MAC as on QEMU (and the virtio-net config default). */
export const DEFAULT_GUEST_MAC = mac("52:54:00:12:34:56");
/** slirp's convention: 52:55 then the IPv4 address. */
export const GATEWAY_MAC = mac("52:55:0a:00:02:02");
export const DNS_MAC = mac("52:55:0a:00:02:03");

/** A host port forwarded into the guest. */
export interface PortForward {
  proto: "tcp" | "udp";
  /** Host address to listen on (default 127.0.0.1). */
  hostAddr?: string;
  hostPort: number;
  guestPort: number;
}

export interface UserNetOptions {
  host: HostNet;
  timers: NetTimers;
  /** The guest NIC's MAC until the guest's own frames say otherwise. */
  guestMac?: Mac;
  forwards?: PortForward[];
  /** Host address that the gateway address stands for (default 127.0.0.1). */
  hostLoopback?: string;
  /** Keep the guest off the host and everything beyond it (QEMU's restrict=on). */
  restrict?: boolean;
  tcp?: Partial<TcpConfig>;
  /** DHCP lease time in seconds (default 86400). */
  leaseSeconds?: number;
  /** Seed for initial sequence numbers (a fixed default keeps runs repeatable). */
  seed?: number;
  /** Diagnostics (dropped frames, connection errors). */
  log?: (msg: string) => void;
}

/** What of the stack moves with a snapshot (see UserNet.saveState). */
export interface UserNetState {
  version: 1;
  ipId: number;
  rng: number;
  nextPort: number;
}

/** Counters, for tests and diagnostics. */
export interface UserNetStats {
  fromGuest: number;
  toGuest: number;
  /** Frames dropped, by reason. */
  dropped: Record<string, number>;
}

/** How long an idle UDP relay binding lives (ms). */
const UDP_IDLE_MS = 120_000;
/** First gateway-side port for connections and datagrams the gateway originates. */
const EPHEMERAL_FIRST = 49152;
/** Name queries waiting for the host's resolver; more are answered SERVFAIL at once. */
const DNS_PENDING_MAX = 16;
/** TTL of proxied answers (s): short, so a changed host entry shows soon. */
const DNS_TTL = 60;

/** A TCP connection's key: the remote end (its address and port) and the guest's port. */
function tcpKey(remoteIp: Ip4, remotePort: number, guestPort: number): string {
  return `${remoteIp}:${remotePort}:${guestPort}`;
}

interface TcpEntry {
  conn: TcpConn;
  /** The far end as the guest sees it (the gateway for the host's loopback and for forwards). */
  remoteIp: Ip4;
  guestIp: Ip4;
  host: HostTcpSocket | undefined;
  /** The host socket reported its end or close: guest data has nowhere to go. */
  hostGone: boolean;
}

interface UdpBinding {
  sock: HostUdpSocket;
  guestIp: Ip4;
  guestPort: number;
  lastUsed: number;
  /** Host addresses the guest sent to from this port: only they may answer (an address-restricted NAT). */
  peers: Set<string>;
}

interface UdpForwardSession {
  listener: HostUdpSocket;
  clientAddr: string;
  clientPort: number;
  guestPort: number;
  gwPort: number;
  lastUsed: number;
}

export class UserNet implements NetBackend {
  /** Terminates TCP and UDP itself: partial checksums and oversized TCP segments are fine (see NetBackend). */
  readonly terminatesTcp = true;
  readonly stats: UserNetStats = { fromGuest: 0, toGuest: 0, dropped: {} };
  guestMac: Mac;
  /** The guest's address as last seen in its frames (the lease address until then). */
  guestIp: Ip4 = GUEST_IP;
  private readonly host: HostNet;
  private readonly timers: NetTimers;
  private readonly loopback: string;
  private readonly restrict: boolean;
  private readonly tcpConfig: Partial<TcpConfig> | undefined;
  private readonly forwards: PortForward[];
  private readonly dhcp: DhcpConfig;
  private readonly log: (msg: string) => void;
  private deliver: ((frame: Uint8Array) => void) | undefined;
  private ipId = 0;
  private rng: number;
  /** TCP connections by tcpKey. */
  private readonly tcp = new Map<string, TcpEntry>();
  private dnsPending = 0;
  private readonly udp = new Map<number, UdpBinding>();
  private readonly udpForward = new Map<number, UdpForwardSession>();
  private readonly listeners: { close(): void }[] = [];
  private readonly needFlush = new Set<TcpConn>();
  private flushQueued = false;
  private nextPort = EPHEMERAL_FIRST;
  private sweepCancel: (() => void) | undefined;
  private closed = false;

  constructor(opts: UserNetOptions) {
    this.host = opts.host;
    this.timers = opts.timers;
    this.guestMac = (opts.guestMac ?? DEFAULT_GUEST_MAC).slice();
    this.loopback = opts.hostLoopback ?? "127.0.0.1";
    this.restrict = opts.restrict === true;
    this.tcpConfig = opts.tcp;
    this.forwards = opts.forwards ?? [];
    this.log = opts.log ?? (() => {});
    this.rng = (opts.seed ?? 0x2545f491) >>> 0 || 1;
    this.dhcp = {
      clientIp: GUEST_IP,
      netmask: NETMASK,
      router: GATEWAY_IP,
      dns: DNS_IP,
      serverIp: GATEWAY_IP,
      leaseSeconds: opts.leaseSeconds ?? 86400,
    };
  }

  /** Binds the host ports of the forwards; rejects (and binds nothing) if one cannot be bound. */
  async start(): Promise<void> {
    try {
      for (const f of this.forwards) {
        const addr = f.hostAddr ?? "127.0.0.1";
        if (f.proto === "tcp") {
          this.listeners.push(
            await this.host.listenTcp(addr, f.hostPort, (s) => this.acceptForward(s, f.guestPort)),
          );
        } else {
          const l: { sock?: HostUdpSocket } = {};
          const sock = await this.host.listenUdp(addr, f.hostPort, {
            message: (bytes, from, port) => this.udpForwardIn(l.sock!, f.guestPort, bytes, from, port),
          });
          l.sock = sock;
          this.listeners.push(sock);
        }
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** The device attaches here: frames for the guest are passed to `receive`. */
  connect(receive: (frame: Uint8Array) => void): void {
    this.deliver = receive;
  }

  /** Closes every host socket and listener; later frames are dropped. */
  close(): void {
    this.closed = true;
    for (const l of this.listeners.splice(0)) l.close();
    for (const e of [...this.tcp.values()]) {
      e.host?.reset();
      e.host = undefined;
      e.conn.destroy("aborted");
    }
    this.tcp.clear();
    for (const b of this.udp.values()) b.sock.close();
    this.udp.clear();
    this.udpForward.clear();
    this.sweepCancel?.();
    this.sweepCancel = undefined;
  }

  /**
   * True while the guest may be waiting on the host: a TCP connection or a
   * UDP relay binding is open, or a name query is with the host's resolver. A deterministic machine lets time pass at
   * the wall-clock pace meanwhile instead of jumping to its next timer
   * (Machine.idleHolds).
   */
  get hostActive(): boolean {
    return this.tcp.size > 0 || this.udp.size > 0 || this.udpForward.size > 0 || this.dnsPending > 0;
  }

  /** Number of live TCP connections (tests, diagnostics). */
  get tcpConnections(): number {
    return this.tcp.size;
  }

  // ------------------------------------------------------------ from the guest

  /**
   * A frame the guest sent (the stack keeps views into it: the caller must
   * not reuse it). `checksumOffloaded`: the TCP/UDP checksum is partial
   * (virtio-net NEEDS_CSUM) and is not verified.
   */
  transmit(frame: Uint8Array, opts?: { checksumOffloaded?: boolean }): void {
    if (this.closed) return;
    this.stats.fromGuest++;
    const type = etherType(frame);
    if (typeof type === "string") return this.drop(type);
    const src = 6;
    if ((frame[src] & 1) === 0 && !macEquals(frame, src, this.guestMac))
      this.guestMac = frame.slice(src, src + 6);
    if (type === ETHERTYPE_ARP) this.arpIn(frame);
    else if (type === ETHERTYPE_IPV4) this.ipv4In(frame, opts?.checksumOffloaded === true);
    else this.drop(`ethertype 0x${type.toString(16)}`);
    if (this.needFlush.size > 0 && !this.flushQueued) {
      // The device calls flush() at the end of its batch; this is the safety net for callers that do not.
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** End of a batch of guest frames: sends the ACKs deferred during it. */
  flush(): void {
    this.flushQueued = false;
    if (this.needFlush.size === 0) return;
    const conns = [...this.needFlush];
    this.needFlush.clear();
    for (const c of conns) c.flush();
  }

  private drop(reason: string): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
  }

  private toGuest(frame: Uint8Array): void {
    if (this.closed || this.deliver === undefined) return;
    this.stats.toGuest++;
    this.deliver(frame);
  }

  /**
   * The stack's movable state (design 2.8): the counters that make its
   * frames what they are. Connections and UDP bindings are host sockets
   * and do not move: after a restore the guest's connections are reset
   * (their next segment gets RST) and its bindings are opened anew.
   */
  saveState(): UserNetState {
    return { version: 1, ipId: this.ipId, rng: this.rng, nextPort: this.nextPort };
  }

  restoreState(s: unknown): void {
    const who = "user-mode network";
    expectVersion(who, s as UserNetState, 1);
    const st = s as UserNetState;
    const ipId = expectNumber(who, "ipId", st.ipId, 0, 0xffff);
    const rng = expectNumber(who, "rng", st.rng, 1, 0xffff_ffff);
    const nextPort = expectNumber(who, "nextPort", st.nextPort, EPHEMERAL_FIRST, 0xffff);
    this.ipId = ipId;
    this.rng = rng;
    this.nextPort = nextPort;
  }

  private nextId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  private random32(): number {
    // xorshift32: repeatable initial sequence numbers (the link is private; they need not be secret).
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng;
  }

  // ------------------------------------------------------------ ARP (RFC 826)

  private arpIn(frame: Uint8Array): void {
    const a = parseArp(frame);
    if (typeof a === "string") return this.drop(a);
    if (a.op !== ARP_REQUEST) return; // replies and announcements: nothing to do
    let ourMac: Mac;
    if (a.targetIp === GATEWAY_IP) ourMac = GATEWAY_MAC;
    else if (a.targetIp === DNS_IP) ourMac = DNS_MAC;
    else return; // not ours (includes the guest's own duplicate-address probes)
    if (a.senderIp !== 0) this.guestIp = a.senderIp;
    this.toGuest(
      arpFrame(a.senderMac, {
        op: ARP_REPLY,
        senderMac: ourMac,
        senderIp: a.targetIp,
        targetMac: a.senderMac,
        targetIp: a.senderIp,
      }),
    );
  }

  // ------------------------------------------------------------ IPv4

  private ipv4In(frame: Uint8Array, offloaded: boolean): void {
    const p = parseIpv4(frame);
    if (typeof p === "string") return this.drop(p);
    if (p.proto === IPPROTO_UDP) this.udpIn(p, offloaded);
    else if (p.proto === IPPROTO_TCP) this.tcpIn(p, offloaded);
    else if (p.proto === IPPROTO_ICMP) this.icmpIn(p);
    else this.drop(`IP protocol ${p.proto}`);
  }

  /** ICMP echo to the gateway or the name server is answered by them (RFC 792); other ICMP is dropped. */
  private icmpIn(p: Ipv4Packet): void {
    const f = p.frame;
    if (p.l4len < 8) return this.drop("truncated ICMP");
    if (checksum(f, p.l4, p.l4len) !== 0) return this.drop("bad ICMP checksum");
    if (f[p.l4] !== ICMP_ECHO_REQUEST) return this.drop("ICMP other than echo request");
    if (p.dst !== GATEWAY_IP && p.dst !== DNS_IP) return this.drop("ICMP echo to another host");
    if (p.src !== 0) this.guestIp = p.src;
    const out = ipv4Frame(
      this.guestMac,
      p.dst === DNS_IP ? DNS_MAC : GATEWAY_MAC,
      p.dst,
      p.src,
      IPPROTO_ICMP,
      p.l4len,
      this.nextId(),
    );
    out.set(f.subarray(p.l4, p.l4 + p.l4len), L4_OFF);
    out[L4_OFF] = ICMP_ECHO_REPLY;
    out[L4_OFF + 1] = 0;
    put16(out, L4_OFF + 2, 0);
    put16(out, L4_OFF + 2, checksum(out, L4_OFF, p.l4len));
    this.toGuest(out);
  }

  // ------------------------------------------------------------ UDP (RFC 768)

  private udpIn(p: Ipv4Packet, offloaded: boolean): void {
    const u = parseUdp(p, offloaded);
    if (typeof u === "string") return this.drop(u);
    const f = p.frame;
    if (u.dstPort === DHCP_SERVER_PORT && (p.dst === 0xffffffff || p.dst === GATEWAY_IP)) {
      const req = parseDhcp(f.subarray(u.data, u.data + u.dataLen));
      if (typeof req === "string") return this.drop(req);
      const reply = dhcpAnswer(req, this.dhcp);
      if (reply === undefined) return;
      this.toGuest(
        udpFrame(
          reply.dstMac,
          GATEWAY_MAC,
          GATEWAY_IP,
          DHCP_SERVER_PORT,
          reply.dstIp,
          DHCP_CLIENT_PORT,
          reply.payload,
          this.nextId(),
        ),
      );
      return;
    }
    if (p.dst === DNS_IP) {
      if (u.dstPort !== DNS_PORT) return this.drop("UDP to the name server, not port 53");
      this.guestIp = p.src;
      return this.dnsIn(f.subarray(u.data, u.data + u.dataLen), p.src, u.srcPort);
    }
    const payload = f.slice(u.data, u.data + u.dataLen);
    const now = this.timers.now();
    // A reply to a forwarded host client?
    const fwd = p.dst === GATEWAY_IP ? this.udpForward.get(u.dstPort) : undefined;
    if (fwd !== undefined && fwd.guestPort === u.srcPort) {
      this.guestIp = p.src;
      fwd.lastUsed = now;
      fwd.listener.send(payload, fwd.clientAddr, fwd.clientPort);
      return;
    }
    const hostAddr = this.hostAddressFor(p.dst);
    if (hostAddr === undefined) return this.drop("UDP to an address without a relay");
    this.guestIp = p.src;
    let b = this.udp.get(u.srcPort);
    if (b === undefined) {
      const guestPort = u.srcPort;
      const binding: UdpBinding = {
        guestIp: p.src,
        guestPort,
        lastUsed: now,
        peers: new Set(),
        // Bound to every host address, so the one socket reaches the loopback and the world alike.
        sock: this.host.openUdp("0.0.0.0", {
          message: (bytes, addr, port) => {
            if (!binding.peers.has(addr)) return this.drop("UDP from a host the guest did not send to");
            binding.lastUsed = this.timers.now();
            this.toGuest(
              udpFrame(
                this.guestMac,
                GATEWAY_MAC,
                this.guestAddressFor(addr),
                port,
                binding.guestIp,
                guestPort,
                bytes,
                this.nextId(),
              ),
            );
          },
        }),
      };
      b = binding;
      this.udp.set(guestPort, b);
      this.armSweep();
    }
    b.guestIp = p.src;
    b.lastUsed = now;
    b.peers.add(hostAddr);
    b.sock.send(payload, hostAddr, u.dstPort);
  }

  /**
   * The host address a guest's packet to `dst` goes to through the host's
   * sockets, or undefined when nothing is there: the gateway stands for the
   * host's loopback; the rest of the virtual LAN, loopback, "this network",
   * multicast and broadcast addresses lead nowhere; with restrict nothing
   * does.
   */
  private hostAddressFor(dst: Ip4): string | undefined {
    if (this.restrict) return undefined;
    if (dst === GATEWAY_IP) return this.loopback;
    if ((dst & NETMASK) >>> 0 === GUEST_NET) return undefined;
    const first = dst >>> 24;
    if (first === 0 || first === 127 || first >= 224) return undefined;
    return ip4String(dst);
  }

  /** The address the guest sees for a host peer: the gateway for the host's loopback, else the peer's own. */
  private guestAddressFor(hostAddr: string): Ip4 {
    if (hostAddr === this.loopback) return GATEWAY_IP;
    try {
      return ip4(hostAddr);
    } catch {
      return GATEWAY_IP;
    }
  }

  // ------------------------------------------------------------ DNS (RFC 1035)

  /**
   * A query to 10.0.2.3:53: A, AAAA and PTR questions go to the host's
   * resolver and are answered when it replies (asynchronously, like any
   * host socket); malformed or unsupported queries are answered at once.
   */
  private dnsIn(msg: Uint8Array, guestIp: Ip4, guestPort: number): void {
    const q = parseDnsQuery(msg);
    if (typeof q === "string") return this.drop(q);
    const reply = (rcode: number, answers?: DnsRecord[]) =>
      this.toGuest(
        udpFrame(
          this.guestMac,
          DNS_MAC,
          DNS_IP,
          DNS_PORT,
          guestIp,
          guestPort,
          buildDnsResponse(q, rcode, answers),
          this.nextId(),
        ),
      );
    if (q.rcode !== undefined) return reply(q.rcode);
    if (this.restrict) return reply(DNS_REFUSED);
    const question = q.question!;
    let type: HostDnsType;
    let name = question.name;
    if (question.type === DNS_TYPE_A) type = "A";
    else if (question.type === DNS_TYPE_AAAA) type = "AAAA";
    else {
      type = "PTR";
      const addr = ptrAddress(name);
      if (addr === undefined) return reply(DNS_NXDOMAIN);
      name = addr;
    }
    if (this.dnsPending >= DNS_PENDING_MAX) return reply(DNS_SERVFAIL);
    this.dnsPending++;
    this.host.resolve(name, type, (a) => {
      this.dnsPending--;
      if (this.closed) return;
      this.dnsAnswer(q, a, reply);
    });
  }

  private dnsAnswer(
    q: DnsQuery,
    a: HostDnsAnswer,
    reply: (rcode: number, answers?: DnsRecord[]) => void,
  ): void {
    if (a.kind === "nxdomain") return reply(DNS_NXDOMAIN);
    if (a.kind === "servfail") return reply(DNS_SERVFAIL);
    const records: DnsRecord[] = [];
    const type = q.question!.type;
    for (const v of a.kind === "ok" ? a.values : []) {
      if (type === DNS_TYPE_A) {
        try {
          records.push({ type, ttl: DNS_TTL, addr: ip4(v) });
        } catch {}
      } else if (type === DNS_TYPE_AAAA) {
        const addr = ip6Bytes(v);
        if (addr !== undefined) records.push({ type, ttl: DNS_TTL, addr });
      } else records.push({ type: DNS_TYPE_PTR, ttl: DNS_TTL, name: v });
    }
    reply(DNS_NOERROR, records);
  }

  private udpForwardIn(
    listener: HostUdpSocket,
    guestPort: number,
    bytes: Uint8Array,
    addr: string,
    port: number,
  ): void {
    const now = this.timers.now();
    let s: UdpForwardSession | undefined;
    for (const x of this.udpForward.values()) {
      if (x.listener === listener && x.clientAddr === addr && x.clientPort === port) {
        s = x;
        break;
      }
    }
    if (s === undefined) {
      const gwPort = this.allocPort((p) => this.udpForward.has(p));
      s = { listener, clientAddr: addr, clientPort: port, guestPort, gwPort, lastUsed: now };
      this.udpForward.set(gwPort, s);
      this.armSweep();
    }
    s.lastUsed = now;
    this.toGuest(
      udpFrame(
        this.guestMac,
        GATEWAY_MAC,
        GATEWAY_IP,
        s.gwPort,
        this.guestIp,
        guestPort,
        bytes,
        this.nextId(),
      ),
    );
  }

  /** Forgets UDP bindings idle for UDP_IDLE_MS. */
  private armSweep(): void {
    if (this.sweepCancel !== undefined || this.closed) return;
    this.sweepCancel = this.timers.after(UDP_IDLE_MS / 4, () => {
      this.sweepCancel = undefined;
      const old = this.timers.now() - UDP_IDLE_MS;
      for (const [k, b] of this.udp) {
        if (b.lastUsed <= old) {
          b.sock.close();
          this.udp.delete(k);
        }
      }
      for (const [k, s] of this.udpForward) if (s.lastUsed <= old) this.udpForward.delete(k);
      if (this.udp.size > 0 || this.udpForward.size > 0) this.armSweep();
    });
  }

  /** A gateway-side port that `inUse` says is free. */
  private allocPort(inUse: (port: number) => boolean): number {
    for (let i = 0; i < 65536 - EPHEMERAL_FIRST; i++) {
      const p = this.nextPort;
      this.nextPort = p === 65535 ? EPHEMERAL_FIRST : p + 1;
      if (!inUse(p)) return p;
    }
    throw new Error("user network: no free gateway port");
  }

  // ------------------------------------------------------------ TCP (RFC 9293)

  private tcpIn(p: Ipv4Packet, offloaded: boolean): void {
    const seg = parseTcp(p, offloaded);
    if (typeof seg === "string") return this.drop(seg);
    const key = tcpKey(p.dst, seg.dstPort, seg.srcPort);
    let e = this.tcp.get(key);
    const f = seg.flags;
    const isSyn = (f & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN;
    if (e !== undefined && isSyn && (e.conn.state === "time-wait" || e.conn.state === "closed")) {
      // The guest reuses a port of a connection that is winding down: start afresh (RFC 9293 3.10.7.4 TIME-WAIT).
      this.tcp.delete(key);
      e.conn.destroy("closed");
      e = undefined;
    }
    if (e !== undefined) {
      e.guestIp = p.src;
      e.conn.input(seg, p.frame);
      return;
    }
    const hostAddr = this.hostAddressFor(p.dst);
    if (hostAddr === undefined) {
      this.drop("TCP to an address without a relay");
      this.resetFor(p, seg);
      return;
    }
    if (!isSyn) {
      this.resetFor(p, seg);
      return;
    }
    this.guestIp = p.src;
    this.openOutbound(p.src, p.dst, hostAddr, seg, key);
  }

  /** RST for a segment that belongs to no connection (RFC 9293 3.10.7.1). */
  private resetFor(p: Ipv4Packet, seg: TcpSegment): void {
    if (seg.flags & TCP_RST) return;
    const segLen = seg.dataLen + (seg.flags & TCP_SYN ? 1 : 0) + (seg.flags & 1 ? 1 : 0);
    const h: TcpHeader =
      seg.flags & TCP_ACK
        ? { srcPort: seg.dstPort, dstPort: seg.srcPort, seq: seg.ack, ack: 0, flags: TCP_RST, window: 0 }
        : {
            srcPort: seg.dstPort,
            dstPort: seg.srcPort,
            seq: 0,
            ack: seqAdd(seg.seq, segLen),
            flags: TCP_RST | TCP_ACK,
            window: 0,
          };
    this.toGuest(tcpFrame(this.guestMac, GATEWAY_MAC, p.dst, p.src, h, 0, this.nextId()));
  }

  /** A connection between guestPort and remoteIp:remotePort (the gateway's end is `remote`). */
  private newConn(
    guestIp: Ip4,
    guestPort: number,
    remoteIp: Ip4,
    remotePort: number,
    key: string,
    app: TcpApp,
  ): TcpConn {
    return new TcpConn({
      localPort: remotePort,
      remotePort: guestPort,
      iss: this.random32(),
      timers: this.timers,
      config: this.tcpConfig,
      app,
      wantFlush: (c) => this.needFlush.add(c),
      output: (h, dataLen, fill) => {
        const ip = this.tcp.get(key)?.guestIp ?? guestIp;
        this.toGuest(tcpFrame(this.guestMac, GATEWAY_MAC, remoteIp, ip, h, dataLen, this.nextId(), fill));
      },
    });
  }

  /** The app side of a proxied connection: relays between the TcpConn and the host socket. */
  private proxyApp(key: string, onEstablished?: () => void): TcpApp {
    const entry = () => this.tcp.get(key);
    return {
      established: () => {
        onEstablished?.();
        entry()?.host?.resume();
      },
      data: (bytes) => {
        const e = entry();
        if (e === undefined) return;
        if (e.host === undefined || e.hostGone) {
          e.conn.abort(); // nowhere to deliver: reset like a closed socket would
          return;
        }
        e.host.write(bytes);
      },
      end: () => entry()?.host?.end(),
      closed: (reason: TcpCloseReason) => {
        const e = entry();
        if (e === undefined) return;
        this.tcp.delete(key);
        this.needFlush.delete(e.conn);
        const h = e.host;
        e.host = undefined;
        if (h === undefined) return;
        if (reason === "closed") {
          if (!e.hostGone) h.end();
        } else h.reset();
      },
      buffered: () => entry()?.host?.buffered ?? 0,
      writable: () => entry()?.host?.resume(),
    };
  }

  /** Events of a host socket proxied to `key`'s connection. */
  private hostEvents(
    key: string,
    onConnected: () => void,
    onRefused: (error: string) => void,
  ): HostTcpEvents {
    let connected = false;
    const entry = () => this.tcp.get(key);
    return {
      connected: () => {
        connected = true;
        onConnected();
      },
      data: (bytes) => {
        const e = entry();
        if (e === undefined) return;
        if (!e.conn.send(bytes)) e.host?.pause();
      },
      end: () => {
        const e = entry();
        if (e === undefined) return;
        e.conn.end();
      },
      drain: () => entry()?.conn.windowUpdate(),
      closed: (error) => {
        const e = entry();
        if (e === undefined) return;
        if (!connected && e.conn.state === "listen") {
          onRefused(error ?? "closed");
          return;
        }
        e.hostGone = true;
        e.host = undefined;
        if (error !== undefined) {
          this.log(`tcp ${key}: host socket ${error}`);
          e.conn.abort();
        } else e.conn.end();
      },
    };
  }

  /**
   * The guest opened a connection to `remoteIp`: connect a host socket to
   * `hostAddr` (the loopback for the gateway, else the same address), then
   * answer its SYN.
   */
  private openOutbound(guestIp: Ip4, remoteIp: Ip4, hostAddr: string, seg: TcpSegment, key: string): void {
    const syn: TcpSynInfo = { seq: seg.seq, window: seg.window, mss: seg.mss, wscale: seg.wscale };
    const conn = this.newConn(guestIp, seg.srcPort, remoteIp, seg.dstPort, key, this.proxyApp(key));
    const entry: TcpEntry = { conn, remoteIp, guestIp, host: undefined, hostGone: false };
    this.tcp.set(key, entry);
    entry.host = this.host.connectTcp(
      hostAddr,
      seg.dstPort,
      this.hostEvents(
        key,
        () => {
          if (this.tcp.get(key) === entry) conn.accept(syn);
        },
        (error) => {
          // Refused: the guest sees a reset, as from a closed port.
          this.log(`tcp to ${hostAddr}:${seg.dstPort}: ${error}`);
          this.tcp.delete(key);
          const h = TcpConn.refuse(syn);
          h.srcPort = seg.dstPort;
          h.dstPort = seg.srcPort;
          this.toGuest(tcpFrame(this.guestMac, GATEWAY_MAC, remoteIp, guestIp, h, 0, this.nextId()));
          conn.destroy("refused");
        },
      ),
    );
  }

  /** A host client connected to a forwarded port: open a connection from the gateway to the guest. */
  private acceptForward(s: HostTcpSocket, guestPort: number): HostTcpEvents {
    if (this.closed) {
      s.reset();
      return { connected() {}, data() {}, end() {}, drain() {}, closed() {} };
    }
    const gwPort = this.allocPort((p) => this.tcp.has(tcpKey(GATEWAY_IP, p, guestPort)));
    const key = tcpKey(GATEWAY_IP, gwPort, guestPort);
    const conn = this.newConn(this.guestIp, guestPort, GATEWAY_IP, gwPort, key, this.proxyApp(key));
    const entry: TcpEntry = { conn, remoteIp: GATEWAY_IP, guestIp: this.guestIp, host: s, hostGone: false };
    this.tcp.set(key, entry);
    const events = this.hostEvents(
      key,
      () => {},
      () => {
        this.tcp.delete(key);
        conn.abort();
      },
    );
    conn.connect();
    return {
      ...events,
      closed: (error) => {
        // A client that goes away before the guest answered: abandon the handshake.
        if (conn.state === "syn-sent") {
          this.tcp.delete(key);
          entry.host = undefined;
          conn.abort();
          return;
        }
        events.closed(error);
      },
    };
  }
}

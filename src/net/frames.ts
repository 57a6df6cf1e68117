/**
 * Parsing and building of the frames the user-mode network speaks:
 * Ethernet II (no 802.1Q tags), ARP for IPv4 over Ethernet (RFC 826), IPv4
 * (RFC 791, no options written, fragments dropped), ICMP (RFC 792), UDP
 * (RFC 768) and TCP (RFC 793 with the MSS and window-scale options of
 * RFC 9293 3.2 / RFC 7323 2).
 *
 * Parsers take untrusted guest bytes: every length is checked against the
 * frame before it is used, and a malformed frame yields a reason string
 * instead of throwing. Builders return fresh frames with checksums filled.
 */
import {
  checksum,
  finishChecksum,
  type Ip4,
  type Mac,
  pseudoHeaderSum,
  put16,
  put32,
  sumWords,
  u16,
  u32,
} from "./wire.ts";

export const ETH_HLEN = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const IP_HLEN = 20;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const UDP_HLEN = 8;
export const TCP_HLEN = 20;

/** TCP header flag bits (RFC 793 3.1). */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

/** Offset of the IPv4 header in a frame, and of the transport header in frames this module builds. */
export const IP_OFF = ETH_HLEN;
export const L4_OFF = ETH_HLEN + IP_HLEN;

/** An IPv4 packet inside an Ethernet frame, after header checks. */
export interface Ipv4Packet {
  frame: Uint8Array;
  src: Ip4;
  dst: Ip4;
  proto: number;
  ttl: number;
  /** Offset of the transport header in `frame`. */
  l4: number;
  /** Bytes from `l4` to the end of the IP packet (Ethernet padding excluded). */
  l4len: number;
}

/** EtherType of a frame, or a reason to drop it. */
export function etherType(frame: Uint8Array): number | string {
  if (frame.length < ETH_HLEN) return "runt frame";
  return u16(frame, 12);
}

/** Validates the IPv4 header of `frame` (RFC 791 3.1; RFC 1122 3.2.1). */
export function parseIpv4(frame: Uint8Array): Ipv4Packet | string {
  if (frame.length < ETH_HLEN + IP_HLEN) return "truncated IPv4 header";
  const o = IP_OFF;
  const vihl = frame[o];
  if (vihl >> 4 !== 4) return "not IPv4";
  const ihl = (vihl & 15) * 4;
  if (ihl < IP_HLEN || frame.length < o + ihl) return "bad IPv4 header length";
  const total = u16(frame, o + 2);
  if (total < ihl || o + total > frame.length) return "bad IPv4 total length";
  if (checksum(frame, o, ihl) !== 0) return "bad IPv4 header checksum";
  // More-fragments set or a nonzero offset: reassembly is not supported (the guest's MTU is ours).
  if ((u16(frame, o + 6) & 0x3fff) !== 0) return "IPv4 fragment";
  return {
    frame,
    src: u32(frame, o + 12),
    dst: u32(frame, o + 16),
    proto: frame[o + 9],
    ttl: frame[o + 8],
    l4: o + ihl,
    l4len: total - ihl,
  };
}

/**
 * A new Ethernet + IPv4 frame with `l4len` zeroed transport bytes after a
 * 20-byte IP header (DF set, TTL 64, checksum filled).
 */
export function ipv4Frame(
  dstMac: Mac,
  srcMac: Mac,
  src: Ip4,
  dst: Ip4,
  proto: number,
  l4len: number,
  id: number,
): Uint8Array {
  const f = new Uint8Array(L4_OFF + l4len);
  f.set(dstMac, 0);
  f.set(srcMac, 6);
  put16(f, 12, ETHERTYPE_IPV4);
  const o = IP_OFF;
  f[o] = 0x45;
  put16(f, o + 2, IP_HLEN + l4len);
  put16(f, o + 4, id);
  put16(f, o + 6, 0x4000); // DF
  f[o + 8] = 64;
  f[o + 9] = proto;
  put32(f, o + 12, src);
  put32(f, o + 16, dst);
  put16(f, o + 10, checksum(f, o, IP_HLEN));
  return f;
}

// ---------------------------------------------------------------- ARP

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
const ARP_LEN = 28;

export interface ArpPacket {
  op: number;
  senderMac: Mac;
  senderIp: Ip4;
  targetMac: Mac;
  targetIp: Ip4;
}

/** ARP for IPv4 over Ethernet only (htype 1, ptype 0x0800, hlen 6, plen 4). */
export function parseArp(frame: Uint8Array): ArpPacket | string {
  if (frame.length < ETH_HLEN + ARP_LEN) return "truncated ARP";
  const o = ETH_HLEN;
  if (u16(frame, o) !== 1 || u16(frame, o + 2) !== ETHERTYPE_IPV4 || frame[o + 4] !== 6 || frame[o + 5] !== 4)
    return "ARP for another protocol";
  return {
    op: u16(frame, o + 6),
    senderMac: frame.slice(o + 8, o + 14),
    senderIp: u32(frame, o + 14),
    targetMac: frame.slice(o + 18, o + 24),
    targetIp: u32(frame, o + 24),
  };
}

export function arpFrame(dstMac: Mac, a: ArpPacket): Uint8Array {
  const f = new Uint8Array(ETH_HLEN + ARP_LEN);
  f.set(dstMac, 0);
  f.set(a.senderMac, 6);
  put16(f, 12, ETHERTYPE_ARP);
  const o = ETH_HLEN;
  put16(f, o, 1);
  put16(f, o + 2, ETHERTYPE_IPV4);
  f[o + 4] = 6;
  f[o + 5] = 4;
  put16(f, o + 6, a.op);
  f.set(a.senderMac, o + 8);
  put32(f, o + 14, a.senderIp);
  f.set(a.targetMac, o + 18);
  put32(f, o + 24, a.targetIp);
  return f;
}

// ---------------------------------------------------------------- ICMP

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_ECHO_REQUEST = 8;

// ---------------------------------------------------------------- UDP

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  /** Offset of the payload in the frame. */
  data: number;
  dataLen: number;
}

/**
 * Checks the UDP header and, when it is not zero ("none", RFC 768), the
 * checksum (unless `skipChecksum`: left partial by checksum offload).
 */
export function parseUdp(p: Ipv4Packet, skipChecksum = false): UdpDatagram | string {
  const f = p.frame;
  if (p.l4len < UDP_HLEN) return "truncated UDP header";
  const len = u16(f, p.l4 + 4);
  if (len < UDP_HLEN || len > p.l4len) return "bad UDP length";
  if (!skipChecksum && u16(f, p.l4 + 6) !== 0) {
    const sum = sumWords(f, p.l4, len, pseudoHeaderSum(p.src, p.dst, IPPROTO_UDP, len));
    if (finishChecksum(sum) !== 0) return "bad UDP checksum";
  }
  return { srcPort: u16(f, p.l4), dstPort: u16(f, p.l4 + 2), data: p.l4 + UDP_HLEN, dataLen: len - UDP_HLEN };
}

export function udpFrame(
  dstMac: Mac,
  srcMac: Mac,
  src: Ip4,
  srcPort: number,
  dst: Ip4,
  dstPort: number,
  payload: Uint8Array,
  id: number,
): Uint8Array {
  const len = UDP_HLEN + payload.length;
  const f = ipv4Frame(dstMac, srcMac, src, dst, IPPROTO_UDP, len, id);
  const o = L4_OFF;
  put16(f, o, srcPort);
  put16(f, o + 2, dstPort);
  put16(f, o + 4, len);
  f.set(payload, o + UDP_HLEN);
  const c = finishChecksum(sumWords(f, o, len, pseudoHeaderSum(src, dst, IPPROTO_UDP, len)));
  put16(f, o + 6, c === 0 ? 0xffff : c); // RFC 768: a computed 0 is sent as all ones
  return f;
}

// ---------------------------------------------------------------- TCP

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  /** The window field as sent (not scaled). */
  window: number;
  /** Offset of the data in the frame. */
  data: number;
  dataLen: number;
  /** MSS option (SYN segments), or -1. */
  mss: number;
  /** Window-scale shift option (SYN segments), or -1. */
  wscale: number;
}

/**
 * Checks the TCP header and checksum and reads the options we use.
 * `skipChecksum` is for frames whose checksum the guest left to the device
 * (virtio-net VIRTIO_NET_HDR_F_NEEDS_CSUM).
 */
export function parseTcp(p: Ipv4Packet, skipChecksum = false): TcpSegment | string {
  const f = p.frame;
  const o = p.l4;
  if (p.l4len < TCP_HLEN) return "truncated TCP header";
  const doff = (f[o + 12] >> 4) * 4;
  if (doff < TCP_HLEN || doff > p.l4len) return "bad TCP data offset";
  if (!skipChecksum) {
    const sum = sumWords(f, o, p.l4len, pseudoHeaderSum(p.src, p.dst, IPPROTO_TCP, p.l4len));
    if (finishChecksum(sum) !== 0) return "bad TCP checksum";
  }
  let mss = -1;
  let wscale = -1;
  // Options (RFC 9293 3.1): kind 0 ends the list, 1 is a one-byte no-op, others carry a length.
  for (let i = o + TCP_HLEN; i < o + doff; ) {
    const kind = f[i];
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= o + doff) break;
    const len = f[i + 1];
    if (len < 2 || i + len > o + doff) break;
    if (kind === 2 && len === 4) mss = u16(f, i + 2);
    else if (kind === 3 && len === 3) wscale = Math.min(14, f[i + 2]); // RFC 7323 2.3: clamp to 14
    i += len;
  }
  return {
    srcPort: u16(f, o),
    dstPort: u16(f, o + 2),
    seq: u32(f, o + 4),
    ack: u32(f, o + 8),
    flags: f[o + 13] & 0x3f,
    window: u16(f, o + 14),
    data: o + doff,
    dataLen: p.l4len - doff,
    mss,
    wscale,
  };
}

export interface TcpHeader {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** MSS option to send (SYN segments), or -1. */
  mss?: number;
  /** Window-scale option to send (SYN segments), or -1. */
  wscale?: number;
}

/**
 * A TCP segment frame with `dataLen` bytes of room for data; `fill` writes
 * the data at the offset it is given before the checksum is computed.
 */
export function tcpFrame(
  dstMac: Mac,
  srcMac: Mac,
  src: Ip4,
  dst: Ip4,
  h: TcpHeader,
  dataLen: number,
  id: number,
  fill?: (frame: Uint8Array, at: number) => void,
): Uint8Array {
  const mss = h.mss ?? -1;
  const ws = h.wscale ?? -1;
  const optLen = (mss >= 0 ? 4 : 0) + (ws >= 0 ? 4 : 0);
  const hlen = TCP_HLEN + optLen;
  const len = hlen + dataLen;
  const f = ipv4Frame(dstMac, srcMac, src, dst, IPPROTO_TCP, len, id);
  const o = L4_OFF;
  put16(f, o, h.srcPort);
  put16(f, o + 2, h.dstPort);
  put32(f, o + 4, h.seq);
  put32(f, o + 8, h.ack);
  f[o + 12] = (hlen / 4) << 4;
  f[o + 13] = h.flags;
  put16(f, o + 14, h.window);
  let i = o + TCP_HLEN;
  if (mss >= 0) {
    f[i] = 2;
    f[i + 1] = 4;
    put16(f, i + 2, mss);
    i += 4;
  }
  if (ws >= 0) {
    f[i] = 1; // NOP, so the option list stays 4-byte aligned
    f[i + 1] = 3;
    f[i + 2] = 3;
    f[i + 3] = ws;
    i += 4;
  }
  if (dataLen > 0 && fill) fill(f, i);
  put16(f, o + 16, finishChecksum(sumWords(f, o, len, pseudoHeaderSum(src, dst, IPPROTO_TCP, len))));
  return f;
}

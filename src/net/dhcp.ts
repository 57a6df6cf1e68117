/**
 * The DHCP server of the user-mode network (RFC 2131, options RFC 2132):
 * one client, one address. DISCOVER gets an OFFER, REQUEST for the lease
 * address an ACK (anything else a NAK), INFORM an ACK without a lease;
 * DECLINE and RELEASE need no answer. As QEMU's slirp: the guest is
 * 10.0.2.15/24, the router and server 10.0.2.2, the name server 10.0.2.3.
 */
import { BROADCAST_MAC, type Ip4, type Mac, put16, put32, u16, u32 } from "./wire.ts";

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPDECLINE = 4;
export const DHCPACK = 5;
export const DHCPNAK = 6;
export const DHCPRELEASE = 7;
export const DHCPINFORM = 8;

const BOOTREQUEST = 1;
const BOOTREPLY = 2;
/** Fixed BOOTP fields up to and including chaddr, sname and file (RFC 2131 2). */
const FIXED_LEN = 236;
const MAGIC = 0x63825363;
const OPT_PAD = 0;
const OPT_SUBNET_MASK = 1;
const OPT_ROUTER = 3;
const OPT_DNS = 6;
const OPT_BROADCAST = 28;
const OPT_REQUESTED_IP = 50;
const OPT_LEASE_TIME = 51;
const OPT_MSG_TYPE = 53;
const OPT_SERVER_ID = 54;
const OPT_RENEWAL = 58;
const OPT_REBINDING = 59;
const OPT_END = 255;

export interface DhcpConfig {
  /** The address every client gets. */
  clientIp: Ip4;
  netmask: Ip4;
  router: Ip4;
  dns: Ip4;
  /** Server identifier (option 54) and the source of replies. */
  serverIp: Ip4;
  /** Lease time in seconds. */
  leaseSeconds: number;
}

/** A parsed client message (the fields the server uses). */
export interface DhcpRequest {
  type: number;
  xid: number;
  flags: number;
  ciaddr: Ip4;
  chaddr: Mac;
  /** Option 50, or undefined. */
  requestedIp: Ip4 | undefined;
  /** Option 54, or undefined. */
  serverId: Ip4 | undefined;
}

/** Parses a BOOTREQUEST carrying a DHCP message type; a reason string for anything else. */
export function parseDhcp(b: Uint8Array): DhcpRequest | string {
  if (b.length < FIXED_LEN + 4) return "truncated DHCP message";
  if (b[0] !== BOOTREQUEST) return "not a BOOTREQUEST";
  if (b[1] !== 1 || b[2] !== 6) return "DHCP for non-Ethernet hardware";
  if (u32(b, FIXED_LEN) !== MAGIC) return "no DHCP magic cookie (plain BOOTP)";
  let type = -1;
  let requestedIp: Ip4 | undefined;
  let serverId: Ip4 | undefined;
  for (let i = FIXED_LEN + 4; i < b.length; ) {
    const code = b[i];
    if (code === OPT_END) break;
    if (code === OPT_PAD) {
      i++;
      continue;
    }
    if (i + 1 >= b.length) return "truncated DHCP option";
    const len = b[i + 1];
    const v = i + 2;
    if (v + len > b.length) return "truncated DHCP option";
    if (code === OPT_MSG_TYPE && len === 1) type = b[v];
    else if (code === OPT_REQUESTED_IP && len === 4) requestedIp = u32(b, v);
    else if (code === OPT_SERVER_ID && len === 4) serverId = u32(b, v);
    i = v + len;
  }
  if (type < 1) return "no DHCP message type";
  return {
    type,
    xid: u32(b, 4),
    flags: u16(b, 10),
    ciaddr: u32(b, 12),
    chaddr: b.slice(28, 34),
    requestedIp,
    serverId,
  };
}

/** A reply and where it goes. */
export interface DhcpReply {
  type: number;
  payload: Uint8Array;
  dstIp: Ip4;
  dstMac: Mac;
}

/** The server's answer to a client message, or undefined when none is due. */
export function dhcpAnswer(req: DhcpRequest, cfg: DhcpConfig): DhcpReply | undefined {
  // A message naming another server is for that server (RFC 2131 4.3.2, SELECTING state).
  if (req.serverId !== undefined && req.serverId !== cfg.serverIp) return undefined;
  let type: number;
  switch (req.type) {
    case DHCPDISCOVER:
      type = DHCPOFFER;
      break;
    case DHCPREQUEST: {
      const want = req.requestedIp ?? req.ciaddr;
      type = want === cfg.clientIp ? DHCPACK : DHCPNAK;
      break;
    }
    case DHCPINFORM:
      type = DHCPACK;
      break;
    default:
      return undefined; // DECLINE, RELEASE, and replies from other servers
  }
  const inform = req.type === DHCPINFORM;
  const opts: number[] = [OPT_MSG_TYPE, 1, type];
  const ip = (code: number, v: Ip4) =>
    opts.push(code, 4, v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  ip(OPT_SERVER_ID, cfg.serverIp);
  if (type !== DHCPNAK) {
    if (!inform) {
      ip(OPT_LEASE_TIME, cfg.leaseSeconds);
      ip(OPT_RENEWAL, Math.floor(cfg.leaseSeconds / 2));
      ip(OPT_REBINDING, Math.floor((cfg.leaseSeconds * 7) / 8));
    }
    ip(OPT_SUBNET_MASK, cfg.netmask);
    ip(OPT_ROUTER, cfg.router);
    ip(OPT_DNS, cfg.dns);
    ip(OPT_BROADCAST, (cfg.clientIp & cfg.netmask) | (~cfg.netmask >>> 0));
  }
  opts.push(OPT_END);

  const p = new Uint8Array(Math.max(300, FIXED_LEN + 4 + opts.length)); // 300: the BOOTP minimum some clients expect
  p[0] = BOOTREPLY;
  p[1] = 1;
  p[2] = 6;
  put32(p, 4, req.xid);
  put16(p, 10, req.flags & 0x8000);
  if (inform) put32(p, 12, req.ciaddr);
  if (type !== DHCPNAK && !inform) put32(p, 16, cfg.clientIp); // yiaddr
  if (type !== DHCPNAK) put32(p, 20, cfg.serverIp); // siaddr
  p.set(req.chaddr, 28);
  put32(p, FIXED_LEN, MAGIC);
  p.set(opts, FIXED_LEN + 4);

  // RFC 2131 4.1: to ciaddr when the client has one, else broadcast if asked (and always for a NAK), else to the new address.
  let dstIp: Ip4;
  let dstMac: Mac = req.chaddr;
  if (type === DHCPNAK || (req.ciaddr === 0 && req.flags & 0x8000)) {
    dstIp = 0xffffffff;
    dstMac = BROADCAST_MAC;
  } else if (req.ciaddr !== 0) dstIp = req.ciaddr;
  else dstIp = cfg.clientIp;
  return { type, payload: p, dstIp, dstMac };
}

/**
 * DNS messages for the user-mode network's name server at 10.0.2.3
 * (RFC 1035 4.1; AAAA from RFC 3596): the query parser and the response
 * builder. The server itself is in user-net.ts; it asks the host's resolver
 * through HostNet.resolve.
 *
 * Queries are untrusted guest bytes: every length and label is checked
 * against the message, compression pointers (RFC 1035 4.1.4) may only point
 * backwards (so they cannot loop), and a name longer than 255 bytes is
 * refused. A malformed message yields a reason string, never an exception.
 */
import { type Ip4, put16, put32, u16 } from "./wire.ts";

export const DNS_PORT = 53;
export const DNS_HEADER_LEN = 12;
/** RFC 1035 2.3.4: UDP messages are at most 512 bytes (no EDNS). */
export const DNS_UDP_MAX = 512;

/** Query types the server answers (RFC 1035 3.2.2, RFC 3596 2.1). */
export const DNS_TYPE_A = 1;
export const DNS_TYPE_PTR = 12;
export const DNS_TYPE_AAAA = 28;
export const DNS_CLASS_IN = 1;

/** Response codes (RFC 1035 4.1.1). */
export const DNS_NOERROR = 0;
export const DNS_FORMERR = 1;
export const DNS_SERVFAIL = 2;
export const DNS_NXDOMAIN = 3;
export const DNS_NOTIMP = 4;
export const DNS_REFUSED = 5;

/** Header flag bits (RFC 1035 4.1.1). */
const QR = 0x8000;
const TC = 0x0200;
const RD = 0x0100;
const RA = 0x0080;
const OPCODE_SHIFT = 11;

/** The name, type and class of the question. */
export interface DnsQuestion {
  /** Dotted, lower case, no trailing dot ("" is the root). */
  name: string;
  type: number;
  qclass: number;
  /** The question's bytes as the client sent them, echoed in the answer. */
  raw: Uint8Array;
}

/** A parsed query: the header fields the answer needs and the one question. */
export interface DnsQuery {
  id: number;
  opcode: number;
  /** Recursion desired: copied into the answer. */
  rd: boolean;
  /** The question (A, AAAA or PTR in class IN unless rcode is set), or undefined when unreadable. */
  question: DnsQuestion | undefined;
  /**
   * Set when the query is to be answered at once with this code: FORMERR
   * (no single readable question), NOTIMP (an opcode other than QUERY, a
   * type or class not proxied), REFUSED (a name no resolver could look up).
   */
  rcode: number | undefined;
}

/** One resource record of an answer. The owner is always the question's name. */
export type DnsRecord =
  | { type: typeof DNS_TYPE_A; ttl: number; addr: Ip4 }
  | { type: typeof DNS_TYPE_AAAA; ttl: number; addr: Uint8Array }
  | { type: typeof DNS_TYPE_PTR; ttl: number; name: string };

/** RFC 1035 2.3.4: names are at most 255 bytes on the wire, labels at most 63. */
const NAME_MAX = 255;
const LABEL_MAX = 63;

/**
 * Reads the name at `off`; returns it (dotted, as the bytes say) and the
 * offset after it in the message, or a reason string.
 */
function readName(msg: Uint8Array, off: number): { name: string; end: number; clean: boolean } | string {
  const labels: string[] = [];
  let wire = 0;
  let clean = true;
  let end = -1;
  let at = off;
  for (;;) {
    if (at >= msg.length) return "name runs past the message";
    const len = msg[at];
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= msg.length) return "truncated compression pointer";
      const target = ((len & 0x3f) << 8) | msg[at + 1];
      // Only backwards: a pointer can never reach itself or a later pointer, so the walk ends.
      if (target >= at) return "compression pointer does not point backwards";
      if (end < 0) end = at + 2;
      at = target;
      continue;
    }
    if ((len & 0xc0) !== 0) return "reserved label type";
    if (len === 0) {
      if (end < 0) end = at + 1;
      break;
    }
    wire += len + 1;
    if (wire + 1 > NAME_MAX) return "name longer than 255 bytes";
    if (at + 1 + len > msg.length) return "label runs past the message";
    let label = "";
    for (let i = at + 1; i <= at + len; i++) {
      const c = msg[i];
      // Host names are letters, digits, '-' and '_' in practice; anything else cannot be looked up faithfully.
      if (c <= 0x20 || c >= 0x7f || c === 0x2e || c === 0x5c) clean = false;
      label += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
    }
    labels.push(label);
    at += 1 + len;
  }
  return { name: labels.join("."), end, clean };
}

/**
 * Parses a query (RFC 1035 4.1). Returns a reason string when no answer can
 * be addressed (a short header, a response); a query that can be answered
 * but not served carries the rcode to answer with. Records after the
 * question are ignored.
 */
export function parseDnsQuery(msg: Uint8Array): DnsQuery | string {
  if (msg.length < DNS_HEADER_LEN) return "truncated DNS header";
  const flags = u16(msg, 2);
  if (flags & QR) return "DNS response sent to the server";
  const id = u16(msg, 0);
  const opcode = (flags >> OPCODE_SHIFT) & 15;
  const rd = (flags & RD) !== 0;
  const query: DnsQuery = { id, opcode, rd, question: undefined, rcode: undefined };
  if (opcode !== 0) {
    query.rcode = DNS_NOTIMP;
    return query;
  }
  const n = u16(msg, 4) === 1 ? readName(msg, DNS_HEADER_LEN) : "not one question";
  if (typeof n === "string" || n.end + 4 > msg.length) {
    query.rcode = DNS_FORMERR;
    return query;
  }
  const type = u16(msg, n.end);
  const qclass = u16(msg, n.end + 2);
  // The name as a plain label sequence (pointers expanded), so the answer's records can point at it.
  query.question = { name: n.name, type, qclass, raw: encodeQuestion(n.name, type, qclass) };
  if (qclass !== DNS_CLASS_IN || (type !== DNS_TYPE_A && type !== DNS_TYPE_AAAA && type !== DNS_TYPE_PTR))
    query.rcode = DNS_NOTIMP;
  else if (!n.clean || n.name === "") query.rcode = DNS_REFUSED;
  return query;
}

/** A name as labels (no compression). The name must have passed readName or be a host-provided name. */
function encodeName(name: string): Uint8Array | undefined {
  const labels = name === "" ? [] : name.split(".");
  const out: number[] = [];
  for (const l of labels) {
    if (l.length === 0 || l.length > LABEL_MAX) return undefined;
    out.push(l.length);
    for (let i = 0; i < l.length; i++) {
      const c = l.charCodeAt(i);
      if (c > 0xff) return undefined;
      out.push(c);
    }
  }
  out.push(0);
  return out.length > NAME_MAX ? undefined : Uint8Array.from(out);
}

function encodeQuestion(name: string, type: number, qclass: number): Uint8Array {
  const n = encodeName(name) ?? Uint8Array.of(0);
  const q = new Uint8Array(n.length + 4);
  q.set(n, 0);
  put16(q, n.length, type);
  put16(q, n.length + 2, qclass);
  return q;
}

/**
 * A response to `query` with `rcode` and `answers` (owner: the question's
 * name, by a pointer to it). Records that would take the message past 512
 * bytes are left out and TC is set (RFC 1035 4.2.1). Without a question
 * (count not 1) the answer carries none.
 */
export function buildDnsResponse(
  query: DnsQuery,
  rcode: number,
  answers: readonly DnsRecord[] = [],
): Uint8Array {
  const q = query.question;
  const parts: Uint8Array[] = [];
  let size = DNS_HEADER_LEN + (q?.raw.length ?? 0);
  let count = 0;
  let truncated = false;
  for (const a of q === undefined ? [] : answers) {
    let rdata: Uint8Array | undefined;
    if (a.type === DNS_TYPE_A) {
      rdata = new Uint8Array(4);
      put32(rdata, 0, a.addr);
    } else if (a.type === DNS_TYPE_AAAA) rdata = a.addr.length === 16 ? a.addr : undefined;
    else rdata = encodeName(a.name);
    if (rdata === undefined) continue;
    const rr = new Uint8Array(12 + rdata.length);
    put16(rr, 0, 0xc000 | DNS_HEADER_LEN); // the owner: a pointer to the question's name
    put16(rr, 2, a.type);
    put16(rr, 4, DNS_CLASS_IN);
    put32(rr, 6, a.ttl);
    put16(rr, 10, rdata.length);
    rr.set(rdata, 12);
    if (size + rr.length > DNS_UDP_MAX) {
      truncated = true;
      break;
    }
    parts.push(rr);
    size += rr.length;
    count++;
  }
  const out = new Uint8Array(size);
  put16(out, 0, query.id);
  let flags = QR | (query.opcode << OPCODE_SHIFT) | RA | (rcode & 15);
  if (query.rd) flags |= RD;
  if (truncated) flags |= TC;
  put16(out, 2, flags);
  put16(out, 4, q === undefined ? 0 : 1);
  put16(out, 6, count);
  let at = DNS_HEADER_LEN;
  if (q !== undefined) {
    out.set(q.raw, at);
    at += q.raw.length;
  }
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Builds a query (tests, and a client that wants one): one question, RD set. */
export function buildDnsQuery(id: number, name: string, type: number): Uint8Array {
  const q = encodeQuestion(name, type, DNS_CLASS_IN);
  const out = new Uint8Array(DNS_HEADER_LEN + q.length);
  put16(out, 0, id);
  put16(out, 2, RD);
  put16(out, 4, 1);
  out.set(q, DNS_HEADER_LEN);
  return out;
}

/**
 * The name a PTR question asks about, as an IPv4 address text
 * ("15.2.0.10.in-addr.arpa" → "10.0.2.15"), or undefined (RFC 1035 3.5).
 */
export function ptrAddress(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (m === null) return undefined;
  const parts = [m[4], m[3], m[2], m[1]];
  if (parts.some((p) => Number(p) > 255 || (p.length > 1 && p[0] === "0"))) return undefined;
  return parts.join(".");
}

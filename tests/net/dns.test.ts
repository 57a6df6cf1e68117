/**
 * The name server at 10.0.2.3: DNS messages parsed and built by hand
 * (RFC 1035), questions answered by the host's resolver (a fake here,
 * node:dns in the last test), hostile queries answered or dropped without
 * a throw.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NodeHostNet } from "../../src/host/node/net-host.ts";
import {
  buildDnsQuery,
  buildDnsResponse,
  DNS_FORMERR,
  DNS_NOERROR,
  DNS_NOTIMP,
  DNS_NXDOMAIN,
  DNS_REFUSED,
  DNS_SERVFAIL,
  DNS_TYPE_A,
  DNS_TYPE_AAAA,
  DNS_TYPE_PTR,
  parseDnsQuery,
  ptrAddress,
} from "../../src/net/dns.ts";
import type { HostDnsAnswer } from "../../src/net/host.ts";
import { DNS_IP, DNS_MAC } from "../../src/net/user-net.ts";
import { ip4String, ip6Bytes, u16, u32 } from "../../src/net/wire.ts";
import { Harness, type Sent } from "../support/net-fakes.ts";
import { Sfc32 } from "../support/prng.ts";

/** The fields of a response that tests look at. */
function readResponse(msg: Uint8Array) {
  const flags = u16(msg, 2);
  const qd = u16(msg, 4);
  const an = u16(msg, 6);
  let at = 12;
  const skipName = () => {
    while (msg[at] !== 0) {
      if ((msg[at] & 0xc0) === 0xc0) {
        at += 2;
        return;
      }
      at += msg[at] + 1;
    }
    at++;
  };
  for (let i = 0; i < qd; i++) {
    skipName();
    at += 4;
  }
  const answers: { type: number; ttl: number; data: Uint8Array }[] = [];
  for (let i = 0; i < an; i++) {
    assert.equal(u16(msg, at), 0xc00c, "answers point at the question's name");
    const type = u16(msg, at + 2);
    const ttl = u32(msg, at + 6);
    const len = u16(msg, at + 10);
    answers.push({ type, ttl, data: msg.slice(at + 12, at + 12 + len) });
    at += 12 + len;
  }
  assert.equal(at, msg.length, "no bytes after the records");
  return {
    id: u16(msg, 0),
    qr: (flags & 0x8000) !== 0,
    rd: (flags & 0x100) !== 0,
    tc: (flags & 0x200) !== 0,
    rcode: flags & 15,
    qd,
    answers,
  };
}

function dnsReply(s: Sent) {
  assert.equal(ip4String(s.ip!.src), "10.0.2.3");
  assert.deepEqual([...s.frame.slice(6, 12)], [...DNS_MAC]);
  assert.equal(s.udp!.srcPort, 53);
  return readResponse(s.udp!.payload);
}

test("parseDnsQuery reads the question (pointers expanded, lower-cased) and refuses what it cannot serve", () => {
  const q = parseDnsQuery(buildDnsQuery(0x1234, "Example.COM", DNS_TYPE_A));
  assert.ok(typeof q !== "string");
  assert.equal(q.id, 0x1234);
  assert.equal(q.rd, true);
  assert.equal(q.question!.name, "example.com");
  assert.equal(q.rcode, undefined);
  // A question whose name is a pointer back into the header is still bounded (it reads the header bytes).
  const ptr = Uint8Array.of(0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1);
  const p = parseDnsQuery(ptr);
  assert.ok(typeof p !== "string");
  assert.equal(p.rcode, DNS_FORMERR, "a pointer to itself is not backwards");
  const rcode = (m: Uint8Array) => {
    const r = parseDnsQuery(m);
    return typeof r === "string" ? r : r.rcode;
  };
  assert.equal(rcode(new Uint8Array(5)), "truncated DNS header");
  const resp = buildDnsQuery(1, "a", DNS_TYPE_A);
  resp[2] |= 0x80;
  assert.equal(rcode(resp), "DNS response sent to the server");
  const twoQuestions = buildDnsQuery(1, "a", DNS_TYPE_A);
  twoQuestions[5] = 2;
  assert.equal(rcode(twoQuestions), DNS_FORMERR);
  const status = buildDnsQuery(1, "a", DNS_TYPE_A);
  status[2] |= 2 << 3; // opcode STATUS
  assert.equal(rcode(status), DNS_NOTIMP);
  assert.equal(rcode(buildDnsQuery(1, "a", 15 /* MX */)), DNS_NOTIMP);
  assert.equal(rcode(buildDnsQuery(1, "a", DNS_TYPE_A).subarray(0, 16)), DNS_FORMERR);
  const weird = buildDnsQuery(1, "a.b", DNS_TYPE_A);
  weird[13] = 0x2e; // a '.' inside a label: "." + "b" would be looked up as another name
  assert.equal(rcode(weird), DNS_REFUSED);
  assert.equal(rcode(buildDnsQuery(1, "", DNS_TYPE_A)), DNS_REFUSED);
  // A label too long for the message, a name over 255 bytes, a reserved label type.
  const longLabel = Uint8Array.of(0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 97);
  assert.equal(rcode(longLabel), DNS_FORMERR);
  const label = [60, ...Buffer.from("x".repeat(60))];
  const header = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  const long = Uint8Array.from([...header, ...Array(5).fill(label).flat(), 0, 0, 1, 0, 1]);
  assert.equal(rcode(long), DNS_FORMERR);
  const reserved = buildDnsQuery(1, "a", DNS_TYPE_A);
  reserved[12] = 0x41;
  assert.equal(rcode(reserved), DNS_FORMERR);
});

test("compression pointers may only point backwards, so a chain of them cannot loop", () => {
  // Header, then a question whose name is "a" followed by a pointer to the pointer itself.
  const m = Uint8Array.of(0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 97, 0xc0, 14, 0, 1, 0, 1);
  const q = parseDnsQuery(m);
  assert.ok(typeof q !== "string");
  assert.equal(q.rcode, DNS_FORMERR);
  // A proper backward pointer: "b" then a pointer to "a" at offset 12 is never in a question,
  // but the parser follows it to "b.a" without reading past the message.
  const ok = Uint8Array.of(0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 1, 0, 1);
  const r = parseDnsQuery(ok);
  assert.ok(typeof r !== "string");
  assert.ok(r.rcode === DNS_FORMERR || r.rcode === DNS_REFUSED);
});

test("random bytes never make the parser or the server throw", () => {
  const rng = new Sfc32(7, 0, 0, 1, 12);
  const h = new Harness();
  for (let i = 0; i < 3000; i++) {
    const len = rng.int(80);
    const m = new Uint8Array(len);
    for (let j = 0; j < len; j++) m[j] = rng.int(256);
    if (len > 5 && rng.int(2) === 0) {
      m[2] &= 0x07; // a query with opcode QUERY
      m[4] = 0;
      m[5] = 1;
    }
    parseDnsQuery(m);
    h.send(h.udp(3000 + (i % 100), DNS_IP, 53, m));
  }
  for (const s of h.take()) readResponse(s.udp!.payload);
  for (const l of h.host.lookups) l.done({ kind: "servfail" });
  for (const s of h.take()) assert.equal(dnsReply(s).rcode, DNS_SERVFAIL);
});

test("A: the host's addresses come back as records, asynchronously, with the id, question and RD", () => {
  const h = new Harness();
  h.send(h.udp(4000, DNS_IP, 53, buildDnsQuery(0xbeef, "localhost", DNS_TYPE_A)));
  assert.equal(h.take().length, 0, "nothing until the host answers");
  assert.equal(h.net.hostActive, true, "a pending query holds deterministic idle time");
  const [l] = h.host.lookups;
  assert.deepEqual([l.name, l.type], ["localhost", "A"]);
  l.done({ kind: "ok", values: ["127.0.0.1", "192.0.2.9"] });
  assert.equal(h.net.hostActive, false);
  const [s] = h.take();
  assert.equal(s.udp!.dstPort, 4000);
  const r = dnsReply(s);
  assert.deepEqual([r.id, r.qr, r.rd, r.rcode, r.qd], [0xbeef, true, true, DNS_NOERROR, 1]);
  assert.deepEqual(
    r.answers.map((a) => [a.type, [...a.data].join(".")]),
    [
      [DNS_TYPE_A, "127.0.0.1"],
      [DNS_TYPE_A, "192.0.2.9"],
    ],
  );
  assert.ok(r.answers.every((a) => a.ttl === 60));
});

test("AAAA, PTR, no such name, no data, resolver failure", () => {
  const h = new Harness();
  const ask = (id: number, name: string, type: number, answer: HostDnsAnswer) => {
    h.send(h.udp(4000, DNS_IP, 53, buildDnsQuery(id, name, type)));
    h.host.lookups.at(-1)!.done(answer);
    return dnsReply(h.take()[0]);
  };
  const six = ask(1, "localhost", DNS_TYPE_AAAA, { kind: "ok", values: ["::1", "fe80::1%eth0"] });
  assert.deepEqual(six.answers[0].data, ip6Bytes("::1"));
  assert.equal(six.answers[1].data[0], 0xfe);
  const ptr = ask(2, "1.0.0.127.in-addr.arpa", DNS_TYPE_PTR, { kind: "ok", values: ["localhost"] });
  assert.deepEqual(h.host.lookups.at(-1)!.name, "127.0.0.1");
  assert.deepEqual([...ptr.answers[0].data], [9, ...Buffer.from("localhost"), 0]);
  assert.equal(ask(3, "nope.invalid", DNS_TYPE_A, { kind: "nxdomain" }).rcode, DNS_NXDOMAIN);
  const nodata = ask(4, "v4only", DNS_TYPE_AAAA, { kind: "nodata" });
  assert.deepEqual([nodata.rcode, nodata.answers.length], [DNS_NOERROR, 0]);
  assert.equal(ask(5, "slow", DNS_TYPE_A, { kind: "servfail" }).rcode, DNS_SERVFAIL);
  // A PTR name that is no IPv4 reverse name is answered at once.
  h.send(h.udp(4000, DNS_IP, 53, buildDnsQuery(6, "x.ip6.arpa", DNS_TYPE_PTR)));
  assert.equal(dnsReply(h.take()[0]).rcode, DNS_NXDOMAIN);
  assert.equal(ptrAddress("015.2.0.10.in-addr.arpa"), undefined);
  assert.equal(ptrAddress("15.2.0.10.in-addr.arpa"), "10.0.2.15");
});

test("answers past 512 bytes are cut at a record boundary with TC set", () => {
  const q = parseDnsQuery(buildDnsQuery(9, "many", DNS_TYPE_A));
  assert.ok(typeof q !== "string");
  const answers = Array.from({ length: 40 }, (_, i) => ({ type: DNS_TYPE_A, ttl: 1, addr: i }) as const);
  const m = buildDnsResponse(q, DNS_NOERROR, answers);
  assert.ok(m.length <= 512);
  const r = readResponse(m);
  assert.equal(r.tc, true);
  assert.equal(r.answers.length, Math.floor((512 - 12 - 10) / 16));
});

test("too many pending queries: SERVFAIL at once; restrict: REFUSED; closed: late answers are dropped", () => {
  const h = new Harness();
  for (let i = 0; i < 17; i++) h.send(h.udp(4000, DNS_IP, 53, buildDnsQuery(i, `n${i}`, DNS_TYPE_A)));
  assert.equal(h.host.lookups.length, 16);
  assert.equal(dnsReply(h.take()[0]).rcode, DNS_SERVFAIL);
  h.net.close();
  h.host.lookups[0].done({ kind: "ok", values: ["127.0.0.1"] });
  assert.equal(h.take().length, 0);
  const r = new Harness({ restrict: true });
  r.send(r.udp(4000, DNS_IP, 53, buildDnsQuery(1, "localhost", DNS_TYPE_A)));
  assert.equal(r.host.lookups.length, 0);
  assert.equal(dnsReply(r.take()[0]).rcode, DNS_REFUSED);
});

test("the Node host resolves localhost from /etc/hosts and says NXDOMAIN for an .invalid name", async () => {
  const host = new NodeHostNet();
  const ask = (name: string, type: "A" | "AAAA" | "PTR") =>
    new Promise<HostDnsAnswer>((resolve) => host.resolve(name, type, resolve));
  const a = await ask("localhost", "A");
  assert.equal(a.kind, "ok");
  assert.ok(a.kind === "ok" && a.values.includes("127.0.0.1"));
  const bad = await ask("no-such-host.invalid", "A");
  assert.ok(bad.kind === "nxdomain" || bad.kind === "servfail", bad.kind);
  const ptr = await ask("127.0.0.1", "PTR");
  assert.ok(ptr.kind === "ok" || ptr.kind === "nxdomain");
});

/**
 * The user-mode network with the default guest: DHCP, ping to the gateway,
 * guest → host TCP (wget) and UDP (nc -u) through 10.0.2.2, and a host
 * client → guest server through --forward. All host traffic stays on
 * 127.0.0.1. Deterministic mode, so guest output does not depend on timing
 * except where the host's sockets answer.
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { test } from "node:test";
import { findGuest } from "../../src/host/node/guest.ts";
import { GuestSession } from "../support/guest-session.ts";

const guest = findGuest();
const noGuest = guest === undefined && "the default guest is not built: run `npm run guest`";

/**
 * busybox udhcpc calls a script with the lease in its environment; the
 * default guest has none at /usr/share/udhcpc, so the test writes one.
 */
const DHCP_SCRIPT = [
  "#!/bin/sh",
  'case "$1" in',
  "  deconfig) ifconfig $interface 0.0.0.0 up;;",
  "  bound|renew) ifconfig $interface $ip netmask $subnet up; for r in $router; do route add default gw $r dev $interface; done;;",
  "esac",
].join("\\n");

async function dhcp(s: GuestSession): Promise<string> {
  await s.run(`printf '${DHCP_SCRIPT}\\n' > /tmp/dhcp.sh && chmod +x /tmp/dhcp.sh`);
  return s.run("udhcpc -i eth0 -s /tmp/dhcp.sh -q -n -t 5");
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

test("user network: DHCP lease, ping to the gateway, wget and UDP to host services on 127.0.0.1", {
  skip: noGuest,
}, async (t) => {
  const body = `hello from the host ${"x".repeat(3000)}\n`;
  const http = createHttpServer((req, res) => res.end(req.url === "/big" ? body.repeat(100) : body));
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const httpPort = (http.address() as { port: number }).port;
  const udp = createSocket("udp4");
  udp.on("message", (msg, from) => udp.send(msg.toString().toUpperCase(), from.port, from.address));
  await new Promise<void>((r) => udp.bind(0, "127.0.0.1", () => r()));
  const udpPort = udp.address().port;
  const s = new GuestSession(["--deterministic"]);
  try {
    await s.expect("guest# ");
    await t.test("udhcpc gets 10.0.2.15/24 with gateway 10.0.2.2", async () => {
      const out = await dhcp(s);
      assert.match(out, /lease of 10\.0\.2\.15 obtained from 10\.0\.2\.2/);
      assert.match(
        await s.run("ifconfig eth0"),
        /inet addr:10\.0\.2\.15\s+Bcast:10\.0\.2\.255\s+Mask:255\.255\.255\.0/,
      );
      assert.match(await s.run("route -n"), /^0\.0\.0\.0\s+10\.0\.2\.2\s+0\.0\.0\.0\s+UG/m);
      assert.match(await s.run("cat /sys/class/net/eth0/address"), /52:54:00:12:34:56/);
    });
    await t.test("ping -c 2 10.0.2.2 gets both replies", async () => {
      const out = await s.run("ping -c 2 10.0.2.2");
      assert.match(out, /2 packets transmitted, 2 packets received, 0% packet loss/);
    });
    await t.test("wget fetches a page from a host HTTP server through 10.0.2.2", async () => {
      const out = await s.run(`wget -q -O - http://10.0.2.2:${httpPort}/`);
      assert.equal(out.split("\n").slice(1).join("\n"), body);
      // A bigger body (300 KB) arrives whole: checked by size and checksum in the guest.
      const sum = await s.run(`wget -q -O - http://10.0.2.2:${httpPort}/big | wc -c`);
      assert.match(sum, new RegExp(`^\\s*${body.length * 100}$`, "m"));
    });
    await t.test("a UDP datagram to 10.0.2.2 reaches the host and the reply comes back", async () => {
      const out = await s.run(`echo ping-udp | nc -u -w 2 10.0.2.2 ${udpPort}`);
      assert.match(out, /PING-UDP/);
    });
    await t.test("a closed host port is refused, not hung", async () => {
      const closed = await freePort();
      const out = await s.run(`wget -q -O - http://10.0.2.2:${closed}/ ; echo rc=$?`);
      assert.match(out, /Connection refused/);
      assert.match(out, /rc=1/);
    });
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
    http.close();
    udp.close();
  }
});

test("--forward tcp:HOSTPORT:8080 reaches busybox httpd in the guest from a host HTTP client", {
  skip: noGuest,
}, async () => {
  const hostPort = await freePort();
  const s = new GuestSession(["--deterministic", "--forward", `tcp:${hostPort}:8080`]);
  try {
    await s.expect("guest# ");
    await dhcp(s);
    await s.run(
      "mkdir -p /www && echo '<h1>served by the guest</h1>' > /www/index.html && httpd -p 8080 -h /www",
    );
    const res = await fetch(`http://127.0.0.1:${hostPort}/`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "<h1>served by the guest</h1>\n");
    const missing = await fetch(`http://127.0.0.1:${hostPort}/nope`);
    assert.equal(missing.status, 404);
    await missing.text();
    // Nothing listens on the guest port any more: the host client sees the connection end.
    await s.run("killall httpd");
    await assert.rejects(fetch(`http://127.0.0.1:${hostPort}/`));
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
});

test("--net none leaves the guest without a network interface", { skip: noGuest }, async () => {
  const s = new GuestSession(["--deterministic", "--net", "none"]);
  try {
    await s.expect("guest# ");
    assert.match(await s.run("echo /sys/class/net/*"), /^\/sys\/class\/net\/lo$/m);
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
});

/**
 * The user-mode network's name server and NAT from a booted guest: a name
 * the host knows (`localhost`, from its /etc/hosts) resolves through
 * 10.0.2.3; a TCP service on a non-loopback address of this machine is
 * reached through NAT; with restrict=on neither that service nor the
 * host's loopback is. Servers listen on this machine only.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { networkInterfaces } from "node:os";
import { after, test } from "node:test";
import { findGuest } from "../../src/host/node/guest.ts";
import { GuestSession } from "../support/guest-session.ts";

const guest = findGuest();
const noGuest = guest === undefined && "the default guest is not built: run `npm run guest`";

/**
 * A non-loopback IPv4 address of this machine: one it has, or else (as root
 * with iproute2) the host end of a veth pair into a network namespace this
 * test creates and removes. Undefined when neither is possible.
 */
function localAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  if (process.getuid?.() !== 0) return undefined;
  const ns = `virtus-nat-${process.pid}`;
  const dev = `vn${process.pid % 100000}`;
  const addr = `10.231.${process.pid % 250}.1`;
  const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "ignore" });
  try {
    ip("netns", "add", ns);
    after(() => {
      try {
        ip("link", "del", dev);
      } catch {}
      try {
        ip("netns", "del", ns);
      } catch {}
    });
    ip("link", "add", dev, "type", "veth", "peer", "name", `${dev}p`, "netns", ns);
    ip("addr", "add", `${addr}/24`, "dev", dev);
    ip("link", "set", dev, "up");
    return addr;
  } catch {
    return undefined;
  }
}
const local = localAddress();

/** Brings eth0 up as the DHCP lease would (the test does not depend on the guest's boot scripts). */
async function configure(s: GuestSession): Promise<void> {
  await s.run(
    "ip link set lo up; ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up; route add default gw 10.0.2.2",
  );
}

/** An HTTP server on `addr` only (so the loopback cannot reach it). */
async function serve(addr: string, body: string) {
  const srv = createServer((_req, res) => res.end(body));
  await new Promise<void>((r) => srv.listen(0, addr, r));
  return { srv, port: (srv.address() as { port: number }).port };
}

test("DNS at 10.0.2.3 resolves localhost through the host's resolver; NAT reaches a non-loopback local address", {
  skip: noGuest || (local === undefined && "this machine has no non-loopback IPv4 address"),
}, async (t) => {
  const { srv, port } = await serve(local!, "through the NAT\n");
  const s = new GuestSession(["--deterministic"]);
  try {
    await s.expect("guest# ");
    await configure(s);
    await t.test("nslookup localhost 10.0.2.3 answers 127.0.0.1", async () => {
      const out = await s.run("nslookup -type=a localhost 10.0.2.3");
      assert.match(out, /Address:\s*127\.0\.0\.1/);
    });
    await t.test("a name the host does not know is NXDOMAIN", async () => {
      const out = await s.run("nslookup -type=a no-such-host.invalid 10.0.2.3; echo rc=$?");
      assert.match(out, /server can't find no-such-host\.invalid: NXDOMAIN/);
      assert.match(out, /rc=1/);
    });
    await t.test("with 10.0.2.3 in /etc/resolv.conf, ping -c 1 localhost resolves and answers", async () => {
      await s.run("echo 'nameserver 10.0.2.3' > /etc/resolv.conf");
      assert.match(
        await s.run("ping -c 1 localhost"),
        /PING localhost \(127\.0\.0\.1\)[\s\S]*1 packets received/,
      );
      assert.match(
        await s.run("nslookup 127.0.0.1 10.0.2.3"),
        /1\.0\.0\.127\.in-addr\.arpa\s+name = localhost/,
      );
    });
    await t.test(`wget from ${local}:PORT goes through the NAT`, async () => {
      const out = await s.run(`wget -q -O - http://${local}:${port}/`);
      assert.match(out, /through the NAT/);
    });
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
    srv.close();
  }
});

test("--net user,restrict=on keeps the guest off the host: no loopback, no local address, no DNS", {
  skip: noGuest || (local === undefined && "this machine has no non-loopback IPv4 address"),
}, async () => {
  const far = await serve(local!, "should not arrive\n");
  const loop = await serve("127.0.0.1", "should not arrive\n");
  const s = new GuestSession(["--deterministic", "--net", "user,restrict=on"]);
  try {
    await s.expect("guest# ");
    await configure(s);
    const a = await s.run(`wget -q -O - http://${local}:${far.port}/; echo rc=$?`);
    assert.doesNotMatch(a, /should not arrive/);
    assert.match(a, /rc=1/);
    const b = await s.run(`wget -q -O - http://10.0.2.2:${loop.port}/; echo rc=$?`);
    assert.doesNotMatch(b, /should not arrive/);
    assert.match(b, /rc=1/);
    assert.match(await s.run("nslookup -type=a localhost 10.0.2.3"), /server can't find localhost: REFUSED/);
    // The gateway still answers ping: the virtual LAN itself is there.
    assert.match(await s.run("ping -c 1 10.0.2.2"), /1 packets received/);
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
    far.srv.close();
    loop.srv.close();
  }
});

test("with no manual step, the default guest's DHCP lease points it at 10.0.2.3 and names resolve", {
  skip: noGuest,
}, async () => {
  const s = new GuestSession(["--deterministic"]);
  try {
    await s.expect("guest# ");
    // udhcpc runs in the background from /init: wait for its lease to write /etc/resolv.conf.
    assert.match(
      await s.run(
        "i=0; while [ ! -s /etc/resolv.conf ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; cat /etc/resolv.conf",
      ),
      /nameserver 10\.0\.2\.3/,
    );
    // busybox nslookup asks the name server from resolv.conf (not /etc/hosts): this is the proxy answering.
    assert.match(
      await s.run("nslookup -type=a localhost"),
      /Server:\s+10\.0\.2\.3[\s\S]*Address:?\s*127\.0\.0\.1/,
    );
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
});

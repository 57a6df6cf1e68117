/**
 * Three default guests on one virtual switch (`--net switch:NAME`): two on
 * the default VLAN ping each other and talk TCP through busybox nc; a
 * third on another VLAN, with an address in the same subnet, reaches
 * neither; killing it stalls nobody. One VM writes a capture that
 * `tcpdump -r` reads (when tcpdump is installed).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { findGuest } from "../../src/host/node/guest.ts";
import { GuestSession } from "../support/guest-session.ts";

const guest = findGuest();
const noGuest = guest === undefined && "the default guest is not built: run `npm run guest`";
const linux = process.platform === "linux" || "the switch needs Linux (abstract Unix sockets)";

function hasTcpdump(): boolean {
  try {
    execFileSync("tcpdump", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

test("VMs on a switch ping and talk TCP; another VLAN is cut off; a crashed VM stalls nobody", {
  skip: noGuest || (linux !== true && linux),
}, async (t) => {
  const sw = `boot${process.pid}`;
  const pcap = join(mkdtempSync(join(tmpdir(), "virtus-switch-")), "a.pcap");
  const a = new GuestSession(["--net", `switch:${sw},mac=52:54:00:00:00:0a`, "--pcap", pcap]);
  const b = new GuestSession(["--net", `switch:${sw},mac=52:54:00:00:00:0b`]);
  const c = new GuestSession(["--net", `switch:${sw},vlan=2,mac=52:54:00:00:00:0c`]);
  try {
    await Promise.all([a.expect("guest# "), b.expect("guest# "), c.expect("guest# ")]);
    // No DHCP server on a switch: stop the guest's udhcpc (its deconfig would flush the address) and set one.
    const up = (s: GuestSession, ip: string) =>
      s.run(`killall udhcpc 2>/dev/null; ip link set eth0 up; ip addr add ${ip}/24 dev eth0`);
    await up(a, "192.168.77.1");
    await up(b, "192.168.77.2");
    await up(c, "192.168.77.3");
    assert.match(await a.run("cat /sys/class/net/eth0/address"), /52:54:00:00:00:0a/);
    await t.test("a pings b", async () => {
      assert.match(await a.run("ping -c 3 192.168.77.2"), /3 packets transmitted, 3 packets received/);
    });
    await t.test("a sends b a line over TCP with nc", async () => {
      await b.run("nc -l -p 5000 > /tmp/got < /dev/null &");
      assert.match(await a.run("echo hello-over-the-switch | nc 192.168.77.2 5000; echo rc=$?"), /rc=0/);
      assert.match(await b.run("sleep 1; cat /tmp/got"), /hello-over-the-switch/);
    });
    await t.test("c on VLAN 2 reaches neither a nor b, and they do not reach c", async () => {
      assert.match(await c.run("ping -c 2 -W 1 192.168.77.1"), /2 packets transmitted, 0 packets received/);
      assert.match(await a.run("ping -c 2 -W 1 192.168.77.3"), /2 packets transmitted, 0 packets received/);
    });
    await t.test("killing c mid-ping leaves a and b talking", async () => {
      c.send("ping 192.168.77.1\n");
      c.kill();
      await c.exited;
      assert.match(await b.run("ping -c 2 192.168.77.1"), /2 packets transmitted, 2 packets received/);
    });
    a.send("poweroff -f\n");
    b.send("poweroff -f\n");
    assert.equal(await a.exited, 0);
    assert.equal(await b.exited, 0);
    await t.test(
      "tcpdump -r reads a's capture: ARP, ICMP echo and the TCP exchange",
      {
        skip: !hasTcpdump() && "tcpdump is not installed",
      },
      () => {
        const out = execFileSync("tcpdump", ["-r", pcap, "-n"], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
        });
        assert.match(out, /ARP, Request who-has 192\.168\.77\.2 tell 192\.168\.77\.1/);
        assert.match(out, /IP 192\.168\.77\.1 > 192\.168\.77\.2: ICMP echo request/);
        assert.match(out, /IP 192\.168\.77\.2 > 192\.168\.77\.1: ICMP echo reply/);
        assert.match(out, /192\.168\.77\.1\.\d+ > 192\.168\.77\.2\.5000: Flags \[S\]/);
        assert.doesNotMatch(out, /192\.168\.77\.3 > /, "nothing from VLAN 2 reached a");
      },
    );
  } finally {
    a.kill();
    b.kill();
    c.kill();
  }
});

/**
 * The default guest behaves like a VM on a network: lo and eth0 up, eth0 configured by DHCP at boot
 * (address, default route, /etc/resolv.conf) without anyone typing a command, and a hostname.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { findGuest } from "../../src/host/node/guest.ts";
import { GuestSession } from "../support/guest-session.ts";

const noGuest = findGuest() === undefined && "the default guest is not built: run `npm run guest`";

/** Waits in the guest (up to 10 s of guest time) until the DHCP script has written /etc/resolv.conf. */
const WAIT_FOR_LEASE =
  "i=0; while [ ! -e /etc/resolv.conf ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; cat /etc/resolv.conf";

test("at boot the guest brings up lo, gets eth0's address, route and name server by DHCP, and has a hostname", {
  skip: noGuest,
}, async () => {
  const s = new GuestSession(["--deterministic"]);
  try {
    await s.expect("GUEST-READY");
    await s.expect("guest# ");
    assert.match(await s.run(WAIT_FOR_LEASE), /^nameserver 10\.0\.2\.3$/m);
    assert.match(await s.run("ip -4 addr show dev eth0"), /inet 10\.0\.2\.15\/24 /);
    assert.match(await s.run("ip link show lo"), /<LOOPBACK,UP,LOWER_UP>/);
    assert.match(await s.run("ip route"), /^default via 10\.0\.2\.2 dev eth0/m);
    assert.match(await s.run("ping -c 1 10.0.2.2"), /1 packets received/);
    assert.match(await s.run("ping -c 1 127.0.0.1"), /1 packets received/);
    assert.match(await s.run("hostname"), /^hostname\nguest\n$/);
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
});

test("with --net none the guest boots as before, with lo up and no eth0", { skip: noGuest }, async () => {
  const s = new GuestSession(["--deterministic", "--net", "none"]);
  try {
    await s.expect("guest# ");
    assert.match(await s.run("ip link show lo"), /<LOOPBACK,UP,LOWER_UP>/);
    assert.equal(await s.run("echo /sys/class/net/*"), "echo /sys/class/net/*\n/sys/class/net/lo\n");
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
});

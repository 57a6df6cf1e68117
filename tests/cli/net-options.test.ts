import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { networkConfig, parseForward, parseNetOptions } from "../../src/cli/net.ts";
import { VirtusError } from "../../src/machine/errors.ts";
import { validateNetworkConfig } from "../../src/vm/network-config.ts";
import { assertBadInput } from "../support/cli.ts";

const _bin = join(import.meta.dirname, "../../bin/virtus.js");
const dir = mkdtempSync(join(tmpdir(), "virtus-net-options-"));
const kernel = join(dir, "k.bin");
writeFileSync(kernel, new Uint8Array(4096));

test("--forward parses PROTO:HOSTPORT:GUESTPORT", () => {
  assert.deepEqual(parseForward("tcp:8080:80"), { proto: "tcp", hostPort: 8080, guestPort: 80 });
  assert.deepEqual(parseForward("udp:5353:53"), { proto: "udp", hostPort: 5353, guestPort: 53 });
  for (const bad of [
    "tcp:80",
    "tcp:a:80",
    "tcp:0:80",
    "tcp:80:65536",
    "sctp:1:2",
    "tcp:1:2:3",
    "",
    "tcp:-1:2",
    "tcp:1e3:2",
  ])
    assert.throws(() => parseForward(bad), VirtusError, bad);
});

test("--net takes user[,restrict=on|off] or none; --forward needs the user network and distinct host ports", () => {
  assert.deepEqual(parseNetOptions("user", []), { net: { mode: "user", restrict: false }, forwards: [] });
  assert.deepEqual(parseNetOptions("user,restrict=on", []).net, { mode: "user", restrict: true });
  assert.deepEqual(parseNetOptions("user,restrict=no", []).net, { mode: "user", restrict: false });
  assert.equal(parseNetOptions("none", []).net.mode, "none");
  assert.throws(() => parseNetOptions("tap", []), /--net tap: give user/);
  assert.throws(() => parseNetOptions("user,restrict=maybe", []), /restrict= takes on or off, not "maybe"/);
  assert.throws(() => parseNetOptions("user,hostfwd=x", []), /unknown option "hostfwd"/);
  assert.throws(() => parseNetOptions("none,restrict=on", []), /--net none,restrict=on: give user/);
  assert.throws(() => parseNetOptions("none", ["tcp:1:2"]), /forwards need the user-mode network/);
  assert.throws(() => parseNetOptions("user", ["tcp:1:2", "tcp:1:3"]), /forwarded twice/);
  assert.equal(parseNetOptions("user", ["tcp:1:2", "udp:1:2"]).forwards.length, 2);
});

test("virtus run: bad --net and --forward are one-line errors with exit 2", () => {
  assertBadInput(
    ["run", "--kernel", kernel, "--net", "bridge"],
    /--net bridge: give user\[,restrict=on\] \(NAT through the host, the default\), switch:NAME\[,vlan=N\] or none/,
  );
  assertBadInput(
    ["run", "--kernel", kernel, "--forward", "tcp:8080"],
    /--forward tcp:8080: write PROTO:HOSTPORT:GUESTPORT/,
  );
  assertBadInput(["run", "--kernel", kernel, "--forward", "icmp:1:2"], /the protocol is tcp or udp/);
  assertBadInput(
    ["run", "--kernel", kernel, "--forward", "tcp:99999:80"],
    /host port "99999" is not a number from 1 to 65535/,
  );
  assertBadInput(
    ["run", "--kernel", kernel, "--net", "none", "--forward", "tcp:8080:80"],
    /forwards need the user-mode network/,
  );
});

test("virtus run: a forwarded port already in use is a one-line error with exit 2", async () => {
  for (const proto of ["tcp", "udp"] as const) {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as { port: number }).port;
    try {
      if (proto === "tcp") {
        assertBadInput(
          ["run", "--kernel", kernel, "--forward", `tcp:${port}:80`],
          new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`),
        );
      } else {
        const { createSocket } = await import("node:dgram");
        const u = createSocket("udp4");
        await new Promise<void>((r) => u.bind(port, "127.0.0.1", () => r()));
        try {
          assertBadInput(["run", "--kernel", kernel, "--forward", `udp:${port}:53`], /the port is in use/);
        } finally {
          u.close();
        }
      }
    } finally {
      busy.close();
    }
  }
});

test("--net user,restrict=on reaches the VmConfig; a config with restrict on another mode is refused", () => {
  assert.equal(networkConfig("user,restrict=on", []).restrict, true);
  assert.equal(networkConfig("user", []).restrict, undefined);
  const ok = validateNetworkConfig({ mode: "user", forwards: [], restrict: true }, "network");
  assert.equal(ok.restrict, true);
  assert.throws(
    () => validateNetworkConfig({ mode: "none", forwards: [], restrict: true }, "network"),
    /network\.restrict/,
  );
});

test("--net switch:NAME[,vlan=N][,mac=M] and --pcap reach the VmConfig; a switch VM gets a random 52:54:00 MAC", () => {
  const a = networkConfig("switch:lab", [], "cap.pcap");
  assert.equal(a.mode, "switch");
  assert.deepEqual(a.switch, { name: "lab", vlan: 1 });
  assert.equal(a.pcap, "cap.pcap");
  assert.match(a.mac, /^52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
  assert.notEqual(a.mac, "52:54:00:12:34:56");
  const b = networkConfig("switch:lab,vlan=42,mac=52:54:00:AB:cd:01", []);
  assert.deepEqual([b.switch, b.mac], [{ name: "lab", vlan: 42 }, "52:54:00:ab:cd:01"]);
  assert.equal(networkConfig("user,mac=52:54:00:00:00:01", []).mac, "52:54:00:00:00:01");
  assert.equal(networkConfig("user", []).mac, "52:54:00:12:34:56");
  // Token-bucket limits are the NIC's, so a switch port takes them too.
  assert.notEqual(networkConfig("switch:lab,bw=10M", []).limits, undefined);
  for (const [bad, why] of [
    ["switch:", /switch name is 1 to 64/],
    ["switch:a/b", /switch name/],
    ["switch:lab,vlan=0", /give a VLAN from 1 to 4094/],
    ["switch:lab,vlan=4095", /give a VLAN from 1 to 4094/],
    ["switch:lab,restrict=on", /unknown option "restrict"/],
    ["user,vlan=2", /unknown option "vlan"/],
    ["switch:lab,mac=01:00:5e:00:00:01", /not a unicast MAC/],
  ] as const)
    assert.throws(() => networkConfig(bad, []), why, bad);
  assert.throws(() => networkConfig("switch:lab", ["tcp:1:2"]), /forwards need the user-mode network/);
  assert.throws(() => networkConfig("none", [], "x.pcap"), /--pcap x\.pcap: there is no NIC/);
  // The config a daemon would send is checked the same way.
  const v = validateNetworkConfig(
    { mode: "switch", forwards: [], mac: "52:54:00:00:00:02", switch: { name: "lab", vlan: 3 }, pcap: "x" },
    "network",
  );
  assert.deepEqual(v.switch, { name: "lab", vlan: 3 });
  assert.throws(
    () => validateNetworkConfig({ mode: "switch", forwards: [], switch: { name: "" } }, "network"),
    /network\.switch\.name/,
  );
  assert.throws(
    () =>
      validateNetworkConfig({ mode: "switch", forwards: [], switch: { name: "x", vlan: 5000 } }, "network"),
    /network\.switch\.vlan/,
  );
  assert.throws(
    () => validateNetworkConfig({ mode: "user", forwards: [], switch: { name: "x" } }, "network"),
    /only mode switch/,
  );
});

test("virtus run: bad --net switch options are one-line errors with exit 2", () => {
  assertBadInput(
    ["run", "--kernel", kernel, "--net", "switch:lab,vlan=9999"],
    /--net switch:lab,vlan=9999: vlan=9999: give a VLAN from 1 to 4094/,
  );
  assertBadInput(
    ["run", "--kernel", kernel, "--net", "none", "--pcap", "x.pcap"],
    /there is no NIC with --net none/,
  );
});

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseForward, parseNetOptions } from "../../src/cli/net.ts";
import { VirtusError } from "../../src/machine/errors.ts";

const bin = join(import.meta.dirname, "../../bin/virtus.js");
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

test("--net takes user or none; --forward needs a network and distinct host ports", () => {
  assert.deepEqual(parseNetOptions("user", []), { mode: "user", forwards: [] });
  assert.equal(parseNetOptions("none", []).mode, "none");
  assert.throws(() => parseNetOptions("tap", []), /--net tap: give user/);
  assert.throws(() => parseNetOptions("none", ["tcp:1:2"]), /no network with --net none/);
  assert.throws(() => parseNetOptions("user", ["tcp:1:2", "tcp:1:3"]), /forwarded twice/);
  assert.equal(parseNetOptions("user", ["tcp:1:2", "udp:1:2"]).forwards.length, 2);
});

function virtusRun(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, "run", "--kernel", kernel, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    input: "",
  });
  return { code: r.status, err: r.stderr };
}

function assertBadInput(args: string[], message: RegExp) {
  const r = virtusRun(...args);
  assert.equal(r.code, 2, `${args.join(" ")} → ${r.code}: ${r.err}`);
  assert.match(r.err, message);
  assert.equal(r.err.trim().split("\n").length, 1, r.err);
  assert.doesNotMatch(r.err, /\bat .*\.ts:\d+|Error:/);
}

test("virtus run: bad --net and --forward are one-line errors with exit 2", () => {
  assertBadInput(["--net", "bridge"], /--net bridge: give user \(NAT to the host, the default\) or none/);
  assertBadInput(["--forward", "tcp:8080"], /--forward tcp:8080: write PROTO:HOSTPORT:GUESTPORT/);
  assertBadInput(["--forward", "icmp:1:2"], /the protocol is tcp or udp/);
  assertBadInput(["--forward", "tcp:99999:80"], /host port "99999" is not a number from 1 to 65535/);
  assertBadInput(["--net", "none", "--forward", "tcp:8080:80"], /no network with --net none/);
});

test("virtus run: a forwarded port already in use is a one-line error with exit 2", async () => {
  for (const proto of ["tcp", "udp"] as const) {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as { port: number }).port;
    try {
      if (proto === "tcp") {
        assertBadInput(
          ["--forward", `tcp:${port}:80`],
          new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`),
        );
      } else {
        const { createSocket } = await import("node:dgram");
        const u = createSocket("udp4");
        await new Promise<void>((r) => u.bind(port, "127.0.0.1", () => r()));
        try {
          assertBadInput(["--forward", `udp:${port}:53`], /the port is in use/);
        } finally {
          u.close();
        }
      }
    } finally {
      busy.close();
    }
  }
});

/**
 * Issue 10's "done when": a booted default guest is paused, saved,
 * restored and cloned, from the CLI and over the control socket.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { sendControlCommand } from "../../src/cli/ctl.ts";
import { findGuest } from "../../src/host/node/guest.ts";
import type { VmCommand } from "../../src/vm/commands.ts";
import { DEFAULT_MAC } from "../../src/vm/network-config.ts";
import { GuestSession } from "../support/guest-session.ts";

const noGuest = findGuest() === undefined && "the default guest is not built: run `npm run guest`";
const dir = mkdtempSync(join(tmpdir(), "virtus-snapshot-boot-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function ret(sock: string, command: VmCommand): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await sendControlCommand(sock, command);
      assert.ok("return" in r, JSON.stringify(r));
      return r.return as Record<string, unknown>;
    } catch (e) {
      if (Date.now() > deadline || !/no VM is listening/.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

test("a booted default guest is paused, saved, restored in place and from the CLI, and cloned beside it", {
  skip: noGuest,
}, async () => {
  const snap = join(dir, "guest.snap");
  const sockA = join(dir, "a.sock");
  const sockC = join(dir, "c.sock");
  const a = new GuestSession(["--control", sockA]);
  const sessions = [a];
  try {
    await a.expect("guest# ");
    // A guest running flat out: the console and the control socket still answer.
    await a.run("(while :; do :; done) & echo $! > /tmp/spin");
    assert.match(await a.run("echo alive"), /^alive$/m);
    assert.equal((await ret(sockA, { execute: "status" })).state, "running");
    await a.run("kill $(cat /tmp/spin)");
    await a.run("echo one > /tmp/mark");
    assert.deepEqual(await ret(sockA, { execute: "pause" }), {});
    const saved = await ret(sockA, { execute: "snapshot", arguments: { file: snap } });
    assert.ok((saved.bytes as number) > 0 && (saved.bytes as number) < 64 << 20, JSON.stringify(saved));
    assert.deepEqual(await ret(sockA, { execute: "resume" }), {});
    await a.run("echo two > /tmp/mark");
    assert.match(await a.run("cat /tmp/mark"), /^two$/m);

    // In place, over the socket: the guest is back where it was saved.
    assert.equal((await ret(sockA, { execute: "restore", arguments: { file: snap } })).state, "running");
    assert.match(await a.run("cat /tmp/mark"), /^one$/m);

    // From the CLI, beside the original: the same VM, same MAC, console attached.
    const b = new GuestSession(["--restore", snap]);
    sessions.push(b);
    assert.match(await b.run("cat /tmp/mark"), /^one$/m);
    assert.match(await b.run("cat /sys/class/net/eth0/address"), new RegExp(DEFAULT_MAC));

    // A clone: its own MAC on the wire (the guest's interface keeps the one it booted with), and its network works.
    const c = new GuestSession(["--restore", snap, "--clone", "--control", sockC]);
    sessions.push(c);
    assert.match(await c.run("cat /tmp/mark"), /^one$/m);
    const mac = (await ret(sockC, { execute: "status" })).mac as string;
    assert.match(mac, /^52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
    assert.notEqual(mac, DEFAULT_MAC);
    assert.match(await c.run("ping -c 1 10.0.2.2"), /1 packets received/);
    assert.match(await b.run("ping -c 1 10.0.2.2"), /1 packets received/);

    for (const s of [a, b, c]) s.send("poweroff -f\n");
    for (const s of [a, b, c]) assert.equal(await s.exited, 0);
  } finally {
    for (const s of sessions) s.kill();
  }
});

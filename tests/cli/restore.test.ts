/**
 * Control socket, snapshot, restore and clone from the CLI, on a small
 * bare-metal guest (ECHO_SPIN: echoes what is typed on the UART while it
 * spins), so they run in seconds; tests/boot/snapshot.test.ts does the
 * same with Linux.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { crc32 } from "node:zlib";
import { sendControlCommand } from "../../src/cli/ctl.ts";
import type { VmCommand } from "../../src/vm/commands.ts";
import { assertBadInput } from "../support/cli.ts";
import { buildElf, haveCrossGcc } from "../support/cross.ts";
import { GuestSession } from "../support/guest-session.ts";
import { ECHO_SPIN } from "../support/vm-programs.ts";

const skip = !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed";
const bin = join(import.meta.dirname, "../../bin/virtus.js");
const dir = mkdtempSync(join(tmpdir(), "virtus-restore-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const MACHINE = ["--bios", "none", "--mem", "16M", "--net", "none", "--no-rng", "--no-virtio-console"];

function kernel(): string {
  const k = join(dir, "echo.elf");
  if (!existsSync(k)) writeFileSync(k, buildElf(ECHO_SPIN));
  return k;
}

async function ctl(sock: string, command: VmCommand): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await sendControlCommand(sock, command);
    } catch (e) {
      // The socket appears once the VM is being built.
      if (Date.now() > deadline || !/no VM is listening/.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const ret = async (sock: string, command: VmCommand) => {
  const r = await ctl(sock, command);
  assert.ok("return" in r, JSON.stringify(r));
  return r.return as Record<string, unknown>;
};

/** Boots ECHO_SPIN with a disk and a control socket, types "abc", saves a snapshot; returns its path. */
async function snapshotOfEcho(name: string): Promise<{ snap: string; disk: string }> {
  const disk = join(dir, `${name}.img`);
  writeFileSync(disk, new Uint8Array(64 * 1024));
  const sock = join(dir, `${name}.sock`);
  const s = new GuestSession(["--kernel", kernel(), ...MACHINE, "--disk", disk, "--control", sock]);
  try {
    await s.expect("ready\n");
    s.send("abc");
    await s.expect("abc");
    assert.deepEqual(await ret(sock, { execute: "pause" }), {});
    const snap = join(dir, `${name}.snap`);
    const saved = await ret(sock, { execute: "snapshot", arguments: { file: snap } });
    assert.equal(saved.file, snap);
    assert.ok((saved.bytes as number) > 0);
    assert.deepEqual(await ret(sock, { execute: "quit" }), {});
    assert.equal(await s.exited, 0);
    return { snap, disk };
  } finally {
    s.kill();
  }
}

test("control socket: greeting, status, pause, resume, unknown commands, bad JSON, events; ctl prints and exits", {
  skip,
}, async () => {
  const sock = join(dir, "ctl.sock");
  const s = new GuestSession(["--kernel", kernel(), ...MACHINE, "--control", sock]);
  try {
    await s.expect("ready\n");
    const st = await ret(sock, { execute: "status" });
    assert.equal(st.state, "running");
    assert.equal(st.mac, null);
    // The raw protocol: greeting first, replies carry the id, events arrive on every connection.
    const { connect } = await import("node:net");
    const c = connect(sock);
    const lines: Record<string, unknown>[] = [];
    let buf = "";
    c.setEncoding("utf8");
    c.on("data", (d: string) => {
      buf += d;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        lines.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    });
    const waitFor = async (pred: (m: Record<string, unknown>) => boolean) => {
      const end = Date.now() + 30_000;
      for (;;) {
        const m = lines.find(pred);
        if (m) return m;
        if (Date.now() > end) throw new Error(`no such message in ${JSON.stringify(lines)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const greeting = await waitFor(() => true);
    assert.deepEqual(Object.keys(greeting), ["QMP"]);
    c.write('{"execute":"qmp_capabilities","id":"q"}\n{"execute":"pause","id":7}\nnot json\n');
    c.write('{"execute":"reboot","id":8}\n{"execute":"snapshot","id":9}\n');
    assert.deepEqual(await waitFor((m) => m.id === "q"), { return: {}, id: "q" });
    assert.deepEqual(await waitFor((m) => m.id === 7), { return: {}, id: 7 });
    const ev = await waitFor((m) => m.event === "STATE");
    assert.deepEqual(ev.data, { state: "paused", reason: "pause" });
    assert.ok(typeof (ev.timestamp as { seconds: number }).seconds === "number");
    assert.match(
      JSON.stringify(await waitFor((m) => /JSON parse error/.test(JSON.stringify(m)))),
      /GenericError/,
    );
    assert.equal(((await waitFor((m) => m.id === 8)).error as { class: string }).class, "CommandNotFound");
    assert.equal(((await waitFor((m) => m.id === 9)).error as { class: string }).class, "InvalidArguments");
    c.end();
    // The CLI client: JSON on stdout, exit 0; an error answer: one line, exit 1; no VM: exit 2.
    const st2 = spawnSync(process.execPath, [bin, "ctl", sock, "status"], { encoding: "utf8" });
    assert.equal(st2.status, 0, st2.stderr);
    assert.equal(JSON.parse(st2.stdout).state, "paused");
    const again = spawnSync(process.execPath, [bin, "ctl", sock, "pause"], { encoding: "utf8" });
    assert.equal(again.status, 1);
    assert.equal(again.stderr, "virtus: pause: the VM is paused\n");
    assert.equal(spawnSync(process.execPath, [bin, "ctl", sock, "resume"]).status, 0);
    s.send("z");
    await s.expect("z");
    assertBadInput(["ctl", join(dir, "nobody.sock"), "status"], /nobody\.sock: no VM is listening there/);
    assertBadInput(["ctl", sock, "reboot"], /ctl reboot: unknown command/);
    assertBadInput(["ctl", sock, "snapshot"], /ctl snapshot: give one FILE/);
    const quit = spawnSync(process.execPath, [bin, "ctl", sock, "quit"], { encoding: "utf8" });
    assert.equal(quit.status, 0, quit.stderr);
    assert.equal(await s.exited, 0);
    assert.equal(existsSync(sock), false, "the socket file is removed when the VM ends");
  } finally {
    s.kill();
  }
});

test("--restore continues the VM where it was saved, with the console attached", { skip }, async () => {
  const { snap } = await snapshotOfEcho("cont");
  const s = new GuestSession(["--restore", snap]);
  try {
    s.send("xyz");
    // The guest goes on from the snapshot: no second banner, the echo loop answers at once.
    await s.expect("xyz");
    assert.doesNotMatch(s.output, /ready/);
    s.send("\x01x");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
});

test("restore over the control socket; a snapshot of another configuration is refused and the VM runs on", {
  skip,
}, async () => {
  const { snap, disk } = await snapshotOfEcho("sock");
  const sock = join(dir, "r.sock");
  const s = new GuestSession(["--kernel", kernel(), ...MACHINE, "--disk", disk, "--control", sock]);
  const other = join(dir, "other.sock");
  const o = new GuestSession(["--kernel", kernel(), ...MACHINE, "--mem", "32M", "--control", other]);
  try {
    await s.expect("ready\n");
    const st = await ret(sock, { execute: "restore", arguments: { file: snap } });
    assert.equal(st.state, "running");
    s.send("q");
    await s.expect("q");
    await o.expect("ready\n");
    const r = await ctl(other, { execute: "restore", arguments: { file: snap } });
    assert.match(JSON.stringify(r), /another configuration \(memory 16 MiB, not 32 MiB\)/);
    assert.equal((await ret(other, { execute: "status" })).state, "running");
    o.send("w");
    await o.expect("w");
  } finally {
    s.kill();
    o.kill();
  }
});

test("bad snapshots and flags: one line, exit 2, nothing runs", { skip }, async () => {
  const { snap, disk } = await snapshotOfEcho("bad");
  const bytes = readFileSync(snap);
  const file = (name: string, data: Uint8Array) => {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
  };
  assertBadInput(
    ["run", "--restore", file("trunc.snap", bytes.subarray(0, bytes.length - 100))],
    /trunc\.snap: .*/,
  );
  const flipped = Buffer.from(bytes);
  flipped[bytes.length - 10] ^= 0x40;
  assertBadInput(["run", "--restore", file("flip.snap", flipped)], /flip\.snap: .*/);
  // Another format version, with a header checksum that matches it.
  const v2 = Buffer.from(bytes);
  v2.writeUInt32LE(2, 8);
  v2.writeUInt32LE(crc32(v2.subarray(0, 60)), 60);
  assertBadInput(["run", "--restore", file("v2.snap", v2)], /v2\.snap: .*version/);
  assertBadInput(["run", "--restore", join(dir, "none.snap")], /none\.snap: no such file/);
  assertBadInput(["run", "--restore", snap, "--mem", "32M"], /--mem does not go with --restore/);
  assertBadInput(
    ["run", "--restore", snap, "--forward", "tcp:1234:80"],
    /--forward goes with --restore only for a clone/,
  );
  assertBadInput(["run", "--clone"], /--clone goes with --restore FILE/);
  copyFileSync(disk, `${disk}.keep`);
  rmSync(disk);
  assertBadInput(["run", "--restore", snap], /the disk is missing/);
  writeFileSync(disk, new Uint8Array(128 * 1024));
  assertBadInput(["run", "--restore", snap], /the disk is 131072 bytes; the snapshot was taken with 65536/);
});

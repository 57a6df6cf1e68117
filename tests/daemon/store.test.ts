import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Store } from "../../src/daemon/store.ts";
import { echoSpinElf, http, skipNoGcc, spinDefinition, until } from "./support.ts";

const BIN = join(import.meta.dirname, "../../bin/virtus.js");

test("the store's migrations run once: a reopened store keeps its rows and its schema version", () => {
  const dir = mkdtempSync(join(tmpdir(), "virtus-store-"));
  try {
    const file = join(dir, "v.db");
    const s = new Store(file);
    const v = s.version;
    assert.ok(v >= 1);
    const t = s.addTenant("t", { maxVms: 1, maxVcpus: 1, maxMemory: 1, maxDisk: 1 });
    s.addVm(t.id, "x", "{}");
    s.close();
    const again = new Store(file);
    assert.equal(again.version, v);
    assert.equal(again.vms(t.id).length, 1);
    assert.throws(() => again.addVm(t.id, "x", "{}"), /UNIQUE/);
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function daemon(dir: string): ChildProcess {
  return spawn(process.execPath, [BIN, "daemon", "--data", dir], { stdio: ["ignore", "ignore", "pipe"] });
}

test("kill -9 of the daemon while it defines VMs loses no acknowledged definition; a VM that was running is stopped after the restart, not started again", {
  skip: skipNoGcc,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "virtus-kill-"));
  const socket = join(dir, "virtus.sock");
  let child = daemon(dir);
  try {
    await until(
      () => existsSync(socket) && existsSync(join(dir, "admin.token")),
      "the daemon's socket",
      20_000,
    );
    const token = readFileSync(join(dir, "admin.token"), "utf8").trim();
    assert.equal(
      (await http(socket, token, "PUT", "/v1/images/spin", echoSpinElf(), "application/octet-stream")).status,
      201,
    );
    assert.equal((await http(socket, token, "POST", "/v1/vms", spinDefinition("runner"))).status, 201);
    assert.equal((await http(socket, token, "POST", "/v1/vms/runner/start")).status, 200);
    const acknowledged: string[] = [];
    let n = 0;
    const writer = async () => {
      for (;;) {
        const name = `vm${n++}`;
        const r = await http(socket, token, "POST", "/v1/vms", { name, memory: "1M" }).catch(() => undefined);
        if (r === undefined) return;
        if (r.status === 201) acknowledged.push(name);
      }
    };
    const writers = [writer(), writer(), writer(), writer()];
    await until(() => acknowledged.length >= 40, "definitions to be acknowledged", 20_000);
    child.kill("SIGKILL");
    await Promise.all(writers);
    await new Promise((r) => child.once("exit", r));

    child = daemon(dir);
    await until(
      async () => {
        const r = await http(socket, token, "GET", "/v1/vms").catch(() => undefined);
        return r?.status === 200;
      },
      "the restarted daemon",
      20_000,
    );
    const list = (await http(socket, token, "GET", "/v1/vms")).body as {
      name: string;
      state: string;
      reason: string;
    }[];
    const names = new Set(list.map((v) => v.name));
    for (const name of acknowledged) assert.ok(names.has(name), `${name} was acknowledged and is lost`);
    const runner = list.find((v) => v.name === "runner")!;
    assert.equal(runner.state, "stopped");
    assert.equal(runner.reason, "the daemon restarted");
    const info = (await http(socket, token, "GET", "/v1/vms/runner")).body as { instructions: number | null };
    assert.equal(info.instructions, null, "no worker runs it");
    assert.equal(
      (await http(socket, token, "POST", "/v1/vms/runner/start")).status,
      200,
      "it starts again when asked",
    );
  } finally {
    child.kill("SIGKILL");
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a second daemon on the same data directory is refused while the first runs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "virtus-two-"));
  const first = daemon(dir);
  try {
    await until(() => existsSync(join(dir, "virtus.sock")), "the first daemon", 20_000);
    const second = spawn(process.execPath, [BIN, "daemon", "--data", dir], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    second.stderr!.on("data", (b: Buffer) => (err += b));
    const code = await new Promise((r) => second.once("exit", r));
    assert.equal(code, 1);
    assert.match(err, /another virtus daemon \(pid \d+\) uses/);
  } finally {
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
});

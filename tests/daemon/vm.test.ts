import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { ROUTES } from "../../src/daemon/api.ts";
import {
  echoSpinElf,
  http,
  skipNoGcc,
  spinDefinition,
  type TestDaemon,
  testDaemon,
  until,
} from "./support.ts";

let d: TestDaemon;
let alice: string;
let bob: string;

async function tenant(name: string): Promise<string> {
  const r = await http(d.socket, d.adminToken, "POST", "/v1/tenants", { name });
  assert.equal(r.status, 201, r.text);
  const token = (r.body as { token: string }).token;
  const img = await http(
    d.socket,
    token,
    "PUT",
    "/v1/images/spin",
    echoSpinElf(),
    "application/octet-stream",
  );
  assert.equal(img.status, 201, img.text);
  return token;
}

before(async () => {
  d = await testDaemon();
  if (skipNoGcc) return;
  alice = await tenant("alice");
  bob = await tenant("bob");
});
after(() => d.dispose());

/** A console WebSocket and everything it received. */
function consoleOf(token: string, name: string) {
  const ws = new WebSocket(`ws+unix:${d.socket}:/v1/vms/${name}/console`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const got = { text: "", closed: undefined as number | undefined, reason: "" };
  ws.on("message", (b: Buffer) => (got.text += b.toString("latin1")));
  ws.on("close", (code: number, reason: Buffer) => {
    got.closed = code;
    got.reason = reason.toString();
  });
  const open = new Promise<void>((r, j) => {
    ws.on("open", () => r());
    ws.on("error", j);
  });
  return { ws, got, open };
}

const state = async (token: string, name: string) =>
  (await http(d.socket, token, "GET", `/v1/vms/${name}`)).body as {
    state: string;
    reason: string;
    instructions: number | null;
  };

test("a VM's life through the API: define, start, console, pause, resume, snapshot, destroy, restore, clone, delete", {
  skip: skipNoGcc,
}, async () => {
  const post = (path: string, body?: unknown) => http(d.socket, alice, "POST", path, body);
  assert.equal((await post("/v1/vms", spinDefinition("a"))).status, 201);
  const started = await post("/v1/vms/a/start");
  assert.equal(started.status, 200, started.text);
  assert.equal((started.body as { state: string }).state, "running");
  const again = await post("/v1/vms/a/start");
  assert.equal(again.status, 409, "a running VM is never started twice");
  assert.equal(d.manager.running().length, 1);

  const c = consoleOf(alice, "a");
  await c.open;
  await until(() => c.got.text.includes("ready\n"), "the banner (from the console backlog)");
  c.ws.send(Buffer.from("ping"));
  await until(() => c.got.text.includes("ready\nping"), "the echo of console input");

  assert.equal((await post("/v1/vms/a/pause")).status, 200);
  const p1 = await state(alice, "a");
  await new Promise((r) => setTimeout(r, 100));
  const p2 = await state(alice, "a");
  assert.equal(p1.state, "paused");
  assert.equal(p2.instructions, p1.instructions, "a paused VM retires nothing");
  assert.equal((await post("/v1/vms/a/pause")).status, 409);
  assert.equal((await post("/v1/vms/a/resume")).status, 200);
  assert.equal((await state(alice, "a")).state, "running");

  const inUse = await http(d.socket, alice, "DELETE", "/v1/images/spin");
  assert.equal(inUse.status, 409, "an image a definition names is kept");
  assert.match((inUse.body as { error: { message: string } }).error.message, /named by VM a/);

  const before = (await state(alice, "a")).instructions!;
  const rebooted = await post("/v1/vms/a/reboot");
  assert.equal(rebooted.status, 200);
  assert.equal((rebooted.body as { state: string }).state, "running");
  const after = (await state(alice, "a")).instructions!;
  assert.ok(after < before, `a reboot starts from the first instruction again (${after} < ${before})`);
  const c1 = consoleOf(alice, "a");
  await c1.open;
  await until(() => c1.got.text.startsWith("ready\n"), "the banner of the rebooted guest");
  c1.ws.send(Buffer.from("ping"));
  await until(() => c1.got.text.includes("ready\nping"), "the echo after the reboot");
  c1.ws.close();

  const snap = await post("/v1/vms/a/snapshots", { name: "s1" });
  assert.equal(snap.status, 201, snap.text);
  assert.ok((snap.body as { size: number }).size > 0);
  assert.equal((await post("/v1/vms/a/snapshots", { name: "s1" })).status, 409);

  const metrics = await http(d.socket, alice, "GET", "/metrics");
  assert.match(metrics.text, /virtus_vm_instructions_total\{tenant="alice",vm="a"\} [1-9]\d*/);
  assert.match(metrics.text, /virtus_vm_memory_bytes\{tenant="alice",vm="a"\} 16777216/);

  assert.equal((await post("/v1/vms/a/destroy")).status, 200);
  await until(() => c.got.closed !== undefined, "the console to close when the VM stops");
  const stopped = await state(alice, "a");
  assert.equal(stopped.state, "stopped");
  assert.equal(stopped.reason, "destroyed");
  assert.equal((await post("/v1/vms/a/destroy")).status, 409);

  assert.equal((await post("/v1/vms/a/snapshots/s1/restore")).status, 200);
  assert.equal((await state(alice, "a")).state, "running");
  const clone = await post("/v1/vms/a/clone", { name: "a2", snapshot: "s1" });
  assert.equal(clone.status, 201, clone.text);
  const c2 = consoleOf(alice, "a2");
  await c2.open;
  c2.ws.send(Buffer.from("!"));
  await until(() => c2.got.text.includes("!"), "the clone, running on from the snapshot, to echo");
  c2.ws.close();

  assert.equal(
    (await http(d.socket, alice, "DELETE", "/v1/vms/a")).status,
    409,
    "a running VM is not deleted",
  );
  const shut = await http(d.socket, alice, "POST", "/v1/vms/a2/shutdown?timeout_ms=200");
  assert.equal(shut.status, 200);
  assert.equal((await state(alice, "a2")).reason, "destroyed after the shutdown timeout");
  assert.equal((await post("/v1/vms/a/destroy")).status, 200);
  const file = d.manager.snapshotFile(d.store.vm(d.store.tenantByName("alice")!.id, "a")!.id, "s1");
  assert.ok(existsSync(file));
  assert.equal((await http(d.socket, alice, "DELETE", "/v1/vms/a")).status, 200);
  assert.ok(!existsSync(file), "deleting a VM removes its snapshots");
  assert.equal((await http(d.socket, alice, "DELETE", "/v1/vms/a2")).status, 200);
  assert.equal(d.manager.running().length, 0);
});

test("another tenant gets 404 or 403 on every route that names a VM, image or snapshot, and never its data", {
  skip: skipNoGcc,
}, async () => {
  assert.equal((await http(d.socket, alice, "POST", "/v1/vms", spinDefinition("secret-vm"))).status, 201);
  assert.equal((await http(d.socket, alice, "POST", "/v1/vms/secret-vm/start")).status, 200);
  assert.equal(
    (await http(d.socket, alice, "POST", "/v1/vms/secret-vm/snapshots", { name: "secret-snap" })).status,
    201,
  );
  const secret = { name: "secret-vm", snapshot: "secret-snap" };
  const unknown = { name: "no-such-vm", snapshot: "no-such-snap" };
  const ask = (r: (typeof ROUTES)[number], names: Record<string, string>) => {
    const path = r.url.replace(/:([a-z]+)/g, (_, p: string) => names[p]);
    const fields: Record<string, unknown> = { name: "bobs", snapshot: names.snapshot, quota: {} };
    const props = Object.keys((r.body as { properties?: object } | undefined)?.properties ?? {});
    const body =
      r.body === undefined
        ? undefined
        : Object.fromEntries(props.filter((k) => k in fields).map((k) => [k, fields[k]]));
    return http(d.socket, bob, r.method, path, body);
  };
  let tried = 0;
  for (const r of ROUTES) {
    // The console is tried below; an upload under any name creates Bob's own image.
    if (r.websocket || r.consumes?.includes("application/octet-stream")) continue;
    const a = await ask(r, secret);
    tried++;
    if (r.params === undefined) {
      assert.ok(!/secret-(vm|snap)/.test(a.text), `${r.method} ${r.url} leaked: ${a.text.slice(0, 200)}`);
      continue;
    }
    assert.ok(a.status === 404 || a.status === 403, `${r.method} ${r.url}: ${a.status} ${a.text}`);
    // Alice's names answer exactly as names that exist nowhere.
    const b = await ask(r, unknown);
    const same = a.text.replaceAll("secret-vm", "no-such-vm").replaceAll("secret-snap", "no-such-snap");
    assert.equal(same, b.text, `${r.method} ${r.url}`);
    assert.equal(a.status, b.status);
  }
  assert.ok(tried >= 18);
  // Bob's image routes on Alice's image name only ever see Bob's own namespace.
  assert.equal((await http(d.socket, bob, "DELETE", "/v1/images/spin-of-alice")).status, 404);
  const ws = consoleOf(bob, "secret-vm");
  await ws.open;
  await until(() => ws.got.closed !== undefined, "the console to refuse");
  assert.equal(ws.got.closed, 4004);
  assert.equal(ws.got.text, "", "no console byte of another tenant's VM");
  const still = await state(alice, "secret-vm");
  assert.equal(still.state, "running", "nothing bob did touched alice's VM");
  assert.equal((await http(d.socket, alice, "POST", "/v1/vms/secret-vm/destroy")).status, 200);
});

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
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
before(async () => {
  d = await testDaemon();
});
after(() => d.dispose());

const PER_TENANT = 10;

test("20 VMs of two tenants start, answer and stop concurrently through the API: no request lost, no VM leaked", {
  skip: skipNoGcc,
}, async () => {
  const tokens: string[] = [];
  for (const name of ["red", "blue"]) {
    const t = await http(d.socket, d.adminToken, "POST", "/v1/tenants", { name });
    const token = (t.body as { token: string }).token;
    assert.equal(
      (await http(d.socket, token, "PUT", "/v1/images/spin", echoSpinElf(), "application/octet-stream"))
        .status,
      201,
    );
    tokens.push(token);
  }
  const vms = tokens.flatMap((token, t) =>
    Array.from({ length: PER_TENANT }, (_, i) => ({ token, name: `${t === 0 ? "red" : "blue"}-${i}` })),
  );
  // Small and capped: 20 spinning guests share a 2-core machine with the rest of the suite.
  const defined = await Promise.all(
    vms.map((v) =>
      http(d.socket, v.token, "POST", "/v1/vms", spinDefinition(v.name, { cpu_limit: 0.05, jit: false })),
    ),
  );
  assert.deepEqual(
    defined.map((r) => r.status),
    vms.map(() => 201),
  );
  const started = await Promise.all(
    vms.map((v) => http(d.socket, v.token, "POST", `/v1/vms/${v.name}/start`)),
  );
  assert.deepEqual(
    started.map((r) => r.status),
    vms.map(() => 200),
    started.map((r) => r.text).join("\n"),
  );
  assert.equal(d.manager.running().length, 20);

  await until(async () => {
    const infos = await Promise.all(vms.map((v) => http(d.socket, v.token, "GET", `/v1/vms/${v.name}`)));
    return infos.every(
      (r) => r.status === 200 && ((r.body as { instructions: number }).instructions ?? 0) > 0,
    );
  }, "every VM to retire instructions");
  for (const [i, token] of tokens.entries()) {
    const list = (await http(d.socket, token, "GET", "/v1/vms")).body as { name: string; state: string }[];
    assert.equal(list.length, PER_TENANT);
    assert.ok(list.every((v) => v.name.startsWith(i === 0 ? "red-" : "blue-") && v.state === "running"));
  }
  const metrics = await http(d.socket, d.adminToken, "GET", "/metrics");
  assert.equal(metrics.text.match(/^virtus_vm_up\{/gm)?.length, 20, "the admin's /metrics shows every VM");

  // Half are destroyed, half shut down (these guests ignore the request: destroyed after the timeout).
  const stopped = await Promise.all(
    vms.map((v, i) =>
      http(
        d.socket,
        v.token,
        "POST",
        i % 2 ? `/v1/vms/${v.name}/destroy` : `/v1/vms/${v.name}/shutdown?timeout_ms=100`,
      ),
    ),
  );
  assert.deepEqual(
    stopped.map((r) => r.status),
    vms.map(() => 200),
  );
  assert.equal(d.manager.running().length, 0, "no worker is left");
  for (const token of tokens) {
    const list = (await http(d.socket, token, "GET", "/v1/vms")).body as { state: string }[];
    assert.ok(list.every((v) => v.state === "stopped"));
  }
});

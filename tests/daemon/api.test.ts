import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ROUTES } from "../../src/daemon/api.ts";
import { checkedInDocument, openApiDocument, openApiPath } from "../../src/daemon/openapi.ts";
import { http, type TestDaemon, testDaemon } from "./support.ts";

let d: TestDaemon;
before(async () => {
  d = await testDaemon();
});
after(() => d.dispose());

test("the checked-in docs/openapi.json is the document the route table gives (node scripts/gen-openapi.ts)", () => {
  assert.deepEqual(JSON.parse(checkedInDocument()), openApiDocument());
});

test("GET /openapi.json serves the document without a token, and it names exactly the routes Fastify registered", async () => {
  const r = await http(d.socket, undefined, "GET", "/openapi.json");
  assert.equal(r.status, 200);
  const doc = r.body as { paths: Record<string, Record<string, unknown>> };
  assert.deepEqual(doc, openApiDocument());
  const documented = Object.entries(doc.paths)
    .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
    .sort();
  const registered = d.routes.map((r) => `${r.method} ${openApiPath(r.url)}`).sort();
  assert.deepEqual(registered, documented);
  assert.ok(documented.includes("POST /v1/vms/{name}/start"));
  assert.equal(ROUTES.length, documented.length);
});

test("the admin token is in DIR/admin.token with mode 0600 and the store keeps only its hash", async () => {
  const st = statSync(join(d.dir, "admin.token"));
  assert.equal(st.mode & 0o777, 0o600);
  const r = await http(d.socket, d.adminToken, "GET", "/v1/tenants");
  assert.equal(r.status, 200);
  const { readFileSync } = await import("node:fs");
  const db =
    readFileSync(join(d.dir, "virtus.db-wal")).toString("latin1") +
    readFileSync(join(d.dir, "virtus.db")).toString("latin1");
  assert.ok(!db.includes(d.adminToken), "the token itself is not stored");
});

test("requests without a token, with an unknown one, or a tenant's on admin routes are refused with one-line errors", async () => {
  const none = await http(d.socket, undefined, "GET", "/v1/vms");
  assert.equal(none.status, 401);
  assert.match((none.body as { error: { message: string } }).error.message, /Bearer/);
  assert.equal((await http(d.socket, "vt_nope", "GET", "/v1/vms")).status, 401);
  const t = await http(d.socket, d.adminToken, "POST", "/v1/tenants", { name: "carol" });
  assert.equal(t.status, 201);
  const token = (t.body as { token: string }).token;
  assert.match(token, /^vt_/);
  assert.equal((await http(d.socket, token, "GET", "/v1/tenants")).status, 403);
  assert.equal((await http(d.socket, token, "POST", "/v1/tenants", { name: "mallory" })).status, 403);
  assert.equal((await http(d.socket, token, "GET", "/v1/vms")).status, 200);
  assert.equal((await http(d.socket, d.adminToken, "POST", "/v1/tenants", { name: "carol" })).status, 409);
});

test("definitions are checked: unknown fields, bad sizes, bad names and bad YAML are 400 with what to fix; YAML defines too", async () => {
  const a = d.adminToken;
  const cases: [unknown, RegExp][] = [
    [{ name: "x", colour: "red" }, /colour|additional/],
    [{ name: "x", memory: "lots" }, /memory/],
    [{ name: "x", memory: "8G" }, /memory/],
    [{ name: "../etc", memory: "64M" }, /name/],
    [{ name: "x", vcpus: 9 }, /vcpus|maximum/],
    [{ name: "x", cpu_limit: 0 }, /cpu_limit/],
    [{ name: "x", kernel: "missing" }, /no image named missing/],
  ];
  for (const [body, message] of cases) {
    const r = await http(d.socket, a, "POST", "/v1/vms", body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match((r.body as { error: { message: string } }).error.message, message, JSON.stringify(body));
  }
  const bad = await http(d.socket, a, "POST", "/v1/vms", "name: [", "application/yaml");
  assert.equal(bad.status, 400);
  const y = await http(
    d.socket,
    a,
    "POST",
    "/v1/vms",
    "name: yam\nmemory: 64M\nvcpus: 2\ncpu_limit: 0.25\n",
    "application/yaml",
  );
  assert.equal(y.status, 201, y.text);
  const info = (await http(d.socket, a, "GET", "/v1/vms/yam")).body as Record<string, unknown>;
  assert.equal(info.memory, 64 << 20);
  assert.equal(info.vcpus, 2);
  assert.equal(info.cpu_limit, 0.25);
  assert.equal(info.state, "stopped");
  assert.equal((await http(d.socket, a, "DELETE", "/v1/vms/yam")).status, 200);
  assert.equal((await http(d.socket, a, "GET", "/v1/vms/yam")).status, 404);
});

test("quotas refuse VMs, vCPUs, memory and disk past the tenant's limits, saying which", async () => {
  const t = await http(d.socket, d.adminToken, "POST", "/v1/tenants", {
    name: "small",
    quota: { vms: 2, vcpus: 3, memory: "96M", disk: 4096 },
  });
  const tok = (t.body as { token: string }).token;
  const def = (name: string, over = {}) =>
    http(d.socket, tok, "POST", "/v1/vms", { name, memory: "32M", ...over });
  assert.equal((await def("a", { vcpus: 2 })).status, 201);
  const cpus = await def("b", { vcpus: 2 });
  assert.equal(cpus.status, 403);
  assert.match((cpus.body as { error: { message: string } }).error.message, /vCPUs 2 in use \+ 2 asked > 3/);
  const mem = await def("b", { memory: "80M" });
  assert.match((mem.body as { error: { message: string } }).error.message, /memory/);
  assert.equal((await def("b")).status, 201);
  const vms = await def("c");
  assert.match((vms.body as { error: { message: string } }).error.message, /VMs 2 in use \+ 1 asked > 2/);
  const img = await http(
    d.socket,
    tok,
    "PUT",
    "/v1/images/big",
    Buffer.alloc(8192, 1),
    "application/octet-stream",
  );
  assert.equal(img.status, 403);
  assert.match((img.body as { error: { message: string } }).error.message, /disk/);
  const list = (await http(d.socket, tok, "GET", "/v1/images")).body as unknown[];
  assert.equal(list.length, 0, "a refused upload leaves nothing behind");
});

test("the admin sets a tenant's quota and deletes a tenant: its token stops working and its VMs are gone", async () => {
  const t = await http(d.socket, d.adminToken, "POST", "/v1/tenants", { name: "gone" });
  const tok = (t.body as { token: string }).token;
  assert.equal((await http(d.socket, tok, "POST", "/v1/vms", { name: "v", memory: "32M" })).status, 201);
  assert.equal(
    (await http(d.socket, d.adminToken, "PUT", "/v1/tenants/gone/quota", { vcpus: 3 })).status,
    200,
  );
  const q = await http(d.socket, d.adminToken, "PUT", "/v1/tenants/gone/quota", { vms: 1 });
  assert.equal(q.status, 200);
  assert.deepEqual((q.body as { quota: object }).quota, {
    vms: 1,
    vcpus: 3,
    memory: 8 * 1024 ** 3,
    disk: 20 * 1024 ** 3,
  });
  assert.equal((await http(d.socket, tok, "POST", "/v1/vms", { name: "w", memory: "32M" })).status, 403);
  assert.equal((await http(d.socket, d.adminToken, "DELETE", "/v1/tenants/admin")).status, 403);
  assert.equal((await http(d.socket, d.adminToken, "DELETE", "/v1/tenants/gone")).status, 200);
  assert.equal((await http(d.socket, tok, "GET", "/v1/vms")).status, 401);
  assert.equal(d.store.tenantByName("gone"), undefined);
  assert.equal((await http(d.socket, d.adminToken, "DELETE", "/v1/tenants/gone")).status, 404);
});

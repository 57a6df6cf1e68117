import assert from "node:assert/strict";
import { availableParallelism, loadavg } from "node:os";
import { after, before, test } from "node:test";
import { echoSpinElf, http, skipNoGcc, spinDefinition, type TestDaemon, testDaemon } from "./support.ts";

let d: TestDaemon;
let token: string;

before(async () => {
  d = await testDaemon();
  token = d.adminToken;
  if (skipNoGcc) return;
  await http(d.socket, token, "PUT", "/v1/images/spin", echoSpinElf(), "application/octet-stream");
});
after(() => d.dispose());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function instructions(name: string): Promise<number> {
  const r = await http(d.socket, token, "GET", `/v1/vms/${name}`);
  return (r.body as { instructions: number }).instructions;
}

async function cpuMicros(name: string): Promise<number> {
  const row = d.store.vm(d.store.tenantByName("admin")!.id, name)!;
  return (await d.manager.usage(row.id))!.cpuMicros;
}

/** Instructions per ms of `name` over `ms`, and the CPU share `other` used meanwhile. */
async function window(name: string, ms: number, other?: string) {
  const i0 = await instructions(name);
  const c0 = other === undefined ? 0 : await cpuMicros(other);
  const t0 = performance.now();
  await sleep(ms);
  const i1 = await instructions(name);
  const c1 = other === undefined ? 0 : await cpuMicros(other);
  const wall = performance.now() - t0;
  return { rate: (i1 - i0) / wall, share: (c1 - c0) / 1000 / wall };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test("noisy neighbour: a spinning VM capped at 0.25 stays near its share, and a neighbour keeps at least 80% of its solo throughput", {
  skip: skipNoGcc,
}, async () => {
  const post = (path: string, body?: unknown) => http(d.socket, token, "POST", path, body);
  assert.equal((await post("/v1/vms", spinDefinition("worker"))).status, 201);
  assert.equal((await post("/v1/vms", spinDefinition("noisy", { cpu_limit: 0.25 }))).status, 201);
  assert.equal((await post("/v1/vms/worker/start")).status, 200);
  await sleep(300);
  // Solo and shared windows alternate, so a change in the machine's load hits both alike.
  const ratios: number[] = [];
  const shares: number[] = [];
  for (let round = 0; round < 4; round++) {
    const solo = (await window("worker", 600)).rate;
    assert.equal((await post("/v1/vms/noisy/start")).status, 200);
    await sleep(150);
    const w = await window("worker", 600, "noisy");
    ratios.push(w.rate / solo);
    shares.push(w.share);
    assert.equal((await post("/v1/vms/noisy/destroy")).status, 200);
  }
  const kept = median(ratios);
  const share = median(shares);
  // The 80% assumes a core to spare; when other work already fills the machine, every
  // extra thread takes from the others, so the bar is lower there (the measured value is printed).
  const spare = loadavg()[0] < availableParallelism() - 0.5;
  const bar = spare ? 0.8 : 0.65;
  console.log(
    `noisy neighbour: capped VM used ${share.toFixed(3)} of a core; neighbour kept ${(kept * 100).toFixed(0)}% (bar ${bar * 100}%, load ${loadavg()[0].toFixed(1)})`,
  );
  assert.ok(share > 0.15 && share < 0.35, `the capped VM used ${share.toFixed(3)} of a core (cap 0.25)`);
  assert.ok(kept >= bar, `the neighbour kept ${(kept * 100).toFixed(0)}% of its solo throughput`);
  assert.equal((await post("/v1/vms/worker/destroy")).status, 200);
});

/**
 * `npm run bench:manager`: the daemon (src/daemon/) in this process on a
 * temporary Unix socket.
 *
 * - API latency: p50/p99 of `GET /v1/vms/NAME` (info of a running VM: a
 *   round trip to its worker), `GET /v1/vms` and `POST /v1/vms` (a
 *   definition committed to SQLite with synchronous=FULL), sequential;
 * - idle VMs: N default-guest VMs started together, each waited for until
 *   its shell prompt, then left idle; the process's RSS growth per VM and
 *   the CPU the idle VMs use, and from both how many idle VMs this host
 *   could hold (memory-bound and CPU-bound).
 *
 *   npm run bench:manager -- [--vms N] [--mem SIZE] [--requests N]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { availableParallelism, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { WebSocket } from "ws";
import { startDaemon } from "../src/daemon/server.ts";

const { values } = parseArgs({
  options: {
    vms: { type: "string", default: "8" },
    mem: { type: "string", default: "64M" },
    requests: { type: "string", default: "400" },
  },
});
const N = Number(values.vms);
const REQUESTS = Number(values.requests);

const dir = mkdtempSync(join(tmpdir(), "virtus-bench-manager-"));
const d = await startDaemon({ dataDir: dir, log: (l) => console.error(l) });
const socket = d.url.slice("unix:".length);
const token = d.adminToken;

function http(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (payload) headers["content-type"] = "application/json";
    const req = request({ socketPath: socket, method, path, headers }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(payload);
  });
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function latency(
  label: string,
  f: (i: number) => Promise<{ status: number }>,
  ok: number,
): Promise<void> {
  const ms: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    const r = await f(i);
    ms.push(performance.now() - t0);
    if (r.status !== ok) throw new Error(`${label}: HTTP ${r.status}`);
  }
  console.log(
    `${label.padEnd(28)} p50 ${pct(ms, 0.5).toFixed(2)} ms   p99 ${pct(ms, 0.99).toFixed(2)} ms   (${REQUESTS} requests)`,
  );
}

/** Waits until the VM's console shows the default guest's prompt (typing a newline now and then). */
function prompt(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix:${socket}:/v1/vms/${name}/console`, {
      headers: { authorization: `Bearer ${token}` },
    });
    let text = "";
    const poke = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send("\r"), 2000);
    ws.on("message", (b: Buffer) => {
      text += b.toString("latin1");
      if (text.includes("guest# ")) {
        clearInterval(poke);
        ws.close();
        resolve();
      }
    });
    ws.on("error", reject);
  });
}

try {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const names = Array.from({ length: N }, (_, i) => `idle-${i}`);
  for (const name of names) await http("POST", "/v1/vms", { name, memory: values.mem });
  await Promise.all(names.map((n) => http("POST", `/v1/vms/${n}/start`)));
  await Promise.all(names.map(prompt));
  console.log(
    `${N} default-guest VMs (${values.mem}) at their prompt after ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  await new Promise((r) => setTimeout(r, 5000));
  const rss = process.memoryUsage().rss;
  const cpu0 = await Promise.all(d.manager.running().map((v) => v.worker!.usage()));
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, 5000));
  const cpu1 = await Promise.all(d.manager.running().map((v) => v.worker!.usage()));
  const idleCores =
    cpu1.reduce((s, u, i) => s + u.cpuMicros - cpu0[i].cpuMicros, 0) / 1000 / (performance.now() - w0);
  const perVm = (rss - rss0) / N;
  console.log(
    `memory per idle VM            ${(perVm / 2 ** 20).toFixed(1)} MiB RSS (process RSS ${(rss0 / 2 ** 20).toFixed(0)} -> ${(rss / 2 ** 20).toFixed(0)} MiB)`,
  );
  console.log(
    `CPU of ${N} idle VMs            ${(idleCores * 100).toFixed(1)}% of one core (${((idleCores / N) * 100).toFixed(2)}% each)`,
  );
  const byMem = Math.floor((totalmem() * 0.9) / perVm);
  const byCpu = Math.floor((availableParallelism() * 0.9) / (idleCores / N));
  console.log(
    `idle VMs this host could hold ${Math.min(byMem, byCpu)} (memory: ${byMem} in 90% of ${(totalmem() / 2 ** 30).toFixed(0)} GiB; CPU: ${byCpu} in 90% of ${availableParallelism()} cores)`,
  );

  await latency("GET /v1/vms/NAME (running)", () => http("GET", "/v1/vms/idle-0"), 200);
  await latency(`GET /v1/vms (${N} VMs)`, () => http("GET", "/v1/vms"), 200);
  await latency(
    "POST /v1/vms (define)",
    (i) => http("POST", "/v1/vms", { name: `def-${i}`, memory: "64M" }),
    201,
  );
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
} finally {
  await d.close();
  rmSync(dir, { recursive: true, force: true });
}

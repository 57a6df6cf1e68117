/**
 * The web console (served as /ui/app.js, types stripped): log in with a
 * token, the tenant's VMs with their state and live CPU and heap charts
 * (from /metrics), a form to create a VM from the default guest,
 * start/shutdown/destroy/snapshot buttons, and the serial console in
 * xterm.js over the console WebSocket. Only the daemon's public API.
 */
export {};

interface XTerm {
  open(el: HTMLElement): void;
  write(data: Uint8Array | string): void;
  onData(f: (s: string) => void): void;
  dispose(): void;
}
declare const Terminal: new (opts: object) => XTerm;

interface VmSummary {
  name: string;
  state: string;
  reason: string;
  vcpus: number;
  memory: number;
  cpu_limit: number | null;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const HISTORY = 60;
let token = sessionStorage.getItem("virtus-token") ?? "";
/** Per VM: CPU share and heap MiB samples, and the last CPU counter. */
const charts = new Map<string, { cpu: number[]; heap: number[]; lastCpu?: number; lastAt?: number }>();
let term: XTerm | undefined;
let socket: WebSocket | undefined;

async function api(method: string, path: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  const json = text === "" ? {} : r.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text;
  if (!r.ok) throw new Error((json as { error?: { message?: string } }).error?.message ?? `HTTP ${r.status}`);
  return json;
}

function showError(e: unknown): void {
  $("error").textContent = e instanceof Error ? e.message : String(e);
}

function draw(canvas: HTMLCanvasElement, samples: number[], max: number, color: string): void {
  const g = canvas.getContext("2d")!;
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.strokeStyle = color;
  g.beginPath();
  samples.forEach((v, i) => {
    const x = (i / (HISTORY - 1)) * canvas.width;
    const y = canvas.height - (Math.min(v, max) / max) * (canvas.height - 2) - 1;
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.stroke();
}

function button(label: string, action: () => Promise<unknown>): HTMLButtonElement {
  const b = document.createElement("button");
  b.textContent = label;
  b.dataset.action = label.toLowerCase();
  b.onclick = () => {
    b.disabled = true;
    action()
      .then(() => showError(""))
      .catch(showError)
      .finally(() => {
        b.disabled = false;
        void refresh();
      });
  };
  return b;
}

function row(vm: VmSummary): HTMLTableRowElement {
  const tr = document.createElement("tr");
  tr.dataset.vm = vm.name;
  const cell = (text: string, cls?: string) => {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.append(td);
    return td;
  };
  cell(vm.name);
  cell(vm.state, `state state-${vm.state}`);
  cell(String(vm.vcpus));
  cell(`${Math.round(vm.memory / 2 ** 20)} MiB`);
  const c = charts.get(vm.name) ?? { cpu: [], heap: [] };
  charts.set(vm.name, c);
  for (const [samples, max, color] of [
    [c.cpu, 1, "#c40"],
    [c.heap, 128, "#04c"],
  ] as const) {
    const canvas = document.createElement("canvas");
    canvas.width = 120;
    canvas.height = 28;
    draw(canvas, samples, max, color);
    cell("").append(canvas);
  }
  const actions = cell("");
  const path = `/v1/vms/${encodeURIComponent(vm.name)}`;
  if (vm.state === "running" || vm.state === "paused") {
    actions.append(
      button("Console", async () => openConsole(vm.name)),
      button("Stop", () => api("POST", `${path}/shutdown?timeout_ms=10000`)),
      button("Destroy", () => api("POST", `${path}/destroy`)),
      button("Snapshot", () => api("POST", `${path}/snapshots`, { name: `s${Date.now()}` })),
    );
  } else
    actions.append(
      button("Start", () => api("POST", `${path}/start`)),
      button("Delete", () => api("DELETE", path)),
    );
  return tr;
}

async function sampleMetrics(): Promise<void> {
  const text = (await api("GET", "/metrics")) as string;
  const now = performance.now();
  for (const line of text.split("\n")) {
    const m = /^(virtus_vm_\w+)\{tenant="[^"]*",vm="([^"]+)"\} (\S+)$/.exec(line);
    if (!m) continue;
    const c = charts.get(m[2]);
    if (!c) continue;
    const v = Number(m[3]);
    if (m[1] === "virtus_vm_cpu_seconds_total") {
      if (c.lastCpu !== undefined && c.lastAt !== undefined)
        c.cpu.push((v - c.lastCpu) / ((now - c.lastAt) / 1000));
      c.lastCpu = v;
      c.lastAt = now;
    } else if (m[1] === "virtus_vm_heap_bytes") c.heap.push(v / 2 ** 20);
    for (const s of [c.cpu, c.heap]) while (s.length > HISTORY) s.shift();
  }
}

async function refresh(): Promise<void> {
  try {
    const vms = (await api("GET", "/v1/vms")) as VmSummary[];
    await sampleMetrics();
    $("vms")
      .querySelector("tbody")!
      .replaceChildren(...vms.map(row));
  } catch (e) {
    showError(e);
  }
}

function openConsole(name: string): void {
  closeConsole();
  $("console").hidden = false;
  $("console-name").textContent = name;
  term = new Terminal({ cols: 100, rows: 25, convertEol: false });
  term.open($("terminal"));
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(
    `${scheme}://${location.host}/v1/vms/${encodeURIComponent(name)}/console?token=${encodeURIComponent(token)}`,
  );
  ws.binaryType = "arraybuffer";
  ws.onmessage = (e) => term?.write(new Uint8Array(e.data as ArrayBuffer));
  ws.onclose = (e) => term?.write(`\r\n[console closed: ${e.reason || e.code}]\r\n`);
  term.onData((s) => ws.readyState === WebSocket.OPEN && ws.send(new TextEncoder().encode(s)));
  socket = ws;
}

function closeConsole(): void {
  socket?.close();
  term?.dispose();
  socket = undefined;
  term = undefined;
  $("console").hidden = true;
}

async function logIn(t: string): Promise<void> {
  token = t;
  try {
    await api("GET", "/v1/vms");
  } catch (e) {
    showError(e);
    alert(`Log in failed: ${e instanceof Error ? e.message : e}`);
    return;
  }
  sessionStorage.setItem("virtus-token", t);
  $("login").hidden = true;
  $("main").hidden = false;
  await refresh();
  setInterval(refresh, 1000);
}

$("login-form").onsubmit = (e) => {
  e.preventDefault();
  void logIn(($("token") as HTMLInputElement).value.trim());
};
$("create-form").onsubmit = (e) => {
  e.preventDefault();
  const value = (id: string) => ($(id) as HTMLInputElement).value.trim();
  const def: Record<string, unknown> = {
    name: value("new-name"),
    memory: value("new-memory"),
    vcpus: Number(value("new-vcpus")),
  };
  if (value("new-cpu-limit") !== "") def.cpu_limit = Number(value("new-cpu-limit"));
  api("POST", "/v1/vms", def)
    .then(() => showError(""))
    .catch(showError)
    .finally(() => void refresh());
};
$("console-close").onclick = closeConsole;
if (token !== "") void logIn(token);

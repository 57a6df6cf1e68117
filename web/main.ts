/**
 * The page (bundled into main.js by src/host/node/web-build.ts): an xterm.js
 * terminal (DOM renderer, so the screen text is in the DOM), the controls,
 * and the VM in a Web Worker (src/host/browser/worker.ts). On load it boots
 * the default guest that `virtus web` serves under /guest/.
 *
 * URL parameters (for tests and links): memory=MiB, harts=N, deterministic=1,
 * disk=memory|opfs (a 64 MiB /dev/vda), relay=ws://HOST:PORT/?token=T (`virtus relay`: a NIC on
 * the host's user-mode network).
 */
import { Terminal } from "@xterm/xterm";
import type { DiskSource } from "../src/host/browser/block.ts";
import { PAGE_INITRD, PAGE_KERNEL, pageDiskName, pageVmConfig } from "../src/host/browser/page-config.ts";
import type { FromBrowserWorker, ToBrowserWorker } from "../src/host/browser/protocol.ts";
import type { VmConfig } from "../src/vm/config.ts";

interface GuestInfo {
  append: string;
  kernel: string;
  initrd: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const term = new Terminal({ cols: 100, rows: 30, scrollback: 5000, convertEol: false });
term.open($("terminal"));
term.focus();

/** Everything the guest printed, for tests comparing bytes (window.virtusOutput()). */
const outputLog: Uint8Array[] = [];
/** The same as text (latin1), for benchmarks waiting for a marker (window.virtusOutputText()). */
let outputText = "";
/** When the boot message went to the worker and when GUEST-READY came back (page clock, ms). */
const times = { bootSent: 0, ready: 0 };
let worker: Worker | undefined;
let nextId = 1;
const waiting = new Map<number, (m: FromBrowserWorker) => void>();
let paused = false;

function send(m: ToBrowserWorker, transfer: Transferable[] = []): void {
  worker?.postMessage(m, transfer);
}

function setState(text: string): void {
  $("state").textContent = text;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** 64 MiB: room for a file system, small enough for memory. */
const PAGE_DISK_SIZE = 64 * 1024 * 1024;
/** A disk file the user picked (boots with it as /dev/vda). */
let diskFile: File | undefined;

function pageDisks(): Record<string, DiskSource> {
  if (diskFile !== undefined) return { [pageDiskName(0)]: { kind: "blob", blob: diskFile } };
  const choice = params.get("disk") ?? $<HTMLSelectElement>("disk").value;
  if (choice === "memory") return { [pageDiskName(0)]: { kind: "memory", size: PAGE_DISK_SIZE } };
  if (choice === "opfs")
    return { [pageDiskName(0)]: { kind: "opfs", name: "virtus-disk0.img", size: PAGE_DISK_SIZE } };
  return {};
}

async function guestConfig(): Promise<{
  config: VmConfig;
  files: Record<string, Uint8Array>;
  disks: Record<string, DiskSource>;
}> {
  const disks = pageDisks();
  const info = (await (await fetch("guest/info.json")).json()) as GuestInfo;
  const [kernel, initrd] = await Promise.all([fetchBytes(info.kernel), fetchBytes(info.initrd)]);
  const config = pageVmConfig({
    append: info.append,
    memoryMiB: Number(params.get("memory") ?? $<HTMLSelectElement>("memory").value),
    harts: Number(params.get("harts") ?? $<HTMLSelectElement>("harts").value),
    deterministic: params.get("deterministic") === "1",
    disks: Object.keys(disks).length,
    relay: params.has("relay"),
  });
  return { config, files: { [PAGE_KERNEL]: kernel, [PAGE_INITRD]: initrd }, disks };
}

function onMessage(m: FromBrowserWorker): void {
  switch (m.type) {
    case "output":
      outputLog.push(m.bytes);
      for (const b of m.bytes) outputText += String.fromCharCode(b);
      if (times.ready === 0 && outputText.includes("GUEST-READY")) times.ready = performance.now();
      term.write(m.bytes);
      break;
    case "booted":
      setState(
        `${m.restored ? "restored, " : ""}running: ${m.config.memory / 1048576} MiB, ${m.config.harts} hart(s), JIT ${m.config.jit ? "on" : "off"}`,
      );
      break;
    case "failed":
      setState(`failed: ${m.message}`);
      break;
    case "log":
      term.write(`\r\n[${m.text}]\r\n`);
      break;
    case "stats":
      $("stat-insns").textContent = m.stats.instructions.toLocaleString("en");
      $("stat-ips").textContent = (m.stats.ips / 1e6).toFixed(1);
      $("stat-jit").textContent = String(m.stats.jitBlocks);
      break;
    case "ended":
      setState(`ended: ${m.outcome.kind}`);
      break;
    case "reply":
    case "snapshot":
      waiting.get(m.id)?.(m);
      waiting.delete(m.id);
      break;
    case "event":
      break;
  }
}

function ask(m: ToBrowserWorker & { id: number }): Promise<FromBrowserWorker> {
  return new Promise((resolve) => {
    waiting.set(m.id, resolve);
    send(m);
  });
}

function startWorker(): void {
  worker?.terminate();
  for (const resolve of waiting.values()) resolve({ type: "failed", message: "the VM was replaced" });
  waiting.clear();
  worker = new Worker("worker.js");
  worker.onmessage = (e: MessageEvent<FromBrowserWorker>) => onMessage(e.data);
  worker.onerror = (e) => setState(`worker error: ${e.message}`);
}

async function boot(snapshot?: Uint8Array): Promise<void> {
  setState("loading the default guest…");
  startWorker();
  const mine = worker;
  const { config, files, disks } = await guestConfig();
  // Another boot (a restore) started meanwhile: it owns the new worker.
  if (worker !== mine) return;
  setState(snapshot ? "restoring…" : "booting…");
  term.reset();
  outputLog.length = 0;
  outputText = "";
  paused = false;
  $("pause").textContent = "Pause";
  times.bootSent = performance.now();
  times.ready = 0;
  send({ type: "boot", config, files, snapshot, disks, relay: params.get("relay") ?? undefined });
}

term.onData((data) => send({ type: "input", bytes: new TextEncoder().encode(data) }));

$("reboot").onclick = () => {
  params.delete("disk");
  void boot();
};
$<HTMLInputElement>("disk-file").onchange = (e) => {
  diskFile = (e.target as HTMLInputElement).files?.[0];
  if (diskFile) void boot();
};
$("pause").onclick = async () => {
  const reply = await ask({
    type: "command",
    id: nextId++,
    command: { execute: paused ? "resume" : "pause" },
  });
  if (reply.type === "reply" && "return" in reply.reply) {
    paused = !paused;
    $("pause").textContent = paused ? "Resume" : "Pause";
    setState(paused ? "paused" : "running");
  }
};

$("snapshot").onclick = async () => {
  const reply = await ask({ type: "save-snapshot", id: nextId++ });
  if (reply.type !== "snapshot" || reply.bytes === undefined) {
    setState(`snapshot failed: ${reply.type === "snapshot" ? reply.error : "no reply"}`);
    return;
  }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([reply.bytes as BlobPart]));
  a.download = `virtus-${new Date().toISOString().replace(/[:.]/g, "-")}.vsnap`;
  a.click();
  setState(`snapshot saved (${reply.bytes.length} bytes)`);
};

$<HTMLInputElement>("restore").onchange = async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) await boot(new Uint8Array(await file.arrayBuffer()));
};

async function shareFiles(files: FileList | null | undefined): Promise<void> {
  for (const f of Array.from(files ?? [])) {
    const bytes = new Uint8Array(await f.arrayBuffer());
    send({ type: "put-file", name: f.name, bytes }, [bytes.buffer]);
    $("dropped").textContent = `${$("dropped").textContent} ${f.name}`.trim();
  }
}

const drop = $("drop");
drop.ondragover = (e) => {
  e.preventDefault();
  drop.classList.add("over");
};
drop.ondragleave = () => drop.classList.remove("over");
drop.ondrop = (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  void shareFiles(e.dataTransfer?.files);
};
$<HTMLInputElement>("share-file").onchange = (e) => void shareFiles((e.target as HTMLInputElement).files);

Object.assign(window, {
  virtusOutput: () => outputLog,
  virtusOutputText: () => outputText,
  virtusTimes: times,
});
void boot().catch((e: Error) => setState(`cannot boot: ${e.message}`));

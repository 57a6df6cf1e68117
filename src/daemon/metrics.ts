/**
 * `GET /metrics` in Prometheus text format: for each running VM of the
 * caller's tenant (every tenant's for the admin), the worker thread's CPU
 * time, instructions retired, guest memory, the worker's heap, the console
 * bytes written, and what the guest moved through its virtio disks and NIC
 * (counted by the devices, src/vm/commands.ts VmIoCounters; they restart
 * from 0 with each run of the VM). Labels: tenant and vm.
 */

import type { WorkerUsage } from "../host/node/vm-worker.ts";
import type { VmIoCounters, VmStatus } from "../vm/commands.ts";
import type { Caller } from "./auth.ts";
import type { ApiContext } from "./context.ts";
import type { LiveVm } from "./manager.ts";

interface Sample {
  v: LiveVm;
  status: VmStatus | undefined;
  usage: WorkerUsage | undefined;
}

const io = (key: keyof VmIoCounters) => (s: Sample) => s.status?.io[key] ?? 0;

const METRICS: [name: string, type: string, help: string, value: (s: Sample) => number][] = [
  [
    "virtus_vm_cpu_seconds_total",
    "counter",
    "CPU time of the VM's worker thread",
    (s) => (s.usage?.cpuMicros ?? 0) / 1e6,
  ],
  [
    "virtus_vm_instructions_total",
    "counter",
    "Guest instructions retired since the VM started",
    (s) => s.status?.instructions ?? 0,
  ],
  ["virtus_vm_memory_bytes", "gauge", "Guest RAM of the VM", (s) => s.v.def.memory],
  [
    "virtus_vm_heap_bytes",
    "gauge",
    "JavaScript heap of the VM's worker thread",
    (s) => s.usage?.heapBytes ?? 0,
  ],
  ["virtus_vm_console_bytes_total", "counter", "Bytes the guest wrote to its console", (s) => s.v.hub.total],
  ["virtus_vm_disk_read_bytes_total", "counter", "Bytes the guest read from its disks", io("diskReadBytes")],
  [
    "virtus_vm_disk_read_requests_total",
    "counter",
    "Read requests of the guest's disks",
    io("diskReadRequests"),
  ],
  ["virtus_vm_disk_write_bytes_total", "counter", "Bytes the guest wrote to its disks", io("diskWriteBytes")],
  [
    "virtus_vm_disk_write_requests_total",
    "counter",
    "Write requests of the guest's disks",
    io("diskWriteRequests"),
  ],
  [
    "virtus_vm_net_rx_bytes_total",
    "counter",
    "Bytes of frames delivered to the guest's NIC",
    io("netRxBytes"),
  ],
  ["virtus_vm_net_rx_packets_total", "counter", "Frames delivered to the guest's NIC", io("netRxPackets")],
  ["virtus_vm_net_tx_bytes_total", "counter", "Bytes of frames the guest's NIC sent", io("netTxBytes")],
  ["virtus_vm_net_tx_packets_total", "counter", "Frames the guest's NIC sent", io("netTxPackets")],
  ["virtus_vm_up", "gauge", "1 while the VM runs, 0 while paused", (s) => (s.v.state === "running" ? 1 : 0)],
];

const label = (v: string) => v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));

export async function metricsText(ctx: ApiContext, caller: Caller): Promise<string> {
  const lines = new Map<string, string[]>(METRICS.map(([n]) => [n, []]));
  const tenants = new Map(ctx.store.tenants().map((t) => [t.id, t.name]));
  for (const v of ctx.manager.running()) {
    if (!caller.admin && v.tenantId !== caller.tenantId) continue;
    const row = ctx.store.vm(v.tenantId, v.name);
    if (row === undefined) continue;
    const [status, usage] = await Promise.all([ctx.manager.status(row), ctx.manager.usage(v.id)]);
    const l = `{tenant="${label(tenants.get(v.tenantId) ?? "")}",vm="${label(v.name)}"}`;
    for (const [name, , , value] of METRICS)
      lines.get(name)!.push(`${name}${l} ${value({ v, status, usage })}`);
  }
  const out: string[] = [];
  for (const [name, type, help] of METRICS)
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines.get(name)!);
  return `${out.join("\n")}\n`;
}

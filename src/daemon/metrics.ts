/**
 * `GET /metrics` in Prometheus text format: for each running VM of the
 * caller's tenant (every tenant's for the admin), the worker thread's CPU
 * time, instructions retired, guest memory, the worker's heap and the
 * console bytes written. Labels: tenant and vm.
 */

import type { Caller } from "./auth.ts";
import type { ApiContext } from "./context.ts";

const METRICS: [name: string, type: string, help: string][] = [
  ["virtus_vm_cpu_seconds_total", "counter", "CPU time of the VM's worker thread"],
  ["virtus_vm_instructions_total", "counter", "Guest instructions retired since the VM started"],
  ["virtus_vm_memory_bytes", "gauge", "Guest RAM of the VM"],
  ["virtus_vm_heap_bytes", "gauge", "JavaScript heap of the VM's worker thread"],
  ["virtus_vm_console_bytes_total", "counter", "Bytes the guest wrote to its console"],
  ["virtus_vm_up", "gauge", "1 while the VM runs, 0 while paused"],
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
    lines
      .get("virtus_vm_cpu_seconds_total")!
      .push(`virtus_vm_cpu_seconds_total${l} ${(usage?.cpuMicros ?? 0) / 1e6}`);
    lines
      .get("virtus_vm_instructions_total")!
      .push(`virtus_vm_instructions_total${l} ${status?.instructions ?? 0}`);
    lines.get("virtus_vm_memory_bytes")!.push(`virtus_vm_memory_bytes${l} ${v.def.memory}`);
    lines.get("virtus_vm_heap_bytes")!.push(`virtus_vm_heap_bytes${l} ${usage?.heapBytes ?? 0}`);
    lines.get("virtus_vm_console_bytes_total")!.push(`virtus_vm_console_bytes_total${l} ${v.hub.total}`);
    lines.get("virtus_vm_up")!.push(`virtus_vm_up${l} ${v.state === "running" ? 1 : 0}`);
  }
  const out: string[] = [];
  for (const [name, type, help] of METRICS)
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines.get(name)!);
  return `${out.join("\n")}\n`;
}

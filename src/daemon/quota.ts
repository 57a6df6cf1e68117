/**
 * Tenant quotas (issue 13, item 4): VMs, vCPUs and guest memory count
 * over every defined VM (running or not, as Incus counts instances), disk
 * over images and snapshots. A request that would pass a limit is refused
 * with what is used, what it asks and what the limit is.
 */
import { VirtusError } from "../machine/errors.ts";
import { parseDefinition, type VmDefinition } from "./definition.ts";
import type { Quota, Store, TenantRow } from "./store.ts";

export const DEFAULT_QUOTA: Quota = {
  maxVms: 10,
  maxVcpus: 16,
  maxMemory: 8 * 1024 ** 3,
  maxDisk: 20 * 1024 ** 3,
};

/** The admin tenant's own VMs: bounded only by what one host can hold. */
export const ADMIN_QUOTA: Quota = {
  maxVms: 1000,
  maxVcpus: 8000,
  maxMemory: 3 * 1024 ** 4,
  maxDisk: 100 * 1024 ** 4,
};

const mib = (n: number) => `${Math.round(n / 1024 ** 2)} MiB`;

function refuse(tenant: TenantRow, what: string, used: string, asked: string, limit: string): VirtusError {
  return new VirtusError(
    "quota",
    `quota exceeded for tenant ${tenant.name}: ${what} ${used} in use + ${asked} asked > ${limit} allowed`,
  );
}

export interface Usage {
  vms: number;
  vcpus: number;
  memory: number;
  disk: number;
}

export function usageOf(store: Store, tenantId: number, exceptVmId?: number): Usage {
  const u: Usage = { vms: 0, vcpus: 0, memory: 0, disk: store.diskUsed(tenantId) };
  for (const row of store.vms(tenantId)) {
    if (row.id === exceptVmId) continue;
    const d = parseDefinition(JSON.parse(row.definition));
    u.vms++;
    u.vcpus += d.vcpus;
    u.memory += d.memory;
  }
  return u;
}

/** Refuses a new (or redefined) VM that would pass the tenant's limits. */
export function checkVmQuota(store: Store, tenant: TenantRow, def: VmDefinition, replacing?: number): void {
  const u = usageOf(store, tenant.id, replacing);
  if (u.vms + 1 > tenant.maxVms) throw refuse(tenant, "VMs", `${u.vms}`, "1", `${tenant.maxVms}`);
  if (u.vcpus + def.vcpus > tenant.maxVcpus)
    throw refuse(tenant, "vCPUs", `${u.vcpus}`, `${def.vcpus}`, `${tenant.maxVcpus}`);
  if (u.memory + def.memory > tenant.maxMemory)
    throw refuse(tenant, "memory", mib(u.memory), mib(def.memory), mib(tenant.maxMemory));
}

/** Bytes of disk the tenant may still use. */
export function diskLeft(store: Store, tenant: TenantRow): number {
  return tenant.maxDisk - store.diskUsed(tenant.id);
}

export function checkDisk(store: Store, tenant: TenantRow, bytes: number): void {
  const used = store.diskUsed(tenant.id);
  if (used + bytes > tenant.maxDisk) throw refuse(tenant, "disk", mib(used), mib(bytes), mib(tenant.maxDisk));
}

/** `virtus tenant create|list|delete|quota`: the admin's side of the daemon (src/daemon/). */
import type { Command } from "commander";
import { call, endpointFromEnv } from "../daemon/client.ts";
import { VirtusError } from "../machine/errors.ts";
import { printTable } from "./table.ts";

interface QuotaFlags {
  vms?: string;
  vcpus?: string;
  memory?: string;
  disk?: string;
}

function quotaBody(o: QuotaFlags): Record<string, unknown> {
  const q: Record<string, unknown> = {};
  for (const k of ["vms", "vcpus"] as const)
    if (o[k] !== undefined) {
      const n = Number(o[k]);
      if (!Number.isInteger(n) || n < 0)
        throw new VirtusError("bad-quota", `--${k} ${o[k]}: give a whole number`);
      q[k] = n;
    }
  if (o.memory !== undefined) q.memory = o.memory;
  if (o.disk !== undefined) q.disk = o.disk;
  return q;
}

const withQuota = (c: Command) =>
  c
    .option("--vms <n>", "VMs it may define")
    .option("--vcpus <n>", "vCPUs over all its VMs")
    .option("--memory <size>", "guest memory over all its VMs, e.g. 8G")
    .option("--disk <size>", "bytes of images and snapshots, e.g. 20G");

export function addTenantCommand(program: Command): void {
  const tenant = program.command("tenant").description("manage the daemon's tenants (admin token)");
  withQuota(
    tenant.command("create").argument("<name>").description("create a tenant and print its token"),
  ).action(async (name: string, o: QuotaFlags) => {
    const r = (await call(endpointFromEnv(), "POST", "/v1/tenants", {
      body: { name, quota: quotaBody(o) },
    })) as { token: string };
    process.stdout.write(`${r.token}\n`);
  });
  withQuota(tenant.command("quota").argument("<name>").description("set a tenant's quota")).action(
    async (name: string, o: QuotaFlags) => {
      await call(endpointFromEnv(), "PUT", `/v1/tenants/${encodeURIComponent(name)}/quota`, {
        body: quotaBody(o),
      });
    },
  );
  tenant
    .command("list")
    .description("tenants with quota and usage")
    .option("--json", "JSON instead of a table")
    .action(async (o: { json?: boolean }) => {
      const rows = (await call(endpointFromEnv(), "GET", "/v1/tenants")) as {
        name: string;
        quota: Record<string, number>;
        usage: Record<string, number>;
      }[];
      if (o.json) return void process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      const g = (n: number) => `${Math.round(n / 1024 ** 3)}G`;
      printTable(
        ["NAME", "VMS", "VCPUS", "MEMORY", "DISK"],
        rows.map((t) => [
          t.name,
          `${t.usage.vms}/${t.quota.vms}`,
          `${t.usage.vcpus}/${t.quota.vcpus}`,
          `${g(t.usage.memory)}/${g(t.quota.memory)}`,
          `${g(t.usage.disk)}/${g(t.quota.disk)}`,
        ]),
      );
    });
  tenant
    .command("delete")
    .argument("<name>")
    .description("delete a tenant with all its VMs, images and snapshots")
    .action(async (name: string) => {
      await call(endpointFromEnv(), "DELETE", `/v1/tenants/${encodeURIComponent(name)}`);
    });
}

/**
 * The REST API as one table: method, path, who may call it, the schemas
 * of its request and answer, and its handler. server.ts registers the
 * table with Fastify; openapi.ts writes the same table as the OpenAPI
 * document. Every name a tenant gives is looked up within the caller's
 * tenant only, so another tenant's VM, image or snapshot is a 404 (the
 * same answer as a name that does not exist), and tenant routes are
 * admin-only (403).
 */

import { rmSync, statSync } from "node:fs";
import type { Readable } from "node:stream";
import type { FastifyRequest } from "fastify";
import { VirtusError } from "../machine/errors.ts";
import type { Caller } from "./auth.ts";
import { ADMIN_TENANT, newToken, tokenHash } from "./auth.ts";
import type { ApiContext } from "./context.ts";
import { checkName, definitionJson, parseDefinition, type VmDefinition } from "./definition.ts";
import { conflict, forbidden, notFound, wrongState } from "./errors.ts";
import { deleteImage, importImage } from "./images.ts";
import type { LiveVm } from "./manager.ts";
import { metricsText } from "./metrics.ts";
import { checkDisk, checkVmQuota, DEFAULT_QUOTA, usageOf } from "./quota.ts";
import * as S from "./schemas.ts";
import type { ImageRow, Quota, Store, TenantRow, VmRow } from "./store.ts";

export type { ApiContext } from "./context.ts";

export interface Call {
  ctx: ApiContext;
  caller: Caller;
  tenant: TenantRow;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  req: FastifyRequest;
}

export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Fastify's form: /v1/vms/:name */
  url: string;
  summary: string;
  /** none: anyone (the API document); tenant: any token; admin: the admin's token. */
  auth: "none" | "tenant" | "admin";
  params?: object;
  query?: object;
  body?: object;
  /** Request body media types besides JSON. */
  consumes?: string[];
  /** Status and schema of a successful answer. */
  ok: { status: number; schema: object; mediaType?: string };
  /** The console is a WebSocket (the handler is in server.ts). */
  websocket?: boolean;
  /** A file of the web console (ui/assets.ts). */
  asset?: boolean;
  handle?: (c: Call) => Promise<unknown>;
}

const vmRow = (c: Call): VmRow => {
  const row = c.ctx.store.vm(c.tenant.id, c.params.name);
  if (row === undefined) throw notFound(`VM ${c.params.name}`);
  return row;
};

const defOf = (row: VmRow): VmDefinition => parseDefinition(JSON.parse(row.definition));

function stateOf(row: VmRow, live: LiveVm | undefined): string {
  return live?.state ?? row.state;
}

function summary(c: Call, row: VmRow) {
  const d = defOf(row);
  const live = c.ctx.manager.get(row.id);
  return {
    name: row.name,
    state: stateOf(row, live),
    reason: live ? "" : row.reason,
    vcpus: d.vcpus,
    memory: d.memory,
    cpu_limit: d.cpuLimit,
  };
}

async function info(c: Call, row: VmRow) {
  const live = c.ctx.manager.get(row.id);
  const status = await c.ctx.manager.status(row);
  return {
    ...summary(c, row),
    created: row.created,
    definition: definitionJson(defOf(row)),
    instructions: status?.instructions ?? null,
    uptime_ms: live ? Date.now() - live.startedMs : null,
    snapshots: c.ctx.store.snapshots(row.id).map((s) => s.name),
  };
}

/** The quota a request body gives; fields it leaves out keep `base` (the defaults, or the current quota). */
function quotaOf(body: unknown, base: Quota = DEFAULT_QUOTA): Quota {
  const q = (body ?? {}) as Record<string, unknown>;
  return {
    maxVms: (q.vms as number | undefined) ?? base.maxVms,
    maxVcpus: (q.vcpus as number | undefined) ?? base.maxVcpus,
    maxMemory: q.memory === undefined ? base.maxMemory : parseQuotaSize(q.memory, "quota.memory"),
    maxDisk: q.disk === undefined ? base.maxDisk : parseQuotaSize(q.disk, "quota.disk"),
  };
}

function parseQuotaSize(v: unknown, what: string): number {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  const m = typeof v === "string" ? /^(\d+(?:\.\d+)?)([KMGT]?)i?B?$/i.exec(v.trim()) : null;
  const bytes = m
    ? Math.round(Number(m[1]) * 1024 ** " KMGT".indexOf(m[2].toUpperCase() || " "))
    : Number.NaN;
  if (!Number.isSafeInteger(bytes))
    throw new VirtusError("bad-request", `${what}: use bytes or a size like 8G`);
  return bytes;
}

function tenantJson(store: Store, t: TenantRow) {
  const u = usageOf(store, t.id);
  return {
    name: t.name,
    quota: { vms: t.maxVms, vcpus: t.maxVcpus, memory: t.maxMemory, disk: t.maxDisk },
    usage: u,
  };
}

const imageJson = (i: ImageRow) => ({ name: i.name, format: i.format, size: i.size, created: i.created });

/** Definitions of the tenant that name an image (as kernel, initrd or disk). */
function imageUsers(store: Store, tenantId: number, image: string): VmRow[] {
  return store.vms(tenantId).filter((r) => {
    const d = defOf(r);
    return d.kernel === image || d.initrd === image || d.disks.some((x) => x.image === image);
  });
}

const lifecycle = (
  action: string,
  summaryText: string,
  run: (c: Call, row: VmRow) => Promise<unknown>,
  query?: object,
): Route => ({
  method: "POST",
  url: `/v1/vms/:name/${action}`,
  summary: summaryText,
  auth: "tenant",
  params: S.nameParams,
  query,
  ok: { status: 200, schema: S.vmSummary },
  handle: async (c) => {
    const row = vmRow(c);
    await run(c, row);
    return summary(c, c.ctx.store.vm(c.tenant.id, row.name) ?? row);
  },
});

const asset = (url: string, summary: string, mediaType: string): Route => ({
  method: "GET",
  url,
  summary,
  auth: "none",
  asset: true,
  ok: { status: 200, schema: { type: "string" }, mediaType },
});

export const ROUTES: Route[] = [
  asset("/ui", "The web console: log in with a token, VMs, charts, the serial console", "text/html"),
  asset("/ui/app.js", "The web console's script", "text/javascript"),
  asset("/ui/xterm.js", "xterm.js, the web console's terminal", "text/javascript"),
  asset("/ui/xterm.css", "xterm.js's style sheet", "text/css"),
  {
    method: "GET",
    url: "/openapi.json",
    summary: "This API's OpenAPI document",
    auth: "none",
    ok: { status: 200, schema: { type: "object" } },
  },
  {
    method: "GET",
    url: "/metrics",
    summary: "Per-VM CPU time, instructions, memory, console, disk and network I/O in Prometheus text format",
    auth: "tenant",
    ok: { status: 200, schema: { type: "string" }, mediaType: "text/plain" },
    handle: async (c) => metricsText(c.ctx, c.caller),
  },
  // Tenants (admin)
  {
    method: "GET",
    url: "/v1/tenants",
    summary: "List tenants with their quotas and usage",
    auth: "admin",
    ok: { status: 200, schema: { type: "array", items: S.tenant } },
    handle: async (c) => c.ctx.store.tenants().map((t) => tenantJson(c.ctx.store, t)),
  },
  {
    method: "POST",
    url: "/v1/tenants",
    summary: "Create a tenant; the answer carries its token (shown once)",
    auth: "admin",
    body: {
      type: "object",
      required: ["name"],
      additionalProperties: false,
      properties: { name: S.name, quota: S.quota },
    },
    ok: {
      status: 201,
      schema: { type: "object", properties: { name: S.name, token: { type: "string" } } },
    },
    handle: async (c) => {
      const b = c.body as { name: string; quota?: unknown };
      const name = checkName(b.name, "name");
      const quota = quotaOf(b.quota);
      if (c.ctx.store.tenantByName(name) !== undefined)
        throw conflict(`a tenant named ${name} exists already`);
      const token = newToken();
      c.ctx.store.transaction(() => {
        const t = c.ctx.store.addTenant(name, quota);
        c.ctx.store.addToken(tokenHash(token), t.id);
      });
      return { name, token };
    },
  },
  {
    method: "PUT",
    url: "/v1/tenants/:name/quota",
    summary: "Set a tenant's quota (fields left out keep their value)",
    auth: "admin",
    params: S.nameParams,
    body: S.quota,
    ok: { status: 200, schema: S.tenant },
    handle: async (c) => {
      const t = c.ctx.store.tenantByName(c.params.name);
      if (t === undefined) throw notFound(`tenant ${c.params.name}`);
      c.ctx.store.setQuota(t.id, quotaOf(c.body, t));
      return tenantJson(c.ctx.store, c.ctx.store.tenantById(t.id)!);
    },
  },
  {
    method: "DELETE",
    url: "/v1/tenants/:name",
    summary: "Delete a tenant with no running VM: its tokens, VMs, images and snapshots go with it",
    auth: "admin",
    params: S.nameParams,
    ok: { status: 200, schema: S.empty },
    handle: async (c) => {
      const t = c.ctx.store.tenantByName(c.params.name);
      if (t === undefined) throw notFound(`tenant ${c.params.name}`);
      if (t.name === ADMIN_TENANT) throw forbidden("the admin tenant cannot be deleted");
      if (c.ctx.manager.running().some((v) => v.tenantId === t.id))
        throw wrongState(`tenant ${t.name} has running VMs: destroy them first`);
      for (const row of c.ctx.store.vms(t.id)) c.ctx.manager.forget(row);
      for (const img of c.ctx.store.images(t.id)) deleteImage(c.ctx.store, img, false);
      c.ctx.store.deleteTenant(t.id);
      return {};
    },
  },
  // VMs
  {
    method: "GET",
    url: "/v1/vms",
    summary: "List the tenant's VMs",
    auth: "tenant",
    ok: { status: 200, schema: { type: "array", items: S.vmSummary } },
    handle: async (c) => c.ctx.store.vms(c.tenant.id).map((r) => summary(c, r)),
  },
  {
    method: "POST",
    url: "/v1/vms",
    summary: "Define a VM from a JSON or YAML definition (virsh define); it starts with /start",
    auth: "tenant",
    body: S.definition,
    consumes: ["application/yaml"],
    ok: { status: 201, schema: S.vmInfo },
    handle: async (c) => {
      const def = parseDefinition(c.body);
      const store = c.ctx.store;
      if (store.vm(c.tenant.id, def.name) !== undefined)
        throw conflict(`a VM named ${def.name} exists already`);
      for (const img of [def.kernel, def.initrd, ...def.disks.map((d) => d.image)])
        if (img !== undefined && store.image(c.tenant.id, img) === undefined)
          throw new VirtusError("bad-request", `there is no image named ${img} (virtus vm image list)`);
      const row = store.transaction(() => {
        checkVmQuota(store, c.tenant, def);
        return store.addVm(c.tenant.id, def.name, JSON.stringify(definitionJson(def)));
      });
      return info(c, row);
    },
  },
  {
    method: "GET",
    url: "/v1/vms/:name",
    summary: "A VM's definition, state, instructions retired and snapshots (virsh dominfo)",
    auth: "tenant",
    params: S.nameParams,
    ok: { status: 200, schema: S.vmInfo },
    handle: async (c) => info(c, vmRow(c)),
  },
  {
    method: "DELETE",
    url: "/v1/vms/:name",
    summary: "Delete a stopped VM with its snapshots (virsh undefine)",
    auth: "tenant",
    params: S.nameParams,
    ok: { status: 200, schema: S.empty },
    handle: async (c) => {
      const row = vmRow(c);
      c.ctx.manager.forget(row);
      c.ctx.store.deleteVm(row.id);
      return {};
    },
  },
  lifecycle("start", "Boot the VM in its own worker thread", async (c, row) => {
    await c.ctx.manager.start(row);
  }),
  lifecycle(
    "shutdown",
    "Ask the guest to power off (syncing its disks); destroy it after timeout_ms (default 30000)",
    async (c, row) => {
      const t = c.query.timeout_ms as string | undefined;
      await c.ctx.manager.shutdown(row, t === undefined ? undefined : Number(t));
    },
    { type: "object", properties: { timeout_ms: { type: "string", pattern: "^[0-9]{1,6}$" } } },
  ),
  lifecycle("destroy", "Cut the VM's power at once", async (c, row) => c.ctx.manager.destroy(row)),
  lifecycle("reboot", "Reset the VM: it boots again from its definition", async (c, row) => {
    await c.ctx.manager.reboot(row);
  }),
  lifecycle("pause", "Stop the VM's harts; guest time stands still", async (c, row) => {
    await c.ctx.manager.command(row, { execute: "pause" });
  }),
  lifecycle("resume", "Run a paused VM again", async (c, row) => {
    await c.ctx.manager.command(row, { execute: "resume" });
  }),
  {
    method: "GET",
    url: "/v1/vms/:name/console",
    summary: "The serial console as a WebSocket: binary frames of guest output and keyboard input",
    auth: "tenant",
    params: S.nameParams,
    websocket: true,
    ok: { status: 101, schema: S.empty },
  },
  // Snapshots
  {
    method: "GET",
    url: "/v1/vms/:name/snapshots",
    summary: "List a VM's snapshots",
    auth: "tenant",
    params: S.nameParams,
    ok: { status: 200, schema: { type: "array", items: S.snapshot } },
    handle: async (c) =>
      c.ctx.store.snapshots(vmRow(c).id).map((s) => ({ name: s.name, size: s.size, created: s.created })),
  },
  {
    method: "POST",
    url: "/v1/vms/:name/snapshots",
    summary: "Save the running VM to a named snapshot",
    auth: "tenant",
    params: S.nameParams,
    body: { type: "object", required: ["name"], additionalProperties: false, properties: { name: S.name } },
    ok: { status: 201, schema: S.snapshot },
    handle: async (c) => {
      const row = vmRow(c);
      const snap = checkName((c.body as { name: string }).name, "name");
      const store = c.ctx.store;
      if (store.snapshot(row.id, snap) !== undefined)
        throw conflict(`${row.name} has a snapshot ${snap} already`);
      checkDisk(store, c.tenant, 0);
      const file = c.ctx.manager.snapshotFile(row.id, snap);
      await c.ctx.manager.command(row, { execute: "snapshot", arguments: { file } });
      const size = statSync(file).size;
      const s = store.addSnapshot(c.tenant.id, row.id, snap, file, size);
      return { name: s.name, size: s.size, created: s.created };
    },
  },
  {
    method: "POST",
    url: "/v1/vms/:name/snapshots/:snapshot/restore",
    summary: "Restore a snapshot into the VM (running or not: it runs from the snapshot)",
    auth: "tenant",
    params: S.snapParams,
    ok: { status: 200, schema: S.vmSummary },
    handle: async (c) => {
      const row = vmRow(c);
      const s = c.ctx.store.snapshot(row.id, c.params.snapshot);
      if (s === undefined) throw notFound(`snapshot ${c.params.snapshot} of ${row.name}`);
      if (c.ctx.manager.get(row.id) !== undefined)
        await c.ctx.manager.command(row, { execute: "restore", arguments: { file: s.file } });
      else await c.ctx.manager.start(row, { type: "boot", restore: { file: s.file } });
      return summary(c, row);
    },
  },
  {
    method: "DELETE",
    url: "/v1/vms/:name/snapshots/:snapshot",
    summary: "Delete a snapshot",
    auth: "tenant",
    params: S.snapParams,
    ok: { status: 200, schema: S.empty },
    handle: async (c) => {
      const row = vmRow(c);
      const s = c.ctx.store.snapshot(row.id, c.params.snapshot);
      if (s === undefined) throw notFound(`snapshot ${c.params.snapshot} of ${row.name}`);
      c.ctx.store.deleteSnapshot(s.id);
      rmSync(s.file, { force: true });
      return {};
    },
  },
  {
    method: "POST",
    url: "/v1/vms/:name/clone",
    summary: "Define a new VM like this one and run it from one of its snapshots (new MAC)",
    auth: "tenant",
    params: S.nameParams,
    body: {
      type: "object",
      required: ["name", "snapshot"],
      additionalProperties: false,
      properties: { name: S.name, snapshot: S.name },
    },
    ok: { status: 201, schema: S.vmSummary },
    handle: async (c) => {
      const row = vmRow(c);
      const b = c.body as { name: string; snapshot: string };
      const s = c.ctx.store.snapshot(row.id, b.snapshot);
      if (s === undefined) throw notFound(`snapshot ${b.snapshot} of ${row.name}`);
      const store = c.ctx.store;
      const def = { ...defOf(row), name: checkName(b.name, "name") };
      if (store.vm(c.tenant.id, def.name) !== undefined)
        throw conflict(`a VM named ${def.name} exists already`);
      const clone = store.transaction(() => {
        checkVmQuota(store, c.tenant, def);
        return store.addVm(c.tenant.id, def.name, JSON.stringify(definitionJson(def)));
      });
      await c.ctx.manager.start(clone, { type: "boot", restore: { file: s.file, clone: {} } });
      return summary(c, clone);
    },
  },
  // Images
  {
    method: "GET",
    url: "/v1/images",
    summary: "List the tenant's images",
    auth: "tenant",
    ok: { status: 200, schema: { type: "array", items: S.image } },
    handle: async (c) => c.ctx.store.images(c.tenant.id).map(imageJson),
  },
  {
    method: "PUT",
    url: "/v1/images/:name",
    summary: "Import an image (raw or qcow2 disk, kernel or initramfs) from the request body",
    auth: "tenant",
    params: S.nameParams,
    consumes: ["application/octet-stream"],
    ok: { status: 201, schema: S.image },
    handle: async (c) =>
      imageJson(await importImage(c.ctx.store, c.ctx.dataDir, c.tenant, c.params.name, c.body as Readable)),
  },
  {
    method: "DELETE",
    url: "/v1/images/:name",
    summary: "Delete an image no VM definition names",
    auth: "tenant",
    params: S.nameParams,
    ok: { status: 200, schema: S.empty },
    handle: async (c) => {
      const img = c.ctx.store.image(c.tenant.id, c.params.name);
      if (img === undefined) throw notFound(`image ${c.params.name}`);
      const users = imageUsers(c.ctx.store, c.tenant.id, img.name);
      if (users.length > 0)
        throw conflict(
          `image ${img.name} is named by VM ${users.map((u) => u.name).join(", ")}: delete them first`,
        );
      deleteImage(c.ctx.store, img, false);
      return {};
    },
  },
];

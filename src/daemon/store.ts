/**
 * The daemon's store (issue 13, item 2): tenants, token hashes, VM
 * definitions, images and snapshots in one SQLite file (node:sqlite) in
 * WAL mode with synchronous=FULL, so a row is on disk once its statement
 * returns: `kill -9` at any moment loses no committed definition.
 *
 * Schema changes are migrations: MIGRATIONS[i] takes the database from
 * user_version i to i+1, each in one transaction.
 */
import { DatabaseSync } from "node:sqlite";

const MIGRATIONS: string[] = [
  `CREATE TABLE tenants (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     max_vms INTEGER NOT NULL,
     max_vcpus INTEGER NOT NULL,
     max_memory INTEGER NOT NULL,
     max_disk INTEGER NOT NULL,
     created TEXT NOT NULL
   );
   CREATE TABLE tokens (
     hash TEXT PRIMARY KEY,
     tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
     admin INTEGER NOT NULL DEFAULT 0,
     created TEXT NOT NULL
   );
   CREATE TABLE vms (
     id INTEGER PRIMARY KEY,
     tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     definition TEXT NOT NULL,
     state TEXT NOT NULL,
     reason TEXT NOT NULL DEFAULT '',
     created TEXT NOT NULL,
     UNIQUE (tenant_id, name)
   );
   CREATE TABLE images (
     id INTEGER PRIMARY KEY,
     tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     format TEXT NOT NULL,
     file TEXT NOT NULL,
     size INTEGER NOT NULL,
     created TEXT NOT NULL,
     UNIQUE (tenant_id, name)
   );
   CREATE TABLE snapshots (
     id INTEGER PRIMARY KEY,
     tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
     vm_id INTEGER NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     file TEXT NOT NULL,
     size INTEGER NOT NULL,
     created TEXT NOT NULL,
     UNIQUE (vm_id, name)
   );`,
];

/** Stored VM states; "running" and "paused" are only true while this daemon process runs. */
export type StoredVmState = "stopped" | "running" | "paused" | "failed";

export interface Quota {
  maxVms: number;
  maxVcpus: number;
  /** Bytes of guest RAM over all the tenant's VMs. */
  maxMemory: number;
  /** Bytes of images and snapshots. */
  maxDisk: number;
}

export interface TenantRow extends Quota {
  id: number;
  name: string;
  created: string;
}

export interface VmRow {
  id: number;
  tenantId: number;
  name: string;
  /** The definition as JSON text (src/daemon/definition.ts). */
  definition: string;
  state: StoredVmState;
  reason: string;
  created: string;
}

export interface ImageRow {
  id: number;
  tenantId: number;
  name: string;
  format: "raw" | "qcow2" | "kernel";
  file: string;
  size: number;
  created: string;
}

export interface SnapshotRow {
  id: number;
  tenantId: number;
  vmId: number;
  name: string;
  file: string;
  size: number;
  created: string;
}

type Row = Record<string, unknown>;
const now = () => new Date().toISOString();

function tenantOf(r: Row): TenantRow {
  return {
    id: Number(r.id),
    name: String(r.name),
    maxVms: Number(r.max_vms),
    maxVcpus: Number(r.max_vcpus),
    maxMemory: Number(r.max_memory),
    maxDisk: Number(r.max_disk),
    created: String(r.created),
  };
}

function vmOf(r: Row): VmRow {
  return {
    id: Number(r.id),
    tenantId: Number(r.tenant_id),
    name: String(r.name),
    definition: String(r.definition),
    state: String(r.state) as StoredVmState,
    reason: String(r.reason),
    created: String(r.created),
  };
}

function imageOf(r: Row): ImageRow {
  return {
    id: Number(r.id),
    tenantId: Number(r.tenant_id),
    name: String(r.name),
    format: String(r.format) as ImageRow["format"],
    file: String(r.file),
    size: Number(r.size),
    created: String(r.created),
  };
}

function snapshotOf(r: Row): SnapshotRow {
  return {
    id: Number(r.id),
    tenantId: Number(r.tenant_id),
    vmId: Number(r.vm_id),
    name: String(r.name),
    file: String(r.file),
    size: Number(r.size),
    created: String(r.created),
  };
}

export class Store {
  private readonly db: DatabaseSync;

  constructor(file: string) {
    this.db = new DatabaseSync(file);
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
    this.db.exec("PRAGMA busy_timeout = 5000;");
    this.migrate();
  }

  /** The schema version (number of migrations applied). */
  get version(): number {
    return Number((this.db.prepare("PRAGMA user_version").get() as Row).user_version);
  }

  private migrate(): void {
    for (let v = this.version; v < MIGRATIONS.length; v++)
      this.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.exec(`PRAGMA user_version = ${v + 1}`);
      });
  }

  transaction<T>(f: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const r = f();
      this.db.exec("COMMIT");
      return r;
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  close(): void {
    this.db.close();
  }

  // Tenants and tokens

  addTenant(name: string, quota: Quota): TenantRow {
    const r = this.db
      .prepare(
        "INSERT INTO tenants (name, max_vms, max_vcpus, max_memory, max_disk, created) VALUES (?,?,?,?,?,?) RETURNING *",
      )
      .get(name, quota.maxVms, quota.maxVcpus, quota.maxMemory, quota.maxDisk, now()) as Row;
    return tenantOf(r);
  }

  setQuota(id: number, quota: Quota): void {
    this.db
      .prepare("UPDATE tenants SET max_vms=?, max_vcpus=?, max_memory=?, max_disk=? WHERE id=?")
      .run(quota.maxVms, quota.maxVcpus, quota.maxMemory, quota.maxDisk, id);
  }

  tenantByName(name: string): TenantRow | undefined {
    const r = this.db.prepare("SELECT * FROM tenants WHERE name=?").get(name) as Row | undefined;
    return r && tenantOf(r);
  }

  tenantById(id: number): TenantRow | undefined {
    const r = this.db.prepare("SELECT * FROM tenants WHERE id=?").get(id) as Row | undefined;
    return r && tenantOf(r);
  }

  tenants(): TenantRow[] {
    return (this.db.prepare("SELECT * FROM tenants ORDER BY name").all() as Row[]).map(tenantOf);
  }

  deleteTenant(id: number): void {
    this.db.prepare("DELETE FROM tenants WHERE id=?").run(id);
  }

  /** Stores a token's hash (never the token); an admin token may also manage tenants. */
  addToken(hash: string, tenantId: number, admin = false): void {
    this.db
      .prepare("INSERT INTO tokens (hash, tenant_id, admin, created) VALUES (?,?,?,?)")
      .run(hash, tenantId, admin ? 1 : 0, now());
  }

  /** Who holds a token hash, or undefined if it is unknown. */
  tokenOwner(hash: string): { tenantId: number; admin: boolean } | undefined {
    const r = this.db.prepare("SELECT tenant_id, admin FROM tokens WHERE hash=?").get(hash) as
      | Row
      | undefined;
    return r && { tenantId: Number(r.tenant_id), admin: Number(r.admin) === 1 };
  }

  // VMs

  addVm(tenantId: number, name: string, definition: string): VmRow {
    const r = this.db
      .prepare(
        "INSERT INTO vms (tenant_id, name, definition, state, created) VALUES (?,?,?,'stopped',?) RETURNING *",
      )
      .get(tenantId, name, definition, now()) as Row;
    return vmOf(r);
  }

  vm(tenantId: number, name: string): VmRow | undefined {
    const r = this.db.prepare("SELECT * FROM vms WHERE tenant_id=? AND name=?").get(tenantId, name) as
      | Row
      | undefined;
    return r && vmOf(r);
  }

  vms(tenantId?: number): VmRow[] {
    const rows =
      tenantId === undefined
        ? this.db.prepare("SELECT * FROM vms ORDER BY tenant_id, name").all()
        : this.db.prepare("SELECT * FROM vms WHERE tenant_id=? ORDER BY name").all(tenantId);
    return (rows as Row[]).map(vmOf);
  }

  setVmState(id: number, state: StoredVmState, reason = ""): void {
    this.db.prepare("UPDATE vms SET state=?, reason=? WHERE id=?").run(state, reason, id);
  }

  deleteVm(id: number): void {
    this.db.prepare("DELETE FROM vms WHERE id=?").run(id);
  }

  /**
   * At startup: VMs this store says are running or paused belong to a
   * daemon that is gone (their workers died with it). They are reported
   * stopped, never started again by themselves.
   */
  stopOrphans(reason: string): number {
    return Number(
      this.db
        .prepare("UPDATE vms SET state='stopped', reason=? WHERE state IN ('running','paused')")
        .run(reason).changes,
    );
  }

  // Images and snapshots

  addImage(tenantId: number, name: string, format: ImageRow["format"], file: string, size: number): ImageRow {
    const r = this.db
      .prepare(
        "INSERT INTO images (tenant_id, name, format, file, size, created) VALUES (?,?,?,?,?,?) RETURNING *",
      )
      .get(tenantId, name, format, file, size, now()) as Row;
    return imageOf(r);
  }

  image(tenantId: number, name: string): ImageRow | undefined {
    const r = this.db.prepare("SELECT * FROM images WHERE tenant_id=? AND name=?").get(tenantId, name) as
      | Row
      | undefined;
    return r && imageOf(r);
  }

  images(tenantId: number): ImageRow[] {
    return (
      this.db.prepare("SELECT * FROM images WHERE tenant_id=? ORDER BY name").all(tenantId) as Row[]
    ).map(imageOf);
  }

  deleteImage(id: number): void {
    this.db.prepare("DELETE FROM images WHERE id=?").run(id);
  }

  addSnapshot(tenantId: number, vmId: number, name: string, file: string, size: number): SnapshotRow {
    const r = this.db
      .prepare(
        "INSERT INTO snapshots (tenant_id, vm_id, name, file, size, created) VALUES (?,?,?,?,?,?) RETURNING *",
      )
      .get(tenantId, vmId, name, file, size, now()) as Row;
    return snapshotOf(r);
  }

  snapshot(vmId: number, name: string): SnapshotRow | undefined {
    const r = this.db.prepare("SELECT * FROM snapshots WHERE vm_id=? AND name=?").get(vmId, name) as
      | Row
      | undefined;
    return r && snapshotOf(r);
  }

  snapshots(vmId: number): SnapshotRow[] {
    return (this.db.prepare("SELECT * FROM snapshots WHERE vm_id=? ORDER BY created").all(vmId) as Row[]).map(
      snapshotOf,
    );
  }

  deleteSnapshot(id: number): void {
    this.db.prepare("DELETE FROM snapshots WHERE id=?").run(id);
  }

  /** Bytes a tenant holds in images and snapshots. */
  diskUsed(tenantId: number): number {
    const a = this.db
      .prepare("SELECT COALESCE(SUM(size),0) s FROM images WHERE tenant_id=?")
      .get(tenantId) as Row;
    const b = this.db
      .prepare("SELECT COALESCE(SUM(size),0) s FROM snapshots WHERE tenant_id=?")
      .get(tenantId) as Row;
    return Number(a.s) + Number(b.s);
  }
}

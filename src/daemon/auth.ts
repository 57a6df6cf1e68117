/**
 * Bearer tokens: random, shown once, stored only as their SHA-256 hash
 * (the store never holds a token a leaked database would give away).
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "./store.ts";

export interface Caller {
  tenantId: number;
  admin: boolean;
}

export const ADMIN_TENANT = "admin";
export const ADMIN_TOKEN_FILE = "admin.token";

export function newToken(): string {
  return `vt_${randomBytes(24).toString("base64url")}`;
}

export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** The caller a request's `Authorization: Bearer TOKEN` (or `?token=` for browsers' WebSockets) names. */
export function callerOf(store: Store, header: string | undefined, queryToken: unknown): Caller | undefined {
  const m = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
  const token = m?.[1] ?? (typeof queryToken === "string" ? queryToken : undefined);
  if (token === undefined || token.length > 200) return undefined;
  return store.tokenOwner(tokenHash(token));
}

/**
 * On first start (no DIR/admin.token yet): the admin tenant and its token,
 * written to DIR/admin.token with mode 0600. Later starts reuse the file.
 */
export function ensureAdmin(
  store: Store,
  dataDir: string,
  adminQuota: Parameters<Store["addTenant"]>[1],
): string {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const token = newToken();
  store.transaction(() => {
    const t = store.tenantByName(ADMIN_TENANT) ?? store.addTenant(ADMIN_TENANT, adminQuota);
    store.addToken(tokenHash(token), t.id, true);
  });
  writeSecret(file, `${token}\n`);
  return token;
}

/** Writes a file only its owner can read (0600 from the start), durably, by rename. */
function writeSecret(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

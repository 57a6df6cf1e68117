/**
 * Checks for configuration values that arrive as JSON (a config file, a
 * control socket, a snapshot header): each names the field in its error,
 * so a user sees which entry to fix.
 */
import { VirtusError } from "../machine/errors.ts";

const bad = (where: string, what: string) => new VirtusError("bad-config", `${where}: ${what}`);

export function expectObject(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw bad(where, "expected an object");
  return v as Record<string, unknown>;
}

export function expectString(v: unknown, where: string): string {
  if (typeof v !== "string") throw bad(where, "expected a string");
  return v;
}

export function expectBoolean(v: unknown, where: string): boolean {
  if (typeof v !== "boolean") throw bad(where, "expected true or false");
  return v;
}

export function expectInteger(v: unknown, where: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    throw bad(where, `expected a whole number from ${min} to ${max}`);
  return v;
}

export function expectArray(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw bad(where, "expected a list");
  return v;
}

export function badConfig(where: string, what: string): VirtusError {
  return bad(where, what);
}

/**
 * How the daemon's refusals reach a client: a VirtusError's code becomes
 * the HTTP status, its message the one line the CLI prints. The body is
 * always `{"error": {"code", "message"}}`.
 */
import { VirtusError } from "../machine/errors.ts";

const STATUS: Record<string, number> = {
  "bad-request": 400,
  unauthorized: 401,
  forbidden: 403,
  quota: 403,
  "not-found": 404,
  conflict: 409,
  "wrong-state": 409,
  "vm-failed": 500,
};

export const notFound = (what: string) => new VirtusError("not-found", `${what} does not exist`);
export const conflict = (message: string) => new VirtusError("conflict", message);
export const wrongState = (message: string) => new VirtusError("wrong-state", message);
export const forbidden = (message: string) => new VirtusError("forbidden", message);

export function statusOf(e: VirtusError): number {
  return STATUS[e.code] ?? 400;
}

export interface ErrorBody {
  error: { code: string; message: string };
}

import { VirtusError } from "../errors.ts";

/**
 * Component state as plain, named, versioned data (design 2.8). Every
 * stateful component implements Stateful: saveState() returns a record of
 * numbers, strings, booleans, plain objects, arrays and typed arrays
 * (Uint8Array, Int32Array, Float64Array) — what structuredClone and the
 * snapshot file (src/formats/snapshot/) carry unchanged; restoreState()
 * validates it as untrusted input (a snapshot file may be corrupt or
 * hostile) and loads it.
 */
export interface Stateful<S> {
  saveState(): S;
  restoreState(state: S): void;
}

/**
 * Thrown for a state record that does not fit the component, and for a
 * snapshot that cannot be restored (a corrupt file, another version, a
 * different configuration). A VirtusError, so front ends print one line.
 */
export class StateError extends VirtusError {
  constructor(component: string, why: string) {
    super("bad-snapshot", `${component} state: ${why}`);
    this.name = "StateError";
  }
}

export function expectVersion(component: string, state: { version?: unknown }, version: number): void {
  if (typeof state !== "object" || state === null) throw new StateError(component, "not a record");
  if (state.version !== version)
    throw new StateError(component, `version ${String(state.version)}, expected ${version}`);
}

/** `v` as a record (a non-null, non-array object) whose fields can then be checked one by one. */
export function expectRecord(component: string, name: string, v: unknown): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v) || ArrayBuffer.isView(v))
    throw new StateError(component, `${name} must be a record`);
  return v as Record<string, unknown>;
}

export function expectInt32Array(component: string, name: string, v: unknown, length: number): Int32Array {
  if (!(v instanceof Int32Array) || v.length !== length)
    throw new StateError(component, `${name} must be ${length} int32 words`);
  return v;
}

/** Bytes of at most `maxLength` (or exactly `maxLength` when `exact`). */
export function expectBytes(
  component: string,
  name: string,
  v: unknown,
  maxLength: number,
  exact = false,
): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length > maxLength || (exact && v.length !== maxLength))
    throw new StateError(component, `${name} must be ${exact ? "" : "at most "}${maxLength} bytes`);
  return v;
}

export function expectBoolean(component: string, name: string, v: unknown): boolean {
  if (typeof v !== "boolean") throw new StateError(component, `${name} must be a boolean`);
  return v;
}

export function expectString(component: string, name: string, v: unknown, maxLength = 4096): string {
  if (typeof v !== "string" || v.length > maxLength)
    throw new StateError(component, `${name} must be a string of at most ${maxLength} characters`);
  return v;
}

/** Any finite number (fractions allowed: limiter times in ms, token counts). */
export function expectFinite(component: string, name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new StateError(component, `${name} must be a finite number`);
  return v;
}

export function expectNumber(component: string, name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max || Math.floor(v) !== v) {
    throw new StateError(component, `${name} must be a whole number in ${min}..${max}`);
  }
  return v;
}

/**
 * Component state as plain, named, versioned data (design 2.8). Every
 * stateful component implements Stateful: saveState() returns a record of
 * numbers, strings and typed arrays; restoreState() validates it as
 * untrusted input (a snapshot file may be corrupt or hostile) and loads it.
 */
export interface Stateful<S> {
  saveState(): S;
  restoreState(state: S): void;
}

/** Thrown for a state record that does not fit the component. */
export class StateError extends Error {
  constructor(component: string, why: string) {
    super(`${component} state: ${why}`);
    this.name = "StateError";
  }
}

export function expectVersion(component: string, state: { version?: unknown }, version: number): void {
  if (typeof state !== "object" || state === null) throw new StateError(component, "not a record");
  if (state.version !== version)
    throw new StateError(component, `version ${String(state.version)}, expected ${version}`);
}

export function expectInt32Array(component: string, name: string, v: unknown, length: number): Int32Array {
  if (!(v instanceof Int32Array) || v.length !== length)
    throw new StateError(component, `${name} must be ${length} int32 words`);
  return v;
}

export function expectNumber(component: string, name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max || Math.floor(v) !== v) {
    throw new StateError(component, `${name} must be a whole number in ${min}..${max}`);
  }
  return v;
}

import assert from "node:assert/strict";

/**
 * The shared state round-trip check (design 2.8), for every stateful
 * component: save a used instance, restore into a fresh one, save again,
 * and require the two records to be identical.
 */
export function assertRoundTrip<T, S>(
  used: T,
  fresh: T,
  save: (c: T) => S,
  restore: (c: T, s: S) => void,
): S {
  const first = save(used);
  // Restore from a structured clone: the record must be plain data that survives a worker message or a file.
  restore(fresh, structuredClone(first));
  const second = save(fresh);
  assert.deepStrictEqual(second, first);
  return first;
}

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";

const root = join(import.meta.dirname, "..");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name));
}

/** Relative imports (value and type imports alike: both are dependencies of the design). */
function importsOf(file: string): string[] {
  const src = readFileSync(file, "utf8");
  return [...src.matchAll(/(?:import|export)[^"';]*?from\s*["'](\.[^"']+)["']/g)].map((m) =>
    join(file, "..", m[1]),
  );
}

test("src/ has no import cycles", () => {
  const files = sources(join(root, "src"));
  const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => t.endsWith(".ts"))]));
  const cycles = new Set<string>();
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, "open");
    stack.push(f);
    for (const t of graph.get(f) ?? []) {
      if (state.get(t) === "open") {
        const cycle = stack.slice(stack.indexOf(t)).map((x) => relative(root, x));
        // Rotate so the cycle starts at its smallest file: the same cycle prints the same way.
        const start = cycle.indexOf([...cycle].sort()[0]);
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.add([...rotated, rotated[0]].join(" -> "));
      } else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
  assert.deepEqual([...cycles], []);
});

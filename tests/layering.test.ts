import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";

const root = join(import.meta.dirname, "..");

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name));
}

const importsOf = (src: string) =>
  [...src.matchAll(/(?:import|export)[^"']*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map(
    (m) => m[1] ?? m[2],
  );

test("src/machine, src/net and src/vm are platform-neutral: no node: imports, no host globals (design 2.2)", () => {
  const offenders: string[] = [];
  for (const f of ["src/machine", "src/net", "src/vm"].flatMap((d) => filesUnder(join(root, d)))) {
    const src = readFileSync(f, "utf8");
    for (const spec of importsOf(src)) {
      if (spec.startsWith("node:") || !spec.startsWith("."))
        offenders.push(`${relative(root, f)} imports ${spec}`);
    }
    if (/\b(process|require|Buffer|__dirname)\b\s*[.(]/.test(src))
      offenders.push(`${relative(root, f)} uses a Node global`);
  }
  assert.deepEqual(offenders, []);
});

test("the disk-image formats (src/formats: raw, qcow2) are platform-neutral: the host injects files and inflate", () => {
  const offenders: string[] = [];
  for (const f of filesUnder(join(root, "src/formats")).filter((f) => !/snapshot/.test(f))) {
    for (const spec of importsOf(readFileSync(f, "utf8")))
      if (spec.startsWith("node:") || !spec.startsWith(".") || /\/(cli|host)\//.test(join(f, "..", spec)))
        offenders.push(`${relative(root, f)} imports ${spec}`);
  }
  assert.deepEqual(offenders, []);
});

test("imports only go down the layers: machine, net, vm and isa never import cli, host, daemon or api", () => {
  const upper = ["/cli/", "/host/", "/daemon/", "/api/"];
  const offenders: string[] = [];
  for (const dir of ["src/machine", "src/net", "src/vm", "src/isa"]) {
    for (const f of filesUnder(join(root, dir))) {
      for (const spec of importsOf(readFileSync(f, "utf8"))) {
        // Relative to the repository: a checkout's own path (e.g. …/daemon/) must not count.
        const target = `/${relative(root, join(f, "..", spec))}`;
        if (upper.some((u) => target.includes(u))) offenders.push(`${relative(root, f)} imports ${spec}`);
      }
    }
  }
  for (const f of [...filesUnder(join(root, "src/machine")), ...filesUnder(join(root, "src/net"))]) {
    for (const spec of importsOf(readFileSync(f, "utf8"))) {
      if (join(f, "..", spec).includes("/src/vm/")) offenders.push(`${relative(root, f)} imports ${spec}`);
    }
  }
  for (const f of filesUnder(join(root, "src/isa"))) {
    for (const spec of importsOf(readFileSync(f, "utf8"))) {
      if (join(f, "..", spec).includes("/machine/")) offenders.push(`${relative(root, f)} imports ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});

test("the interpreter reaches the JIT only through cpu/tier.ts: src/machine/cpu imports nothing from jit/", () => {
  const offenders: string[] = [];
  for (const f of filesUnder(join(root, "src/machine/cpu")))
    for (const spec of importsOf(readFileSync(f, "utf8")))
      if (join(f, "..", spec).includes("/src/machine/jit/"))
        offenders.push(`${relative(root, f)} imports ${spec}`);
  assert.deepEqual(offenders, []);
});

test("the generated decoder and op tags are up to date with the table", async () => {
  const { execFileSync } = await import("node:child_process");
  execFileSync(process.execPath, [join(root, "scripts/gen-isa.ts"), "--check"], { stdio: "pipe" });
});

test("the browser host (src/host/browser, web/) uses no Node API and never imports the Node host", () => {
  const offenders: string[] = [];
  const allowed = new Set(["@xterm/xterm", "fzstd"]);
  for (const f of ["src/host/browser", "web"].flatMap((d) => filesUnder(join(root, d)))) {
    const src = readFileSync(f, "utf8");
    for (const spec of importsOf(src)) {
      const target = `/${relative(root, join(f, "..", spec))}`;
      if (
        spec.startsWith("node:") ||
        (!spec.startsWith(".") && !allowed.has(spec)) ||
        target.includes("/host/node/")
      )
        offenders.push(`${relative(root, f)} imports ${spec}`);
    }
    if (/\b(process|require|Buffer|__dirname)\b\s*[.(]/.test(src))
      offenders.push(`${relative(root, f)} uses a Node global`);
  }
  assert.deepEqual(offenders, []);
});

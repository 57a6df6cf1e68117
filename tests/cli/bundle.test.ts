/**
 * The bundled start (scripts/bundle.ts, bin/bundle.js): `virtus` runs the bundle while it matches the
 * sources and the sources as soon as one of its inputs changes, so an edit is never hidden by an old
 * bundle. Proven on a temporary copy of the checkout (its node_modules linked), edited like a developer
 * would: the CLI's own module, and a module deep in the machine.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { BUNDLE_DIR, CURRENT_FILE, currentBundle, inputStamp } from "../../bin/bundle.js";

const root = join(import.meta.dirname, "../..");
const scratch = mkdtempSync(join(tmpdir(), "virtus-bundle-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function copyCheckout(): string {
  const copy = join(scratch, "checkout");
  for (const f of ["src", "bin", "scripts", "package.json", "tsconfig.json"])
    cpSync(join(root, f), join(copy, f), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
  return copy;
}

function bundle(copy: string): void {
  const r = spawnSync(process.execPath, [join(copy, "scripts/bundle.ts")], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

/** `virtus ARGS` in the copy; `from` is what its start-up trace says it ran. */
function virtus(copy: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [join(copy, "bin/virtus.js"), ...args], {
    encoding: "utf8",
    env: { ...process.env, VIRTUS_TRACE_STARTUP: "1", VIRTUS_BUNDLE: undefined, ...env },
    timeout: 60_000,
  });
  const from = /^virtus-trace: [\d.]+ main code from (.*)$/m.exec(r.stderr)?.[1] ?? "(no trace)";
  return { code: r.status, out: r.stdout, err: r.stderr, from };
}

function edit(file: string, from: string, to: string): void {
  const text = readFileSync(file, "utf8");
  assert.ok(text.includes(from), `${file} has no "${from}"`);
  writeFileSync(file, text.replace(from, to));
}

describe("virtus from a copy of the checkout", () => {
  const copy = copyCheckout();
  const shortKernel = join(scratch, "short.bin");
  writeFileSync(shortKernel, "#!/bin/sh\necho hi\n");

  test("with no bundle it runs the sources; once bundled, the bundle", () => {
    const before = virtus(copy, ["--help"]);
    assert.equal(before.code, 0, before.err);
    assert.match(before.from, /^the sources \(no bundle\)/);
    bundle(copy);
    const after = virtus(copy, ["--help"]);
    assert.equal(after.code, 0, after.err);
    assert.equal(after.from, "the bundle");
    assert.equal(after.out, before.out);
    assert.match(virtus(copy, ["--help"], { VIRTUS_BUNDLE: "0" }).from, /^the sources \(VIRTUS_BUNDLE=0\)/);
  });

  test("an edit to the CLI's module runs at once, from the sources, then from the next bundle", () => {
    bundle(copy);
    edit(join(copy, "src/cli/main.ts"), "a RISC-V (RV64GC) virtualization platform", "EDITED platform");
    const edited = virtus(copy, ["--help"]);
    assert.match(edited.out, /EDITED platform/);
    assert.equal(edited.from, "the sources (src/cli/main.ts changed since the bundle was built)");
    bundle(copy);
    const rebundled = virtus(copy, ["--help"]);
    assert.equal(rebundled.from, "the bundle");
    assert.match(rebundled.out, /EDITED platform/);
  });

  test("an edit deep in the machine's code (a boot-image error) is seen the same way", () => {
    bundle(copy);
    const file = join(copy, "src/machine/board/boot-image.ts");
    const old = virtus(copy, ["run", "--kernel", shortKernel]);
    assert.equal(old.code, 2, old.err);
    assert.match(old.err, /bytes is too short to be a RISC-V/);
    edit(file, "bytes is too short to be", "bytes is EDITED-short to be");
    const edited = virtus(copy, ["run", "--kernel", shortKernel]);
    assert.match(edited.err, /bytes is EDITED-short to be/);
    assert.match(edited.from, /^the sources \(src\/machine\/board\/boot-image\.ts changed/);
    bundle(copy);
    const rebundled = virtus(copy, ["run", "--kernel", shortKernel]);
    assert.equal(rebundled.from, "the bundle");
    assert.match(rebundled.err, /bytes is EDITED-short to be/);
  });
});

describe("currentBundle's check of the inputs", () => {
  const dir = join(scratch, "fake");
  const build = join(dir, BUNDLE_DIR, "0123456789abcdef");
  mkdirSync(build, { recursive: true });
  mkdirSync(join(dir, "src"), { recursive: true });
  mkdirSync(join(dir, "node_modules/pkg"), { recursive: true });
  writeFileSync(join(build, "main.js"), "");
  const source = join(dir, "src/a.ts");
  const installed = join(dir, "node_modules/pkg/index.js");

  /** Writes both inputs and a current.json naming them as they are now. */
  function setUp(): void {
    writeFileSync(source, "export const a = 1;\n");
    writeFileSync(installed, "module.exports = 1;\n");
    const inputs = {
      "src/a.ts": inputStamp("src/a.ts", readFileSync(source)),
      "node_modules/pkg/index.js": inputStamp("node_modules/pkg/index.js", undefined, statSync(installed)),
    };
    writeFileSync(join(dir, BUNDLE_DIR, CURRENT_FILE), JSON.stringify({ dir: "0123456789abcdef", inputs }));
  }

  test("unchanged inputs: the bundle's main.js", () => {
    setUp();
    assert.deepEqual(currentBundle(dir, true), { main: join(build, "main.js") });
  });

  test("a source edited to the same size with its times put back is still seen (sources go by content)", () => {
    setUp();
    const { atime, mtime } = statSync(source);
    writeFileSync(source, "export const a = 2;\n");
    utimesSync(source, atime, mtime);
    assert.deepEqual(currentBundle(dir, true), { stale: "src/a.ts changed since the bundle was built" });
    assert.ok("main" in currentBundle(dir, false), "an installed package does not check its inputs");
  });

  test("a reinstalled package file, a deleted input, a missing build or current.json: not current", () => {
    setUp();
    utimesSync(installed, new Date(), new Date(Date.now() + 5000));
    assert.match(JSON.stringify(currentBundle(dir, true)), /node_modules\/pkg\/index\.js changed/);
    setUp();
    rmSync(source);
    assert.match(JSON.stringify(currentBundle(dir, true)), /src\/a\.ts changed/);
    setUp();
    rmSync(join(build, "main.js"));
    assert.match(JSON.stringify(currentBundle(dir, true)), /main\.js is missing/);
    writeFileSync(join(build, "main.js"), "");
    rmSync(join(dir, BUNDLE_DIR, CURRENT_FILE));
    assert.deepEqual(currentBundle(dir, true), { stale: "no bundle" });
  });
});

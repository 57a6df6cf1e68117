/**
 * The npm package as a user gets it: `npm pack` (which compiles dist/), then `npm install -g` of the
 * tarball into a temporary prefix, then the installed `virtus` from there: --version, run-elf, and
 * `virtus run` booting the prebuilt guest to GUEST-READY with an empty cache.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildElf, haveCrossGcc } from "./support/cross.ts";

const root = join(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
const scratch = mkdtempSync(join(tmpdir(), "virtus-pack-test-"));
const prefix = join(scratch, "prefix");
const installed = join(prefix, "bin", "virtus");
const npmEnv = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false" };
let files: string[] = [];

function npm(args: string[], cwd = root): string {
  const r = spawnSync("npm", args, { cwd, encoding: "utf8", env: npmEnv, timeout: 600_000 });
  assert.equal(r.status, 0, `npm ${args.join(" ")}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

before(() => {
  const [packed] = JSON.parse(npm(["pack", "--json", "--pack-destination", scratch])) as {
    filename: string;
    files: { path: string }[];
  }[];
  files = packed.files.map((f) => f.path);
  npm(
    ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", join(scratch, packed.filename)],
    scratch,
  );
});
after(() => rmSync(scratch, { recursive: true, force: true }));

describe("npm package", () => {
  test("holds compiled JavaScript and declarations, the prebuilt guest, README and LICENSE only", () => {
    const allowed = [
      /^package\.json$/,
      /^README\.md$/,
      /^LICENSE$/,
      /^bin\/[\w-]+\.js$/,
      /^dist\/.+\.(js|d\.ts)$/,
      /^dist\/web\/(index\.html|main\.css)$/,
      /^dist\/node\/current\.json$/,
      /^guest\/prebuilt\/[\w.-]+$/,
    ];
    const strays = files.filter((f) => !allowed.some((re) => re.test(f)));
    assert.deepEqual(strays, []);
    for (const f of ["LICENSE", "README.md", "bin/virtus.js", "dist/cli/main.js", "dist/cli/main.d.ts"])
      assert.ok(files.includes(f), f);
    assert.ok(files.includes("guest/prebuilt/manifest.json"));
    assert.ok(files.includes("dist/web/worker.js"), "the page of virtus web is prebuilt");
    assert.ok(files.includes("dist/node/current.json"), "the bundled start (scripts/bundle.ts) is there");
    assert.ok(!files.some((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), "TypeScript sources shipped");
  });

  test("the installed virtus web serves the prebuilt page and its worker", async () => {
    const child = spawn(installed, ["web", "--port", "0"], { stdio: ["ignore", "ignore", "pipe"] });
    try {
      let err = "";
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on("data", (d: Buffer) => {
          err += d.toString();
          const m = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(err);
          if (m) resolve(m[1]);
        });
        child.once("exit", () => reject(new Error(`virtus web exited: ${err}`)));
      });
      assert.match(await (await fetch(url)).text(), /<script src="main.js">/);
      const worker = await fetch(`${url}worker.js`);
      assert.equal(worker.status, 200);
      assert.ok((await worker.text()).length > 10_000);
    } finally {
      child.kill();
    }
  });

  test("the installed virtus prints its version, from the bundle", () => {
    const r = spawnSync(installed, ["--version"], {
      encoding: "utf8",
      env: { ...process.env, VIRTUS_TRACE_STARTUP: "1", VIRTUS_BUNDLE: undefined },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg.version);
    assert.match(r.stderr, /^virtus-trace: [\d.]+ main code from the bundle$/m);
  });

  test("the installed virtus run-elf runs a program and rejects a non-ELF in one line", () => {
    const notElf = join(scratch, "not.elf");
    writeFileSync(notElf, "not an ELF file, just text ".repeat(4));
    const bad = spawnSync(installed, ["run-elf", notElf], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^virtus: .*not an ELF file\n$/);
    if (!haveCrossGcc()) return;
    const elf = join(scratch, "pass.elf");
    writeFileSync(elf, buildElf('#include "test.h"\n.text\n.globl _start\n_start:\n PASS\nTOHOST_SECTION\n'));
    assert.equal(spawnSync(installed, ["run-elf", elf]).status, 0);
  });

  test("the installed virtus run boots the prebuilt guest from an empty cache", async () => {
    const p = spawn(installed, ["run", "--deterministic"], {
      env: { ...process.env, VIRTUS_CACHE_DIR: join(scratch, "cache") },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    const exited = new Promise<number | null>((r) => p.on("exit", r));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no GUEST-READY:\n${out}`)), 300_000);
        const onData = (d: Buffer) => {
          out += d.toString("latin1");
          if (/GUEST-READY[\s\S]*guest# /.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        };
        p.stdout.on("data", onData);
        p.stderr.on("data", onData);
        p.on("exit", (code) => reject(new Error(`exited ${code} before GUEST-READY:\n${out}`)));
      });
      p.stdin.write("poweroff -f\n");
      assert.equal(await exited, 0, out);
    } finally {
      p.kill("SIGKILL");
    }
  });
});

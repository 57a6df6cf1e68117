import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { echoSpinElf, skipNoGcc, type TestDaemon, testDaemon } from "./support.ts";

const BIN = join(import.meta.dirname, "../../bin/virtus.js");
let d: TestDaemon;

before(async () => {
  d = await testDaemon();
});
after(() => d.dispose());

/** Resolves when `cond` holds, polling; gives up after 30 s (the assertions then say what was missing). */
async function until(cond: () => boolean): Promise<void> {
  for (let waited = 0; !cond() && waited < 30_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
}

/** Runs `virtus ARGS` (async: the daemon lives in this process) with VIRTUS_URL/VIRTUS_TOKEN set. */
function virtus(
  args: string[],
  opts: {
    token?: string;
    url?: string;
    /** Drives stdin; `out()` is what stdout has printed so far. */
    input?: (w: NodeJS.WritableStream, out: () => string) => void;
  } = {},
) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const env = { ...process.env, VIRTUS_URL: opts.url ?? d.url, VIRTUS_TOKEN: opts.token ?? d.adminToken };
    const p = spawn(process.execPath, [BIN, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (b) => (out += b));
    p.stderr.on("data", (b) => (err += b));
    if (opts.input) opts.input(p.stdin, () => out);
    else p.stdin.end();
    p.on("exit", (code) => resolve({ code, out, err }));
  });
}

test("virtus tenant create prints a token; vm create/list/info speak tables and --json; errors are one line with exit 2 for bad input", async () => {
  const t = await virtus(["tenant", "create", "dave"]);
  assert.equal(t.code, 0, t.err);
  assert.match(t.out, /^vt_\S+\n$/);
  const token = t.out.trim();
  assert.equal(
    (await virtus(["vm", "create", "box", "--mem", "64M", "--smp", "2", "--cpu-limit", "0.5"], { token }))
      .code,
    0,
  );
  const list = await virtus(["vm", "list", "--json"], { token });
  assert.deepEqual(JSON.parse(list.out), [
    { name: "box", state: "stopped", reason: "", vcpus: 2, memory: 64 << 20, cpu_limit: 0.5 },
  ]);
  const table = await virtus(["vm", "list"], { token });
  assert.match(table.out, /^NAME\s+STATE\s+VCPUS\s+MEMORY\s+CPU-LIMIT/);
  assert.match(table.out, /\nbox\s+stopped\s+2\s+64M\s+0\.5/);
  assert.equal(
    (await virtus(["vm", "list", "--json"])).out.includes("box"),
    false,
    "the admin tenant does not see dave's VM",
  );

  const bad = await virtus(["vm", "create", "x", "--mem", "lots"], { token });
  assert.equal(bad.code, 2);
  assert.match(bad.err, /^virtus: --mem lots: use a size like 256M or 1G\n$/);
  const dup = await virtus(["vm", "create", "box"], { token });
  assert.equal(dup.code, 1);
  assert.equal(dup.err, "virtus: a VM named box exists already\n");
  const yaml = join(d.dir, "v.yaml");
  writeFileSync(yaml, "name: fromyaml\nmemory: lots\n");
  const badDef = await virtus(["vm", "define", yaml], { token });
  assert.equal(badDef.code, 2, "the daemon's 400 is bad input");
  assert.match(badDef.err, /^virtus: memory: use a size like 256M or 1G\n$/);
  const missing = await virtus(["vm", "start", "nope"], { token });
  assert.equal(missing.code, 1);
  assert.equal(missing.err, "virtus: VM nope does not exist\n");
  const noUrl = await virtus(["vm", "list"], { url: "" });
  assert.equal(noUrl.code, 2);
  assert.match(noUrl.err, /VIRTUS_URL/);
  const tenantAsTenant = await virtus(["tenant", "create", "eve"], { token });
  assert.equal(tenantAsTenant.code, 1);
  assert.match(tenantAsTenant.err, /only the admin token/);
});

test("virtus vm console attaches stdin and stdout to the serial console; Ctrl-] detaches", {
  skip: skipNoGcc,
}, async () => {
  const img = join(d.dir, "spin.elf");
  writeFileSync(img, echoSpinElf());
  assert.equal((await virtus(["vm", "image", "import", "spin", img])).code, 0);
  const create = await virtus(["vm", "create", "con", "--kernel", "spin", "--bios", "none", "--mem", "16M"]);
  assert.equal(create.code, 0, create.err);
  assert.equal((await virtus(["vm", "start", "con"])).out, "con: running\n");
  const r = await virtus(["vm", "console", "con"], {
    // Each step waits for the guest's answer, not a fixed delay: CI machines are loaded.
    input: async (w, out) => {
      await until(() => out().includes("ready\n"));
      w.write("hello");
      await until(() => out().includes("hello"));
      w.write(Buffer.from([0x1d]));
    },
  });
  assert.equal(r.code, 0, r.err);
  assert.ok(r.out.startsWith("ready\n"), JSON.stringify(r.out));
  assert.ok(r.out.includes("hello"), "typed input echoed by the guest");
  const info = await virtus(["vm", "info", "con", "--json"]);
  assert.equal(JSON.parse(info.out).state, "running", "detaching leaves the VM running");
  assert.equal((await virtus(["vm", "destroy", "con"])).out, "con: stopped\n");
});

/**
 * `virtus web`: the contract (serves the page on 127.0.0.1, default port
 * 8080, --port N), its bad input (one line, no stack trace), and the
 * package's prebuilt page (dist/web/) serving the same files as a build.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildWebAssets, readWebAssets, writeWebAssets } from "../../src/host/node/web-server.ts";
import { assertBadInput, virtusSync } from "../support/cli.ts";

test("virtus web --help names the default port", () => {
  const r = virtusSync(["web", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /--port <n>.*\(default: 8080\)/s);
});

test("a bad or busy --port is a one-line error", async () => {
  assertBadInput(["web", "--port", "http"], /--port takes 0\.\.65535/);
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
  const port = (busy.address() as { port: number }).port;
  try {
    const r = virtusSync(["web", "--port", String(port)]);
    assert.notEqual(r.code, 0);
    assert.match(r.err, new RegExp(`port ${port} is in use; pick another with --port N`));
    assert.equal(r.err.trim().split("\n").length, 1, r.err);
  } finally {
    busy.close();
  }
});

test("the page's bundles written as static files (the package's dist/web/) read back the same", async () => {
  const built = await buildWebAssets();
  assert.deepEqual([...built.keys()].sort(), ["/", "/main.css", "/main.js", "/worker.js"]);
  assert.match(String(built.get("/")?.body), /<script src="main.js">/);
  const dir = mkdtempSync(join(tmpdir(), "virtus-web-assets-"));
  try {
    writeWebAssets(built, dir);
    const read = readWebAssets(dir);
    assert.deepEqual([...read.keys()].sort(), [...built.keys()].sort());
    for (const [path, a] of built) {
      assert.equal(read.get(path)?.type, a.type, path);
      assert.ok(Buffer.from(read.get(path)!.body).equals(Buffer.from(a.body)), path);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

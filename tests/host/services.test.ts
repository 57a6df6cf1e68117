import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { nodeHostServices } from "../../src/host/node/services.ts";

test("Node's host services leave a boot file's buffer attached after the VM has copied it", () => {
  // A detached buffer anywhere in the isolate costs the VM's typed-array accesses a check each
  // (services.ts): the file waits for a garbage collection instead.
  const dir = mkdtempSync(join(tmpdir(), "virtus-release-"));
  try {
    const path = join(dir, "kernel");
    writeFileSync(path, new Uint8Array(1 << 20).fill(7));
    const host = nodeHostServices();
    const data = host.readFile(path, "--kernel");
    assert.equal(data.length, 1 << 20);
    host.release?.(data);
    assert.equal(data.buffer.byteLength, 1 << 20, "the file's buffer was detached");
    assert.equal(data[0], 7);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readInputFile, releaseInputFile } from "../../src/host/node/services.ts";

test("releaseInputFile frees a file read whole and leaves views into other buffers alone", () => {
  const dir = mkdtempSync(join(tmpdir(), "virtus-release-"));
  try {
    const path = join(dir, "kernel");
    writeFileSync(path, new Uint8Array(1 << 20).fill(7));
    const data = readInputFile(path, "--kernel");
    assert.equal(data.length, 1 << 20);
    releaseInputFile(data);
    assert.equal(data.buffer.byteLength, 0, "the file's buffer was not detached");
    assert.equal(data.length, 0);

    const shared = new Uint8Array(8192).fill(1);
    const view = shared.subarray(4096);
    releaseInputFile(view);
    assert.equal(shared.buffer.byteLength, 8192, "a view into a larger buffer detached it");
    assert.equal(view[0], 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { BufferedOutput, OUTPUT_BUFFER_BYTES } from "../../src/vm/console-output.ts";

test("console output is held in one fixed buffer: handed on when full or flushed, in order, nothing lost", () => {
  const pieces: Uint8Array[] = [];
  const out = new BufferedOutput((b) => pieces.push(b));
  const byte = new Uint8Array(1);
  const n = 3 * OUTPUT_BUFFER_BYTES + 100;
  for (let i = 0; i < n; i++) {
    byte[0] = i & 0xff;
    out.write(byte);
  }
  assert.equal(pieces.length, 3, "a full buffer is handed on without waiting for flush()");
  assert.ok(pieces.every((p) => p.length === OUTPUT_BUFFER_BYTES));
  out.write(new Uint8Array(2 * OUTPUT_BUFFER_BYTES).fill(7)); // larger than the buffer: goes on as it is
  out.flush();
  out.flush();
  const all = Buffer.concat(pieces);
  assert.equal(all.length, n + 2 * OUTPUT_BUFFER_BYTES);
  for (let i = 0; i < n; i++) if (all[i] !== (i & 0xff)) assert.fail(`byte ${i} is ${all[i]}`);
  assert.ok(all.subarray(n).every((b) => b === 7));
  assert.equal(pieces.length, 5, "the held 100 bytes, then the large write; an empty flush sends nothing");
  pieces[0][0] = 99;
  out.write(Uint8Array.of(1));
  out.flush();
  assert.equal(pieces[5][0], 1, "each piece is a copy of its own");
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { CodeCache, DECODED_PAGE_BYTES } from "../../src/machine/memory/code-cache.ts";
import { GuestMemory } from "../../src/machine/memory/guest-memory.ts";

test("the code cache holds at most maxPages decoded pages, evicting round the RAM pages, never the one asked for", () => {
  const c = new CodeCache(64 * 4096, 0, 3);
  const dropped: Int32Array[] = [];
  c.onDrop = (p) => dropped.push(p);
  const p5 = c.page(5);
  const p9 = c.page(9);
  c.page(20);
  assert.equal(c.live, 3);
  assert.equal(c.page(5), p5, "a held page is returned, not rebuilt");
  c.page(30);
  assert.deepEqual(dropped, [p5], "the first held page after the hand goes");
  assert.equal(c.pages[5], undefined);
  assert.equal(c.live, 3);
  c.page(31);
  assert.deepEqual(dropped, [p5, p9]);
  c.invalidate(20);
  assert.equal(c.live, 2, "an invalidated page no longer counts");
  c.page(40);
  assert.equal(c.evictions, 2, "room was free: nothing evicted");
  assert.equal(c.pages.filter((p) => p !== undefined).length, c.live);
  // With one page, entering another always drops the previous one, and only it.
  const one = new CodeCache(8 * 4096, 0, 1);
  const a = one.page(7);
  one.onDrop = (p) => assert.equal(p, a);
  one.page(0);
  assert.equal(one.live, 1);
  assert.throws(() => new CodeCache(4096, 0, 0), /at least one page/);
});

test("by default a guest's decoded code costs the host at most 128 MiB, whatever its RAM", () => {
  const mem = new GuestMemory(1 << 30);
  assert.equal(mem.code.maxPages * DECODED_PAGE_BYTES, 128 << 20);
});

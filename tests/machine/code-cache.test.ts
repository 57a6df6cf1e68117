import assert from "node:assert/strict";
import { test } from "node:test";
import { OP_COUNT } from "../../src/isa/decoder.generated.ts";
import { SLOT_NEVER } from "../../src/machine/cpu/tier.ts";
import { MAX_LIVE_BLOCKS } from "../../src/machine/jit/jit.ts";
import {
  CodeCache,
  DECODED_PAGE_BYTES,
  JIT_WORD_MAX,
  JIT_WORD_MIN,
  jitWord,
  OP_MASK,
  OP_NOP,
  OPW_COMPRESSED,
  OPW_VALID,
  PAGE_INDEX_WORD,
  setJitWord,
  slotRawBits,
} from "../../src/machine/memory/code-cache.ts";
import { GuestMemory } from "../../src/machine/memory/guest-memory.ts";
import { MAX_JIT_HOT } from "../../src/vm/config.ts";

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

test("a decoded page takes 16 KiB (two words a 2-byte slot), its RAM page's index and a straddle record", () => {
  const mem = new GuestMemory(1 << 20);
  const page = mem.code.page(37);
  assert.equal(page.byteLength, DECODED_PAGE_BYTES);
  assert.equal(DECODED_PAGE_BYTES, (16 << 10) + 16);
  assert.equal(page[PAGE_INDEX_WORD], 37);
});

test("by default a guest's decoded code costs the host at most 64 MiB (and 4 words a page), whatever its RAM", () => {
  const mem = new GuestMemory(1 << 30);
  assert.equal(mem.code.maxPages * (DECODED_PAGE_BYTES - 16), 64 << 20);
});

test("the JIT's word shares the op word without touching the decoded bits, over its whole range", () => {
  const dec = new Int32Array(PAGE_INDEX_WORD + 1);
  const opw = 123 | OPW_VALID | OPW_COMPRESSED;
  dec[0x41] = opw; // the slot at byte offset 0x40 (or 0x41: the same 2-byte slot)
  for (const word of [0, 1, 10_000, JIT_WORD_MAX, JIT_WORD_MIN, SLOT_NEVER, -1]) {
    setJitWord(dec, 0x40, word);
    assert.equal(jitWord(dec, 0x40), word);
    assert.equal(jitWord(dec, 0x41), word);
    assert.equal(dec[0x41] & 0xfff, opw, `word ${word} changed the decoded bits`);
    assert.equal(dec[0x40], 0, "the instruction word is left alone");
  }
  assert.equal(jitWord(dec, 0x42), 0, "the next slot is another word");
});

test("op numbers, the largest threshold and every live block fit the slot's bits", () => {
  assert.ok(OP_COUNT <= OP_NOP, `${OP_COUNT} ops reach OP_NOP (${OP_NOP})`);
  assert.equal(OP_NOP & OP_MASK, OP_NOP);
  assert.ok(MAX_JIT_HOT + 1 + MAX_LIVE_BLOCKS <= JIT_WORD_MAX, "block ids above the threshold overflow");
});

test("a slot's raw bits: a 32-bit instruction's own, a compressed one's 16 re-read from its RAM page", () => {
  const mem = new GuestMemory(1 << 20);
  const dec = mem.code.page(3);
  const at = mem.ramLinear + 3 * 4096;
  mem.u16[(at + 0x10) >>> 1] = 0x4505; // c.li a0, 1
  dec[0x10] = 0x00100513; // its expansion, addi a0, x0, 1
  dec[0x11] = 5 | OPW_VALID | OPW_COMPRESSED;
  dec[0x20] = 0x00200593; // addi a1, x0, 2
  dec[0x21] = 5 | OPW_VALID;
  assert.equal(slotRawBits(dec, 0x10, mem), 0x4505);
  assert.equal(slotRawBits(dec, 0x20, mem), 0x00200593);
});

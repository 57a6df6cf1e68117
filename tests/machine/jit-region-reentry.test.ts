/**
 * Regions started where code is already compiled (jit/jit.ts, region.ts
 * REENTRY_REGION_INSNS): a slot the interpreter reaches inside another
 * function's code (after a return to JavaScript) gets a small region, so
 * the same instructions are not compiled again and again into large ones.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decode } from "../../src/isa/decoder.generated.ts";
import { encodeI } from "../../src/isa/encode.ts";
import { Jit } from "../../src/machine/jit/jit.ts";
import { MAX_BLOCK } from "../../src/machine/jit/plan.ts";
import { MAX_REGION_INSNS, REENTRY_REGION_INSNS } from "../../src/machine/jit/region.ts";
import { OPW_VALID, SLOT_WORDS } from "../../src/machine/memory/code-cache.ts";
import { GuestMemory } from "../../src/machine/memory/guest-memory.ts";

/** A decoded page of 1,024 `addi a0, a0, 1`: straight blocks of MAX_BLOCK, each falling into the next. */
function straightPage() {
  const mem = new GuestMemory(1 << 20);
  const dec = mem.code.page(0);
  const w = encodeI(1, 10, 0, 10, 0x13);
  for (let off = 0; off < 4096; off += 4) {
    const s = (off >> 1) * SLOT_WORDS;
    dec[s] = w;
    dec[s + 1] = decode(w) | OPW_VALID;
  }
  return { mem, dec };
}

test("a region starting inside compiled code is bounded by REENTRY_REGION_INSNS; elsewhere by MAX_REGION_INSNS", () => {
  const { mem, dec } = straightPage();
  const jit = new Jit(mem, { hot: 1 });
  const full = MAX_REGION_INSNS / MAX_BLOCK;
  jit.compile(dec, 0);
  assert.equal(jit.regionsCompiled, 1);
  assert.equal(jit.regionBlocks, full, "a fresh region: as many blocks as MAX_REGION_INSNS allows");
  // The second block's start lies in that region: its own region holds REENTRY_REGION_INSNS at most.
  jit.compile(dec, 4 * MAX_BLOCK);
  const small = Math.floor(REENTRY_REGION_INSNS / MAX_BLOCK);
  assert.equal(jit.regionBlocks - full, small > 1 ? small : 0, "inside compiled code: a small region");
  // Past everything compiled so far, a full region again.
  const before = jit.regionBlocks;
  jit.compile(dec, 4 * MAX_BLOCK * (full + 1));
  assert.equal(jit.regionBlocks - before, full);
  jit.flush();
  assert.equal(jit.compiled, 3);
});

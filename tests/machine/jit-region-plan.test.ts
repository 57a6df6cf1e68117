/**
 * The region planner (jit/region.ts): which blocks of a page join a hot
 * block's region, in which order, and its bounds. (That regions run right:
 * jit-lockstep.test.ts; what they compile to: jit-wat.test.ts.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decode } from "../../src/isa/decoder.generated.ts";
import { encodeB, encodeI, encodeJal, encodeR } from "../../src/isa/encode.ts";
import { MAX_BLOCK } from "../../src/machine/jit/plan.ts";
import { MAX_REGION_BLOCKS, MAX_REGION_INSNS, planRegion } from "../../src/machine/jit/region.ts";
import { OPW_VALID, SLOT_WORDS } from "../../src/machine/memory/code-cache.ts";
import { GuestMemory } from "../../src/machine/memory/guest-memory.ts";

const addi = (rd: number, rs1: number, imm: number) => encodeI(imm, rs1, 0, rd, 0x13);
const add = (rd: number, a: number, b: number) => encodeR(0, b, a, 0, rd, 0x33);
const jalr = (rd: number, rs1: number) => encodeI(0, rs1, 0, rd, 0x67);

/** A decoded page holding `words` at byte offset `at` (4-byte instructions); `skip`: offsets left undecoded. */
function page(words: number[], at = 0, skip: number[] = []) {
  const mem = new GuestMemory(1 << 20);
  const dec = mem.code.page(0);
  words.forEach((w, i) => {
    const off = at + 4 * i;
    if (skip.includes(off)) return;
    const s = (off >> 1) * SLOT_WORDS;
    dec[s] = w;
    dec[s + 1] = decode(w) | OPW_VALID;
  });
  return { dec, mem };
}

const starts = (r: { start: number }[]) => r.map((b) => b.start);

test("an if/else: the head, both arms and the join, breadth first; the return leaves", () => {
  const { dec, mem } = page([
    addi(10, 10, 3), // 0x00 head
    encodeB(12, 0, 5, 1), // 0x04 bnez t0, 0x10
    add(12, 12, 10), // 0x08
    encodeJal(12, 0), // 0x0c j 0x18
    add(12, 12, 11), // 0x10 odd arm
    addi(11, 11, -1), // 0x14 falls into the join
    encodeB(-24, 0, 11, 1), // 0x18 join: bnez a1, 0x00
    jalr(0, 1), // 0x1c ret
  ]);
  const r = planRegion(dec, 0, mem);
  assert.deepEqual(starts(r), [0x00, 0x10, 0x18]);
  assert.deepEqual(
    r.map((b) => b.insns.length),
    [4, 4, 2],
  );
});

test("laid out in reverse postorder: a block comes after every block that moves to it, except along back edges", () => {
  const { dec, mem } = page([
    encodeB(0x20, 0, 5, 1), // 0x00 bnez t0, 0x20
    encodeJal(12, 0), // 0x04 j 0x10
    0,
    0,
    add(12, 12, 10), // 0x10
    encodeJal(12, 0), // 0x14 j 0x20
    0,
    0,
    add(12, 12, 11), // 0x20
    encodeB(-0x24, 0, 12, 1), // 0x24 bnez a2, 0x00 (a back edge)
    jalr(0, 1), // 0x28 ret
  ]);
  // Breadth first, 0x20 (the branch's target) would come before 0x10, which jumps to it.
  assert.deepEqual(starts(planRegion(dec, 0, mem)), [0x00, 0x10, 0x20]);
});

test("a call to a leaf on the same page joins; targets on another page, undecoded or past the page do not", () => {
  const { dec, mem } = page(
    [
      encodeJal(16, 1), // 0x00 jal ra, 0x10
      encodeB(0x800, 0, 5, 1), // 0x04 bnez t0, 0x804 (not decoded)
      encodeJal(-0x100, 0), // 0x08 j -0x100 (another page)
      0,
      add(12, 12, 10), // 0x10 leaf
      jalr(0, 1), // 0x14 ret
    ],
    0,
  );
  assert.deepEqual(starts(planRegion(dec, 0, mem)), [0x00, 0x10]);
  // From 0x04: 0x804 is not decoded, the jump leaves the page: the block alone.
  const r = planRegion(dec, 4, mem);
  assert.deepEqual(starts(r), [0x04]);
  assert.equal(r[0].insns.length, 2);
});

test("a block alone is no region: one block back", () => {
  const { dec, mem } = page([addi(10, 10, 1), jalr(0, 1)]);
  assert.deepEqual(starts(planRegion(dec, 0, mem)), [0]);
  assert.deepEqual(planRegion(dec, 0x100, mem), [], "nothing decoded there");
});

test("bounded: at most MAX_REGION_BLOCKS blocks and MAX_REGION_INSNS instructions", () => {
  // A chain of jumps, each block one instruction: j +8, with a filler between.
  const chain: number[] = [];
  for (let i = 0; i < 40; i++) chain.push(encodeJal(8, 0), addi(0, 0, 0));
  const a = page(chain);
  assert.equal(planRegion(a.dec, 0, a.mem).length, MAX_REGION_BLOCKS);
  // Long straight blocks joined by a loop back: instructions bound the region.
  const long: number[] = [];
  for (let i = 0; i < 1000; i++) long.push(addi(10, 10, 1));
  const b = page(long);
  const r = planRegion(b.dec, 0, b.mem);
  const total = r.reduce((s, x) => s + x.insns.length, 0);
  assert.ok(total <= MAX_REGION_INSNS, `${total} instructions`);
  assert.equal(r.length, Math.floor(MAX_REGION_INSNS / MAX_BLOCK));
});

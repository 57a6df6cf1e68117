/**
 * The JIT's jump cache (memory/layout.ts JC_*, jit/emit.ts chain, jit/jit.ts
 * link and flushes): two-way set-associative, so two hot targets that share
 * a set both stay and compiled code chains to each without returning to
 * JavaScript; the flushes empty every way, a page's flush only that page's
 * entries.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { loadElf, runBareMetal } from "../../src/machine/board/bare-metal.ts";
import { parseElf } from "../../src/machine/board/elf.ts";
import { Machine } from "../../src/machine/board/machine.ts";
import { jcEntryOffset, jcSetOffset } from "../../src/machine/jit/emit.ts";
import type { Jit } from "../../src/machine/jit/jit.ts";
import { JitProfile } from "../../src/machine/jit/profile.ts";
import { JC_LINEAR, JC_STRIDE, JC_WAYS, TLB_LINEAR } from "../../src/machine/memory/layout.ts";
import { buildElf, haveCrossGcc } from "../support/cross.ts";

const skip = haveCrossGcc() ? false : "riscv64-linux-gnu-gcc is not installed";
const BASE = 0x8000_0000;

/**
 * The first 4-byte-aligned pc from `from` on whose set is `pc`'s. (A page's
 * pcs map to half the sets: the next page may hold the first.)
 */
function sameSetIn(from: number, pc: number): number {
  for (let at = from; at < from + 0x4000; at += 4) if (jcSetOffset(at) === jcSetOffset(pc)) return at;
  throw new Error(`no pc from 0x${from.toString(16)} on shares a set with 0x${pc.toString(16)}`);
}

/** The start of the page after pc's. */
const nextPage = (pc: number) => pc - (pc % 0x1000) + 0x1000;

describe("jump-cache contents (link and the flushes)", () => {
  const SET_A = TLB_LINEAR;
  const SET_B = TLB_LINEAR + 16;
  const setup = () => {
    const m = new Machine({ ramSize: 1 << 20, jit: true });
    const jit = m.jit as Jit;
    const words = (hart: number) => new Int32Array(m.mem.buffer, JC_LINEAR + hart * JC_STRIDE, JC_STRIDE / 4);
    /** What way `way` of pc's set holds: [pc lo, pc hi, TLB set, block id]. */
    const entry = (hart: number, pc: number, way: number) => {
      const w = jcEntryOffset(pc, way) >>> 2;
      return Array.from(words(hart).subarray(w, w + 4));
    };
    return { m, jit, words, entry };
  };
  // Three pcs in different pages, one set; a fourth in the first one's page, another set.
  const a = BASE + 0x1100;
  const b = sameSetIn(BASE + 0x2000, a);
  const c = sameSetIn(nextPage(b), a);
  const d = BASE + 0x1200;

  test("the pcs used here do share a set (and d does not)", () => {
    assert.equal(JC_WAYS, 2);
    assert.equal(jcSetOffset(b), jcSetOffset(a));
    assert.equal(jcSetOffset(c), jcSetOffset(a));
    assert.notEqual(jcSetOffset(d), jcSetOffset(a));
  });

  test("two pcs sharing a set both stay; a third evicts the older", () => {
    const { jit, entry } = setup();
    jit.link(0, a | 0, 0, SET_A, 1);
    jit.link(0, b | 0, 0, SET_A, 2);
    assert.deepEqual(entry(0, a, 0), [b | 0, 0, SET_A, 2]);
    assert.deepEqual(entry(0, a, 1), [a | 0, 0, SET_A, 1]);
    // Linking a pc already there (the interpreter enters it again) moves nothing.
    jit.link(0, a | 0, 0, SET_A, 1);
    jit.link(0, b | 0, 0, SET_A, 2);
    assert.deepEqual(entry(0, a, 0), [b | 0, 0, SET_A, 2]);
    assert.deepEqual(entry(0, a, 1), [a | 0, 0, SET_A, 1]);
    jit.link(0, c | 0, 0, SET_A, 3);
    assert.deepEqual(entry(0, a, 0), [c | 0, 0, SET_A, 3]);
    assert.deepEqual(entry(0, a, 1), [b | 0, 0, SET_A, 2]);
  });

  test("one pc is never in both ways: under another TLB set it replaces its entry", () => {
    const { jit, entry } = setup();
    jit.link(0, a | 0, 0, SET_A, 1);
    jit.link(0, b | 0, 0, SET_A, 2);
    jit.link(0, a | 0, 0, SET_B, 5);
    assert.deepEqual(entry(0, a, 0), [b | 0, 0, SET_A, 2]);
    assert.deepEqual(entry(0, a, 1), [a | 0, 0, SET_B, 5]);
  });

  test("a hart's whole flush empties every way of its cache, and only its own", () => {
    const { jit, words, entry } = setup();
    for (const hart of [0, 1]) {
      jit.link(hart, a | 0, 0, SET_A, 1);
      jit.link(hart, b | 0, 0, SET_A, 2);
      jit.link(hart, d | 0, 0, SET_A, 4);
    }
    jit.flushJumpCache(0);
    assert.equal(
      words(0).findIndex((w) => w !== 0),
      -1,
      "hart 0's cache is empty",
    );
    assert.deepEqual(entry(1, a, 1), [a | 0, 0, SET_A, 1]);
    assert.deepEqual(entry(1, b, 0), [b | 0, 0, SET_A, 2]);
  });

  test("flushes write nothing into a cache nothing was linked into since the last (other harts' stay untouched pages)", () => {
    const { jit, words } = setup();
    // A sentinel where no link put anything: a flush that wrote its zeros would erase it.
    words(1).fill(0x5a5a5a5a);
    jit.flushJumpCache(1);
    jit.flushJumpCacheRegion(1, (BASE + 0x1000) | 0, 0, 30);
    assert.equal(
      words(1).findIndex((w) => w !== 0x5a5a5a5a),
      -1,
      "hart 1's memory was not written",
    );
    jit.link(1, a | 0, 0, SET_A, 1);
    jit.flushJumpCache(1);
    assert.equal(
      words(1).findIndex((w) => w !== 0),
      -1,
      "once linked, the flush empties it",
    );
    words(1).fill(0x5a5a5a5a);
    jit.flushJumpCache(1);
    assert.equal(words(1)[0], 0x5a5a5a5a, "and the next flush, with nothing linked since, writes nothing");
  });

  test("a page's flush empties that page's entries in either way, nothing else", () => {
    const { jit, entry } = setup();
    jit.link(0, a | 0, 0, SET_A, 1); // page 0x1000, way 1 once b is in
    jit.link(0, b | 0, 0, SET_A, 2); // b's page, way 0
    jit.link(0, d | 0, 0, SET_A, 4); // page 0x1000, another set
    jit.flushJumpCacheRegion(0, (BASE + 0x1000) | 0, 0, 12);
    assert.deepEqual(entry(0, a, 1), [0, 0, 0, 0]);
    assert.deepEqual(entry(0, d, 0), [0, 0, 0, 0]);
    assert.deepEqual(entry(0, b, 0), [b | 0, 0, SET_A, 2]);
    // Way 0 goes too, and the way-1 entry left behind stays reachable and is not duplicated.
    jit.flushJumpCacheRegion(0, b & ~0xfff, 0, 12);
    jit.link(0, a | 0, 0, SET_A, 1);
    jit.link(0, b | 0, 0, SET_A, 2);
    jit.flushJumpCacheRegion(0, b & ~0xfff, 0, 12);
    assert.deepEqual(entry(0, a, 0), [0, 0, 0, 0]);
    assert.deepEqual(entry(0, a, 1), [a | 0, 0, SET_A, 1]);
    jit.link(0, c | 0, 0, SET_A, 3); // into the empty way 0: a stays
    assert.deepEqual(entry(0, a, 0), [c | 0, 0, SET_A, 3]);
    assert.deepEqual(entry(0, a, 1), [a | 0, 0, SET_A, 1]);
  });

  test("page flushes skip pages without entries but never one with (pages 256 MiB apart share a filter bit)", () => {
    const { jit, entry } = setup();
    const alias = a + 0x1000_0000; // same set, same filter bit, another page
    assert.equal(jcSetOffset(alias), jcSetOffset(a));
    jit.link(0, a | 0, 0, SET_A, 1);
    jit.link(0, alias | 0, 0, SET_A, 2);
    jit.flushJumpCacheRegion(0, (BASE + 0x7000) | 0, 0, 12); // no entries there
    assert.deepEqual(entry(0, a, 1), [a | 0, 0, SET_A, 1]);
    jit.flushJumpCacheRegion(0, (BASE + 0x1000) | 0, 0, 12);
    assert.deepEqual(entry(0, a, 1), [0, 0, 0, 0]);
    assert.deepEqual(entry(0, a, 0), [alias | 0, 0, SET_A, 2]);
    jit.flushJumpCacheRegion(0, alias & ~0xfff, 0, 12);
    assert.deepEqual(entry(0, a, 0), [0, 0, 0, 0]);
  });

  test("a superpage's flush empties the entries of its pages, nothing else", () => {
    const { jit, entry } = setup();
    const far = sameSetIn(BASE + 0x20_0000, a); // the next 2 MiB
    jit.link(0, a | 0, 0, SET_A, 1);
    jit.link(0, far | 0, 0, SET_A, 2);
    jit.link(0, d | 0, 0, SET_A, 4);
    jit.link(0, b | 0, 0, SET_A, 5); // evicts a
    jit.link(0, a | 0, 0, SET_A, 1); // evicts far
    jit.link(0, far | 0, 0, SET_A, 2); // evicts b
    jit.flushJumpCacheRegion(0, BASE | 0, 0, 21);
    assert.deepEqual(entry(0, a, 0), [far | 0, 0, SET_A, 2]);
    assert.deepEqual(entry(0, a, 1), [0, 0, 0, 0]);
    assert.deepEqual(entry(0, d, 0), [0, 0, 0, 0]);
    // What survived is still found by its page's flush.
    jit.flushJumpCacheRegion(0, far & ~0xfff, 0, 12);
    assert.deepEqual(entry(0, a, 0), [0, 0, 0, 0]);
  });
});

/**
 * A loop that calls fa, fb (jal) and ga, gb (jalr through a register), each
 * pair in two pages sharing one jump-cache set; each returns (ret). Every
 * transition can chain; with one way per set, each call missed.
 */
function pairsProgram(passes: number): { source: string; pcs: Record<string, number> } {
  const fa = BASE + 0x1100;
  const fb = sameSetIn(BASE + 0x2000, fa);
  const ga = nextPage(fb) + 0x300;
  const gb = sameSetIn(nextPage(ga), ga);
  const fn = (name: string, at: number, step: number) =>
    `.org 0x${(at - BASE).toString(16)}\n.globl ${name}\n${name}:\n  addi s1, s1, ${step}\n  ret\n`;
  const source = `#include "test.h"
.section .text.init
.globl _start
_start:
  li s0, ${passes}
  li s1, 0
  la s2, ga
  la s3, gb
loop:
  jal ra, fa
  jal ra, fb
  jalr ra, 0(s2)
  jalr ra, 0(s3)
  addi s0, s0, -1
  bnez s0, loop
  li t0, ${passes * 15}
  CHECK_EQ(s1, t0, 1)
  PASS
${fn("fa", fa, 1)}${fn("fb", fb, 2)}${fn("ga", ga, 4)}${fn("gb", gb, 8)}
.section .tohost,"aw",@progbits
.align 6
.globl tohost
tohost: .dword 0
.globl fromhost
fromhost: .dword 0
`;
  return { source, pcs: { fa, fb, ga, gb } };
}

test("calls to two pairs of targets sharing a set chain without returning to JavaScript", { skip }, () => {
  const PASSES = 3000;
  const { source, pcs } = pairsProgram(PASSES);
  const elf = parseElf(buildElf(source));
  for (const [name, pc] of Object.entries(pcs))
    assert.equal(elf.symbols.get(name), pc, `${name} is where planned`);
  const profile = new JitProfile();
  const m = new Machine({ ramSize: 1 << 20, jit: true, jitHot: 1, jitProfile: profile });
  loadElf(m, elf, "jc-pairs");
  const result = runBareMetal(m, elf.symbols.get("tohost") as number, 1_000_000, () => m.run(1 << 16));
  assert.equal(result.kind, "pass", JSON.stringify(result));
  const data = profile.data();
  const misses = data.exits["jc-miss-direct"] + data.exits["jc-miss-indirect"] + data.exits["jc-miss"];
  // One way per set: about 4 misses a pass (12,000). Two: the first visits only.
  assert.ok(misses < 50, `jump-cache misses: ${misses} (${JSON.stringify(data.exits)})`);
  assert.ok(data.entries < 100, `calls into compiled code: ${data.entries}`);
  // Each pass chains through at least the 4 calls and 4 returns.
  assert.ok(data.chains >= 8 * (PASSES - 10), `chains: ${data.chains}`);
});

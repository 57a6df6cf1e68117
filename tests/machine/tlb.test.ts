/**
 * The software TLB (mmu/tlb.ts) as a data structure: entries per set and
 * bank (two ways for loads and stores, one for fetches), page flushes that
 * drop one page (or a superpage's pieces) from every way, and the sets that
 * privilege levels switch between.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  PRIV_STRIDE,
  TLB_BYTES,
  TLB_FETCH,
  TLB_FOLD,
  TLB_LOAD,
  TLB_SIZE,
  TLB_STORE,
  Tlb,
  tlbIndex,
} from "../../src/machine/mmu/tlb.ts";

const PAGE = 0x1000;
const tlb = () => new Tlb(new ArrayBuffer(TLB_BYTES), 0);

test("pages up to 1,024 apart keep their own entries (a 256-entry TLB made such heap and stack pages evict each other)", () => {
  assert.ok(TLB_SIZE >= 1024);
  const t = tlb();
  t.base = PRIV_STRIDE; // S
  const a = 0x1000_0000;
  for (const d of [1, 256, 512, 768]) {
    t.fill(TLB_LOAD, a, 0, 0x10_0000);
    t.fill(TLB_LOAD, a + d * PAGE, 0, 0x20_0000);
    assert.equal(t.lookup(TLB_LOAD, a + 8, 0), 0x10_0008, `page ${d} pages away evicted the first`);
    assert.equal(t.lookup(TLB_LOAD, a + d * PAGE + 8, 0), 0x20_0008);
  }
});

test("buffers whose page numbers agree in their low 12 bits keep their own entries (gzip's two buffers thrashed)", () => {
  const t = tlb();
  t.base = 0; // U
  for (let p = 0; p < 17; p++) {
    t.fill(TLB_LOAD, 0x19d9_4000 + p * PAGE, 0, 0x10_0000 + p * PAGE);
    t.fill(TLB_LOAD, 0x92d9_4000 + p * PAGE, 0, 0x40_0000 + p * PAGE);
  }
  for (let p = 0; p < 17; p++) {
    assert.equal(
      t.lookup(TLB_LOAD, 0x19d9_4010 + p * PAGE, 0),
      0x10_0010 + p * PAGE,
      `first buffer, page ${p}`,
    );
    assert.equal(
      t.lookup(TLB_LOAD, 0x92d9_4010 + p * PAGE, 0),
      0x40_0010 + p * PAGE,
      `second buffer, page ${p}`,
    );
  }
});

test("a page flush drops that page in every set and bank, and only it", () => {
  const t = tlb();
  let flushed: number[] = [];
  t.onFlushPage = (lo, _hi, shift) => flushed.push(lo, shift);
  for (const set of [0, 1, 3]) {
    t.base = set * PRIV_STRIDE;
    t.fill(TLB_LOAD, 0x5000, 0, 0x1000);
    t.fill(TLB_STORE, 0x5000, 0, 0x1000);
    t.fill(TLB_LOAD, 0x6000, 0, 0x2000);
  }
  t.flushPage(0x5123, 0);
  assert.deepEqual(flushed, [0x5123, 12]);
  for (const set of [0, 1, 3]) {
    t.base = set * PRIV_STRIDE;
    assert.equal(t.lookup(TLB_LOAD, 0x5000, 0), -1);
    assert.equal(t.lookup(TLB_STORE, 0x5000, 0), -1);
    assert.equal(t.lookup(TLB_LOAD, 0x6010, 0), 0x2010);
  }
  assert.equal(t.pageFlushes, 1);
  assert.equal(t.flushes, 0, "no full flush");
  // A superpage's pieces go together when the flush names any address in it.
  t.base = PRIV_STRIDE;
  t.fill(TLB_LOAD, 0x4020_0000, 0, 0x1000);
  t.noteSuperpage(0x4020_0000, 0, 21);
  t.fill(TLB_LOAD, 0x4020_5000, 0, 0x6000);
  t.noteSuperpage(0x4020_5000, 0, 21);
  t.fill(TLB_LOAD, 0x4040_0000, 0, 0x9000); // the next 2 MiB: stays
  flushed = [];
  t.flushPage(0x4021_f000, 0);
  assert.deepEqual(flushed, [0x4021_f000, 21]);
  assert.equal(t.lookup(TLB_LOAD, 0x4020_0000, 0), -1);
  assert.equal(t.lookup(TLB_LOAD, 0x4020_5000, 0), -1);
  assert.equal(t.lookup(TLB_LOAD, 0x4040_0000, 0), 0x9000);
});

/** Pages sharing page A's index: flipping page-number bit k and bit k + TLB_BITS leaves the fold unchanged. */
const A = 0x8000_2000;
const B = A ^ (2 ** TLB_FOLD + 0x1000);
const C = A ^ (2 ** (TLB_FOLD + 1) + 0x2000);

test("two pages sharing an index both stay in the load and store banks; a third evicts the least recently filled", () => {
  assert.equal(tlbIndex(B), tlbIndex(A));
  assert.equal(tlbIndex(C), tlbIndex(A));
  for (const bank of [TLB_LOAD, TLB_STORE]) {
    const t = tlb();
    t.base = PRIV_STRIDE;
    t.fill(bank, A, 0, 0x1000);
    t.fill(bank, B, 0, 0x2000);
    assert.equal(t.lookup(bank, A + 8, 0), 0x1008, "the first page moved to way 1");
    assert.equal(t.lookup(bank, B + 8, 0), 0x2008);
    t.fill(bank, C, 0, 0x3000);
    assert.equal(t.lookup(bank, A, 0), -1, "the least recently filled went");
    assert.equal(t.lookup(bank, B + 4, 0), 0x2004);
    assert.equal(t.lookup(bank, C + 4, 0), 0x3004);
    // The high word is part of the tag in both ways.
    assert.equal(t.lookup(bank, B, 1), -1);
    // The other data bank and the other sets are untouched.
    assert.equal(t.lookup(bank === TLB_LOAD ? TLB_STORE : TLB_LOAD, C, 0), -1);
    t.base = 0;
    assert.equal(t.lookup(bank, C, 0), -1);
  }
});

test("the fetch bank stays direct-mapped and its fills touch no data entry", () => {
  const t = tlb();
  t.base = PRIV_STRIDE;
  t.fill(TLB_STORE, C, 0, 0x7000);
  t.fill(TLB_FETCH, A, 0, 0x1000);
  t.fill(TLB_FETCH, B, 0, 0x2000);
  assert.equal(t.lookup(TLB_FETCH, A, 0), -1, "one way: the second fill replaced the first");
  assert.equal(t.lookup(TLB_FETCH, B, 0), 0x2000);
  assert.equal(t.lookup(TLB_STORE, C, 0), 0x7000);
  assert.equal(t.lookup(TLB_STORE, A, 0), -1);
  assert.equal(t.lookup(TLB_LOAD, A, 0), -1);
});

test("a fill into an emptied way 0 keeps way 1", () => {
  const t = tlb();
  t.base = PRIV_STRIDE;
  t.fill(TLB_LOAD, A, 0, 0x1000);
  t.fill(TLB_LOAD, B, 0, 0x2000); // A in way 1, B in way 0
  t.flushPage(B, 0);
  t.fill(TLB_LOAD, C, 0, 0x3000);
  assert.equal(t.lookup(TLB_LOAD, A, 0), 0x1000);
  assert.equal(t.lookup(TLB_LOAD, C, 0), 0x3000);
  assert.equal(t.lookup(TLB_LOAD, B, 0), -1);
});

test("every flush empties the ways that match: page, linear page (stores), SUM entries, all", () => {
  const fill2 = (t: Tlb, bank: number) => {
    t.fill(bank, A, 0, 0x1000);
    t.fill(bank, B, 0, 0x2000); // A in way 1, B in way 0
  };
  for (const [page, other] of [
    [A, B],
    [B, A],
  ]) {
    const t = tlb();
    for (const set of [0, 1, 3]) {
      t.base = set * PRIV_STRIDE;
      fill2(t, TLB_LOAD);
      fill2(t, TLB_STORE);
    }
    t.flushPage(page + 0x123, 0);
    for (const set of [0, 1, 3]) {
      t.base = set * PRIV_STRIDE;
      for (const bank of [TLB_LOAD, TLB_STORE]) {
        assert.equal(t.lookup(bank, page, 0), -1, `set ${set} bank ${bank}: flushed page stays`);
        assert.notEqual(t.lookup(bank, other, 0), -1, `set ${set} bank ${bank}: the other page went too`);
      }
    }
  }
  // A page that now holds code leaves the store bank in whichever way maps it.
  const t = tlb();
  t.base = PRIV_STRIDE;
  fill2(t, TLB_STORE);
  t.flushLinearPage(0x1000); // A, in way 1
  assert.equal(t.lookup(TLB_STORE, A, 0), -1);
  assert.equal(t.lookup(TLB_STORE, B, 0), 0x2000);
  t.flushLinearPage(0x2000); // B, in way 0
  assert.equal(t.lookup(TLB_STORE, B, 0), -1);
  // A user page noted for SUM still goes once a later fill moved it to way 1.
  t.fill(TLB_LOAD, A, 0, 0x1000);
  t.noteSumEntry(TLB_LOAD, A);
  t.fill(TLB_LOAD, B, 0, 0x2000);
  assert.equal(t.lookup(TLB_LOAD, A, 0), 0x1000, "moved to way 1");
  t.flushSumEntries();
  assert.equal(t.lookup(TLB_LOAD, A, 0), -1);
  // A full flush empties both ways of every bank in every set filled since the last one.
  for (const set of [1, 5, 0]) {
    t.base = set * PRIV_STRIDE;
    fill2(t, TLB_LOAD);
    fill2(t, TLB_STORE);
    t.flush();
    for (const s of [0, 1, 5]) {
      t.base = s * PRIV_STRIDE;
      for (const bank of [TLB_LOAD, TLB_STORE])
        for (const p of [A, B])
          assert.equal(t.lookup(bank, p, 0), -1, `set ${s} bank ${bank} page ${p.toString(16)}`);
    }
  }
  t.base = 0;
  fill2(t, TLB_LOAD);
  t.base = 3 * PRIV_STRIDE;
  fill2(t, TLB_STORE);
  t.flush();
  t.base = 0;
  assert.equal(t.lookup(TLB_LOAD, A, 0), -1, "set 0, filled before the base moved");
});

test("an entry keeps the linear offset minus the page's base: offsets past 2 GiB and negative low words come out unsigned", () => {
  const t = tlb();
  t.base = 0;
  for (const [va, linear] of [
    [0x1000, 0x9000_0000],
    [0x8000_3000 | 0, 0x0004_0000],
    [0xffff_f000 | 0, 0xffff_e000],
  ]) {
    t.fill(TLB_LOAD, va, -1, linear);
    assert.equal(t.lookup(TLB_LOAD, va + 0xffc, -1), linear + 0xffc, `va ${(va >>> 0).toString(16)}`);
  }
});

/** 1 GiB aligned: holds both leaf sizes. */
const LEAF = 0x4000_0000;

test("a page flush inside a cached superpage drops the leaf's pages from both ways, page by page or by a scan", () => {
  assert.equal(tlbIndex(LEAF ^ (2 ** (TLB_FOLD + 7)) ^ (2 ** 19)), tlbIndex(LEAF));
  for (const shift of [21, 30]) {
    const t = tlb();
    t.base = PRIV_STRIDE;
    const leaf = LEAF;
    const inside = [leaf, leaf + 0x1000, (leaf + (1 << shift) - 0x1000) | 0];
    for (const va of inside) {
      t.fill(TLB_LOAD, va, 0, 0x10_0000);
      t.noteSuperpage(va, 0, shift);
    }
    // A page sharing the first one's index pushes it to way 1; pages just outside the leaf stay.
    const outside = [leaf ^ (2 ** (TLB_FOLD + 7)) ^ (2 ** 19), leaf + (1 << shift), leaf - 0x1000];
    for (const va of outside) t.fill(TLB_LOAD, va, 0, 0x20_0000);
    t.flushPage(leaf + 0x5000, 0);
    for (const va of inside)
      assert.equal(t.lookup(TLB_LOAD, va, 0), -1, `${shift}: ${va.toString(16)} stayed`);
    for (const va of outside)
      assert.notEqual(t.lookup(TLB_LOAD, va, 0), -1, `${shift}: ${va.toString(16)} went`);
  }
});

/**
 * The software TLB (mmu/tlb.ts) as a data structure: direct-mapped entries
 * per set and bank, page flushes that drop one page (or a superpage's
 * pieces), and the sets that privilege levels switch between.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PRIV_STRIDE, TLB_BYTES, TLB_LOAD, TLB_SIZE, TLB_STORE, Tlb } from "../../src/machine/mmu/tlb.ts";

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

/**
 * The TLB's address spaces (mmu/tlb.ts switchSpace): U and S translations
 * of up to SPACES satp values are kept at once, so processes taking turns
 * do not walk their pages again after every switch; a value never seen
 * takes the least recently used space, emptied; translations of one value
 * never serve another. The hart's satp write and sfence.vma use them
 * (csr.ts writeSatp, exec/priv.ts sfenceVma).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decode } from "../../src/isa/decoder.generated.ts";
import { Machine } from "../../src/machine/board/machine.ts";
import { execOp } from "../../src/machine/cpu/exec/index.ts";
import { SPACES, TLB_BYTES, TLB_LOAD, TLB_STORE, Tlb } from "../../src/machine/mmu/tlb.ts";

const tlb = () => new Tlb(new ArrayBuffer(TLB_BYTES), 0);
const U = 0;
const S = 1;
const M = 3;
/** A satp value (hi word) with mode Sv39 and ASID `asid`; lo holds the root's page number. */
const satpHi = (asid: number) => (8 << 28) | (asid << 12);

test("switching back to a satp value finds its U and S translations; another value does not see them", () => {
  const t = tlb();
  t.select(U, 0);
  t.switchSpace(0x100, satpHi(1));
  t.fill(TLB_LOAD, 0x1_0000, 0, 0x10_0000);
  t.select(S, 0);
  t.fill(TLB_STORE, 0x2000, 0, 0x20_0000);
  // Process 2: its own sets, empty.
  t.switchSpace(0x200, satpHi(2));
  assert.equal(t.lookup(TLB_STORE, 0x2010, 0), -1, "S entries of another address space");
  t.fill(TLB_STORE, 0x2000, 0, 0x30_0000);
  t.select(U, 0);
  assert.equal(t.lookup(TLB_LOAD, 0x1_0010, 0), -1, "U entries of another address space");
  // Back to process 1: both its entries are there, and process 2's are not.
  assert.equal(t.switchSpace(0x100, satpHi(1)), false, "nothing emptied");
  assert.equal(t.lookup(TLB_LOAD, 0x1_0010, 0), 0x10_0010);
  t.select(S, 0);
  assert.equal(t.lookup(TLB_STORE, 0x2010, 0), 0x20_0010);
  t.switchSpace(0x200, satpHi(2));
  assert.equal(t.lookup(TLB_STORE, 0x2010, 0), 0x30_0010);
  assert.equal(t.flushes, 0, "no flush");
});

test("the same ASID with another root is another address space", () => {
  const t = tlb();
  t.select(U, 0);
  t.switchSpace(0x100, satpHi(7));
  t.fill(TLB_LOAD, 0x1_0000, 0, 0x10_0000);
  t.switchSpace(0x101, satpHi(7));
  assert.equal(t.lookup(TLB_LOAD, 0x1_0010, 0), -1);
});

test("a value beyond SPACES takes the least recently used space, emptied", () => {
  const t = tlb();
  t.select(U, 0);
  for (let k = 0; k < SPACES; k++) {
    t.switchSpace(0x100 + k, satpHi(k + 1));
    t.fill(TLB_LOAD, 0x1_0000, 0, 0x10_0000 * (k + 1));
  }
  t.switchSpace(0x100, satpHi(1)); // space of value 0 used again: value 1's is now the oldest
  assert.equal(t.lookup(TLB_LOAD, 0x1_0000, 0), 0x10_0000);
  assert.equal(t.switchSpace(0x999, satpHi(99)), true, "a used space was emptied");
  assert.equal(t.lookup(TLB_LOAD, 0x1_0000, 0), -1);
  for (let k = 2; k < SPACES; k++) {
    assert.equal(t.switchSpace(0x100 + k, satpHi(k + 1)), false);
    assert.equal(t.lookup(TLB_LOAD, 0x1_0000, 0), 0x10_0000 * (k + 1), `value ${k} kept`);
  }
  assert.equal(t.switchSpace(0x100, satpHi(1)), false);
  assert.equal(t.lookup(TLB_LOAD, 0x1_0000, 0), 0x10_0000, "the recently used value kept");
  t.switchSpace(0x101, satpHi(2));
  assert.equal(t.lookup(TLB_LOAD, 0x1_0000, 0), -1, "the least recently used value lost its entries");
});

test("M's entries (MPRV translates through satp) go at every switch; page and full flushes reach every space", () => {
  const t = tlb();
  t.select(M, 0);
  t.fill(TLB_LOAD, 0x5000, 0, 0x1000);
  t.select(U, 0);
  assert.equal(t.switchSpace(0x100, satpHi(1)), true, "M's set was emptied");
  t.select(M, 0);
  assert.equal(t.lookup(TLB_LOAD, 0x5000, 0), -1);
  t.select(U, 0);
  t.fill(TLB_LOAD, 0x5000, 0, 0x1000);
  t.fill(TLB_LOAD, 0x6000, 0, 0x2000);
  t.switchSpace(0x200, satpHi(2));
  t.fill(TLB_LOAD, 0x5000, 0, 0x3000);
  t.fill(TLB_LOAD, 0x6000, 0, 0x4000);
  t.flushPage(0x5000, 0);
  assert.equal(t.lookup(TLB_LOAD, 0x5000, 0), -1);
  assert.equal(t.lookup(TLB_LOAD, 0x6000, 0), 0x4000);
  t.switchSpace(0x100, satpHi(1));
  assert.equal(t.lookup(TLB_LOAD, 0x5000, 0), -1, "the page flush reached the other space");
  assert.equal(t.lookup(TLB_LOAD, 0x6000, 0), 0x2000);
  t.flush();
  assert.equal(t.lookup(TLB_LOAD, 0x6000, 0), -1);
  t.switchSpace(0x200, satpHi(2));
  assert.equal(t.lookup(TLB_LOAD, 0x6000, 0), -1, "the full flush reached the other space");
});

test("holdsAsid answers for every kept address space, and resetSpaces forgets all but the current", () => {
  const t = tlb();
  t.switchSpace(0x100, satpHi(5));
  t.switchSpace(0x200, satpHi(6));
  assert.equal(t.holdsAsid(5), true);
  assert.equal(t.holdsAsid(6), true);
  assert.equal(t.holdsAsid(7), false);
  t.resetSpaces(0x200, satpHi(6));
  assert.equal(t.holdsAsid(5), false);
  assert.equal(t.holdsAsid(6), true);
});

test("a hart's satp write switches spaces without a flush; sfence.vma with a kept ASID flushes, another not", () => {
  const h = new Machine({ ramSize: 1 << 20, jit: false }).harts[0];
  let flushes = 0;
  h.tlb.onFlush = () => flushes++;
  const run = (insn: number) => execOp(h, decode(insn), insn);
  const csrwSatp = (lo: number, hi: number) => {
    h.x[2 * 5] = lo; // t0
    h.x[2 * 5 + 1] = hi;
    run((0x180 << 20) | (5 << 15) | (1 << 12) | 0x73); // csrrw x0, satp, t0
  };
  const sfenceAsid = (asid: number) => {
    h.x[2 * 6] = asid; // t1
    h.x[2 * 6 + 1] = 0;
    run((0x09 << 25) | (6 << 20) | 0x73); // sfence.vma x0, t1
  };
  csrwSatp(0x100, satpHi(1));
  csrwSatp(0x200, satpHi(2)); // (a first visit may empty a space, or M's entries)
  const before = h.tlb.flushes;
  flushes = 0;
  csrwSatp(0x100, satpHi(1));
  csrwSatp(0x200, satpHi(2));
  csrwSatp(0x100, satpHi(1));
  assert.equal(h.tlb.flushes, before, "switching between two values flushes nothing");
  assert.equal(flushes, 0);
  sfenceAsid(3);
  assert.equal(h.tlb.flushes, before, "an ASID no kept space has: nothing to drop");
  sfenceAsid(2);
  assert.equal(h.tlb.flushes, before + 1, "the ASID of a space kept but not current: flushed");
});

test("sets first selected later hold empty entries, not zeros (which would map page 0 to linear 0)", () => {
  const t = tlb();
  const zeroPageHit = () => t.lookup(TLB_LOAD, 0x10, 0) !== -1 || t.lookup(TLB_STORE, 0x10, 0) !== -1;
  t.select(S, 1); // VS
  assert.equal(zeroPageHit(), false, "VS");
  t.select(U, 1); // VU
  assert.equal(zeroPageHit(), false, "VU");
  t.select(U, 0);
  for (let k = 1; k < SPACES; k++) {
    t.switchSpace(0x100 + k, satpHi(k));
    assert.equal(zeroPageHit(), false, `U of space ${k}`);
    t.select(S, 0);
    assert.equal(zeroPageHit(), false, `S of space ${k}`);
    t.select(U, 0);
  }
});

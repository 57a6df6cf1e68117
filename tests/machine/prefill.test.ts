/**
 * Hart.prefill (cpu/hart.ts): the interpreter enters the page of a block's
 * first load or store in the TLB before calling the block
 * (cpu/interpreter.ts refillFirstAccess). It fills the bank of the access's
 * kind, and for an address the access would fault on, or MMIO, it fills
 * nothing and raises nothing: the access itself meets that.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Machine } from "../../src/machine/board/machine.ts";
import { TLB_LOAD, TLB_STORE } from "../../src/machine/mmu/tlb.ts";

const RAM = 0x8000_0000 | 0;

test("prefill enters a RAM page in the bank of the access's kind", () => {
  const h = new Machine({ ramSize: 1 << 20 }).harts[0];
  h.prefill(RAM + 0x1008, 0, false);
  assert.ok(h.tlb.lookup(TLB_LOAD, RAM + 0x1010, 0) >= 0, "load bank");
  assert.equal(h.tlb.lookup(TLB_STORE, RAM + 0x1010, 0), -1);
  h.prefill(RAM + 0x2000, 0, true);
  assert.ok(h.tlb.lookup(TLB_STORE, RAM + 0x2ff8, 0) >= 0, "store bank");
  assert.equal(h.tlb.lookup(TLB_LOAD, RAM + 0x2ff8, 0), -1);
});

test("prefill of MMIO or of an address with nothing behind it fills nothing and does not throw", () => {
  const h = new Machine({ ramSize: 1 << 20 }).harts[0];
  const pc = h.pcLo;
  for (const [lo, hi] of [
    [0x1000_0000, 0], // the UART
    [0x7000_0000, 0], // nothing: an access fault
    [RAM + (2 << 20), 0], // past the end of RAM
    [0, 1], // above 4 GiB
  ]) {
    for (const store of [false, true]) {
      h.prefill(lo, hi, store);
      assert.equal(h.tlb.lookup(store ? TLB_STORE : TLB_LOAD, lo, hi), -1, `${lo.toString(16)}:${hi}`);
    }
  }
  assert.equal(h.pcLo, pc, "no trap taken");
});

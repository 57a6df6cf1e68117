/**
 * Hart.prefill (cpu/hart.ts): the interpreter enters the page of a block's
 * first load or store in the TLB before calling the block
 * (cpu/interpreter.ts refillFirstAccess). It fills the bank of the access's
 * kind, and for an address the access would fault on, or MMIO, it fills
 * nothing and raises nothing: the access itself meets that.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeB, encodeI, encodeJal, encodeR, encodeS } from "../../src/isa/encode.ts";
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

test("no refill for a block's first FP store while FP is off: the store is not done (illegal instruction)", () => {
  const [T0, T1, T2, S0, A1] = [5, 6, 7, 8, 11];
  const words = [
    (2 << 12) | (T0 << 7) | 0x37, // lui t0, 2 (mstatus.FS = Initial)
    encodeI(0x300, T0, 2, 0, 0x73), // csrs mstatus, t0
    (1 << 12) | (S0 << 7) | 0x17, // auipc s0, 1
    encodeI(3, 0, 0, A1, 0x13), // addi a1, zero, 3
    (T2 << 7) | 0x17, // auipc t2, 0
    encodeI(40, T2, 0, T2, 0x13), // addi t2, t2, 40: the spin below
    encodeI(0x305, T2, 1, 0, 0x73), // csrw mtvec, t2
    encodeS(8, 0, S0, 3, 0x27), // loop: fsd ft0, 8(s0)
    encodeI(-1, A1, 0, A1, 0x13), // addi a1, a1, -1
    encodeB(-8, 0, A1, 1), // bne a1, zero, loop
    encodeI(0x300, T0, 3, 0, 0x73), // csrc mstatus, t0 (FP off)
    (1 << 12) | (T1 << 7) | 0x37, // lui t1, 1
    encodeR(0, T1, S0, 0, S0, 0x33), // add s0, s0, t1: the next page, not in the TLB
    encodeJal(-24, 0), // j loop: its block, compiled by now, starts with the fsd
    0x0000006f, // spin: j .
  ];
  const m = new Machine({ ramSize: 1 << 20, jitHot: 1 });
  m.mem.writePhys(RAM >>> 0, new Uint8Array(new Int32Array(words).buffer));
  const h = m.harts[0];
  h.setPc(RAM, 0);
  m.run(10_000);
  assert.equal(h.pcLo, RAM + 4 * 14, "the fsd trapped to the spin");
  assert.ok(h.tlb.lookup(TLB_STORE, RAM + 0x1010, 0) >= 0, "the loop's stores filled their page");
  assert.equal(h.tlb.lookup(TLB_STORE, RAM + 0x2010, 0), -1, "the store not done was refilled");
});

test("a block starting with an op decoded as a no-op (add x0, s1, zero) refills nothing", () => {
  const [S1, A1] = [9, 11];
  const words = [
    (3 << 12) | (S1 << 7) | 0x17, // auipc s1, 3: a page nothing accesses
    encodeI(3, 0, 0, A1, 0x13), // addi a1, zero, 3
    encodeR(0, 0, S1, 0, 0, 0x33), // loop: add x0, s1, zero (OP_NOP)
    encodeI(-1, A1, 0, A1, 0x13), // addi a1, a1, -1
    encodeB(-8, 0, A1, 1), // bne a1, zero, loop
    0x0000006f, // j .
  ];
  const m = new Machine({ ramSize: 1 << 20, jitHot: 1 });
  m.mem.writePhys(RAM >>> 0, new Uint8Array(new Int32Array(words).buffer));
  const h = m.harts[0];
  h.setPc(RAM, 0);
  m.run(10_000);
  assert.equal(h.pcLo, RAM + 4 * 5, "the loop ran to its end");
  assert.ok((m.jit?.compiled ?? 0) > 0, "blocks were compiled");
  for (const bank of [TLB_LOAD, TLB_STORE]) assert.equal(h.tlb.lookup(bank, RAM + 0x3000, 0), -1);
});

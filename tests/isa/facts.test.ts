/**
 * The instruction table's facts (src/isa/table.ts, read by src/isa/facts.ts)
 * hold of the interpreter, for the facts the tiers rely on being absent:
 * an op not marked `trap` never raises an exception, one not marked `mem`
 * leaves memory alone, and a `pure` op changes nothing but rd (which is why
 * the interpreter decodes a pure op writing x0 as a no-op). Each op runs
 * once in the interpreter on random operands and random encodings of its
 * free bits. Also: the facts column is checked as it is read, and the
 * immediate extractors agree with the encoders.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decode, OP_COUNT, OP_NAMES } from "../../src/isa/decoder.generated.ts";
import { encodeB, encodeI, encodeJal, encodeS } from "../../src/isa/encode.ts";
import { MEM, OP_FLAGS, OP_JIT, PURE, parseFacts, TRAP } from "../../src/isa/facts.ts";
import { immediate } from "../../src/isa/imm.ts";
import { INSTRUCTIONS } from "../../src/isa/table.ts";
import { Machine } from "../../src/machine/board/machine.ts";
import { MSTATUS_FS } from "../../src/machine/cpu/constants.ts";
import { S_MCAUSE, S_MSTATUS } from "../../src/machine/cpu/csr-slots.ts";
import { runSlice } from "../../src/machine/cpu/interpreter.ts";

const BASE = 0x8000_0000;
let seed = 12345;
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) | 0;
  return (seed ^ (seed >>> 15)) | 0;
};

test("every op has its facts, and a word that is not a fact is refused naming the instruction", () => {
  for (let op = 1; op < OP_COUNT; op++) assert.ok(OP_JIT[op] <= 3, OP_NAMES[op]);
  assert.deepEqual(parseFacts("add", "pure jit:inline"), { flags: PURE, jit: 1 });
  assert.throws(() => parseFacts("add", "pure jit:inline fast"), /table\.ts: add: "fast" is not a fact/);
  assert.throws(() => parseFacts("add", "pure"), /table\.ts: add: its facts need one of jit:stop/);
  assert.throws(() => parseFacts("add", "jit:inline jit:helper"), /add: "jit:helper" is not a fact/);
});

test("the absent facts hold in the interpreter: no trap without `trap`, no memory without `mem`, only rd for `pure`", () => {
  const m = new Machine({ ramSize: 1 << 20, jit: false });
  const h = m.harts[0];
  const ram = () => m.mem.u8.slice(m.mem.ramLinear, m.mem.ramLinear + (1 << 20));
  const checked = new Set<string>();
  for (const [name, , match, mask] of INSTRUCTIONS) {
    const op = decode(match);
    const facts = OP_FLAGS[op];
    if (facts & TRAP) continue;
    for (let trial = 0; trial < 12; trial++) {
      let insn = match | (rand() & ~mask) | 0;
      if (decode(insn) !== op) insn = match; // free bits that select another instruction
      m.mem.writePhys(BASE, new Uint8Array(new Int32Array([insn]).buffer));
      m.mem.code.invalidateRange(BASE, 4);
      h.setPc(BASE | 0, 0);
      for (let i = 2; i < 64; i++) h.x[i] = rand();
      h.c[S_MSTATUS * 2] |= MSTATUS_FS;
      h.c[S_MCAUSE * 2] = 0x55;
      const x = h.x.slice();
      const f = h.f.slice();
      const csr = h.c.slice();
      const mem = ram();
      const icount = h.icount;
      runSlice(h, 1);
      const what = `${name} (0x${(insn >>> 0).toString(16)})`;
      assert.equal(h.icount, icount + 1, `${what} did not retire`);
      assert.equal(h.c[S_MCAUSE * 2], 0x55, `${what} trapped but is not marked trap`);
      if (!(facts & MEM)) assert.ok(Buffer.from(ram()).equals(Buffer.from(mem)), `${what} wrote memory`);
      if (facts & PURE) {
        const rd = (insn >>> 7) & 31;
        for (let r = 1; r < 32; r++)
          if (r !== rd)
            assert.deepEqual([h.x[2 * r], h.x[2 * r + 1]], [x[2 * r], x[2 * r + 1]], `${what} wrote x${r}`);
        assert.deepEqual(h.f, f, `${what} wrote an f register`);
        assert.deepEqual(h.c, csr, `${what} wrote a CSR`);
        assert.equal(h.pcLo, (BASE + 4) | 0, `${what} jumped`);
      }
    }
    checked.add(name);
  }
  // The check covered the ops the tiers treat as pure or trap-free: RV64I's ALU, branches and jumps, M, Zb.
  for (const name of ["add", "lui", "beq", "jalr", "mulhu", "divw", "rev8", "bexti", "fence"])
    assert.ok(checked.has(name), name);
});

test("an op's immediate, by the format its operands give, is what the encoders put there", () => {
  const op = (name: string) => OP_NAMES.indexOf(name);
  for (let i = 0; i < 500; i++) {
    const v = rand();
    const i12 = (v << 20) >> 20;
    assert.equal(immediate(op("addi"), encodeI(i12, 1, 0, 2, 0x13)), i12);
    assert.equal(immediate(op("ld"), encodeI(i12, 1, 3, 2, 0x03)), i12);
    assert.equal(immediate(op("sd"), encodeS(i12, 2, 1, 3, 0x23)), i12);
    const b = ((v << 19) >> 19) & ~1;
    assert.equal(immediate(op("bne"), encodeB(b, 2, 1, 1)), b);
    const j = ((v << 11) >> 11) & ~1;
    assert.equal(immediate(op("jal"), encodeJal(j, 1)), j);
    assert.equal(immediate(op("lui"), (v & ~0xfff) | 0x37), v & ~0xfff);
    assert.equal(immediate(op("slli"), encodeI(v & 63, 1, 1, 2, 0x13)), v & 63);
    assert.equal(immediate(op("slliw"), encodeI(v & 31, 1, 1, 2, 0x1b)), v & 31);
  }
  assert.equal(immediate(op("add"), 0x7ff00033), 0, "R-type has none");
});

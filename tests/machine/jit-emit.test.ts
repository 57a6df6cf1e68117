/**
 * The block emitter's structure (src/machine/jit/emit.ts and emitters.ts):
 * its dispatch table agrees with the instruction table's facts on which ops
 * are translated, refuses two emitters for one op, and the locals allocator hands
 * out indices after the parameters in declaration order. What the emitted
 * code does is the lockstep, differential and WAT-golden tests' business.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { OP_COUNT, OP_NAMES } from "../../src/isa/decoder.generated.ts";
import { Locals } from "../../src/machine/jit/emit.ts";
import { EMITTERS, emitterTable } from "../../src/machine/jit/emitters.ts";
import { Kind, kindOf } from "../../src/machine/jit/plan.ts";
import { F64, I32, I64 } from "../../src/machine/jit/wasm.ts";

test("the ops the table translates inline (jit:inline, jit:end) are exactly those with an emitter", () => {
  const missing: string[] = [];
  const unexpected: string[] = [];
  for (let op = 1; op < OP_COUNT; op++) {
    const translated = kindOf(op) === Kind.inline || kindOf(op) === Kind.end;
    const has = EMITTERS[op] !== undefined;
    if (translated && !has) missing.push(OP_NAMES[op]);
    if (has && !translated) unexpected.push(OP_NAMES[op]);
  }
  assert.deepEqual(missing, []);
  assert.deepEqual(unexpected, []);
});

test("two extension files emitting one op are refused when the table is built", () => {
  const emit = () => {};
  assert.throws(() => emitterTable([{ 22: emit }, { 22: emit }]), /two JIT emitters for addi/);
  assert.equal(emitterTable([{ 22: emit }])[22], emit);
});

test("the locals allocator numbers locals after the parameters, one typed group per request", () => {
  const l = new Locals(6);
  assert.equal(l.add(I64), 6);
  assert.equal(l.add(I32), 7);
  assert.equal(l.add(F64, 8), 8);
  assert.equal(l.add(I64, 0), 16);
  assert.equal(l.add(I64, 3), 16);
  assert.deepEqual(l.declared, [
    [1, I64],
    [1, I32],
    [8, F64],
    [0, I64],
    [3, I64],
  ]);
});

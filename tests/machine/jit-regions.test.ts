/**
 * Traps inside translated code and code pages remapped under it (issue 15,
 * item 5), with tests/asm/priv/jit-regions.S: the program checks mepc/sepc,
 * tvals, registers and memory itself (priv.test.ts runs it interpreted and
 * translated too); here it runs with every slot that runs twice compiled
 * (jitHot 1), and the test checks that the faults happened where compiled
 * code stopped, that the remapped page ran compiled, and that the final
 * state is the interpreter's. (Self-modifying code and fence.i: jit.test.ts.)
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadElf, runBareMetal } from "../../src/machine/board/bare-metal.ts";
import { parseElf } from "../../src/machine/board/elf.ts";
import { Machine } from "../../src/machine/board/machine.ts";
import { buildElf, haveCrossGcc } from "../support/cross.ts";

const skip = haveCrossGcc() ? false : "riscv64-linux-gnu-gcc is not installed";
const CODE_VA = 0xc000_0000;

/** Where each entry from the interpreter into compiled code started and stopped, and what it retired. */
interface Entry {
  from: number;
  to: number;
  retired: number;
}

/**
 * Records every entry into compiled code from the interpreter by wrapping
 * each function as the Jit installs it (Jit.onInstall and Jit.fns are public;
 * chained calls between compiled functions go through the table, unwrapped,
 * so an entry covers the whole chain it ran).
 */
function recordEntries(m: Machine): Entry[] {
  const jit = m.jit;
  assert.ok(jit !== undefined);
  const entries: Entry[] = [];
  const pcw = m.harts[0].pcWords;
  jit.onInstall = (id) => {
    const fn = jit.fns[id];
    jit.fns[id] = (...call: Parameters<typeof fn>) => {
      const n = fn(...call);
      entries.push({ from: call[3] >>> 0, to: pcw[0] >>> 0, retired: n });
      return n;
    };
  };
  return entries;
}

function run(jit: boolean, jitRegions = false) {
  const source = readFileSync(join(import.meta.dirname, "../asm/priv/jit-regions.S"), "utf8");
  const elf = parseElf(buildElf(source));
  const m = new Machine({ ramSize: 8 << 20, jit, jitHot: jit ? 1 : undefined, jitRegions });
  const entries = jit ? recordEntries(m) : [];
  loadElf(m, elf, "jit-regions");
  const result = runBareMetal(m, elf.symbols.get("tohost") as number, 1_000_000);
  const sym = (name: string) => elf.symbols.get(name) as number;
  return { m, result, entries, sym };
}

test("a page fault inside compiled code, and code remapped under it with sfence.vma", { skip }, () => {
  const jit = run(true);
  const interp = run(false);
  assert.deepEqual(jit.result, interp.result);
  assert.equal(jit.result.kind, "pass", JSON.stringify(jit.result));
  // The last pass of each loop entered compiled code at the faulting block's start, which
  // retired the 4 instructions before the fault and stopped at the faulting one.
  for (const n of [1, 2]) {
    const [start, insn] = [jit.sym(`fault_block${n}`), jit.sym(`fault_insn${n}`)];
    const stops = jit.entries.filter((e) => e.to === insn);
    assert.ok(stops.length > 0, `no compiled code stopped at fault_insn${n}`);
    assert.ok(
      stops.some((e) => e.from === start && e.retired === 4),
      `fault_insn${n}: ${JSON.stringify(stops)}`,
    );
  }
  // Calls through CODE_VA ran compiled (entered from the interpreter or chained from call_many).
  assert.ok(
    jit.entries.some((e) => e.from === CODE_VA) || jit.entries.some((e) => e.from === jit.sym("call_many")),
  );
  const [hj, hi] = [jit.m.harts[0], interp.m.harts[0]];
  assert.equal(hj.icount, hi.icount, "retired count");
  assert.deepEqual(Array.from(hj.x), Array.from(hi.x), "x registers");
  assert.deepEqual(Array.from(hj.c), Array.from(hi.c), "CSRs");
});

test("the same with JIT regions (jit/region.ts): faults inside a region and remapped code agree", {
  skip,
}, () => {
  const regions = run(true, true);
  const interp = run(false);
  assert.deepEqual(regions.result, interp.result);
  assert.equal(regions.result.kind, "pass", JSON.stringify(regions.result));
  assert.ok((regions.m.jit?.regionsCompiled ?? 0) > 0, "no region compiled");
  // Compiled code stopped at each faulting instruction (entered at a region's start, wherever that was).
  for (const n of [1, 2]) {
    const insn = regions.sym(`fault_insn${n}`);
    assert.ok(
      regions.entries.some((e) => e.to === insn),
      `no compiled code stopped at fault_insn${n}`,
    );
  }
  const [ha, hb] = [regions.m.harts[0], interp.m.harts[0]];
  assert.equal(ha.icount, hb.icount, "retired count");
  assert.deepEqual(Array.from(ha.x), Array.from(hb.x), "x registers");
});

/**
 * The JIT (src/machine/jit) against the interpreter, which the differential
 * tests prove against qemu-riscv64: the same program on two machines, one
 * interpreting and one translating every slot the second time it runs,
 * compared in lockstep (registers, pc, retired count, memory) after every
 * few instructions, so a block that retires a wrong count, skips a budget
 * or computes one wrong value fails at once. Also: self-modifying code
 * (stores into translated code, fence.i), and the wasm writer's encodings.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OP_NAMES } from "../../src/isa/decoder.generated.ts";
import { loadElf } from "../../src/machine/board/bare-metal.ts";
import { parseElf } from "../../src/machine/board/elf.ts";
import { Machine, type MachineOptions } from "../../src/machine/board/machine.ts";
import { regsOf } from "../../src/machine/jit/plan.ts";
import { Code, I32, moduleBytes, Op } from "../../src/machine/jit/wasm.ts";
import { buildElf, haveCrossGcc } from "../support/cross.ts";
import { runElf } from "../support/run.ts";

const skip = haveCrossGcc() ? false : "riscv64-linux-gnu-gcc is not installed";

/** Start-up in M-mode: a stack, FP on, main(), then main's result to tohost (0 -> pass). */
const CRT = `
__asm__(".section .text.init\\n.globl _start\\n_start:\\n"
        "  la sp, stack + 16384\\n  li t0, 0x6000\\n  csrs mstatus, t0\\n  call main\\n"
        "  slli a0, a0, 1\\n  ori a0, a0, 1\\n  la t0, tohost\\n  sd a0, 0(t0)\\n1: j 1b\\n");
volatile unsigned long tohost __attribute__((section(".tohost")));
volatile unsigned long fromhost __attribute__((section(".tohost")));
unsigned char stack[16384] __attribute__((aligned(16), used));
`;

/**
 * Loops with every kind of integer op, loads and stores of each width (some
 * misaligned, which leave blocks), M-extension edge cases, Zb ops, FP loads,
 * stores and arithmetic through the helper, calls (jal/jalr chaining).
 */
const MIXED = `${CRT}
typedef unsigned long u64; typedef long i64; typedef unsigned int u32;
static u64 buf[512]; static double d[64]; static float s[64];
__attribute__((noinline)) static u64 mix(u64 x, u64 y) { return (x ^ (y << 7)) + (y >> 3) * 0x9e3779b97f4a7c15ul; }
__attribute__((noinline)) static i64 divs(i64 a, i64 b) { return b == 0 ? a : a / b + a % b; }
int main(void) {
  u64 seed = 0x123456789abcdef1ul, acc = 0;
  for (int round = 0; round < 40; round++) {
    for (int i = 0; i < 512; i++) { seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; buf[i] = seed; }
    for (int i = 0; i < 511; i++) acc = mix(acc, buf[i]) ^ (u64)(i64)(int)(buf[i + 1] >> 17);
    unsigned char *p = (unsigned char *)buf;
    for (int i = 1; i < 4000; i += 3) { acc += *(unsigned short *)(p + i) + *(u32 *)(p + i + 1); p[i] ^= (unsigned char)acc; }
    i64 cases[] = { 0, -1, 1, (i64)0x8000000000000000ul, 7, -7, 0x7fffffff, -0x80000000l };
    for (int i = 0; i < 8; i++) for (int j = 0; j < 8; j++) {
      acc += (u64)divs(cases[i], cases[j]) + (u64)(cases[i] * cases[j]);
      acc += (u64)(int)((int)cases[i] / ((int)cases[j] | 1)) + (u64)((u32)cases[i] % ((u32)cases[j] | 1));
      acc ^= (u64)__builtin_clzl(cases[j] | 1) + (u64)__builtin_ctzl(cases[i] | 2) + (u64)__builtin_popcountl(cases[i]);
    }
    for (int i = 0; i < 64; i++) { d[i] = (double)(buf[i] >> 11) * 0x1p-53 + i; s[i] = (float)d[i] * 0.5f; }
    double dsum = 0; float ssum = 0;
    for (int i = 0; i < 64; i++) { dsum = dsum * 0.999 + d[i] * d[(i * 7) & 63]; ssum += s[i] / (s[(i + 1) & 63] + 1.0f); }
    acc += (u64)(i64)(dsum * 1000.0) + (u64)(i64)(ssum * 1000.0f);
  }
  buf[0] = acc;
  return 0;
}
`;

function machineFor(elfBytes: Uint8Array, jit: boolean, bounds: Partial<MachineOptions> = {}): Machine {
  const elf = parseElf(elfBytes);
  const m = new Machine({ ramSize: 4 * 1024 * 1024, jit, jitHot: jit ? 1 : undefined, ...bounds });
  loadElf(m, elf, "test");
  return m;
}

function assertSameState(a: Machine, b: Machine, when: string): void {
  const ha = a.harts[0];
  const hb = b.harts[0];
  assert.equal(hb.icount, ha.icount, `retired count ${when}`);
  assert.equal((hb.pcLo >>> 0).toString(16), (ha.pcLo >>> 0).toString(16), `pc ${when}`);
  assert.deepEqual(Array.from(hb.x), Array.from(ha.x), `x registers ${when}`);
  assert.deepEqual(Array.from(hb.f), Array.from(ha.f), `f registers ${when}`);
}

describe("the JIT agrees with the interpreter", { skip }, () => {
  /** Runs MIXED on an interpreter and a JIT machine in lockstep; returns the JIT machine. */
  function lockstep(source: string, bounds: Partial<MachineOptions> = {}, minBlocks = 20): Machine {
    const elf = buildElf(source, { lang: "c", extraFlags: ["-O2"] });
    const a = machineFor(elf, false);
    const b = machineFor(elf, true, bounds);
    const tohost = parseElf(elf).symbols.get("tohost") as number;
    const at = a.mem.ramOffset(tohost, 8) >>> 2;
    const steps = [1, 7, 100, 4096, 37, 5000];
    let done = false;
    for (let i = 0; i < 20_000 && !done; i++) {
      const n = steps[i % steps.length];
      a.run(n);
      b.run(n);
      assertSameState(a, b, `after step ${i}`);
      done = a.mem.i32[at] !== 0;
    }
    assert.ok(done, "the program did not finish");
    assert.equal(b.mem.i32[at], 1, "the program failed");
    // Guest RAM only: the jump caches before it are the JIT's own. No deepEqual: its diff of megabytes.
    const ramA = a.mem.u8.subarray(a.mem.ramLinear);
    const ramB = b.mem.u8.subarray(b.mem.ramLinear);
    const firstDiff = ramA.findIndex((v, i) => v !== ramB[i]);
    assert.equal(firstDiff, -1, `RAM differs at offset 0x${firstDiff.toString(16)}`);
    assert.ok((b.jit?.compiled ?? 0) >= minBlocks, `only ${b.jit?.compiled} blocks compiled`);
    return b;
  }

  test("instruction for instruction, in lockstep, over loops, calls, loads/stores, M, Zb and FP", () => {
    const b = lockstep(MIXED);
    assert.ok((b.jit?.regionsCompiled ?? 0) > 5, `only ${b.jit?.regionsCompiled} regions (on by default)`);
  });

  test("the same with regions off: single blocks, the fallback (jitRegions false)", () => {
    const b = lockstep(MIXED, { jitRegions: false });
    assert.equal(b.jit?.regionsCompiled, 0);
  });

  test("the same over if/else chains: branches to later instructions of a block jump inside it", () => {
    const branchy = `${CRT}
static unsigned char data[4096];
int main(void) {
  unsigned long acc = 1;
  for (int r = 0; r < 40; r++)
    for (int i = 0; i < 4096; i++) {
      unsigned v = data[i] ^ (unsigned)r ^ (unsigned)(acc >> 7);
      if (v & 1) acc += v;
      if (v & 2) acc ^= acc << 3; else acc += (unsigned long)i;
      if ((v & 12) == 4) { acc -= 7; if (v & 16) acc *= 3; }
      if (v & 32) continue;
      data[i] = (unsigned char)(acc >> 5);
    }
  data[0] = (unsigned char)acc;
  return 0;
}
`;
    const b = lockstep(branchy, { jitRegions: false }, 3);
    assert.ok((b.jit?.forwardEdges ?? 0) > 2, `only ${b.jit?.forwardEdges} in-block branches`);
    // As regions (the default), the arms that end in jumps join their loop's region.
    const r = lockstep(branchy, {}, 3);
    assert.ok((r.jit?.regionsCompiled ?? 0) > 0, "no region compiled");
  });

  test("the same with a one-page code cache: decoded pages and their blocks are evicted as code moves on", () => {
    // mix() and divs() on pages of their own: each call and return enters another page.
    const paged = MIXED.replaceAll("__attribute__((noinline))", "__attribute__((noinline, aligned(4096)))");
    const b = lockstep(paged, { maxCodePages: 1 });
    assert.ok(b.mem.code.evictions > 10, `only ${b.mem.code.evictions} evictions`);
    assert.equal(b.mem.code.live, 1);
  });

  test("the same with at most 3 live blocks: past them hot code stays in the interpreter", () => {
    const b = lockstep(MIXED, { jitMaxBlocks: 3 }, 3);
    assert.equal(b.jit?.compiled, 3);
    assert.equal(b.jit?.fns.length, 3);
  });

  test("an interrupt let in by a CSR write inside a block is taken right after that write", () => {
    // M-mode: SSIP pending (not delegated) with mie.SSIE set; each round masks MIE, raises SSIP
    // (a mip write ends the slice), then sets MIE in the middle of straight-line code: the block
    // running it must leave there, so the handler (which counts, clears SSIP and records how far
    // the round had got) sees the same count at the same pc as the interpreter.
    const src = `${CRT}
volatile unsigned long seen, trace;
__asm__(".text\\n.balign 4\\ntrap_entry:\\n  csrw mscratch, t0\\n  csrw sscratch, t1\\n  la t0, seen\\n"
        "  ld t1, 0(t0)\\n  addi t1, t1, 1\\n  sd t1, 0(t0)\\n  csrr t1, sscratch\\n  csrr t0, mscratch\\n"
        "  csrci mip, 2\\n  mret\\n");
int main(void) {
  unsigned long acc = 1, n = 0;
  __asm__ volatile("la t0, trap_entry\\n  csrw mtvec, t0\\n  li t0, 2\\n  csrs mie, t0" ::: "t0");
  for (int i = 0; i < 3000; i++) {
    __asm__ volatile("csrci mstatus, 8\\n  csrsi mip, 2\\n  addi %0, %0, 3\\n  csrrw %1, sscratch, %0\\n"
                     "  csrsi mstatus, 8\\n  addi %0, %0, 5\\n  xori %0, %0, 1\\n  sd %0, trace, t1"
                     : "+r"(acc), "+r"(n) : : "t1", "memory");
    acc += n;
  }
  seen += acc;
  return 0;
}
`;
    const b = lockstep(src, {}, 3);
    assert.ok((b.jit?.helperCalls ?? 0) > 3000, `only ${b.jit?.helperCalls} helper calls`);
  });

  test("sstatus SIE and SUM toggles run inside blocks, without the helper, as the interpreter runs them", () => {
    // Linux's local_irq_save/restore and uaccess pattern (jit/emit-csr.ts sstatusInline), in M-mode
    // with no interrupt pending: rd gets sstatus before each write; the restore sets SIE again.
    const src = `${CRT}
volatile unsigned long out;
int main(void) {
  unsigned long flags = 0, acc = 0;
  __asm__ volatile("csrsi sstatus, 2" ::: "memory");
  for (int i = 0; i < 3000; i++) {
    __asm__ volatile("csrrci %0, sstatus, 2\\n  li t1, 0x40000\\n  csrrs t2, sstatus, t1\\n  add %1, %1, %0\\n"
                     "  add %1, %1, t2\\n  xori %1, %1, 3\\n  andi t2, %0, 2\\n  csrs sstatus, t2"
                     : "+r"(flags), "+r"(acc) : : "t1", "t2", "memory");
  }
  out = acc;
  return 0;
}
`;
    const b = lockstep(src, {}, 2);
    assert.ok(
      (b.jit?.helperCalls ?? 0) < 100,
      `${b.jit?.helperCalls} helper calls: the writes left the block`,
    );
  });

  test("an sstatus SIE set inside a block with an interrupt pending leaves the block, and the interrupt is taken there", () => {
    // S-mode (PMP open, SSI delegated and enabled): each round masks SIE (inline), makes SSIP pending
    // (a sip write: the block leaves), then sets SIE in straight-line code: that write must go through
    // the helper and end the block, so the handler sees the same count at the same pc as the interpreter.
    const src = `${CRT}
volatile unsigned long seen, trace;
__asm__(".text\\n.balign 4\\nstrap:\\n  csrw sscratch, t0\\n  la t0, seen\\n  ld t0, 0(t0)\\n  addi t0, t0, 1\\n"
        "  sd t0, seen, a7\\n  csrci sip, 2\\n  csrr t0, sscratch\\n  sret\\n");
int main(void) {
  unsigned long acc = 1;
  __asm__ volatile("li t0, -1\\n  csrw pmpaddr0, t0\\n  li t0, 0x1f\\n  csrw pmpcfg0, t0\\n  la t0, strap\\n"
                   "  csrw stvec, t0\\n  li t0, 2\\n  csrs mideleg, t0\\n  csrs mie, t0\\n  li t0, 0x1800\\n"
                   "  csrc mstatus, t0\\n  li t0, 0x800\\n  csrs mstatus, t0\\n  la t0, 1f\\n  csrw mepc, t0\\n"
                   "  mret\\n1:" ::: "t0", "memory");
  for (int i = 0; i < 3000; i++) {
    __asm__ volatile("csrci sstatus, 2\\n  csrsi sip, 2\\n  addi %0, %0, 3\\n  csrsi sstatus, 2\\n"
                     "  addi %0, %0, 5\\n  xori %0, %0, 1\\n  sd %0, trace, t1"
                     : "+r"(acc) : : "t1", "a7", "memory");
  }
  return seen == 3000 ? 0 : 1;
}
`;
    lockstep(src, {}, 2);
  });

  test("a store into translated code takes effect at once; so does a new block there after fence.i", () => {
    // get() returns an immediate from its first instruction; main() calls it until it is hot,
    // then rewrites that instruction (addi a0, zero, imm) with a new immediate, twice.
    const src = `${CRT}
extern unsigned get(void);
__asm__(".text\\n.balign 4\\n.option push\\n.option norvc\\n.globl get\\nget:\\n  addi a0, zero, 11\\n  ret\\n.option pop\\n");
static void patch(unsigned imm) {
  volatile unsigned *insn = (volatile unsigned *)get;
  *insn = (imm << 20) | (10u << 7) | 0x13u; /* addi a0, zero, imm */
  __asm__ volatile("fence.i" ::: "memory");
}
int main(void) {
  unsigned sum = 0;
  for (int i = 0; i < 100000; i++) sum += get();
  if (sum != 1100000u) return 1;
  patch(22);
  for (int i = 0; i < 1000; i++) if (get() != 22) return 2;
  patch(33);
  if (get() != 33) return 3;
  return 0;
}
`;
    const elf = buildElf(src, { lang: "c", extraFlags: ["-O2"] });
    for (const jitRegions of [false, true])
      for (const jitHot of [1, 50, undefined]) {
        const { result, machine } = runElf(elf, { jitHot, jitRegions, maxInsns: 50_000_000 });
        assert.deepEqual(
          result.kind,
          "pass",
          `jitHot ${jitHot}, regions ${jitRegions}: ${JSON.stringify(result)}`,
        );
        assert.ok((machine.jit?.compiled ?? 0) > 0);
      }
  });
});

describe("the block planner", () => {
  test("reads rs2 only in register-register forms: an immediate's bits name no register", () => {
    const i = (imm: number, rs1: number, f3: number, rd: number, opc: number) =>
      (imm << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
    const r = (f7: number, rs2: number, rs1: number, f3: number, rd: number, opc: number) =>
      (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
    const opOf = (name: string) => OP_NAMES.indexOf(name);
    // addi x5, x6, 7 (imm bits 24:20 = 7); ld x5, 7(x6); add x5, x6, x7; sd x7, 8(x6); clz x5, x6; bseti x5, x6, 7
    assert.deepEqual(regsOf({ op: opOf("addi"), insn: i(7, 6, 0, 5, 0x13) }), { reads: [6], writes: [5] });
    assert.deepEqual(regsOf({ op: opOf("ld"), insn: i(7, 6, 3, 5, 0x03) }), { reads: [6], writes: [5] });
    assert.deepEqual(regsOf({ op: opOf("add"), insn: r(0, 7, 6, 0, 5, 0x33) }), {
      reads: [6, 7],
      writes: [5],
    });
    assert.deepEqual(regsOf({ op: opOf("sd"), insn: r(0, 7, 6, 3, 8, 0x23) }), {
      reads: [6, 7],
      writes: [],
    });
    assert.deepEqual(regsOf({ op: opOf("clz"), insn: r(0x30, 0, 6, 1, 5, 0x13) }), {
      reads: [6],
      writes: [5],
    });
    assert.deepEqual(regsOf({ op: opOf("bseti"), insn: r(0x14, 7, 6, 1, 5, 0x13) }), {
      reads: [6],
      writes: [5],
    });
    assert.deepEqual(regsOf({ op: opOf("bset"), insn: r(0x14, 7, 6, 1, 5, 0x33) }), {
      reads: [6, 7],
      writes: [5],
    });
  });
});

describe("the wasm writer", () => {
  /** Reference signed LEB128 over BigInt. */
  function leb(v: bigint): number[] {
    const out: number[] = [];
    let n = BigInt.asIntN(64, v);
    for (;;) {
      const b = Number(n & 0x7fn);
      n >>= 7n;
      if ((n === 0n && !(b & 0x40)) || (n === -1n && b & 0x40)) return [...out, b];
      out.push(b | 0x80);
    }
  }

  test("i64 constants encode as signed LEB128, from numbers and BigInts alike", () => {
    const values = [0, 1, -1, 63, 64, -64, -65, 0x7fffffff, -0x80000000, 0x80000000, 2 ** 52, -(2 ** 53) + 1];
    for (let k = 0; k < 64; k++) values.push(2 ** k - 1, -(2 ** k));
    for (const v of values) {
      if (!Number.isSafeInteger(v)) continue;
      const fromNumber = Array.from(new Code().i64Const(v).result());
      const fromBigInt = Array.from(new Code().i64Const(BigInt(v)).result());
      assert.deepEqual(fromNumber, [Op.i64Const, ...leb(BigInt(v))], `i64.const ${v}`);
      assert.deepEqual(fromBigInt, fromNumber, `i64.const ${v}n`);
    }
    assert.deepEqual(Array.from(new Code().i64Const(1n << 63n).result()), [Op.i64Const, ...leb(1n << 63n)]);
  });

  test("a module of two functions with a table import validates and runs", () => {
    const body = (k: number) => new Code().get(0).i32Const(k).op(Op.i32Add).result().slice();
    const bytes = moduleBytes({
      params: [I32],
      results: [I32],
      imports: [{ name: "exec", params: 2 }],
      table: true,
      functions: [
        { locals: [], body: body(5) },
        { locals: [[2, I32]], body: body(-7) },
      ],
    });
    assert.ok(WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>));
    const memory = new WebAssembly.Memory({ initial: 1 });
    const table = new WebAssembly.Table({ element: "anyfunc", initial: 1 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), {
      env: { memory, table, exec: () => {} },
    });
    const f0 = inst.exports.f0 as (x: number) => number;
    const f1 = inst.exports.f1 as (x: number) => number;
    assert.equal(f0(10), 15);
    assert.equal(f1(10), 3);
  });
});

/**
 * The machine's slices (board/machine.ts): a lone hart runs until its next
 * timer deadline, at most MAX_SLICE instructions, so it returns to the
 * machine (timers, device polling) rarely while a timer interrupt is taken
 * at the deadline itself, in deterministic time exactly and in real time
 * by the measured speed. Several harts keep SLICE-long turns.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadElf } from "../../src/machine/board/bare-metal.ts";
import { parseElf } from "../../src/machine/board/elf.ts";
import { INSNS_PER_TICK, MAX_SLICE, SLICE } from "../../src/machine/board/machine.ts";
import { VirtMachine } from "../../src/machine/board/virt.ts";
import { buildElf, haveCrossGcc } from "../support/cross.ts";

const skip = !haveCrossGcc() && "riscv64-linux-gnu-gcc is not installed";

/** Sets mtimecmp to `deadline` ticks, spins; the handler puts mtime in s2 and spins with interrupts off. */
const DEADLINE = 12_345;
const program = (deadline: number) => `
.text
.globl _start
_start:
  la t0, handler
  csrw mtvec, t0
  li t1, 0x2004000
  li t2, ${deadline}
  sd t2, 0(t1)
  li t0, 0x80
  csrw mie, t0
  csrsi mstatus, 8
1:
  addi a0, a0, 1
  j 1b
.align 2
handler:
  li t1, 0x200bff8
  ld s2, 0(t1)
2:
  addi a1, a1, 1
  j 2b
.section .tohost, "aw"
.globl tohost
tohost: .dword 0
`;

function machine(opts: { harts?: number; realTime?: boolean; deadline?: number } = {}): VirtMachine {
  let vm: VirtMachine | undefined;
  // "Real time" that advances one tick per INSNS_PER_TICK * 2 instructions: the machine must measure the speed.
  const clock = opts.realTime
    ? { now: () => Math.floor((vm as VirtMachine).machine.retired() / 20) }
    : undefined;
  vm = new VirtMachine({ ramSize: 1 << 20, harts: opts.harts ?? 1, clock });
  loadElf(vm.machine, parseElf(buildElf(program(opts.deadline ?? DEADLINE), { lang: "S" })), "slices");
  for (const h of vm.machine.harts) h.setPc(vm.machine.harts[0].pcLo, 0);
  return vm;
}

test("a lone hart in deterministic time takes its timer interrupt at the deadline, not at a slice's end", {
  skip,
}, () => {
  const vm = machine();
  vm.machine.run(DEADLINE * INSNS_PER_TICK + 1000);
  const h = vm.machine.harts[0];
  const seen = h.x[18 * 2]; // s2: mtime read by the handler
  assert.ok(seen >= DEADLINE, `handler ran at mtime ${seen}`);
  // Two instructions into the handler; 4,096-instruction rounds took it up to 409 ticks late.
  assert.ok(seen <= DEADLINE + 1, `taken ${seen - DEADLINE} ticks late`);
});

test("a lone hart in real time sizes its slices by its measured speed and meets the deadline", {
  skip,
}, () => {
  const vm = machine({ realTime: true });
  vm.machine.run(DEADLINE * 20 + 5000);
  const seen = vm.machine.harts[0].x[18 * 2];
  assert.ok(seen >= DEADLINE && seen <= DEADLINE + 2, `taken at ${seen} for ${DEADLINE}`);
});

test("with no deadline near, a lone hart returns every MAX_SLICE instructions; two harts every SLICE", {
  skip,
}, () => {
  for (const harts of [1, 2]) {
    const vm = machine({ harts, deadline: 10_000_000 });
    let rounds = 0;
    vm.machine.pollers.push(() => rounds++);
    const n = 10 * MAX_SLICE;
    vm.machine.run(n);
    const slice = harts === 1 ? MAX_SLICE : SLICE;
    assert.equal(vm.machine.harts[0].x[18 * 2], 0, "no interrupt yet");
    assert.ok(
      Math.abs(rounds - n / slice / harts) <= 2,
      `${harts} hart(s): ${rounds} rounds for ${n} instructions`,
    );
  }
});

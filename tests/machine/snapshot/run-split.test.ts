/**
 * The machine's schedule does not depend on how a run is split into
 * run() calls, nor on a snapshot taken between two of them: run(N) then
 * run(M) is exactly run(N + M). The program makes that visible: two harts
 * count in a loop without any CSR access (so their slices are long) and
 * take timer interrupts, which are noticed only at the start of a slice,
 * so any shift of slice boundaries changes the counts the handler logs.
 * With one hart the slices run to the next timer deadline (sliceLength), so
 * both schedules are covered.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadElf } from "../../../src/machine/board/bare-metal.ts";
import { parseElf } from "../../../src/machine/board/elf.ts";
import { VirtMachine } from "../../../src/machine/board/virt.ts";
import { restoreVm, saveVm } from "../../../src/machine/snapshot/machine-snapshot.ts";
import { buildElf, haveCrossGcc } from "../../support/cross.ts";

const skip = !haveCrossGcc() && "riscv64-linux-gnu-gcc is not installed";

const PROGRAM = `
.text
.globl _start
_start:
  csrr a1, mhartid
  la t0, handler
  csrw mtvec, t0
  li t1, 0x2004000          # mtimecmp[hart]
  slli t2, a1, 3
  add t1, t1, t2
  li t2, 700
  sd t2, 0(t1)
  la s1, log                # log[hart] = 64 entries of 8 bytes
  slli t2, a1, 9
  add s1, s1, t2
  li t0, 0x80
  csrw mie, t0
  csrsi mstatus, 8
1:
  addi a0, a0, 1
  addi a2, a2, 3
  j 1b
.align 2
handler:
  andi t3, s1, 0x1ff
  xori t3, t3, 0x1f8        # stop logging when the hart's log is full
  beqz t3, 2f
  sd a0, 0(s1)
  addi s1, s1, 8
2:
  ld t2, 0(t1)
  addi t2, t2, 613
  sd t2, 0(t1)
  mret
.data
.align 12
log: .zero 1024
.section .tohost, "aw"
.globl tohost
tohost: .dword 0
`;

function machine(elf: Uint8Array, jit: boolean, harts: number): VirtMachine {
  const vm = new VirtMachine({ ramSize: 1 << 20, harts, jit });
  loadElf(vm.machine, parseElf(elf), "split");
  for (const h of vm.machine.harts) h.setPc(vm.machine.harts[0].pcLo, 0);
  return vm;
}

function state(vm: VirtMachine) {
  const s = saveVm(vm, { copyRam: true });
  return { components: s.components, ram: Buffer.from(s.ram as Uint8Array).toString("base64") };
}

for (const [jit, harts] of [
  [false, 2],
  [true, 2],
  [false, 1],
  [true, 1],
] as const) {
  test(`run(N) + run(M), with or without a snapshot in between, is run(N + M) (JIT ${jit ? "on" : "off"}, ${harts} hart(s))`, {
    skip,
  }, () => {
    const elf = buildElf(PROGRAM, { lang: "S" });
    const straight = machine(elf, jit, harts);
    straight.machine.run(250_000);
    const want = state(straight);
    // The handler ran on both harts (the test would prove nothing otherwise).
    const logAt = parseElf(elf).symbols.get("log") as number;
    const log = new BigUint64Array(straight.machine.mem.readPhys(logAt, 1024).buffer);
    assert.ok(log[3] > 0n && (harts === 1 || log[64 + 3] > 0n), "every hart took timer interrupts");

    for (const cut of [1, 4095, 4097, 10_001, 70_001, 123_457]) {
      const split = machine(elf, jit, harts);
      split.machine.run(cut);
      split.machine.run(250_000 - cut);
      assert.deepStrictEqual(state(split), want, `split at ${cut}`);

      const before = machine(elf, jit, harts);
      before.machine.run(cut);
      const restored = machine(elf, jit, harts);
      restoreVm(restored, structuredClone(saveVm(before, { copyRam: true })));
      restored.machine.run(250_000 - cut);
      assert.deepStrictEqual(state(restored), want, `snapshot at ${cut}`);
    }
  });
}

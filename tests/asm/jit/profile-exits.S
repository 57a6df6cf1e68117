/*
 * Known returns from compiled code, for tests/machine/jit-profile.test.ts
 * (run with every slot that runs twice compiled). Each pass of loop_stop
 * leaves compiled code once, before a fence.i (no block translates it);
 * each pass of loop_mem once, at a misaligned load (its TLB probe misses);
 * loop_tlb's two loads, whose pages share a TLB index (the address XOR
 * SAME_INDEX1, which the test defines from mmu/tlb.ts's index), stay in
 * compiled code (the load bank has two ways); each pass of loop_tlb3 leaves
 * it three times, at three loads whose pages share an index (a third XOR
 * SAME_INDEX2) and evict each other. loop_spin runs a self-loop block that only
 * the slice's budget stops.
 */
#include "test.h"
#define PASSES 2000
.section .text.init
.globl _start
_start:
  la s2, data
  li s0, PASSES
  li s1, 0
.globl loop_stop
loop_stop:
  addi s1, s1, 1
  addi t0, s1, 3
.globl stop_insn
stop_insn:
  fence.i
  addi s0, s0, -1
  bnez s0, loop_stop
  li s0, PASSES
.globl loop_mem
loop_mem:
  addi s1, s1, 1
.globl mem_insn
mem_insn:
  ld t1, 1(s2)
  add s1, s1, t1
  addi s0, s0, -1
  bnez s0, loop_mem
  li s0, PASSES
  la s3, data
  li t2, SAME_INDEX1
  xor s4, s3, t2
.globl loop_tlb
loop_tlb:
  ld t1, 0(s3)
  ld t3, 0(s4)
  addi s0, s0, -1
  bnez s0, loop_tlb
  li s0, PASSES
  li t2, SAME_INDEX2
  xor s5, s3, t2
.globl loop_tlb3
loop_tlb3:
  ld t1, 0(s3)
  ld t3, 0(s4)
  ld t4, 0(s5)
  addi s0, s0, -1
  bnez s0, loop_tlb3
  li s0, 300000
loop_spin:
  addi s1, s1, 1
  addi s0, s0, -1
  bnez s0, loop_spin
  PASS
.data
.align 4
data: .dword 0x0102030405060708, 0x1112131415161718
.section .tohost,"aw",@progbits
.align 6
.globl tohost
tohost: .dword 0
.globl fromhost
fromhost: .dword 0

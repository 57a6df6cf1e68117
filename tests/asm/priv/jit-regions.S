/*
 * Traps inside translated code, and code pages remapped under it (issue 15,
 * item 5). Written for the JIT (tests/machine/jit-regions.test.ts checks that
 * the faulting code ran compiled) and run by priv.test.ts like every program
 * here, so the interpreter must agree.
 *
 * 1. A loop whose body (fault_block1) runs 40 times; on the last pass its
 *    5th instruction, a load, takes a page fault to M: mepc = fault_insn1,
 *    mtval = the address, the 4 instructions before it retired (registers
 *    and a store), none after.
 * 2. The same with a store page fault (read-only page) delegated to S:
 *    sepc, stval exact.
 * 3. CODE_VA is called from a hot loop (call_many) through the page table;
 *    its PTE is changed to other physical pages, each followed by
 *    sfence.vma (for the address; everything; the address and the ASID),
 *    and every call after that runs the new page's code.
 * 4. The same for a megapage (MEGA_VA), with sfence.vma naming another
 *    4 KiB page of it: the leaf that maps the address is what is flushed.
 *
 * Sv39, satp ASID 5. tbl_l2[2] maps 0x80000000 (this image) 1:1 as a
 * gigapage; tbl_l2[3] -> tbl_l1[0] -> tbl_l0 maps 4 KiB pages at
 * 0xc0000000: [0] CODE_VA (code_a, code_b or code_c, R X),
 * [1] RO_VA (ro_page, R only), [2] BAD_VA (invalid); tbl_l1[1] is the
 * megapage at MEGA_VA (RAM: 8 MiB at least).
 */
#include "test.h"

#define CODE_VA 0xc0000000
#define RO_VA   0xc0001000
#define BAD_VA  0xc0002000
#define ASID    5
#define PTE_RX_A  0x4b          /* V R X A */
#define PTE_R_A   0x43          /* V R A */
#define ITERS   40
#define MEGA_VA  0xc0200000     /* tbl_l1[1]: a megapage at MEGA_PA1, then MEGA_PA2 */
#define MEGA_PA1 0x80200000
#define MEGA_PA2 0x80400000
#define MEGA_OFF 0x3000         /* where both hold code: a0 = 4 (PA1) or 5 (PA2) */

/* t0 = the leaf PTE for the page at symbol sym with flags; clobbers t0. */
#define LEAF(sym, flags) \
  la t0, sym;            \
  srli t0, t0, 12;       \
  slli t0, t0, 10;       \
  ori t0, t0, flags

/* CODE_VA's PTE := sym's page, R X. Clobbers t0, t1. */
#define MAP_CODE(sym) \
  LEAF(sym, PTE_RX_A); \
  la t1, tbl_l0;       \
  sd t0, 0(t1)

.section .text.init
.globl _start
_start:
  la t0, m_trap
  csrw mtvec, t0
  la t0, s_trap
  csrw stvec, t0
  li t0, 1 << 15                      /* store page faults go to S; load page faults stay in M */
  csrw medeleg, t0
  /* page tables */
  la t0, tbl_l2
  li t1, (0x80000000 >> 2) | 0xcf     /* gigapage 0x80000000, V R W X A D */
  sd t1, 16(t0)
  la t1, tbl_l1
  srli t1, t1, 12
  slli t1, t1, 10
  ori t1, t1, 1
  sd t1, 24(t0)
  la t0, tbl_l0
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, 1
  la t1, tbl_l1
  sd t0, 0(t1)
  MAP_CODE(code_a)
  li t0, (MEGA_PA1 >> 2) | PTE_RX_A
  la t1, tbl_l1
  sd t0, 8(t1)
  /* the megapages' code: addi a0, zero, 4 (or 5); ret */
  li t0, MEGA_PA1 + MEGA_OFF
  li t1, 0x00400513
  sw t1, 0(t0)
  li t1, 0x00008067
  sw t1, 4(t0)
  li t0, MEGA_PA2 + MEGA_OFF
  li t1, 0x00500513
  sw t1, 0(t0)
  li t1, 0x00008067
  sw t1, 4(t0)
  fence.i
  LEAF(ro_page, PTE_R_A)
  la t1, tbl_l0
  sd t0, 8(t1)
  /* satp: Sv39, ASID, root */
  la t0, tbl_l2
  srli t0, t0, 12
  li t1, (8 << 60) | (ASID << 44)
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, 1 << 11                      /* MPP = S */
  csrs mstatus, t0
  la t0, s_main
  csrw mepc, t0
  mret

/* Traps: cause, epc, tval to s2, s3, s4, then resume at s1. */
.balign 4
m_trap:
  csrr s2, mcause
  csrr s3, mepc
  csrr s4, mtval
  csrw mepc, s1
  mret

.balign 4
s_trap:
  csrr s2, scause
  csrr s3, sepc
  csrr s4, stval
  csrw sepc, s1
  sret

.text
s_main:
  /* ---- 1: load page fault on the 5th instruction of a block, to M ---- */
  li s7, ITERS
  la s5, data
  la s6, data
  li a0, 0
  li a1, 0
  li a4, 0
  la s1, after1
loop1:
  addi s7, s7, -1
  bnez s7, fault_block1
  li s6, BAD_VA                       /* last pass: the load faults */
fault_block1:
  addi a0, a0, 1
  addi a1, a1, 2
  add a2, a0, a1
  sd a2, 8(s5)
fault_insn1:
  ld a3, 0(s6)
  addi a4, a4, 1
  j loop1
after1:
  CHECK_IMM(s2, 13, 10)
  CHECK_ADDR(s3, fault_insn1, 11)
  CHECK_IMM(s4, BAD_VA, 12)
  CHECK_IMM(a0, ITERS, 13)
  CHECK_IMM(a1, 2 * ITERS, 14)
  CHECK_IMM(a2, 3 * ITERS, 15)
  ld t0, 8(s5)
  CHECK_IMM(t0, 3 * ITERS, 16)
  CHECK_IMM(a4, ITERS - 1, 17)
  CHECK_IMM(s7, 0, 18)

  /* ---- 2: store page fault on the 5th instruction of a block, to S ---- */
  li s7, ITERS
  la s6, data
  li a0, 0
  li a1, 0
  li a4, 0
  la s1, after2
loop2:
  addi s7, s7, -1
  bnez s7, fault_block2
  li s6, RO_VA                        /* last pass: the store faults */
fault_block2:
  addi a0, a0, 3
  xor a1, a1, a0
  slli a2, a0, 2
  ld a3, 16(s5)                       /* what the previous pass stored */
fault_insn2:
  sd a2, 16(s6)
  addi a4, a4, 1
  j loop2
after2:
  CHECK_IMM(s2, 15, 20)
  CHECK_ADDR(s3, fault_insn2, 21)
  CHECK_IMM(s4, RO_VA + 16, 22)
  CHECK_IMM(a0, 3 * ITERS, 23)
  CHECK_IMM(a2, 12 * ITERS, 24)
  CHECK_IMM(a3, 12 * (ITERS - 1), 25)
  CHECK_IMM(a4, ITERS - 1, 26)
  ld t0, 16(s6)                       /* RO_VA is readable: the store did not happen */
  CHECK_IMM(t0, 0, 27)
  la t0, data
  ld t0, 16(t0)
  CHECK_IMM(t0, 12 * (ITERS - 1), 28)

  /* ---- 3: remapping CODE_VA under a hot caller ---- */
  li a0, 50
  li a1, CODE_VA
  call call_many
  CHECK_IMM(a0, 50, 30)
  MAP_CODE(code_b)
  li t1, CODE_VA
  sfence.vma t1, zero
  li a0, 50
  li a1, CODE_VA
  call call_many
  CHECK_IMM(a0, 100, 31)
  MAP_CODE(code_a)                    /* back: code_a's translation may still be cached */
  sfence.vma zero, zero
  li a0, 50
  li a1, CODE_VA
  call call_many
  CHECK_IMM(a0, 50, 32)
  MAP_CODE(code_c)
  li t1, CODE_VA
  li t2, ASID
  sfence.vma t1, t2
  li a0, 1
  li a1, CODE_VA
  call call_many                      /* the first call after the remap */
  CHECK_IMM(a0, 3, 33)
  li a0, 50
  li a1, CODE_VA
  call call_many
  CHECK_IMM(a0, 150, 34)

  /* ---- 4: a megapage remapped; sfence.vma names another 4 KiB page inside it ---- */
  li a0, 50
  li a1, MEGA_VA + MEGA_OFF
  call call_many
  CHECK_IMM(a0, 200, 40)
  li t0, (MEGA_PA2 >> 2) | PTE_RX_A
  la t1, tbl_l1
  sd t0, 8(t1)
  li t1, MEGA_VA + 0x7000
  sfence.vma t1, zero
  li a0, 50
  li a1, MEGA_VA + MEGA_OFF
  call call_many
  CHECK_IMM(a0, 250, 41)
  PASS

/* a0 = the sum of a0 calls to a1 (code that sets a0 and touches nothing else). */
call_many:
  mv t5, a0
  li t4, 0
  mv t6, ra
  mv t3, a1
1:
  jalr ra, 0(t3)
  add t4, t4, a0
  addi t5, t5, -1
  bnez t5, 1b
  mv a0, t4
  jr t6

/* Three pages of code for CODE_VA: each returns its own number. */
.balign 4096
code_a:
  addi a0, zero, 0
  addi a0, a0, 1
  ret
.balign 4096
code_b:
  addi a0, zero, 0
  addi a0, a0, 2
  ret
.balign 4096
code_c:
  addi a0, zero, 0
  addi a0, a0, 3
  ret

TOHOST_SECTION

.data
.balign 4096
tbl_l2: .fill 512, 8, 0
tbl_l1: .fill 512, 8, 0
tbl_l0: .fill 512, 8, 0
ro_page: .fill 512, 8, 0
data: .fill 512, 8, 0

/*
 * A 32-bit instruction straddling a page end (issue 15): its low half is at
 * byte 0xffe of one virtual page, its high half at byte 0 of the next, and
 * the two pages are physically apart. Written for the JIT (a block may end
 * with such an instruction: tests/machine/jit-straddle.test.ts checks it ran
 * compiled) and run by priv.test.ts like every program here, so the
 * interpreter must agree.
 *
 * STR_VA maps lo_page (R X), STR_VA + 0x1000 the page holding the high half:
 * hi_a (addi a0, a0, 5) or hi_b (addi a0, a0, 7), each followed by ret.
 *   fn:  a0 = 0; a0 += 1; a0 += imm (straddling); ret     -> 1 + imm
 *   fn2: a0 = 20; j into fn after its first instruction    -> 21 + imm
 * (fn2's jump makes a region of two blocks, the second ending with the
 * straddling instruction.) With both called from a hot loop:
 * 1. they return what hi_a says, also when called at the straddling
 *    instruction itself (a block starts there);
 * 2. a store into hi_a's high half (imm 9), then fence.i: the new immediate;
 * 3. the second virtual page remapped to hi_b, sfence.vma naming only that
 *    page: hi_b's immediate (the first page's translation did not change);
 * 4. mapped back to hi_a: hi_a's (patched) immediate again;
 * 5. the second page unmapped: an instruction page fault to S with
 *    sepc = the straddling instruction, stval = the second page (the part
 *    that faulted), the instructions before it retired;
 * 6. the second page readable but not executable: the same fault;
 * 7. mapped back: runs again.
 *
 * Sv39; tbl_l2[2] maps 0x80000000 (this image) 1:1 as a gigapage;
 * tbl_l2[3] -> tbl_l1[0] -> tbl_l0 maps STR_VA's two pages.
 */
#include "test.h"

#define STR_VA  0xc0000000
#define HI_VA   0xc0001000
#define PTE_RX_A  0x4b          /* V R X A */
#define PTE_R_A   0x43          /* V R A */
#define CALLS   200

/* t0 = the leaf PTE for the page at symbol sym with flags. */
#define LEAF(sym, flags) \
  la t0, sym;            \
  srli t0, t0, 12;       \
  slli t0, t0, 10;       \
  ori t0, t0, flags

/* tbl_l0[i] := t0. Clobbers t1. */
#define SET_L0(i) \
  la t1, tbl_l0;  \
  sd t0, (i) * 8(t1)

/* The second page's PTE := t0, then sfence.vma for that page only. Clobbers t1. */
#define REMAP_HI \
  SET_L0(1);     \
  li t1, HI_VA;  \
  sfence.vma t1, zero

/* a0 = the sum of CALLS calls to fn at STR_VA + off; fail with n unless it is CALLS * each. */
#define CALLS_GIVE(off, each, n) \
  li a0, CALLS;                  \
  li a1, STR_VA + (off);         \
  call call_many;                \
  CHECK_IMM(a0, CALLS * (each), n)

#define FN_OFF  0xff8
#define FN2_OFF 0xfe8

.section .text.init
.globl _start
_start:
  la t0, m_trap
  csrw mtvec, t0
  la t0, s_trap
  csrw stvec, t0
  li t0, 1 << 12                      /* instruction page faults go to S */
  csrw medeleg, t0
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
  LEAF(lo_page, PTE_RX_A)
  SET_L0(0)
  LEAF(hi_a, PTE_RX_A)
  SET_L0(1)
  la t0, tbl_l2
  srli t0, t0, 12
  li t1, 8 << 60
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
  /* ---- 1: as hi_a says ---- */
  CALLS_GIVE(FN_OFF, 6, 10)
  CALLS_GIVE(FN2_OFF, 26, 11)
  CALLS_GIVE(FN_OFF, 6, 12)
  /* entered at the straddling instruction itself (a return address, say): a0 += 5 each call */
  li a0, CALLS
  li a1, STR_VA + 0xffe
  call call_many
  CHECK_IMM(a0, CALLS * CALLS + 5 * CALLS * (CALLS + 1) / 2, 13)

  /* ---- 2: a store into the high half ---- */
  la t0, hi_a
  li t1, 0x0095                       /* addi a0, a0, 9: high half */
  sh t1, 0(t0)
  fence.i
  CALLS_GIVE(FN_OFF, 10, 20)
  CALLS_GIVE(FN2_OFF, 30, 21)

  /* ---- 3: the second page remapped, the first not ---- */
  LEAF(hi_b, PTE_RX_A)
  REMAP_HI
  CALLS_GIVE(FN_OFF, 8, 30)
  CALLS_GIVE(FN2_OFF, 28, 31)

  /* ---- 4: and back ---- */
  LEAF(hi_a, PTE_RX_A)
  REMAP_HI
  CALLS_GIVE(FN_OFF, 10, 40)
  CALLS_GIVE(FN2_OFF, 30, 41)

  /* ---- 5: the second page unmapped: a fetch fault on its part ---- */
  li t0, 0
  REMAP_HI
  li a0, 77
  li t2, STR_VA + FN_OFF
  la s1, after5
  jalr t2
  FAIL(50)
after5:
  CHECK_IMM(s2, 12, 51)
  CHECK_IMM(s3, STR_VA + 0xffe, 52)
  CHECK_IMM(s4, HI_VA, 53)
  CHECK_IMM(a0, 1, 54)

  /* ---- 6: readable, not executable: the same ---- */
  LEAF(hi_a, PTE_R_A)
  REMAP_HI
  li a0, 77
  li s2, 0
  li t2, STR_VA + FN2_OFF
  la s1, after6
  jalr t2
  FAIL(60)
after6:
  CHECK_IMM(s2, 12, 61)
  CHECK_IMM(s3, STR_VA + 0xffe, 62)
  CHECK_IMM(s4, HI_VA, 63)
  CHECK_IMM(a0, 21, 64)

  /* ---- 7: executable again ---- */
  LEAF(hi_a, PTE_RX_A)
  REMAP_HI
  CALLS_GIVE(FN_OFF, 10, 70)
  CALLS_GIVE(FN2_OFF, 30, 71)
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

.balign 4096
lo_page:
  .org lo_page + FN2_OFF
  .word 0x01400513                    /* addi a0, zero, 20 */
  .word 0x0100006f                    /* jal zero, +16: to fn_tail */
  .org lo_page + FN_OFF
  .word 0x00000513                    /* addi a0, zero, 0 */
fn_tail:
  .half 0x0505                        /* c.addi a0, 1 */
  .half 0x0513                        /* addi a0, a0, imm: low half */
.balign 4096
hi_a:
  .half 0x0055                        /* addi a0, a0, 5: high half */
  .half 0x8082                        /* ret */
.balign 4096
hi_b:
  .half 0x0075                        /* addi a0, a0, 7: high half */
  .half 0x8082                        /* ret */
.balign 4096

TOHOST_SECTION

.data
.balign 4096
tbl_l2: .fill 512, 8, 0
tbl_l1: .fill 512, 8, 0
tbl_l0: .fill 512, 8, 0

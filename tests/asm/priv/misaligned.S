/*
 * Misaligned loads and stores are done by the hart itself (no exception),
 * also across a page boundary and across two translated pages that are not
 * physically adjacent; a fault on either part reports the address of that
 * part (the original address when the first part faults) and a faulting
 * store writes nothing. Misaligned AMO / LR / SC raise address-misaligned
 * (6 for AMOs and SC, 4 for LR) with mtval = the address.
 */
#include "test.h"

#define VA_PG(i) (0xc0000000 + (i) * 0x1000)

  .option norvc
  .section .text.init
  .globl _start
_start:
  INSTALL_MTRAP

  /* ---- loads at every misalignment (buf = 0x81, 0x82, ... 0x90) ---- */
  la s0, buf
  lh t0, 1(s0)
  CHECK_IMM(t0, 0xffffffffffff8382, 1)
  lhu t0, 3(s0)
  CHECK_IMM(t0, 0x8584, 2)
  lw t0, 1(s0)
  CHECK_IMM(t0, 0xffffffff85848382, 3)
  lwu t0, 2(s0)
  CHECK_IMM(t0, 0x86858483, 4)
  lw t0, 3(s0)
  CHECK_IMM(t0, 0xffffffff87868584, 5)
  ld t0, 1(s0)
  CHECK_IMM(t0, 0x8988878685848382, 6)
  ld t0, 3(s0)
  CHECK_IMM(t0, 0x8b8a898887868584, 7)
  ld t0, 7(s0)
  CHECK_IMM(t0, 0x8f8e8d8c8b8a8988, 8)
  CHECK_IMM(s6, 0, 9)

  /* ---- stores ---- */
  la s0, sbuf
  li t0, 0xaabb
  sh t0, 1(s0)
  li t0, 0x11223344
  sw t0, 5(s0)
  li t0, 0x0102030405060708
  sd t0, 11(s0)
  ld t0, 0(s0)
  CHECK_IMM(t0, 0x2233440000aabb00, 10)
  ld t0, 8(s0)
  CHECK_IMM(t0, 0x0405060708000011, 11)
  ld t0, 16(s0)
  CHECK_IMM(t0, 0x0000000000010203, 12)

  /* ---- across a physical page boundary ---- */
  la s0, pg_a + 0xffc
  ld t0, 0(s0)
  CHECK_IMM(t0, 0xb3b2b1b0a3a2a1a0, 13)
  li t0, 0x1122334455667788
  sd t0, 1(s0)                    /* pg_a + 0xffd .. pg_b + 4 */
  la s0, pg_a + 0xff8
  ld t0, 0(s0)
  CHECK_IMM(t0, 0x667788a000000000, 14)
  la s0, pg_b
  ld t0, 0(s0)
  CHECK_IMM(t0, 0xb7b6b51122334455, 15)

  /* ---- a misaligned access whose whole range faults: mtval = its own address ---- */
  li t1, 0x11
  EXPECT_TRAP(1f)
lfault:
  ld t0, 0(t1)
  FAIL(16)
1:
  CHECK_TRAP(5, lfault, 0x11, 17)
  li t1, 0x1003
  EXPECT_TRAP(1f)
sfault:
  sw t0, 0(t1)
  FAIL(20)
1:
  CHECK_TRAP(7, sfault, 0x1003, 21)
  /* the end of RAM: a physical boundary with nothing after it is not tested (RAM size varies) */

  /* ---- misaligned atomics: address-misaligned ---- */
  la s0, abuf
  addi t1, s0, 2
  EXPECT_TRAP(1f)
amo1:
  amoadd.w t0, t2, (t1)
  FAIL(24)
1:
  CHECK_IMM(s2, 6, 25)
  CHECK_ADDR(s3, amo1, 26)
  CHECK_EQ(s4, t1, 27)
  addi t1, s0, 4
  EXPECT_TRAP(1f)
amo2:
  amoswap.d t0, t2, (t1)
  FAIL(28)
1:
  CHECK_IMM(s2, 6, 29)
  CHECK_EQ(s4, t1, 30)
  addi t1, s0, 1
  EXPECT_TRAP(1f)
  lr.w t0, (t1)
  FAIL(31)
1:
  CHECK_IMM(s2, 4, 32)
  CHECK_EQ(s4, t1, 33)
  addi t1, s0, 4
  EXPECT_TRAP(1f)
  lr.d t0, (t1)
  FAIL(34)
1:
  CHECK_IMM(s2, 4, 35)
  CHECK_EQ(s4, t1, 36)
  addi t1, s0, 12
  EXPECT_TRAP(1f)
  sc.d t0, t2, (t1)
  FAIL(37)
1:
  CHECK_IMM(s2, 6, 38)
  CHECK_EQ(s4, t1, 39)
  addi t1, s0, 6
  EXPECT_TRAP(1f)
  sc.w t0, t2, (t1)
  FAIL(40)
1:
  CHECK_IMM(s2, 6, 41)
  CHECK_EQ(s4, t1, 42)
  /* aligned ones are fine, and memory was not touched by the faulting ones */
  ld t0, 0(s0)
  CHECK_IMM(t0, 0x0706050403020100, 43)
  li t2, 0x10
  amoadd.w t0, t2, (s0)
  CHECK_IMM(t0, 0x03020100, 44)
  lw t0, 0(s0)
  CHECK_IMM(t0, 0x03020110, 45)

  /* ---- translated: two virtual pages backed by non-adjacent physical pages ---- */
  /* Sv39: root[2] identity gigapage; root[3] -> l1; l1[0] -> l0;
     l0[0] -> pg_d, l0[1] -> pg_c (reversed), l0[2] invalid, l0[3] invalid, l0[4] -> pg_c */
  li a0, 0x80000000
  SET_PTE(root, 2, a0, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
  la a0, l1
  SET_PTE(root, 3, a0, PTE_V)
  la a0, l0
  SET_PTE(l1, 0, a0, PTE_V)
  la a0, pg_d
  SET_PTE(l0, 0, a0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
  la a0, pg_c
  SET_PTE(l0, 1, a0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
  SET_PTE(l0, 4, a0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
  SET_SATP(8, root)
  /* MPRV with MPP = S: M's loads and stores translate as S's */
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, MSTATUS_MPRV | (PRV_S << 11)
  csrs mstatus, t0
  li t1, VA_PG(0) + 0xffc
  ld t0, 0(t1)                    /* pg_d[0xffc..] then pg_c[0..3] */
  CHECK_IMM(t0, 0xc3c2c1c0d3d2d1d0, 46)
  li t1, VA_PG(0) + 0xffe
  li t0, 0x5566778899aabbcc
  sd t0, 0(t1)
  li t1, VA_PG(0) + 0xff8
  ld t0, 0(t1)
  CHECK_IMM(t0, 0xbbccd1d000000000, 47)
  li t1, VA_PG(1)
  ld t0, 0(t1)
  CHECK_IMM(t0, 0xc7c65566778899aa, 48)
  /* second part unmapped: page fault, mtval = the second page */
  li t1, VA_PG(1) + 0xffd
  EXPECT_TRAP(1f)
  lw t0, 0(t1)
  FAIL(49)
1:
  CHECK_IMM(s2, 13, 50)
  CHECK_IMM(s4, VA_PG(2), 51)
  CHECK_SAVED_STATUS(MSTATUS_MPP, MSTATUS_MPP, 52)
  li t0, MSTATUS_MPP              /* the trap set MPP = M: back to S */
  csrc mstatus, t0
  li t0, PRV_S << 11
  csrs mstatus, t0
  /* a faulting store writes nothing, not even its first part */
  li t1, VA_PG(1) + 0xffe
  li t0, -1
  EXPECT_TRAP(1f)
  sw t0, 0(t1)
  FAIL(53)
1:
  CHECK_IMM(s2, 15, 54)
  CHECK_IMM(s4, VA_PG(2), 55)
  li t0, MSTATUS_MPP | MSTATUS_MPRV
  csrc mstatus, t0
  la t1, pg_c + 0xff8
  ld t0, 0(t1)
  CHECK_IMM(t0, 0xcfcecdcccbcac9c8, 56)
  /* first part unmapped: mtval = the original address */
  li t0, MSTATUS_MPRV | (PRV_S << 11)
  csrs mstatus, t0
  li t1, VA_PG(3) + 0xffa
  EXPECT_TRAP(1f)
  ld t0, 0(t1)
  FAIL(57)
1:
  CHECK_IMM(s2, 13, 58)
  CHECK_IMM(s4, VA_PG(3) + 0xffa, 59)
  li t0, MSTATUS_MPP | MSTATUS_MPRV
  csrc mstatus, t0

  /* ---- the same crossing load in S-mode proper ---- */
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, s_cross)
1:
  CHECK_IMM(s2, 9, 60)
  CHECK_IMM(a0, 0x778899aabbccd1d0, 61)

  PASS

s_cross:
  li t1, VA_PG(0) + 0xffc
  ld a0, 0(t1)
  ecall

  MTRAP_HANDLER

  .data
  .align 4
buf:
  .byte 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88
  .byte 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90
sbuf: .dword 0, 0, 0, 0
abuf: .dword 0x0706050403020100, 0x0f0e0d0c0b0a0908
  .align 12
pg_a:
  .fill 4092, 1, 0
  .byte 0xa0, 0xa1, 0xa2, 0xa3
pg_b:
  .byte 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7
  .fill 4088, 1, 0
pg_c:
  .byte 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7
  .fill 4080, 1, 0
  .byte 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf
pg_d:
  .fill 4092, 1, 0
  .byte 0xd0, 0xd1, 0xd2, 0xd3
root: .fill 512, 8, 0
l1: .fill 512, 8, 0
l0: .fill 512, 8, 0

  TOHOST_SECTION

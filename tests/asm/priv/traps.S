/*
 * Traps taken in M-mode (priv spec 3.1.6.1, 3.1.7, 3.1.14-3.1.16, 3.3.2):
 * illegal instruction (32- and 16-bit, mtval = the instruction bits),
 * ecall from M/S/U (11/9/8), ebreak (3, mtval = pc), access faults on
 * unmapped physical addresses (1/5/7, mtval = the address), mepc, the
 * MPP/MPIE/MIE stack on trap entry and mret, and mtvec direct/vectored.
 */
#include "test.h"

  .option norvc
  .section .text.init
  .globl _start
_start:
  INSTALL_MTRAP

  /* ---- 1. illegal 32-bit instruction in M, with MIE=1, MPIE=0 ---- */
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  li t0, MSTATUS_MPIE
  csrc mstatus, t0
  EXPECT_TRAP(1f)
ill32:
  .word 0x8765406b            /* major opcode 1101011: reserved */
  FAIL(1)
1:
  CHECK_TRAP(2, ill32, 0x8765406b, 2)
  /* trap entry: MPP = M, MPIE = old MIE (1), MIE = 0 */
  CHECK_SAVED_STATUS(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE, MSTATUS_MPP | MSTATUS_MPIE, 5)
  CHECK_IMM(s6, 1, 6)

  /* writing a read-only CSR: illegal, mtval = the csrrw's own bits */
  EXPECT_TRAP(1f)
ill_csr:
  csrw mhartid, zero
  FAIL(7)
1:
  lwu t1, ill_csr
  CHECK_IMM(s2, 2, 8)
  CHECK_ADDR(s3, ill_csr, 9)
  CHECK_EQ(s4, t1, 10)
  CHECK_IMM(s4, 0xf1401073, 11)

  /* an unimplemented CSR number */
  EXPECT_TRAP(1f)
ill_csr2:
  csrr t0, 0x7ff
  FAIL(12)
1:
  CHECK_TRAP(2, ill_csr2, 0x7ff022f3, 13)

  /* ---- 2. illegal 16-bit instructions: mtval = the 16 bits, zero-extended ---- */
  EXPECT_TRAP(1f)
ill16a:
  .half 0x8002                /* c.jr x0: reserved */
  .half 0x0001                /* c.nop, never reached */
  FAIL(16)
1:
  CHECK_TRAP(2, ill16a, 0x8002, 17)
  EXPECT_TRAP(1f)
ill16b:
  .half 0x6081                /* c.lui x1, 0: reserved */
  .half 0x0001
  FAIL(20)
1:
  CHECK_TRAP(2, ill16b, 0x6081, 21)
  EXPECT_TRAP(1f)
ill16c:
  .half 0x0000                /* the all-zero parcel is illegal */
  .half 0x0001
  FAIL(24)
1:
  CHECK_TRAP(2, ill16c, 0, 25)

  /* ---- 3. ecall from M: cause 11, mtval 0 ---- */
  li s4, -1
  EXPECT_TRAP(1f)
ecall_m:
  ecall
  FAIL(28)
1:
  CHECK_TRAP(11, ecall_m, 0, 29)

  /* ---- 4. ebreak and c.ebreak: cause 3, mtval = pc ---- */
  EXPECT_TRAP(1f)
ebreak_m:
  ebreak
  FAIL(32)
1:
  la t1, ebreak_m
  CHECK_IMM(s2, 3, 33)
  CHECK_EQ(s3, t1, 34)
  CHECK_EQ(s4, t1, 35)
  EXPECT_TRAP(1f)
cebreak_m:
  .half 0x9002                /* c.ebreak */
  .half 0x0001
  FAIL(36)
1:
  la t1, cebreak_m
  CHECK_IMM(s2, 3, 37)
  CHECK_EQ(s3, t1, 38)
  CHECK_EQ(s4, t1, 39)

  /* ---- 5. access faults on unmapped physical addresses ---- */
  li t1, 0x10
  EXPECT_TRAP(1f)
lfault1:
  ld t0, 0(t1)
  FAIL(40)
1:
  CHECK_TRAP(5, lfault1, 0x10, 41)
  li t1, 0x3ffffffc
  EXPECT_TRAP(1f)
lfault2:
  lw t0, 4(t1)
  FAIL(44)
1:
  CHECK_TRAP(5, lfault2, 0x40000000, 45)
  li t1, 0xffffffff80000000   /* not RAM: the physical address space is not sign-extended */
  EXPECT_TRAP(1f)
lfault3:
  lbu t0, 0(t1)
  FAIL(48)
1:
  CHECK_TRAP(5, lfault3, 0xffffffff80000000, 49)
  li t1, 0x1000
  EXPECT_TRAP(1f)
sfault1:
  sd t1, 8(t1)
  FAIL(52)
1:
  CHECK_TRAP(7, sfault1, 0x1008, 53)
  li t1, 0x1000
  EXPECT_TRAP(1f)
  jr t1
  FAIL(56)
1:
  CHECK_IMM(s2, 1, 57)
  CHECK_IMM(s3, 0x1000, 58)
  CHECK_IMM(s4, 0x1000, 59)
  li t1, CLINT_MSIP           /* MMIO cannot be executed */
  EXPECT_TRAP(1f)
  jr t1
  FAIL(60)
1:
  CHECK_IMM(s2, 1, 61)
  CHECK_IMM(s3, CLINT_MSIP, 62)
  CHECK_IMM(s4, CLINT_MSIP, 63)

  /* ---- 6. ecall from U and S; trap-entry status stack; mret targets ---- */
  li t0, MSTATUS_MPIE         /* MIE in U will be 1 */
  csrs mstatus, t0
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_U, ecall_u)
1:
  CHECK_TRAP(8, ecall_u, 0, 64)
  CHECK_SAVED_STATUS(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE, MSTATUS_MPIE, 67)

  li t0, MSTATUS_MPIE         /* MIE in S will be 0 */
  csrc mstatus, t0
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, ecall_s)
1:
  CHECK_TRAP(9, ecall_s, 0, 68)
  CHECK_SAVED_STATUS(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE, (PRV_S << 11), 71)

  /* mret went to U: sstatus is not accessible there */
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_U, in_u)
1:
  CHECK_TRAP(2, in_u_ill, 0x100022f3, 72)
  CHECK_SAVED_STATUS(MSTATUS_MPP, 0, 75)

  /* mret went to S: sstatus is, mstatus is not; mret in S is illegal */
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, in_s)
1:
  CHECK_TRAP(2, in_s_ill, 0x300022f3, 76)
  CHECK_SAVED_STATUS(MSTATUS_MPP, (PRV_S << 11), 79)
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, in_s_mret)
1:
  CHECK_TRAP(2, in_s_mret, 0x30200073, 80)

  /* mret M->M: MIE = MPIE, MPIE = 1, MPP = U */
  li t0, MSTATUS_MIE
  csrc mstatus, t0
  li t0, MSTATUS_MPIE | MSTATUS_MPP
  csrs mstatus, t0
  la t0, 1f
  csrw mepc, t0
  mret
  FAIL(83)
1:
  csrr t0, mstatus
  li t1, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
  and t0, t0, t1
  CHECK_IMM(t0, MSTATUS_MPIE | MSTATUS_MIE, 84)
  li t0, MSTATUS_MPIE
  csrc mstatus, t0
  li t0, MSTATUS_MPP
  csrs mstatus, t0
  la t0, 1f
  csrw mepc, t0
  mret
  FAIL(85)
1:
  csrr t0, mstatus
  li t1, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
  and t0, t0, t1
  CHECK_IMM(t0, MSTATUS_MPIE, 86)

  /* mret to U clears MPRV */
  li t0, MSTATUS_MPRV
  csrs mstatus, t0
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_U, ecall_u2)
1:
  CHECK_TRAP(8, ecall_u2, 0, 87)
  CHECK_SAVED_STATUS(MSTATUS_MPRV, 0, 90)
  /* mret to M keeps it */
  li t0, MSTATUS_MPRV | MSTATUS_MPP
  csrs mstatus, t0
  la t0, 1f
  csrw mepc, t0
  mret
1:
  csrr t0, mstatus
  li t1, MSTATUS_MPRV
  and t0, t0, t1
  CHECK_IMM(t0, MSTATUS_MPRV, 91)
  li t0, MSTATUS_MPRV
  csrc mstatus, t0

  /* mepc keeps bit 1 (IALIGN 16) and clears bit 0 */
  li t0, 0x80000007
  csrw mepc, t0
  CHECK_CSR(mepc, 0x80000006, 92)

  /* ---- 7. mtvec: direct mode sends interrupts to the base too ---- */
  li t0, MIP_SSIP
  csrw mie, t0
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  EXPECT_TRAP(1f)
  csrs mip, MIP_SSIP
irq_direct:
  FAIL(93)
1:
  CHECK_TRAP(IRQ_BIT | 1, irq_direct, 0, 94)
  csrc mip, MIP_SSIP

  /* vectored: exceptions go to the base, interrupts to base + 4 * cause */
  la t0, vec_table
  ori t0, t0, 1
  csrw mtvec, t0
  csrr t1, mtvec
  CHECK_EQ(t0, t1, 97)
  li s7, -1
  EXPECT_TRAP(1f)
vec_ecall:
  ecall
  FAIL(98)
1:
  CHECK_TRAP(11, vec_ecall, 0, 99)
  CHECK_IMM(s7, 0, 102)

  li t0, MSTATUS_MIE
  csrs mstatus, t0
  EXPECT_TRAP(1f)
  csrs mip, MIP_SSIP
vec_ssi:
  FAIL(103)
1:
  CHECK_TRAP(IRQ_BIT | 1, vec_ssi, 0, 104)
  CHECK_IMM(s7, 1, 107)
  csrc mip, MIP_SSIP

  li t0, MIP_MSIP
  csrw mie, t0
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  li t0, CLINT_MSIP
  li t1, 1
  EXPECT_TRAP(1f)
  sw t1, 0(t0)
vec_msi:
  FAIL(108)
1:
  CHECK_TRAP(IRQ_BIT | 3, vec_msi, 0, 109)
  CHECK_IMM(s7, 3, 112)
  li t0, CLINT_MSIP
  sw zero, 0(t0)

  li t0, MIP_MTIP
  csrw mie, t0
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  li t0, CLINT_MTIMECMP
  EXPECT_TRAP(1f)
  sd zero, 0(t0)              /* mtimecmp = 0 <= mtime: MTIP at once */
vec_mti:
  FAIL(113)
1:
  CHECK_TRAP(IRQ_BIT | 7, vec_mti, 0, 114)
  CHECK_IMM(s7, 7, 117)
  li t0, CLINT_MTIMECMP
  li t1, -1
  sd t1, 0(t0)
  csrr t0, mip
  andi t0, t0, MIP_MTIP
  CHECK_IMM(t0, 0, 118)
  csrw mie, zero

  PASS

/* ---- code run in lower privilege modes ---- */
ecall_u:
  ecall
  FAIL(120)
ecall_u2:
  ecall
  FAIL(120)
ecall_s:
  ecall
  FAIL(120)
in_u:
in_u_ill:
  csrr t0, sstatus
  FAIL(121)
in_s:
  csrr t0, sstatus
  csrr t0, sscratch
in_s_ill:
  csrr t0, mstatus
  FAIL(122)
in_s_mret:
  mret
  FAIL(123)

  MTRAP_HANDLER

  .align 8
vec_table:
  j vec0
  j vec1
  j vec_bad
  j vec3
  j vec_bad
  j vec_bad
  j vec_bad
  j vec7
  j vec_bad
  j vec_bad
  j vec_bad
  j vec_bad
vec0: li s7, 0; j mtrap_resume
vec1: li s7, 1; j mtrap_resume
vec_bad: li s7, 99; j mtrap_resume
vec3: li s7, 3; j mtrap_resume
vec7: li s7, 7; j mtrap_resume

  TOHOST_SECTION

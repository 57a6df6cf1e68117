/*
 * Trap delegation to S-mode (priv spec 3.1.8, 4.1.1-4.1.9): medeleg and
 * mideleg write masks, scause/sepc/stval, the SPP/SPIE/SIE stack, sret,
 * ecall from U delegated to S, exceptions in M never delegated, ecall
 * from M not delegable, and mcause/mepc untouched by a delegated trap.
 *
 * The S handler records scause/sepc/stval/sstatus in s7..s10 and counts
 * in s11, then returns to S at the address in a7 (it is entered from S or
 * U; the tests that come from U end with an ecall from S to get to M).
 */
#include "test.h"

  .option norvc
  .section .text.init
  .globl _start
_start:
  INSTALL_MTRAP
  la t0, strap
  csrw stvec, t0
  li s11, 0

  /* ---- medeleg / mideleg write masks ---- */
  /* With the H extension (misa bit 7) also 10 and 20..23, and VSSI/VSTI/VSEI/SGEI read-only one. */
  csrr t1, misa
  andi t1, t1, 1 << 7
  li t0, -1
  csrw medeleg, t0
  csrr t2, medeleg
  beqz t1, 2f
  li t3, 0xf00400
  xor t2, t2, t3
2:
  CHECK_IMM(t2, 0xb3ff, 1)          /* 11 (ecall from M), 10, 14 and >= 16 are read-only zero */
  csrw mideleg, t0
  csrr t2, mideleg
  beqz t1, 2f
  li t3, 0x1444
  xor t2, t2, t3
2:
  CHECK_IMM(t2, 0x222, 2)           /* SSIP, STIP, SEIP */
  li t0, 1 << 11
  csrw medeleg, t0
  CHECK_CSR(medeleg, 0, 3)
  csrw mideleg, zero

  /* ---- an exception in M is never delegated ---- */
  li t0, 1 << 2
  csrw medeleg, t0
  li t0, 0x5555
  csrw scause, t0
  EXPECT_TRAP(1f)
m_ill:
  .word 0x0000006b
  FAIL(4)
1:
  CHECK_TRAP(2, m_ill, 0x6b, 5)
  CHECK_CSR(scause, 0x5555, 8)

  /* ---- ecall from M is not delegable (medeleg[11] reads 0): stays in M ---- */
  li t0, -1
  csrw medeleg, t0
  EXPECT_TRAP(1f)
m_ecall:
  ecall
  FAIL(9)
1:
  CHECK_TRAP(11, m_ecall, 0, 10)
  CHECK_CSR(scause, 0x5555, 13)
  csrw medeleg, zero

  /* ---- ecall from U delegated to S ---- */
  li t0, 1 << 8
  csrw medeleg, t0
  /* U runs with SIE=1 in sstatus (meaningless in U, but must move to SPIE) */
  li t0, MSTATUS_SIE
  csrs mstatus, t0
  li t0, MSTATUS_SPIE | MSTATUS_SPP
  csrc mstatus, t0
  la a7, s_after_u_ecall        /* S handler returns (in S) here */
  EXPECT_TRAP(1f)               /* ...which ecalls to M, landing at 1: */
  ENTER_MODE(PRV_U, u_ecall)
1:
  CHECK_IMM(s11, 1, 14)
  CHECK_IMM(s7, 8, 15)
  CHECK_ADDR(s8, u_ecall, 16)
  CHECK_IMM(s9, 0, 17)
  /* sstatus at S entry: SPP = U, SPIE = 1 (old SIE), SIE = 0 */
  li t0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
  and t0, s10, t0
  CHECK_IMM(t0, MSTATUS_SPIE, 18)
  /* then the S code did ecall (not delegated): M sees cause 9 from S */
  CHECK_TRAP(9, s_after_u_ecall, 0, 19)
  CHECK_SAVED_STATUS(MSTATUS_MPP, PRV_S << 11, 22)
  /* ---- a delegated exception from S: SPP = S, stval = the address ---- */
  li t0, (1 << 5) | (1 << 2)     /* load access fault, illegal instruction */
  csrw medeleg, t0
  li t0, MSTATUS_SIE
  csrc mstatus, t0
  li t0, MSTATUS_SPIE
  csrs mstatus, t0              /* SPIE=1, SIE=0 in S: SPIE becomes 0 */
  la a7, s_after_fault
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, s_fault)
1:
  CHECK_IMM(s11, 2, 23)
  CHECK_IMM(s7, 5, 24)
  CHECK_ADDR(s8, s_fault_ld, 25)
  CHECK_IMM(s9, 0x20, 26)
  li t0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
  and t0, s10, t0
  CHECK_IMM(t0, MSTATUS_SPP, 27)
  CHECK_TRAP(9, s_after_fault, 0, 28)

  /* an illegal instruction in S (delegated): stval = the instruction bits */
  la a7, s_after_fault
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, s_ill)
1:
  CHECK_IMM(s7, 2, 32)
  CHECK_ADDR(s8, s_ill, 33)
  lwu t1, s_ill
  CHECK_EQ(s9, t1, 34)
  CHECK_IMM(s9, 0x30001073, 31)
  li t0, MSTATUS_SPP
  and t0, s10, t0
  CHECK_IMM(t0, MSTATUS_SPP, 35)

  /* ---- sret (from M and S): SIE = SPIE, SPIE = 1, SPP = U, to sepc ---- */
  csrw medeleg, zero
  /* from M: SPP = S, SPIE = 1, SIE = 0 -> S with SIE = 1 */
  li t0, MSTATUS_SPP | MSTATUS_SPIE
  csrs mstatus, t0
  li t0, MSTATUS_SIE
  csrc mstatus, t0
  la t0, s_check_sret
  csrw sepc, t0
  EXPECT_TRAP(1f)
  sret
  FAIL(36)
1:
  /* s_check_sret stored sstatus in a0 and ecalled */
  CHECK_TRAP(9, s_check_sret_ecall, 0, 37)
  li t0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
  and t0, a0, t0
  CHECK_IMM(t0, MSTATUS_SPIE | MSTATUS_SIE, 40)
  CHECK_SAVED_STATUS(MSTATUS_MPP, PRV_S << 11, 41)

  /* from S to U: SPP = U, SPIE = 0 -> U with SIE = 0; U proves it is U */
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, s_sret_to_u)
1:
  /* back in M after the U code's csrr sstatus (illegal, not delegated) */
  CHECK_IMM(s2, 2, 42)
  CHECK_ADDR(s3, u_probe, 43)
  CHECK_SAVED_STATUS(MSTATUS_MPP, 0, 44)
  csrr t0, mstatus
  li t1, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
  and t0, t0, t1
  CHECK_IMM(t0, MSTATUS_SPIE, 45)

  /* sret in U is illegal */
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_U, u_sret)
1:
  CHECK_TRAP(2, u_sret, 0x10200073, 46)

  /* ---- stvec vectored: exceptions still go to the base ---- */
  li t0, 1 << 8
  csrw medeleg, t0
  la t0, strap
  ori t0, t0, 1
  csrw stvec, t0
  la a7, s_after_u_ecall
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_U, u_ecall)
1:
  CHECK_IMM(s11, 4, 49)
  CHECK_IMM(s7, 8, 50)

  PASS

/* ---- S-mode and U-mode code ---- */
u_ecall:
  ecall
  FAIL(60)
u_probe:
  csrr t0, sstatus
  FAIL(61)
u_sret:
  sret
  FAIL(62)

s_after_u_ecall:
  ecall
  FAIL(63)
s_fault:
  li t1, 0x20
s_fault_ld:
  ld t0, 0(t1)
  FAIL(64)
s_after_fault:
  ecall
  FAIL(65)
s_ill:
  csrw mstatus, zero
  FAIL(66)
s_check_sret:
  csrr a0, sstatus
s_check_sret_ecall:
  ecall
  FAIL(67)
s_sret_to_u:
  li t0, MSTATUS_SPP | MSTATUS_SPIE
  csrc sstatus, t0
  la t0, u_probe
  csrw sepc, t0
  sret
  FAIL(68)

/* S trap handler (aligned for stvec) */
  .align 6
strap:
  csrr s7, scause
  csrr s8, sepc
  csrr s9, stval
  csrr s10, sstatus
  addi s11, s11, 1
  csrw sepc, a7
  li t0, MSTATUS_SPP
  csrs sstatus, t0              /* return to S */
  sret

  MTRAP_HANDLER

  TOHOST_SECTION

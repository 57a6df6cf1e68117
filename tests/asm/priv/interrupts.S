/*
 * Interrupts (priv spec 3.1.9, 3.3.3, 4.1.3; Sstc): software interrupts
 * through mip.SSIP delegated and not, CLINT msip and mtimecmp/mtime, wfi
 * with the deterministic clock (1 tick per 10 instructions), the global
 * enable rules per privilege, the priority order, and Sstc's stimecmp.
 *
 * The S handler (strap) records scause/sepc/stval/sstatus in s7..s10,
 * counts in s11, clears sip.SSIP and sie, and returns to S at a7.
 */
#include "test.h"

#define STCE_HI (1 << 63)

  .option norvc
  .section .text.init
  .globl _start
_start:
  INSTALL_MTRAP
  la t0, strap
  csrw stvec, t0
  li s11, 0
  li t0, 7
  csrw mcounteren, t0

  /* ================= software interrupts ================= */

  /* ---- delegated SSIP is never taken in M, even with MIE = SIE = 1 ---- */
  li t0, MIP_SSIP
  csrw mideleg, t0
  csrw mie, t0
  li t0, MSTATUS_MIE | MSTATUS_SIE
  csrs mstatus, t0
  EXPECT_TRAP(fail_unexpected)
  csrs mip, MIP_SSIP
  nop
  nop
  CHECK_IMM(s6, 0, 1)
  csrr t0, sip
  CHECK_IMM(t0, MIP_SSIP, 2)
  csrr t0, sie
  CHECK_IMM(t0, MIP_SSIP, 3)

  /* ---- ...nor in S with SIE = 0; setting SIE takes it at once ---- */
  li t0, MSTATUS_SIE | MSTATUS_MIE
  csrc mstatus, t0
  la a7, s_ecall                  /* strap returns there; it ecalls to M */
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, s_ssi)
1:
  CHECK_IMM(s11, 1, 4)
  CHECK_IMM(s7, IRQ_BIT | 1, 5)
  CHECK_ADDR(s8, s_ssi_taken, 6)
  CHECK_IMM(s9, 0, 7)
  li t0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
  and t0, s10, t0
  CHECK_IMM(t0, MSTATUS_SPP | MSTATUS_SPIE, 8)
  CHECK_IMM(a0, 2, 9)             /* s_ssi ran its two probes before SIE was set */
  CHECK_TRAP(9, s_ecall, 0, 10)   /* then strap returned to s_ecall */

  /* ---- delegated SSIP in U is taken whatever SIE says ---- */
  li t0, MIP_SSIP
  csrw mie, t0
  csrs mip, MIP_SSIP
  li t0, MSTATUS_SIE
  csrc mstatus, t0
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_U, u_spin)
1:
  CHECK_IMM(s11, 2, 13)
  CHECK_IMM(s7, IRQ_BIT | 1, 14)
  CHECK_ADDR(s8, u_spin, 15)
  li t0, MSTATUS_SPP
  and t0, s10, t0
  CHECK_IMM(t0, 0, 16)
  CHECK_TRAP(9, s_ecall, 0, 17)

  /* ---- not delegated: SSIP is an M-level interrupt, taken in S with MIE = 0 ---- */
  csrw mideleg, zero
  li t0, MIP_SSIP
  csrw mie, t0
  li t0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_SIE
  csrc mstatus, t0
  csrs mip, MIP_SSIP
  nop
  CHECK_IMM(s6, 2, 20)            /* MIE = 0 in M: not taken */
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, s_spin)
1:
  CHECK_TRAP(IRQ_BIT | 1, s_spin, 0, 21)
  CHECK_SAVED_STATUS(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE, PRV_S << 11, 24)
  csrc mip, MIP_SSIP

  /* ---- CLINT msip: taken in U with MIE = 0; mip.MSIP is read-only ---- */
  li t0, MIP_MSIP
  csrw mie, t0
  li t0, CLINT_MSIP
  li t1, 1
  sw t1, 0(t0)
  lw t1, 0(t0)
  CHECK_IMM(t1, 1, 25)
  csrr t0, mip
  CHECK_IMM(t0, MIP_MSIP, 26)
  csrc mip, MIP_MSIP              /* no effect */
  csrr t0, mip
  CHECK_IMM(t0, MIP_MSIP, 27)
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_U, u_spin)
1:
  CHECK_TRAP(IRQ_BIT | 3, u_spin, 0, 28)
  CHECK_SAVED_STATUS(MSTATUS_MPP, 0, 31)
  li t0, CLINT_MSIP
  sw zero, 0(t0)
  csrr t0, mip
  CHECK_IMM(t0, 0, 32)

  /* ================= machine timer ================= */

  /* ---- wfi with MIE = 0: wakes when MTIP rises, no trap ---- */
  li t0, MIP_MTIP
  csrw mie, t0
  li t2, CLINT_MTIME
  ld t1, 0(t2)
  addi t1, t1, 1000
  li t0, CLINT_MTIMECMP
  sd t1, 0(t0)
  ld t3, 0(t0)
  CHECK_EQ(t1, t3, 33)
  csrr t0, mip
  CHECK_IMM(t0, 0, 34)
  csrr a0, instret
  li s6, 0
  wfi
  csrr a1, instret
  ld t3, 0(t2)                    /* mtime */
  bltu t3, t1, fail_35            /* mtime >= mtimecmp */
  CHECK_IMM(s6, 0, 36)
  csrr t0, mip
  CHECK_IMM(t0, MIP_MTIP, 37)
  sub a1, a1, a0                  /* the idle time did not cost instructions */
  li t0, 100
  bgeu a1, t0, fail_38

  /* ---- rdtime follows mtime; 1 tick per 10 instructions ---- */
  ld t3, 0(t2)
  rdtime t4
  sub t4, t4, t3
  li t0, 1
  bgtu t4, t0, fail_39
  rdtime a0
  .rept 99
  nop
  .endr
  rdtime a1
  sub a1, a1, a0                  /* 100 instructions: 10 ticks, 11 if we straddled */
  li t0, 10
  bltu a1, t0, fail_40
  li t0, 11
  bgtu a1, t0, fail_40

  /* ---- MTIP follows mtimecmp at once; a spin loop sees it rise ---- */
  li t0, CLINT_MTIMECMP
  li t1, -1
  sd t1, 0(t0)
  csrr t0, mip
  CHECK_IMM(t0, 0, 41)
  ld t1, 0(t2)
  addi t1, t1, 200
  li t0, CLINT_MTIMECMP
  sw t1, 0(t0)                    /* 32-bit halves: low word... */
  srli t3, t1, 32
  sw t3, 4(t0)                    /* ...then high word */
  ld t3, 0(t0)
  CHECK_EQ(t1, t3, 42)
  li t4, 100000
1:
  csrr t0, mip
  andi t0, t0, MIP_MTIP
  bnez t0, 2f
  addi t4, t4, -1
  bnez t4, 1b
  FAIL(43)
2:
  ld t3, 0(t2)
  bltu t3, t1, fail_44

  /* ---- wfi with MIE = 1: the interrupt is taken, mepc after the wfi ---- */
  ld t1, 0(t2)
  addi t1, t1, 500
  li t0, CLINT_MTIMECMP
  sd t1, 0(t0)
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  EXPECT_TRAP(1f)
  wfi
mti_after_wfi:
  j mti_after_wfi                 /* if wfi does not wait, the interrupt still comes */
1:
  CHECK_TRAP(IRQ_BIT | 7, mti_after_wfi, 0, 45)
  CHECK_SAVED_STATUS(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE, MSTATUS_MPP | MSTATUS_MPIE, 48)
  li t0, CLINT_MTIMECMP
  li t1, -1
  sd t1, 0(t0)
  csrw mie, zero

  /* ================= priority ================= */

  /* ---- all pending in M, none delegated: MSI > MTI > SEI > SSI > STI ---- */
  la t0, prio_mtrap
  csrw mtvec, t0
  la a5, prio_log
  li t0, CLINT_MSIP
  li t1, 1
  sw t1, 0(t0)
  li t0, CLINT_MTIMECMP
  sd zero, 0(t0)
  li t0, MIP_SEIP | MIP_SSIP | MIP_STIP
  csrs mip, t0
  li t0, MIP_MSIP | MIP_MTIP | MIP_SEIP | MIP_SSIP | MIP_STIP
  csrw mie, t0
  csrr t1, mip
  CHECK_EQ(t0, t1, 49)
  li t0, MSTATUS_MIE
  csrs mstatus, t0                /* five traps, one after the other */
  nop
  csrw mie, zero
  la t0, prio_log
  sub t1, a5, t0
  CHECK_IMM(t1, 40, 50)
  ld t1, 0(t0)
  CHECK_IMM(t1, IRQ_BIT | 3, 51)
  ld t1, 8(t0)
  CHECK_IMM(t1, IRQ_BIT | 7, 52)
  ld t1, 16(t0)
  CHECK_IMM(t1, IRQ_BIT | 9, 53)
  ld t1, 24(t0)
  CHECK_IMM(t1, IRQ_BIT | 1, 54)
  ld t1, 32(t0)
  CHECK_IMM(t1, IRQ_BIT | 5, 55)

  /* ---- delegated, taken in S: SEI > SSI > STI ---- */
  li t0, MIP_SEIP | MIP_SSIP | MIP_STIP
  csrw mideleg, t0
  csrw mie, t0
  la t0, prio_strap
  csrw stvec, t0
  la a5, prio_log
  li t0, MSTATUS_SIE
  csrc mstatus, t0
  EXPECT_TRAP(1f)
  la t0, mtrap_resume
  csrw mtvec, t0
  ENTER_MODE(PRV_S, s_prio)
1:
  CHECK_TRAP(9, s_prio_ecall, 0, 56)
  la t0, prio_log
  sub t1, a5, t0
  CHECK_IMM(t1, 24, 59)
  ld t1, 0(t0)
  CHECK_IMM(t1, IRQ_BIT | 9, 60)
  ld t1, 8(t0)
  CHECK_IMM(t1, IRQ_BIT | 1, 61)
  ld t1, 16(t0)
  CHECK_IMM(t1, IRQ_BIT | 5, 62)

  /* ---- in S, an M-level interrupt (MTI) beats a delegated one (SEI) ---- */
  li t0, MIP_MTIP | MIP_SEIP
  csrw mie, t0                    /* SEIP is still pending; MTIP too (mtimecmp = 0) */
  csrr t0, mip
  li t1, MIP_MSIP | MIP_MTIP | MIP_SEIP | MIP_SSIP | MIP_STIP
  CHECK_EQ(t0, t1, 63)
  li t0, MSTATUS_SIE | MSTATUS_MPIE
  csrs mstatus, t0
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, s_spin)
1:
  CHECK_TRAP(IRQ_BIT | 7, s_spin, 0, 64)
  li t0, CLINT_MTIMECMP
  li t1, -1
  sd t1, 0(t0)
  li t0, CLINT_MSIP
  sw zero, 0(t0)
  li t0, MIP_SEIP | MIP_SSIP | MIP_STIP
  csrc mip, t0
  csrw mie, zero
  csrw mideleg, zero
  la t0, strap
  csrw stvec, t0
  li t0, MSTATUS_SIE | MSTATUS_MPIE
  csrc mstatus, t0

  /* ================= Sstc ================= */

  /* ---- menvcfg.STCE; mip.STIP reflects stimecmp and is not writable ---- */
  li t0, -1
  csrw stimecmp, t0
  csrw menvcfg, t0
  CHECK_CSR(menvcfg, STCE_HI | 1, 65)
  li t0, MIP_STIP
  csrs mip, t0
  csrr t0, mip
  CHECK_IMM(t0, 0, 66)
  csrw stimecmp, zero             /* time >= 0: STIP at once */
  csrr t0, mip
  CHECK_IMM(t0, MIP_STIP, 67)
  CHECK_CSR(stimecmp, 0, 68)
  li t0, -1
  csrw stimecmp, t0
  csrr t0, mip
  CHECK_IMM(t0, 0, 69)
  csrw stimecmp, zero
  li t0, MIP_STIP
  csrc mip, t0              /* not writable: stays */
  csrr t0, mip
  CHECK_IMM(t0, MIP_STIP, 70)
  /* STCE = 0: stimecmp no longer drives STIP, which is writable again */
  csrw menvcfg, zero
  csrr t0, mip
  CHECK_IMM(t0, 0, 71)
  li t0, MIP_STIP
  csrs mip, t0
  csrr t0, mip
  CHECK_IMM(t0, MIP_STIP, 72)
  li t0, MIP_STIP
  csrc mip, t0

  /* ---- S timer through stimecmp, delegated, with wfi in S ---- */
  li t0, -1
  csrw stimecmp, t0
  li t0, STCE_HI
  csrw menvcfg, t0
  li t0, MIP_STIP
  csrw mideleg, t0
  csrw mie, t0
  li t0, 2                        /* TM only */
  csrw mcounteren, t0
  li t0, MSTATUS_SIE
  csrs mstatus, t0
  la t0, strap_timer
  csrw stvec, t0
  la a7, s_ecall
  li s11, 0
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, s_timer)
1:
  CHECK_TRAP(9, s_ecall, 0, 73)
  CHECK_IMM(s11, 1, 76)
  CHECK_IMM(s7, IRQ_BIT | 5, 77)
  CHECK_ADDR(s8, s_timer_after_wfi, 78)
  CHECK_IMM(a0, 0, 79)            /* STIP was clear before the deadline */
  CHECK_IMM(a1, MIP_STIP, 80)     /* pending in the handler... */
  CHECK_IMM(a2, 0, 81)            /* ...and clear right after stimecmp moved */
  CHECK_IMM(a3, 1, 82)            /* time >= stimecmp in the handler */

  /* ---- stimecmp from S needs mcounteren.TM and menvcfg.STCE ---- */
  csrw mcounteren, zero
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, s_stimecmp)
1:
  CHECK_TRAP(2, s_stimecmp, 0x14d022f3, 83)
  li t0, 2
  csrw mcounteren, t0
  csrw menvcfg, zero
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, s_stimecmp)
1:
  CHECK_TRAP(2, s_stimecmp, 0x14d022f3, 86)
  li t0, STCE_HI
  csrw menvcfg, t0
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, s_stimecmp)
1:
  CHECK_TRAP(9, s_stimecmp_ok, 0, 89)
  /* and never from U */
  li t0, 2
  csrw scounteren, t0
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_U, s_stimecmp)
1:
  CHECK_TRAP(2, s_stimecmp, 0x14d022f3, 92)

  PASS

fail_unexpected: FAIL(100)
fail_35: FAIL(35)
fail_38: FAIL(38)
fail_39: FAIL(39)
fail_40: FAIL(40)
fail_44: FAIL(44)

/* ================= S-mode and U-mode code ================= */
s_ecall:
  ecall
  FAIL(101)
s_ssi:
  li a0, 0
  addi a0, a0, 1                  /* SSIP pending, SIE = 0: nothing happens */
  addi a0, a0, 1
  csrsi sstatus, MSTATUS_SIE
s_ssi_taken:
  FAIL(102)
u_spin:
  j u_spin
s_spin:
  j s_spin
s_prio:
  csrsi sstatus, MSTATUS_SIE      /* three traps, one after the other */
  nop
s_prio_ecall:
  ecall
s_timer:
  rdtime t1
  addi t1, t1, 300
  csrw stimecmp, t1
  csrr a0, sip
  wfi
s_timer_after_wfi:
  j s_timer_after_wfi
s_stimecmp:
  csrr t0, stimecmp
s_stimecmp_ok:
  ecall

/* S handler: record, quiesce SSIP and sie, back to S at a7 */
  .align 6
strap:
  csrr s7, scause
  csrr s8, sepc
  csrr s9, stval
  csrr s10, sstatus
  addi s11, s11, 1
  csrc sip, MIP_SSIP
  csrw sie, zero
  csrw sepc, a7
  li t0, MSTATUS_SPP
  csrs sstatus, t0
  sret

/* S handler for the Sstc timer: also samples sip and time around moving stimecmp */
  .align 6
strap_timer:
  csrr s7, scause
  csrr s8, sepc
  csrr s9, stval
  csrr s10, sstatus
  addi s11, s11, 1
  rdtime t0
  csrr t1, stimecmp
  sltu a3, t0, t1
  xori a3, a3, 1
  csrr a1, sip
  li t0, -1
  csrw stimecmp, t0
  csrr a2, sip
  csrw sepc, a7
  li t0, MSTATUS_SPP
  csrs sstatus, t0
  sret

/* M priority handler: log mcause, mask that interrupt in mie, mret */
  .align 6
prio_mtrap:
  csrr t0, mcause
  sd t0, 0(a5)
  addi a5, a5, 8
  li t1, 1
  sll t1, t1, t0                  /* shift amount uses the low 6 bits: the irq number */
  csrc mie, t1
  mret

/* S priority handler: log scause, mask it in sie, sret */
  .align 6
prio_strap:
  csrr t0, scause
  sd t0, 0(a5)
  addi a5, a5, 8
  li t1, 1
  sll t1, t1, t0
  csrc sie, t1
  sret

  MTRAP_HANDLER

  .data
  .align 3
prio_log:
  .dword 0, 0, 0, 0, 0, 0, 0, 0

  TOHOST_SECTION

/*
 * The H extension where the spec is stricter than QEMU 7.2 (or where QEMU's
 * spike board cannot show it), on Virtus only: virtual-instruction
 * exceptions for VU accesses to supervisor CSRs and for satp under
 * hstatus.VTVM; a delegated illegal instruction keeps cause 2 in VS; HLVX
 * needs execute permission; htinst's pseudoinstructions for faults on
 * implicit VS-stage page-table accesses (0x3000 read, 0x3020 write of A/D);
 * htimedelta; vstimecmp and the VS timer interrupt; mret into V=1 and a
 * trap from V=1 to M (mstatus.MPV, GVA, mtval2, mtinst); MPRV with MPV;
 * the FS state of both levels; HLV from U with hstatus.HU.
 *
 * Registers as in hypervisor.S: HS's handler records scause, sepc, stval,
 * hstatus, htval, htinst in s2, s3, s4, s5, s7, s8 and continues at s1;
 * the guest's VS handler records in a2..a5 and continues at a6.
 */
#include "test.h"

#define HSTATUS_GVA  (1 << 6)
#define HSTATUS_SPV  (1 << 7)
#define HSTATUS_SPVP (1 << 8)
#define HSTATUS_HU   (1 << 9)
#define HSTATUS_VTVM (1 << 20)
#define MSTATUS_MPV  (1 << 39)
#define MSTATUS_GVA  (1 << 38)
#define GPA_DATA     0x100000000
#define GPA_HOLE     0x100001000
#define GPA_TABLE_RO 0x100003000      /* a VS-stage leaf table the G-stage maps read-only */
#define VA_DATA      0x40000000
#define VA_AD        0x40200000       /* VS leaf without A, its table at GPA_TABLE_RO */
#define VA_IMPLICIT  0xc0000000

#define ENTER_V(vs, label)            \
  li t0, HSTATUS_SPV;                 \
  csrs hstatus, t0;                   \
  li t0, MSTATUS_SPP;                 \
  .if vs; csrs sstatus, t0; .else; csrc sstatus, t0; .endif; \
  la t0, label;                       \
  csrw sepc, t0;                      \
  sret
#define GUEST(vs, label) EXPECT_TRAP(1f); ENTER_V(vs, label)
#define SATP_OF(dst, table, mode) la dst, table; srli dst, dst, 12; li t1, (mode) << 60; or dst, dst, t1

  .option norvc
  .section .text.init
  .globl _start
_start:
  INSTALL_MTRAP
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
  la a0, gl1
  SET_PTE(groot, 4, a0, PTE_V)
  la a0, gl0
  SET_PTE(gl1, 0, a0, PTE_V)
  la a0, gdata
  SET_PTE(gl0, 0, a0, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D)
  la a0, vl0b                                        /* GPA_TABLE_RO -> vl0b, read-only */
  SET_PTE(gl0, 3, a0, PTE_V | PTE_R | PTE_U | PTE_A)
  la a0, vl1
  SET_PTE(vroot, 1, a0, PTE_V)
  la a0, vl0
  SET_PTE(vl1, 0, a0, PTE_V)
  li a0, GPA_TABLE_RO
  SET_PTE(vl1, 1, a0, PTE_V)
  li a0, GPA_DATA
  SET_PTE(vl0, 0, a0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
  SET_PTE(vl0b, 0, a0, PTE_V | PTE_R | PTE_W)        /* no A: the walk must write it */
  li a0, GPA_HOLE
  SET_PTE(vroot, 3, a0, PTE_V)
  li t0, 7
  csrw mcounteren, t0
  csrw hcounteren, t0
  li t0, (1 << 2) | (1 << 8) | (1 << 10) | (1 << 12) | (1 << 13) | (1 << 15) | (0xf << 20)
  csrw medeleg, t0

  /* ---- 1. mret with MPV = 1 enters VS; a trap from VS to M sets MPV (ecall from VS not delegated) ---- */
  li t0, (1 << 2) | (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15) | (0xf << 20)
  csrw medeleg, t0
  li t0, MSTATUS_MPV
  csrs mstatus, t0
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, g_ecall)
1:
  CHECK_IMM(s2, 10, 1)
  CHECK_ADDR(s3, g_ecall, 2)
  li t1, MSTATUS_MPV | MSTATUS_GVA | MSTATUS_MPP
  and t1, s5, t1
  li t2, MSTATUS_MPV | (PRV_S << 11)
  CHECK_EQ(t1, t2, 3)
  /* a guest-page fault taken in M: mtval2, GVA */
  SATP_OF(t0, groot, 8)
  csrw hgatp, t0
  li t0, MSTATUS_MPV
  csrs mstatus, t0
  li t0, (1 << 2) | (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15)
  csrw medeleg, t0
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, g_gfault)
1:
  CHECK_IMM(s2, 21, 4)
  li t1, MSTATUS_MPV | MSTATUS_GVA
  and t1, s5, t1
  li t2, MSTATUS_MPV | MSTATUS_GVA
  CHECK_EQ(t1, t2, 5)
  csrr t0, mtval2
  CHECK_IMM(t0, GPA_HOLE >> 2, 6)
  CHECK_CSR(mtinst, 0, 7)
  li t0, MSTATUS_MPV | MSTATUS_GVA
  csrc mstatus, t0

  /* ---- 2. MPRV with MPV: M-mode loads translate through both stages ---- */
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, (PRV_S << 11) | MSTATUS_MPRV
  csrs mstatus, t0
  li t0, MSTATUS_MPV
  csrs mstatus, t0
  li t1, GPA_DATA
  ld t2, 0(t1)
  li t0, MSTATUS_MPRV | MSTATUS_MPV
  csrc mstatus, t0
  CHECK_IMM(t2, 0x1234, 10)

  li t0, (1 << 2) | (1 << 8) | (1 << 10) | (1 << 12) | (1 << 13) | (1 << 15) | (0xf << 20)
  csrw medeleg, t0
  li t0, 1 << 63                                     /* menvcfg.STCE */
  csrs menvcfg, t0
  ENTER_MODE(PRV_S, hs_main)

hs_main:
  la t0, hs_trap
  csrw stvec, t0
  la t0, vs_trap
  csrw vstvec, t0

  /* ---- 3. virtual instruction where QEMU 7.2 differs ---- */
  GUEST(0, g_sstatus)
1:
  CHECK_IMM(s2, 22, 20)
  li t0, HSTATUS_VTVM
  csrs hstatus, t0
  GUEST(1, g_satp)
1:
  CHECK_IMM(s2, 22, 21)
  li t0, HSTATUS_VTVM
  csrc hstatus, t0

  /* ---- 4. a delegated illegal instruction reaches VS as cause 2 ---- */
  li t0, 1 << 2
  csrw hedeleg, t0
  GUEST(1, g_ill)
1:
  CHECK_IMM(s2, 10, 22)
  CHECK_IMM(a2, 2, 23)
  csrr t0, vstval
  lwu t1, g_ill_insn
  CHECK_EQ(t0, t1, 24)
  csrw hedeleg, zero

  /* ---- 5. HLVX needs execute permission; htinst pseudoinstructions ---- */
  SATP_OF(t0, vroot, 8)
  csrw vsatp, t0
  hfence.vvma
  li t0, HSTATUS_SPVP
  csrs hstatus, t0
  li t1, VA_DATA
  EXPECT_TRAP(1f)
  hlvx.wu t2, (t1)
  FAIL(30)
1:
  CHECK_IMM(s2, 13, 31)
  GUEST(1, g_implicit)                               /* VS-stage table at an unmapped GPA: a read */
1:
  CHECK_IMM(s2, 21, 32)
  CHECK_IMM(s8, 0x3000, 33)
  GUEST(1, g_ad)                                     /* A update into a read-only table: a write */
1:
  CHECK_IMM(s2, 21, 34)
  CHECK_IMM(s8, 0x3020, 35)
  li t1, GPA_TABLE_RO >> 2
  CHECK_EQ(s7, t1, 36)
  li t1, VA_AD
  CHECK_EQ(s4, t1, 37)

  /* ---- 6. HLV from U with hstatus.HU; without it, illegal ---- */
  li t0, HSTATUS_HU
  csrs hstatus, t0
  li t0, HSTATUS_SPV
  csrc hstatus, t0
  li t0, MSTATUS_SPP
  csrc sstatus, t0
  la t0, u_hlv
  csrw sepc, t0
  EXPECT_TRAP(1f)
  sret
1:
  CHECK_IMM(s2, 8, 40)                               /* its ecall */
  CHECK_IMM(a0, 0x1234, 41)
  li t0, HSTATUS_HU
  csrc hstatus, t0
  la t0, u_hlv
  csrw sepc, t0
  EXPECT_TRAP(1f)
  sret
1:
  CHECK_IMM(s2, 2, 42)
  csrw vsatp, zero

  /* ---- 7. htimedelta and vstimecmp ---- */
  li t0, 1 << 40
  csrw htimedelta, t0
  GUEST(1, g_rdtime)
1:
  srli a0, a0, 40
  CHECK_IMM(a0, 1, 50)
  csrw htimedelta, zero
  li t0, -1
  csrw vstimecmp, t0
  CHECK_CSR(hip, 0, 51)
  csrw vstimecmp, zero                               /* henvcfg.STCE = 0: no VSTIP */
  CHECK_CSR(hip, 0, 52)
  li t0, 1 << 63
  csrs henvcfg, t0
  CHECK_CSR(hip, 1 << 6, 53)                         /* VSTIP */
  li t0, 1 << 6
  csrw hideleg, t0
  GUEST(1, g_timer)                                  /* the guest takes it as its timer interrupt */
1:
  CHECK_IMM(s2, 10, 54)
  li t1, (1 << 63) | 5
  CHECK_EQ(a2, t1, 55)
  li t0, -1
  csrw vstimecmp, t0
  CHECK_CSR(hip, 0, 56)
  csrw hideleg, zero

  /* ---- 8. FP state: the guest's FP write dirties vsstatus.FS and mstatus.FS ---- */
  li t0, MSTATUS_FS
  csrc sstatus, t0
  li t0, 1 << 13                                     /* Initial */
  csrs sstatus, t0
  csrw vsstatus, t0
  GUEST(1, g_fp)
1:
  CHECK_IMM(s2, 10, 60)
  csrr t0, vsstatus
  li t1, MSTATUS_FS
  and t0, t0, t1
  CHECK_EQ(t0, t1, 61)
  csrr t0, sstatus
  and t0, t0, t1
  CHECK_EQ(t0, t1, 62)
  csrw vsstatus, zero                                /* FS off in VS: FP is illegal there */
  GUEST(1, g_fp)
1:
  CHECK_IMM(s2, 2, 63)

  PASS

  .align 6
hs_trap:
  csrr s2, scause
  csrr s3, sepc
  csrr s4, stval
  csrr s5, hstatus
  csrr s7, htval
  csrr s8, htinst
  addi s6, s6, 1
  jr s1

  .align 6
vs_trap:
  csrr a2, scause
  csrr a3, sepc
  csrr a4, stval
  csrr a5, sstatus
  jr a6
g_ecall:
  ecall
g_gfault:
  li t0, GPA_HOLE
  ld a0, 0(t0)
  ecall
g_sstatus:
  csrr t0, sstatus
  ecall
g_satp:
  csrr t0, satp
  ecall
g_ill:
  la a6, 1f
g_ill_insn:
  csrr t0, mstatus
1:
  ecall
g_implicit:
  li t0, VA_IMPLICIT
  ld a0, 0(t0)
  ecall
g_ad:
  li t0, VA_AD
  ld a0, 0(t0)
  ecall
g_rdtime:
  rdtime a0
  ecall
g_timer:
  la a6, 1f
  li t0, 1 << 5
  csrs sie, t0
  csrsi sstatus, 2
2:
  j 2b
1:
  ecall
g_fp:
  fcvt.d.w ft0, zero
  ecall
u_hlv:
  li t1, VA_DATA
  hlv.d a0, (t1)
  ecall

  MTRAP_HANDLER
  TOHOST_SECTION

#define LEAF(pa, flags) (((pa) >> 12) << 10) | (flags) | PTE_V | PTE_A | PTE_D
  .data
  .align 14
groot:
  .dword 0, 0
  .dword LEAF(0x80000000, PTE_R | PTE_W | PTE_X | PTE_U)
  .dword 0
  .dword 0
  .fill 2048 - 5, 8, 0
  .align 12
gl1:
  .fill 512, 8, 0
  .align 12
gl0:
  .fill 512, 8, 0
  .align 12
gdata:
  .dword 0x1234
  .fill 511, 8, 0
  .align 12
vroot:
  .dword 0
  .dword 0
  .dword LEAF(0x80000000, PTE_R | PTE_W | PTE_X)
  .dword 0
  .fill 508, 8, 0
  .align 12
vl1:
  .fill 512, 8, 0
  .align 12
vl0:
  .fill 512, 8, 0
  .align 12
vl0b:
  .fill 512, 8, 0

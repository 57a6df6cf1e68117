/*
 * CSRs (priv spec chapter 2, 3.1, 4.1; Zicntr): misa, the ID CSRs,
 * read-only CSRs, privilege checks from S and U, the counters and their
 * enables (mcounteren/scounteren/mcountinhibit), minstret/mcycle writes,
 * mstatus.FS gating of FP state and SD, TVM/TW/TSR traps, U-mode wfi,
 * mtvec/stvec WARL modes, sstatus/sie/sip as views of the M registers,
 * mie/mip write masks.
 */
#include "test.h"

/* Runs `snippet` in mode prv; it must trap as illegal (mtval = the insn at label ill). */
#define TRY_ILLEGAL(prv, snippet, ill, n) \
  EXPECT_TRAP(9990f);                     \
  ENTER_MODE(prv, snippet);               \
  9990:                                   \
  CHECK_IMM(s2, 2, n);                    \
  CHECK_ADDR(s3, ill, (n) + 1);           \
  lwu t3, ill;                            \
  CHECK_EQ(s4, t3, (n) + 2)

/* ...or must reach its ecall. */
#define TRY_OK(prv, snippet, n) \
  EXPECT_TRAP(9990f);           \
  ENTER_MODE(prv, snippet);     \
  9990:                         \
  CHECK_IMM(s2, 8 + (prv), n)

/* In M: the current instruction must be illegal (mtval checked against its bits). */
#define M_ILLEGAL(n, ...) \
  EXPECT_TRAP(9991f);      \
  9992: __VA_ARGS__;       \
  FAIL(n);                 \
  9991:                    \
  CHECK_IMM(s2, 2, (n) + 1); \
  CHECK_ADDR(s3, 9992b, (n) + 2); \
  lwu t3, 9992b;           \
  CHECK_EQ(s4, t3, (n) + 3)

  .option norvc
  .section .text.init
  .globl _start
_start:
  INSTALL_MTRAP

  /* ---- machine information ---- */
  csrr t1, misa                            /* RV64 A C D F I M S U, and H with --cpu h=on */
  li t2, ~(1 << 7)
  and t1, t1, t2
  CHECK_IMM(t1, 0x800000000014112d, 1)
  csrr s10, misa
  csrw misa, zero                          /* WARL: ignored */
  csrr t1, misa
  CHECK_EQ(t1, s10, 2)
  CHECK_CSR(mhartid, 0, 3)
  CHECK_CSR(mvendorid, 0, 4)
  CHECK_CSR(marchid, 0, 5)
  CHECK_CSR(mimpid, 0, 6)
  CHECK_CSR(0xf15, 0, 7)                   /* mconfigptr */
  CHECK_IMM(s6, 0, 8)

  /* ---- read-only CSRs: reads fine (csrrs/csrrc with x0, csrrsi 0), writes illegal ---- */
  csrrs t0, mhartid, zero
  csrrc t0, mvendorid, zero
  csrrsi t0, cycle, 0
  csrrci t0, instret, 0
  CHECK_IMM(s6, 0, 9)
  li t1, 1
  M_ILLEGAL(10, csrrs t0, mhartid, t1)
  M_ILLEGAL(14, csrw cycle, zero)
  M_ILLEGAL(18, csrrwi zero, time, 0)      /* csrrw writes even with rd = x0, zimm = 0 */
  M_ILLEGAL(22, csrrsi t0, instret, 1)
  M_ILLEGAL(26, csrrc t0, mimpid, t1)
  M_ILLEGAL(30, csrr t0, 0x7c0)            /* not implemented */
  M_ILLEGAL(34, csrr t0, 0x5a8)            /* not implemented (hypervisor-range S CSR) */

  /* ---- privilege: S cannot touch M CSRs, U cannot touch S CSRs ---- */
  TRY_ILLEGAL(PRV_S, s_mstatus, s_mstatus, 38)
  TRY_ILLEGAL(PRV_S, s_mscratch, s_mscratch, 41)
  TRY_ILLEGAL(PRV_S, s_mcycle, s_mcycle, 44)
  TRY_ILLEGAL(PRV_U, u_sscratch, u_sscratch, 47)
  TRY_ILLEGAL(PRV_U, u_stvec, u_stvec, 50)
  TRY_ILLEGAL(PRV_U, s_mstatus, s_mstatus, 53)
  TRY_OK(PRV_S, s_sscratch, 56)
  CHECK_IMM(a0, 0x5151, 57)

  /* ---- counters in M ---- */
  csrr a0, instret
  csrr a1, instret
  sub t0, a1, a0
  CHECK_IMM(t0, 1, 58)
  csrr a0, minstret
  nop
  nop
  nop
  csrr a1, instret
  sub t0, a1, a0
  CHECK_IMM(t0, 4, 59)
  csrr a0, cycle
  csrr a1, mcycle
  bleu a1, a0, fail_60            /* cycle moves forward */
  rdtime a0
  li t0, CLINT_MTIME
  ld a1, 0(t0)
  sub t0, a1, a0                  /* time = mtime (a tick may pass in between) */
  li t1, 1
  bgtu t0, t1, fail_61
  /* minstret write: the next instruction reads the value written */
  li t0, 1000
  csrw minstret, t0
  csrr a0, minstret
  csrr a1, instret
  CHECK_IMM(a0, 1000, 62)
  CHECK_IMM(a1, 1001, 63)
  li t0, 0x123456789
  csrw minstret, t0
  csrr a0, instret
  CHECK_IMM(a0, 0x123456789, 64)
  li t0, 5000
  csrw mcycle, t0
  csrr a0, cycle
  li t1, 5000
  bltu a0, t1, fail_65
  li t1, 5010
  bgtu a0, t1, fail_65
  /* mcountinhibit: IR and CY stop their counters; TM is read-only zero */
  li t0, 7
  csrw mcountinhibit, t0
  CHECK_CSR(mcountinhibit, 5, 66)
  csrr a0, instret
  csrr a2, cycle
  nop
  csrr a1, instret
  csrr a3, cycle
  CHECK_EQ(a0, a1, 67)
  CHECK_EQ(a2, a3, 68)
  li t0, 777
  csrw minstret, t0               /* writable while inhibited */
  csrr a0, minstret
  CHECK_IMM(a0, 777, 69)
  csrw mcountinhibit, zero
  csrr a0, minstret
  csrr a1, minstret
  CHECK_IMM(a0, 777, 70)
  CHECK_IMM(a1, 778, 71)
  /* hpm counters: present, zero */
  CHECK_CSR(hpmcounter3, 0, 72)
  li t0, -1
  csrw mhpmcounter3, t0
  CHECK_CSR(mhpmcounter3, 0, 73)
  csrw mhpmevent31, t0
  CHECK_CSR(mhpmevent31, 0, 74)

  /* ---- counter enables ---- */
  li t0, -1
  csrw mcounteren, t0
  CHECK_CSR(mcounteren, 0xffffffff, 75)
  csrw scounteren, t0
  CHECK_CSR(scounteren, 0xffffffff, 76)
  csrw mcounteren, zero
  TRY_ILLEGAL(PRV_S, s_cycle, s_cycle, 77)
  TRY_ILLEGAL(PRV_S, s_time, s_time, 80)
  TRY_ILLEGAL(PRV_S, s_instret, s_instret, 83)
  TRY_ILLEGAL(PRV_S, s_hpm3, s_hpm3, 86)
  li t0, 1                         /* CY only */
  csrw mcounteren, t0
  TRY_OK(PRV_S, s_cycle, 89)
  TRY_ILLEGAL(PRV_S, s_time, s_time, 90)
  li t0, 0xf
  csrw mcounteren, t0
  TRY_OK(PRV_S, s_cycle, 93)
  TRY_OK(PRV_S, s_time, 94)
  TRY_OK(PRV_S, s_instret, 95)
  TRY_OK(PRV_S, s_hpm3, 96)
  /* U needs both */
  csrw scounteren, zero
  TRY_ILLEGAL(PRV_U, s_cycle, s_cycle, 97)
  TRY_ILLEGAL(PRV_U, s_time, s_time, 100)
  li t0, 7
  csrw scounteren, t0
  TRY_OK(PRV_U, s_cycle, 103)
  TRY_OK(PRV_U, s_time, 104)
  TRY_OK(PRV_U, s_instret, 105)
  li t0, 3                         /* mcounteren: no IR */
  csrw mcounteren, t0
  TRY_ILLEGAL(PRV_U, s_instret, s_instret, 106)
  csrw mcounteren, zero
  csrw scounteren, zero


  j part_two

fail_60: FAIL(60)
fail_61: FAIL(61)
fail_65: FAIL(65)

/* ---- lower-privilege snippets: one access, then ecall ---- */
s_mstatus: csrr t0, mstatus; ecall
s_mscratch: csrw mscratch, zero; ecall
s_mcycle: csrr t0, mcycle; ecall
u_sscratch: csrr t0, sscratch; ecall
u_stvec: csrw stvec, zero; ecall
s_sscratch: li t0, 0x5151; csrw sscratch, t0; csrr a0, sscratch; ecall
s_cycle: csrr t0, cycle; ecall
s_time: csrr t0, time; ecall
s_instret: csrr t0, instret; ecall
s_hpm3: csrr t0, hpmcounter3; ecall
s_satp_r: csrr t0, satp; ecall
s_satp_w: csrw satp, zero; ecall
s_sfence: sfence.vma; ecall
s_wfi: wfi; ecall
s_sret: la t0, s_sret_ok; csrw sepc, t0; li t0, MSTATUS_SPP; csrs sstatus, t0
s_sret_i: sret
s_sret_ok: ecall
s_fcsr: csrr t0, fcsr; ecall
s_fp: fmv.d.x f1, zero; ecall

part_two:
  /* ---- mstatus.FS: Off makes FP state illegal; writes make it Dirty and set SD ---- */
  li t0, MSTATUS_FS
  csrc mstatus, t0
  M_ILLEGAL(110, csrr t0, fcsr)
  M_ILLEGAL(114, csrw fflags, zero)
  M_ILLEGAL(118, csrr t0, frm)
  M_ILLEGAL(122, fmv.d.x f1, zero)
  M_ILLEGAL(126, fadd.s f1, f2, f3)
  TRY_ILLEGAL(PRV_S, s_fcsr, s_fcsr, 130)
  csrr t0, mstatus
  bltz t0, fail_133               /* SD clear */
  li t0, 1 << 13                  /* Initial */
  csrs mstatus, t0
  csrr t0, fcsr                   /* a read leaves FS alone */
  csrr t0, mstatus
  li t1, MSTATUS_FS
  and t0, t0, t1
  CHECK_IMM(t0, 1 << 13, 134)
  li t0, 0x1ff
  csrw fcsr, t0
  CHECK_CSR(fcsr, 0xff, 135)
  CHECK_CSR(frm, 7, 136)
  CHECK_CSR(fflags, 0x1f, 137)
  csrr t0, mstatus
  li t1, MSTATUS_FS
  and t2, t0, t1
  CHECK_IMM(t2, MSTATUS_FS, 138)  /* Dirty */
  bgez t0, fail_139               /* SD */
  csrr t0, sstatus
  bgez t0, fail_139               /* SD in sstatus too */
  li t0, 1 << 14                  /* Clean */
  csrc mstatus, t0
  csrr t0, mstatus
  bltz t0, fail_140               /* SD follows FS */
  csrwi frm, 2
  csrr t0, mstatus
  bgez t0, fail_141
  CHECK_CSR(fcsr, 0x5f, 142)
  csrwi fflags, 0
  CHECK_CSR(fcsr, 0x40, 143)
  /* FS through sstatus */
  li t0, MSTATUS_FS
  csrc sstatus, t0
  csrr t0, mstatus
  li t1, MSTATUS_FS
  and t0, t0, t1
  CHECK_IMM(t0, 0, 144)
  li t0, 1 << 13
  csrs sstatus, t0
  TRY_OK(PRV_S, s_fcsr, 145)
  TRY_OK(PRV_U, s_fp, 146)        /* an FP instruction: enabled, and it makes FS Dirty */
  csrr t0, mstatus
  li t1, MSTATUS_FS
  and t0, t0, t1
  CHECK_IMM(t0, MSTATUS_FS, 147)

  /* ---- TVM: satp and sfence.vma illegal in S (fine in M) ---- */
  li t0, MSTATUS_TVM
  csrs mstatus, t0
  TRY_ILLEGAL(PRV_S, s_satp_r, s_satp_r, 148)
  TRY_ILLEGAL(PRV_S, s_satp_w, s_satp_w, 151)
  TRY_ILLEGAL(PRV_S, s_sfence, s_sfence, 154)
  csrr t0, satp
  sfence.vma
  li t0, MSTATUS_TVM
  csrc mstatus, t0
  TRY_OK(PRV_S, s_satp_r, 157)
  TRY_OK(PRV_S, s_sfence, 158)
  TRY_ILLEGAL(PRV_U, s_sfence, s_sfence, 159)

  /* ---- TW: wfi illegal in S; U-mode wfi is illegal regardless ---- */
  li t0, MSTATUS_TW
  csrs mstatus, t0
  TRY_ILLEGAL(PRV_S, s_wfi, s_wfi, 162)
  li t0, MSTATUS_TW
  csrc mstatus, t0
  TRY_ILLEGAL(PRV_U, s_wfi, s_wfi, 165)
  /* TW = 0: S-mode wfi is fine; a delegated SSIP, pending and enabled but masked by SIE = 0, ends it */
  csrs mip, MIP_SSIP
  csrr t0, mip
  CHECK_IMM(t0, MIP_SSIP, 168)
  li t0, MIP_SSIP
  csrw mideleg, t0
  csrw mie, t0
  li t0, MSTATUS_SIE
  csrc mstatus, t0
  TRY_OK(PRV_S, s_wfi, 169)
  csrw mie, zero
  csrw mideleg, zero
  csrc mip, MIP_SSIP

  /* ---- TSR: sret illegal in S; not in M ---- */
  li t0, MSTATUS_TSR
  csrs mstatus, t0
  TRY_ILLEGAL(PRV_S, s_sret, s_sret_i, 170)
  la t0, 1f
  csrw sepc, t0
  li t0, MSTATUS_SPP
  csrs mstatus, t0
  EXPECT_TRAP(2f)
  sret                             /* M -> S at 1f */
  FAIL(173)
1:
  ecall
2:
  CHECK_IMM(s2, 9, 174)
  li t0, MSTATUS_TSR
  csrc mstatus, t0
  TRY_OK(PRV_S, s_sret, 175)

  /* ---- mtvec / stvec: modes 0 and 1; 2 and 3 are not kept ---- */
  csrr s7, mtvec
  li t0, 0x80004001
  csrw mtvec, t0
  CHECK_CSR(mtvec, 0x80004001, 176)
  li t0, 0x80008002
  csrw mtvec, t0
  csrr t0, mtvec
  andi t0, t0, 3
  CHECK_IMM(t0, 1, 177)
  li t0, 0x80008003
  csrw mtvec, t0
  csrr t0, mtvec
  andi t0, t0, 3
  CHECK_IMM(t0, 1, 178)
  csrw mtvec, s7
  li t0, 0x80004000
  csrw stvec, t0
  CHECK_CSR(stvec, 0x80004000, 179)
  li t0, 0x80008003
  csrw stvec, t0
  csrr t0, stvec
  andi t0, t0, 3
  CHECK_IMM(t0, 0, 180)
  li t0, 0x80004001
  csrw stvec, t0
  CHECK_CSR(stvec, 0x80004001, 181)

  /* ---- mstatus / sstatus ---- */
  csrw mstatus, zero
  CHECK_CSR(mstatus, 0x0000000a00000000, 182)   /* SXL = UXL = 2, read-only */
  li t0, -1
  csrw sstatus, t0
  CHECK_CSR(sstatus, 0x80000002000c6122, 183)   /* SD UXL MXR SUM FS SPP SPIE SIE */
  CHECK_CSR(mstatus, 0x8000000a000c6122, 184)
  csrw mstatus, zero
  li t0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR
  csrw mstatus, t0
  CHECK_CSR(sstatus, 0x0000000200000000, 185)   /* none of the M fields show */
  csrw sstatus, zero                            /* ...nor change */
  CHECK_CSR(mstatus, 0x0000000a00000000 | MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR, 186)
  li t0, MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR
  csrc mstatus, t0
  /* MPP is WARL over U, S, M: 2 keeps the old value */
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, PRV_S << 11
  csrs mstatus, t0
  li t0, 2 << 11
  csrc mstatus, t0
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, 2 << 11
  csrs mstatus, t0                /* MPP = 2: ignored */
  csrr t0, mstatus
  li t1, MSTATUS_MPP
  and t0, t0, t1
  CHECK_IMM(t0, 0, 187)
  csrw mstatus, zero

  /* ---- mie / mip masks; sie / sip as views through mideleg ---- */
  /* (With the H extension, mie also has VSSIE/VSTIE/VSEIE/SGEIE and mip VSSIP: t2 = those extra bits.) */
  csrr t2, misa
  andi t2, t2, 1 << 7
  beqz t2, 2f
  li t2, 0x1444
2:
  li t0, -1
  csrw mie, t0
  csrr t1, mie
  xor t1, t1, t2
  CHECK_IMM(t1, 0xaaa, 188)
  csrw mip, t0
  csrr t1, mip
  andi t2, t2, MIP_SSIP << 1
  xor t1, t1, t2
  CHECK_IMM(t1, MIP_SSIP | MIP_STIP | MIP_SEIP, 189)   /* MSIP/MTIP/MEIP are read-only */
  csrw mip, zero
  csrw mie, zero
  CHECK_CSR(sie, 0, 190)
  li t0, MIP_SSIP | MIP_STIP
  csrw mideleg, t0
  li t0, -1
  csrw sie, t0
  CHECK_CSR(sie, MIP_SSIP | MIP_STIP, 191)
  CHECK_CSR(mie, MIP_SSIP | MIP_STIP, 192)
  li t0, MIP_SEIP | MIP_MTIP
  csrs mie, t0
  CHECK_CSR(sie, MIP_SSIP | MIP_STIP, 193)
  csrw sie, zero
  CHECK_CSR(mie, MIP_SEIP | MIP_MTIP, 194)
  li t0, -1
  csrw sip, t0                    /* only SSIP, and only because it is delegated */
  CHECK_CSR(mip, MIP_SSIP, 195)
  CHECK_CSR(sip, MIP_SSIP, 196)
  li t0, MIP_STIP | MIP_SEIP
  csrs mip, t0
  CHECK_CSR(sip, MIP_SSIP | MIP_STIP, 197)       /* SEIP pending but not delegated */
  csrw mideleg, zero
  csrw sip, zero                  /* SSIP no longer delegated: not writable */
  CHECK_CSR(mip, MIP_SSIP | MIP_STIP | MIP_SEIP, 198)
  CHECK_CSR(sip, 0, 199)
  csrw mip, zero
  csrw mie, zero

  /* ---- scratch registers and epc are full width ---- */
  li t0, 0xfedcba9876543210
  csrw mscratch, t0
  CHECK_CSR(mscratch, 0xfedcba9876543210, 200)
  csrw sscratch, t0
  CHECK_CSR(sscratch, 0xfedcba9876543210, 201)
  li t0, 0xfedcba9876543211
  csrw sepc, t0
  CHECK_CSR(sepc, 0xfedcba9876543210, 202)
  csrw stval, t0
  CHECK_CSR(stval, 0xfedcba9876543211, 203)
  li t0, 0x8000000000000009
  csrw scause, t0
  CHECK_CSR(scause, 0x8000000000000009, 204)

  PASS

fail_133: FAIL(133)
fail_139: FAIL(139)
fail_140: FAIL(140)
fail_141: FAIL(141)

  MTRAP_HANDLER

  TOHOST_SECTION

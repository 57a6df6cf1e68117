/*
 * The H extension (priv spec, "Hypervisor Extension"): a small hypervisor
 * in HS-mode runs a guest in VS/VU-mode. It checks the CSRs' WARL masks,
 * sret into V=1, traps from V=1 to HS (hstatus.SPV/SPVP/GVA, scause, sepc,
 * stval, htval, htinst), hedeleg/hideleg delegation to VS, VS interrupts
 * from hvip, the vs* aliasing of s* CSRs, two-stage translation (Sv39 over
 * Sv39x4) with guest-page faults (explicit and on a VS-stage page-table
 * access), HLV/HLVX/HSV, htimedelta, and the virtual-instruction
 * exceptions. Run with the H extension on; the same ELF passes on
 * qemu-system-riscv64 -M spike -cpu rv64,h=true (tests/machine/qemu-agree.test.ts).
 *
 * Register use: HS's "record and resume" handler saves scause, sepc, stval,
 * hstatus, htval, htinst in s2, s3, s4, s5, s7, s8, counts in s6 and
 * continues in HS at s1; the guest's VS handler saves scause, sepc, stval,
 * sstatus (its own, i.e. the vs* CSRs) in a2..a5 and continues at a6. Guest
 * code leaves s1..s8 alone.
 */
#include "test.h"

#define HSTATUS_GVA  (1 << 6)
#define HSTATUS_SPV  (1 << 7)
#define HSTATUS_SPVP (1 << 8)
#define HSTATUS_VTVM (1 << 20)
#define HSTATUS_VTW  (1 << 21)
#define HSTATUS_VTSR (1 << 22)
#define GPA_DATA     0x100000000      /* G-stage maps it to the page `gdata` */
#define GPA_HOLE     0x100001000      /* unmapped at the G-stage */
#define GPA_RO       0x100002000      /* read-only at the G-stage */
#define VA_DATA      0x40000000       /* VS-stage: -> GPA_DATA */
#define VA_UNMAPPED  0x40001000       /* VS-stage: invalid PTE */
#define VA_IMPLICIT  0xc0000000       /* VS-stage: its table lies at GPA_HOLE */

/* From HS: run the guest at `label` in VS (vs = 1) or VU (vs = 0) mode. Clobbers t0. */
#define ENTER_V(vs, label)            \
  li t0, HSTATUS_SPV;                 \
  csrs hstatus, t0;                   \
  li t0, MSTATUS_SPP;                 \
  .if vs; csrs sstatus, t0; .else; csrc sstatus, t0; .endif; \
  la t0, label;                       \
  csrw sepc, t0;                      \
  sret

/*
 * Fails with n unless s2 (the cause) is `spec`, or `qemu` where QEMU 7.2
 * differs from the spec (spec.S checks these cases strictly on Virtus).
 */
#define CHECK_CAUSE2(spec, qemu, n) \
  li t1, qemu;                      \
  beq s2, t1, 9996f;                \
  CHECK_IMM(s2, spec, n);           \
  9996:

/* A guest run that must end in a trap to HS: EXPECT_TRAP + ENTER_V. */
#define GUEST(vs, label) EXPECT_TRAP(1f); ENTER_V(vs, label)

  .option norvc
  .section .text.init
  .globl _start
_start:
  INSTALL_MTRAP
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0

  /* ---- 1. M-mode view: misa.H and the WARL masks ---- */
  csrr t0, misa
  srli t0, t0, 7
  andi t0, t0, 1
  CHECK_IMM(t0, 1, 1)
  li t0, -1
  csrw hedeleg, t0
  CHECK_CSR(hedeleg, 0xb1ff, 2)
  csrw hideleg, t0
  CHECK_CSR(hideleg, 0x444, 3)
  csrw hvip, t0
  CHECK_CSR(hvip, 0x444, 4)
  csrw hie, t0
  CHECK_CSR(hie, 0x1444, 5)
  csrw hgeie, t0
  CHECK_CSR(hgeie, 0, 6)
  CHECK_CSR(hgeip, 0, 7)
  csrw mideleg, zero                      /* VSSI, VSTI, VSEI, SGEI: read-only one */
  CHECK_CSR(mideleg, 0x1444, 8)
  csrw medeleg, t0
  csrr t1, medeleg
  li t2, 0xf00400                         /* ecall from VS, guest-page faults, virtual instruction */
  and t1, t1, t2
  CHECK_EQ(t1, t2, 9)
  CHECK_CSR(hstatus, 0x200000000, 10)     /* VSXL = 64 */
  li t0, (1 << 39) | (1 << 38)            /* mstatus.MPV, GVA */
  csrs mstatus, t0
  csrr t1, mstatus
  and t1, t1, t0
  CHECK_EQ(t1, t0, 11)
  csrc mstatus, t0
  csrw hedeleg, zero
  csrw hideleg, zero
  csrw hvip, zero
  csrw hie, zero
  /* The table entries that need label addresses. */
  la a0, gl1
  SET_PTE(groot, 4, a0, PTE_V)
  la a0, gl0
  SET_PTE(gl1, 0, a0, PTE_V)
  la a0, gdata
  SET_PTE(gl0, 0, a0, PTE_V | PTE_R | PTE_W | PTE_U)   /* A and D left for the hardware */
  SET_PTE(gl0, 2, a0, PTE_V | PTE_R | PTE_U | PTE_A)   /* GPA_RO: read-only */
  la a0, vl1
  SET_PTE(vroot, 1, a0, PTE_V)
  la a0, vl0
  SET_PTE(vl1, 0, a0, PTE_V)
  li a0, GPA_DATA
  SET_PTE(vl0, 0, a0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
  li a0, GPA_HOLE
  SET_PTE(vroot, 3, a0, PTE_V)
  li t0, 7
  csrw mcounteren, t0
  csrw hcounteren, t0
  csrw scounteren, t0
  /* To HS: illegal instruction, breakpoint, page faults, ecalls from VU/U and VS, guest-page faults, virtual instruction. */
  li t0, (1 << 2) | (1 << 3) | (1 << 8) | (1 << 10) | (1 << 12) | (1 << 13) | (1 << 15) | (0xf << 20)
  csrw medeleg, t0
  ENTER_MODE(PRV_S, hs_main)

hs_main:
  la t0, hs_trap
  csrw stvec, t0
  li s6, 0

  /* ---- 2. ecall from VS and VU ---- */
  GUEST(1, g_ecall)
1:
  CHECK_IMM(s2, 10, 20)
  CHECK_ADDR(s3, g_ecall, 21)
  li t3, HSTATUS_GVA | HSTATUS_SPV | HSTATUS_SPVP
  and t3, s5, t3
  CHECK_IMM(t3, HSTATUS_SPV | HSTATUS_SPVP, 22)
  GUEST(0, g_ecall)
1:
  CHECK_IMM(s2, 8, 23)
  li t3, HSTATUS_SPV | HSTATUS_SPVP
  and t3, s5, t3
  CHECK_IMM(t3, HSTATUS_SPV, 24)

  /* ---- 3. virtual instruction and illegal instruction ---- */
  GUEST(1, g_hstatus)
1:
  CHECK_IMM(s2, 22, 25)
  CHECK_ADDR(s3, g_hstatus, 26)
  lwu t1, g_hstatus
  CHECK_EQ(s4, t1, 27)
  GUEST(1, g_mstatus)
1:
  CHECK_IMM(s2, 2, 28)
  CHECK_ADDR(s3, g_mstatus, 29)
  GUEST(0, g_sstatus)                     /* a supervisor CSR from VU */
1:
  CHECK_CAUSE2(22, 2, 30)                 /* QEMU 7.2: illegal instruction */
  GUEST(1, g_hfence)
1:
  CHECK_IMM(s2, 22, 31)
  GUEST(1, g_hlv)
1:
  CHECK_IMM(s2, 22, 32)
  GUEST(0, g_wfi)                         /* wfi from VU */
1:
  CHECK_IMM(s2, 22, 33)
  li t0, HSTATUS_VTW
  csrs hstatus, t0
  GUEST(1, g_wfi)
1:
  CHECK_IMM(s2, 22, 34)
  li t0, HSTATUS_VTW
  csrc hstatus, t0
  li t0, HSTATUS_VTVM
  csrs hstatus, t0
  GUEST(1, g_sfence)
1:
  CHECK_IMM(s2, 22, 35)
  GUEST(1, g_satp)
1:
  CHECK_CAUSE2(22, 10, 36)                /* QEMU 7.2 ignores VTVM for satp: no trap, the guest's ecall */
  li t0, HSTATUS_VTVM
  csrc hstatus, t0
  li t0, HSTATUS_VTSR
  csrs hstatus, t0
  GUEST(1, g_sret)
1:
  CHECK_IMM(s2, 22, 37)
  li t0, HSTATUS_VTSR
  csrc hstatus, t0
  csrw hcounteren, zero                   /* counters: mcounteren allows, hcounteren does not */
  GUEST(1, g_rdtime)
1:
  CHECK_IMM(s2, 22, 38)
  li t0, 7
  csrw hcounteren, t0

  /* ---- 4. s* CSRs are the vs* ones in V=1 ---- */
  li t0, 0x5a5a
  csrw vsscratch, t0
  li t0, 0x1111
  csrw sscratch, t0
  GUEST(1, g_scratch)
1:
  CHECK_IMM(s2, 10, 40)
  CHECK_IMM(a0, 0x5a5a, 41)               /* the guest read vsscratch as sscratch */
  CHECK_CSR(vsscratch, 0x7777, 42)        /* and wrote it */
  CHECK_CSR(sscratch, 0x1111, 43)

  /*
   * ---- 5. hedeleg: a breakpoint goes to the guest's own handler ----
   * (A breakpoint, not an illegal instruction: QEMU 7.2 reports a delegated
   * exception 2, 6 or 10 to VS as 1, 5 or 9, as if it were a VS interrupt.
   * spec.S checks that case on Virtus.)
   */
  la t0, vs_trap
  csrw vstvec, t0
  li t0, 1 << 3
  csrw hedeleg, t0
  GUEST(1, g_deleg)
1:
  CHECK_IMM(s2, 10, 44)
  CHECK_IMM(a2, 3, 45)                    /* vscause as the guest saw it */
  CHECK_ADDR(a3, g_deleg_ill, 46)
  CHECK_CSR(vscause, 3, 47)
  csrr t0, hstatus                        /* a trap taken in VS leaves hstatus.SPV as HS left it */
  andi t0, t0, HSTATUS_SPV
  CHECK_IMM(t0, HSTATUS_SPV, 39)
  csrw hedeleg, zero

  /* ---- 6. VS software interrupt from hvip: to VS with hideleg, else to HS ---- */
  li t0, 1 << 2
  csrw hideleg, t0
  csrw hvip, t0
  GUEST(1, g_irq)
1:
  CHECK_IMM(s2, 10, 48)
  li t1, (1 << 63) | 1                    /* VSSI reaches VS as SSI */
  CHECK_EQ(a2, t1, 49)
  csrw hvip, zero
  csrw hideleg, zero
  li t0, 1 << 2
  csrs hie, t0
  csrw hvip, t0
  GUEST(1, g_spin)
1:
  li t1, (1 << 63) | 2
  CHECK_EQ(s2, t1, 50)
  csrw hvip, zero
  csrw hie, zero

  /* ---- 7. G-stage (Sv39x4): guest physical GPA_DATA is the page gdata ---- */
  la t0, groot
  srli t0, t0, 12
  li t1, 8 << 60
  or t0, t0, t1
  csrw hgatp, t0
  hfence.gvma
  GUEST(1, g_gload)
1:
  CHECK_IMM(s2, 10, 60)
  CHECK_IMM(a0, 0x1234, 61)
  ld t0, gl0                              /* the G-stage leaf got its A bit */
  andi t0, t0, PTE_A
  CHECK_IMM(t0, PTE_A, 62)
  GUEST(1, g_gfault)
1:
  CHECK_IMM(s2, 21, 63)
  li t1, GPA_HOLE + 8
  CHECK_EQ(s4, t1, 64)
  srli t1, t1, 2
  CHECK_EQ(s7, t1, 65)
  andi t3, s5, HSTATUS_GVA
  CHECK_IMM(t3, HSTATUS_GVA, 66)
  CHECK_IMM(s8, 0, 67)
  GUEST(1, g_gstore)
1:
  CHECK_IMM(s2, 23, 68)
  li t1, GPA_RO
  CHECK_EQ(s4, t1, 69)
  GUEST(1, g_gfetch)
1:
  CHECK_IMM(s2, 20, 70)
  li t1, GPA_HOLE
  CHECK_EQ(s4, t1, 71)

  /* ---- 8. both stages: vsatp Sv39 with the guest's tables in guest memory ---- */
  la t0, vroot
  srli t0, t0, 12
  li t1, 8 << 60
  or t0, t0, t1
  csrw vsatp, t0
  hfence.vvma
  GUEST(1, g_vsload)
1:
  CHECK_IMM(s2, 10, 80)
  CHECK_IMM(a0, 0x1234, 81)
  GUEST(1, g_vsimplicit)                  /* the VS-stage table is at an unmapped GPA */
1:
  CHECK_IMM(s2, 21, 82)
  li t1, VA_IMPLICIT
  CHECK_EQ(s4, t1, 83)
  li t1, GPA_HOLE >> 2
  CHECK_EQ(s7, t1, 84)
  GUEST(1, g_vspf)                        /* a VS-stage page fault, not a guest-page fault */
1:
  CHECK_IMM(s2, 13, 85)
  li t1, VA_UNMAPPED
  CHECK_EQ(s4, t1, 86)
  CHECK_IMM(s7, 0, 87)
  andi t3, s5, HSTATUS_GVA
  CHECK_IMM(t3, HSTATUS_GVA, 88)

  /* ---- 9. HLV, HLVX, HSV from HS (as VS: hstatus.SPVP = 1) ---- */
  li t0, HSTATUS_SPVP
  csrs hstatus, t0
  li t1, VA_DATA
  hlv.d t2, (t1)
  CHECK_IMM(t2, 0x1234, 90)
  li t3, -2
  hsv.d t3, (t1)
  ld t4, gdata
  CHECK_IMM(t4, -2, 91)
  hlv.b t2, (t1)
  CHECK_IMM(t2, -2, 92)
  hlv.bu t2, (t1)
  CHECK_IMM(t2, 0xfe, 93)
  hlv.wu t2, (t1)
  CHECK_IMM(t2, 0xfffffffe, 94)
  EXPECT_TRAP(1f)
hlvx_nx:
  hlvx.wu t2, (t1)                        /* the page is not executable */
  j 2f                                    /* QEMU 7.2 checks read permission for HLVX; spec.S checks the fault */
1:
  CHECK_IMM(s2, 13, 96)
  CHECK_ADDR(s3, hlvx_nx, 97)
  andi t3, s5, HSTATUS_GVA
  CHECK_IMM(t3, HSTATUS_GVA, 98)
2:
  la t1, g_ecall                          /* code is: HLVX reads it */
  hlvx.wu t2, (t1)
  lwu t3, g_ecall
  CHECK_EQ(t2, t3, 99)
  csrw vsatp, zero
  li t1, GPA_HOLE
  EXPECT_TRAP(1f)
  hlv.d t2, (t1)
  FAIL(100)
1:
  CHECK_IMM(s2, 21, 101)
  li t1, GPA_HOLE >> 2
  CHECK_EQ(s7, t1, 102)

  /*
   * ---- 10. htimedelta offsets the guest's time ----
   * (QEMU's spike board has no time CSR: there htimedelta traps and the
   * section is skipped. spec.S checks it on Virtus.)
   */
  li t0, 1 << 40
  li s6, 0
  EXPECT_TRAP(9f)
  csrw htimedelta, t0
9:
  bnez s6, 2f
  GUEST(1, g_rdtime)
1:
  CHECK_IMM(s2, 10, 110)
  srli a0, a0, 40
  CHECK_IMM(a0, 1, 111)
  rdtime t0
  srli t0, t0, 40
  CHECK_IMM(t0, 0, 112)
2:

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

  /* ---------------- guest code (VS/VU) ---------------- */
  .align 6
vs_trap:
  csrr a2, scause
  csrr a3, sepc
  csrr a4, stval
  csrr a5, sstatus
  jr a6
g_ecall:
  ecall
g_hstatus:
  csrr t0, hstatus
  ecall
g_mstatus:
  csrr t0, mstatus
  ecall
g_sstatus:
  csrr t0, sstatus
  ecall
g_hfence:
  hfence.vvma
  ecall
g_hlv:
  hlv.d t0, (sp)
  ecall
g_wfi:
  wfi
  ecall
g_sfence:
  sfence.vma
  ecall
g_satp:
  csrr t0, satp
  ecall
g_sret:
  sret
  ecall
g_rdtime:
  rdtime a0
  ecall
g_scratch:
  csrr a0, sscratch
  li t0, 0x7777
  csrw sscratch, t0
  ecall
g_deleg:
  la a6, 1f
g_deleg_ill:
  ebreak
1:
  ecall
g_irq:
  la a6, 1f
  li t0, 2
  csrs sie, t0                            /* vsie.SSIE */
  csrsi sstatus, 2                        /* vsstatus.SIE */
2:
  j 2b
1:
  ecall
g_spin:
  j g_spin
g_gload:
  li t0, GPA_DATA
  ld a0, 0(t0)
  ecall
g_gfault:
  li t0, GPA_HOLE
  ld a0, 8(t0)
  ecall
g_gstore:
  li t0, GPA_RO
  sd zero, 0(t0)
  ecall
g_gfetch:
  li t0, GPA_HOLE
  jr t0
g_vsload:
  li t0, VA_DATA
  ld a0, 0(t0)
  ecall
g_vsimplicit:
  li t0, VA_IMPLICIT
  ld a0, 0(t0)
  ecall
g_vspf:
  li t0, VA_UNMAPPED
  ld a0, 0(t0)
  ecall

  MTRAP_HANDLER
  TOHOST_SECTION

/*
 * Page tables, built by the assembler. G-stage (Sv39x4, 16 KiB root): GPA
 * 0x80000000.. (1 GiB) maps to itself; GPA_DATA -> gdata (R/W), GPA_HOLE
 * unmapped, GPA_RO -> gdata read-only. VS-stage (Sv39): VA 0x80000000..
 * (1 GiB) to GPA 0x80000000.. (code, X); VA_DATA -> GPA_DATA (R/W, no X),
 * VA_UNMAPPED invalid; VA_IMPLICIT's table at GPA_HOLE.
 */
#define LEAF(pa, flags) (((pa) >> 12) << 10) | (flags) | PTE_V | PTE_A | PTE_D
  .data
  .align 14
groot:
  .dword 0, 0
  .dword LEAF(0x80000000, PTE_R | PTE_W | PTE_X | PTE_U)
  .dword 0
  .dword 0                                /* [4] GPA 0x100000000: -> gl1, filled below */
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
  .dword 0                                /* [1] VA 0x40000000: -> vl1 */
  .dword LEAF(0x80000000, PTE_R | PTE_W | PTE_X)
  .dword 0                                /* [3] VA 0xc0000000: -> GPA_HOLE */
  .fill 508, 8, 0
  .align 12
vl1:
  .fill 512, 8, 0
  .align 12
vl0:
  .fill 512, 8, 0

/*
 * Physical memory protection (priv spec 3.7): 16 entries, TOR / NA4 /
 * NAPOT matching, lowest-numbered match decides, partial matches fail,
 * S/U accesses with no match fail once any entry is active (and succeed
 * while all are off), M is only bound by locked entries, locked entries
 * ignore writes (a locked TOR entry also locks the pmpaddr below it),
 * access faults 1/5/7 with mtval = the address, and the page-table walk's
 * own accesses are checked as well.
 *
 * Regions (RAM is at least 16 MiB): entry 15 gives RWX on the first
 * 8 MiB (the image); the tests poke at 0x80c00000 and above.
 */
#include "test.h"

#define A_OFF   0x00
#define A_TOR   0x08
#define A_NA4   0x10
#define A_NAPOT 0x18
#define P_R 1
#define P_W 2
#define P_X 4
#define P_L 0x80

/* entry 15: NAPOT 0x80000000 / 8 MiB, RWX */
#define CFG2_BASE ((A_NAPOT | P_R | P_W | P_X) << 56)
#define ADDR15    ((0x80000000 >> 2) | ((0x800000 >> 3) - 1))
/* pmpaddr value for a NAPOT region of size bytes at base */
#define NAPOT(base, size) (((base) >> 2) | (((size) >> 3) - 1))

#define REG_A 0x80c00000
#define REG_B 0x80d00000
#define REG_C 0x80e00000
#define REG_D 0x80f00000
#define REG_E 0x80f80000

/* Runs snippet in mode prv with a1 = addr; it must end in its ecall. */
#define TRY_OK(prv, snippet, addr, n) \
  li a1, addr;                        \
  EXPECT_TRAP(9990f);                 \
  ENTER_MODE(prv, snippet);           \
  9990:                               \
  CHECK_IMM(s2, 8 + (prv), n)

/* ...or must fault with cause, mtval = addr. */
#define TRY_FAULT(prv, snippet, addr, cause, n) \
  li a1, addr;                                  \
  EXPECT_TRAP(9990f);                           \
  ENTER_MODE(prv, snippet);                     \
  9990:                                         \
  CHECK_IMM(s2, cause, n);                      \
  CHECK_IMM(s4, addr, (n) + 1)

/* As TRY_FAULT with the address in register reg (not a0, a1, t0). */
#define TRY_FAULT_REG(prv, snippet, reg, cause, n) \
  mv a1, reg;                                      \
  EXPECT_TRAP(9990f);                              \
  ENTER_MODE(prv, snippet);                        \
  9990:                                            \
  CHECK_IMM(s2, cause, n);                         \
  CHECK_EQ(s4, reg, (n) + 1)

  .option norvc
  .section .text.init
  .globl _start
_start:
  INSTALL_MTRAP

  /* ---- 16 entries: pmpaddr0..15 hold 54 bits; pmpcfg0 and pmpcfg2 ---- */
  li t1, -1
  li t2, 0x003fffffffffffff
  .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
  csrw pmpaddr\n, t1
  csrr t0, pmpaddr\n
  CHECK_EQ(t0, t2, 1)
  csrw pmpaddr\n, zero
  .endr
  li t1, 0x1f1d1c1b19180b09       /* no L bit anywhere */
  csrw pmpcfg0, t1
  csrr t0, pmpcfg0
  CHECK_IMM(t0, 0x1f1d1c1b19180b09, 2)
  csrw pmpcfg0, zero
  li t1, 0x1f1d0f0d0c0b0908
  csrw pmpcfg2, t1
  csrr t0, pmpcfg2
  CHECK_IMM(t0, 0x1f1d0f0d0c0b0908, 3)
  csrw pmpcfg2, zero
  /* bits 5-6 of a cfg byte are read-only zero; R=0 W=1 is reserved (never reads back) */
  li t1, 0x7f
  csrw pmpcfg0, t1
  csrr t0, pmpcfg0
  CHECK_IMM(t0, 0x1f, 4)
  li t1, 0x1a
  csrw pmpcfg0, t1
  csrr t0, pmpcfg0
  andi t0, t0, 3
  li t1, 2
  beq t0, t1, fail_5
  csrw pmpcfg0, zero
  /* RV64 has no odd pmpcfg */
  EXPECT_TRAP(1f)
ill_cfg1:
  csrr t0, pmpcfg1
  FAIL(6)
1:
  CHECK_TRAP(2, ill_cfg1, 0x3a1022f3, 7)
  EXPECT_TRAP(1f)
ill_cfg3:
  csrw pmpcfg3, zero
  FAIL(10)
1:
  CHECK_IMM(s2, 2, 11)
  /* pmpcfg4..14 and pmpaddr16..63 exist and are read-only zero (64-entry CSR space) */
  li t1, -1
  csrw pmpaddr16, t1
  csrr t0, pmpaddr16
  CHECK_IMM(t0, 0, 12)
  csrw pmpaddr63, t1
  csrr t0, pmpaddr63
  CHECK_IMM(t0, 0, 13)
  csrw pmpcfg14, t1
  csrr t0, pmpcfg14
  CHECK_IMM(t0, 0, 14)
  CHECK_IMM(s6, 2, 15)            /* none of those trapped */
  /* PMP CSRs are M-only */
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, s_read_pmpcfg0)
1:
  CHECK_IMM(s2, 2, 16)

  /* ---- all entries off: S and U may access anything ---- */
  TRY_OK(PRV_S, s_load, REG_A, 17)
  TRY_OK(PRV_U, s_store, REG_A, 18)

  /* ---- entry 15 on: no match for REG_A -> S/U fault, M fine ---- */
  li t0, ADDR15
  csrw pmpaddr15, t0
  li t0, CFG2_BASE
  csrw pmpcfg2, t0
  TRY_FAULT(PRV_S, s_load, REG_A, 5, 19)
  TRY_FAULT(PRV_U, s_load, REG_A + 8, 5, 21)
  TRY_FAULT(PRV_S, s_store, REG_A + 16, 7, 23)
  TRY_FAULT(PRV_S, s_jump, REG_A, 1, 25)
  CHECK_IMM(s3, REG_A, 27)
  li t1, REG_A
  ld t0, 0(t1)
  sd t0, 0(t1)
  TRY_OK(PRV_S, s_load, 0x80000000, 28)   /* entry 15 itself */

  /* ---- TOR [pmpaddr0, pmpaddr1), R only ---- */
  li t0, REG_A >> 2
  csrw pmpaddr0, t0
  li t0, (REG_A + 0x100) >> 2
  csrw pmpaddr1, t0
  li t0, (A_TOR | P_R) << 8
  csrw pmpcfg0, t0
  TRY_OK(PRV_S, s_load, REG_A, 29)
  TRY_OK(PRV_U, s_load, REG_A + 0xf8, 30)
  TRY_FAULT(PRV_S, s_load, REG_A + 0x100, 5, 31)
  TRY_FAULT(PRV_S, s_load, REG_A - 8, 5, 33)
  TRY_FAULT(PRV_S, s_store, REG_A + 8, 7, 35)
  TRY_FAULT(PRV_U, s_jump, REG_A, 1, 37)
  li t1, REG_A + 8                /* M is not bound by an unlocked entry */
  sd t1, 0(t1)
  ld t0, 0(t1)
  CHECK_EQ(t0, t1, 39)

  /* ---- TOR in entry 0: the lower bound is 0, so it covers the image too ---- */
  li t0, (REG_A + 0x10) >> 2
  csrw pmpaddr0, t0
  li t0, A_TOR | P_R | P_X
  csrw pmpcfg0, t0
  TRY_OK(PRV_S, s_load, REG_A + 8, 40)
  TRY_FAULT(PRV_S, s_store, REG_A + 8, 7, 41)
  la a2, scratch
  TRY_FAULT_REG(PRV_S, s_store, a2, 7, 43)  /* entry 0 beats entry 15 (RWX) for the image */
  TRY_FAULT(PRV_S, s_load, REG_A + 0x10, 5, 46)   /* the top is exclusive; no other match */
  /* a TOR entry with pmpaddr[i-1] >= pmpaddr[i] matches nothing */
  li t0, REG_A >> 2
  csrw pmpaddr0, t0
  csrw pmpaddr1, t0
  li t0, (A_TOR | P_R) << 8
  csrw pmpcfg0, t0
  TRY_FAULT(PRV_S, s_load, REG_A, 5, 48)

  /* ---- NA4: exactly 4 bytes; an 8-byte access over it matches partially: fails ---- */
  li t0, REG_B >> 2
  csrw pmpaddr2, t0
  li t0, (A_NA4 | P_R | P_W) << 16
  csrw pmpcfg0, t0
  TRY_OK(PRV_S, s_lw, REG_B, 50)
  TRY_OK(PRV_S, s_sw, REG_B, 51)
  TRY_FAULT(PRV_S, s_lw, REG_B + 4, 5, 52)
  TRY_FAULT(PRV_S, s_load, REG_B, 5, 54)
  TRY_FAULT(PRV_S, s_store, REG_B, 7, 56)

  /* ---- NAPOT: 4 KiB and 8 bytes ---- */
  li t0, NAPOT(REG_C, 0x1000)
  csrw pmpaddr3, t0
  li t1, REG_D >> 2               /* 8 bytes: no trailing ones */
  csrw pmpaddr4, t1
  li t0, ((A_NAPOT | P_R) << 24) | ((A_NAPOT | P_R | P_W) << 32)
  csrw pmpcfg0, t0
  TRY_OK(PRV_S, s_load, REG_C, 58)
  TRY_OK(PRV_S, s_load, REG_C + 0xff8, 59)
  TRY_FAULT(PRV_S, s_load, REG_C + 0x1000, 5, 60)
  TRY_FAULT(PRV_S, s_load, REG_C - 8, 5, 62)
  TRY_FAULT(PRV_S, s_store, REG_C + 0x800, 7, 64)
  TRY_OK(PRV_S, s_store, REG_D, 66)
  TRY_FAULT(PRV_S, s_lw, REG_D + 8, 5, 67)
  /* execute needs X: a function copied to REG_C */
  li t1, REG_C
  lw t0, pmp_func
  sw t0, 0(t1)
  lw t0, pmp_func + 4
  sw t0, 4(t1)
  TRY_FAULT(PRV_S, s_jump, REG_C, 1, 69)
  CHECK_IMM(s3, REG_C, 71)
  li t0, (A_NAPOT | P_R | P_X) << 24
  csrw pmpcfg0, t0
  li a0, 0
  TRY_OK(PRV_U, s_jump, REG_C, 72)
  CHECK_IMM(a0, 0x77, 73)

  /* ---- the lowest-numbered match decides ---- */
  li t0, NAPOT(REG_D, 0x1000)
  csrw pmpaddr4, t0
  li t0, NAPOT(REG_D, 0x2000)
  csrw pmpaddr5, t0
  li t0, ((A_NAPOT | P_R) << 32) | ((A_NAPOT | P_R | P_W) << 40)
  csrw pmpcfg0, t0
  TRY_FAULT(PRV_S, s_store, REG_D + 0x10, 7, 74)
  TRY_OK(PRV_S, s_store, REG_D + 0x1010, 76)

  /* ---- the page-table walk is checked by PMP too ---- */
  /* Sv39 root at REG_A + 0x1000: identity gigapage for the image; megapage 0xc0000000 -> 0x80200000 without A */
  li t2, REG_A + 0x1000
  li t0, (0x80000000 >> 12 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
  sd t0, 2 * 8(t2)
  li t0, REG_A + 0x2000
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, PTE_V
  sd t0, 3 * 8(t2)
  li t3, REG_A + 0x2000
  li t0, (REG_C >> 12 << 10) | PTE_V | PTE_R | PTE_W
  sd t0, 0(t3)
  li t0, (8 << 60) | ((REG_A + 0x1000) >> 12)
  csrw satp, t0
  sfence.vma
  csrw pmpcfg0, zero
  /* no entry covers the tables: even the first fetch in S fails, as an access fault */
  la a2, s_load
  TRY_FAULT_REG(PRV_S, s_load, a2, 1, 80)
  CHECK_EQ(s3, a2, 82)
  /* tables readable (NAPOT 16 KiB at REG_A, R): runs; the A update needs W: load access fault */
  li t0, NAPOT(REG_A, 0x4000)
  csrw pmpaddr0, t0
  li t0, A_NAPOT | P_R
  csrw pmpcfg0, t0
  TRY_OK(PRV_S, s_load, 0x80000000, 84)
  TRY_FAULT(PRV_S, s_load, 0xc0000010, 5, 85)
  li t0, A_NAPOT | P_R | P_W
  csrw pmpcfg0, t0
  TRY_FAULT(PRV_S, s_load, 0xc0000010, 5, 87) /* now the walk works, but 0x80e00010 has no entry */
  li t0, NAPOT(REG_C, 0x1000)
  csrw pmpaddr1, t0
  li t0, ((A_NAPOT | P_R) << 8) | A_NAPOT | P_R | P_W
  csrw pmpcfg0, t0
  li t1, REG_C + 0x10
  li t0, 0x4242
  sd t0, 0(t1)
  TRY_OK(PRV_S, s_load, 0xc0000010, 89)
  CHECK_IMM(a0, 0x4242, 89)
  csrw satp, zero
  sfence.vma

  /* ---- locked entries: bind M; ignore writes; a locked TOR locks pmpaddr below ---- */
  csrw pmpcfg0, zero
  li t0, NAPOT(REG_E, 0x1000)
  csrw pmpaddr6, t0
  li t0, (REG_E + 0x2000) >> 2
  csrw pmpaddr7, t0
  li t0, (REG_E + 0x3000) >> 2
  csrw pmpaddr8, t0
  /* entry 6: NAPOT R, locked; entry 8: TOR [pmpaddr7, pmpaddr8) RW locked */
  li t0, (A_NAPOT | P_R | P_L) << 48
  csrw pmpcfg0, t0
  li t0, CFG2_BASE | A_TOR | P_R | P_W | P_L
  csrw pmpcfg2, t0
  li t1, REG_E
  ld t0, 0(t1)                    /* M may read... */
  EXPECT_TRAP(1f)
m_store_locked:
  sd t0, 0(t1)                    /* ...not write */
  FAIL(90)
1:
  CHECK_TRAP(7, m_store_locked, REG_E, 91)
  li t1, REG_E + 0x800
  EXPECT_TRAP(1f)
  jr t1                           /* nor execute */
  FAIL(94)
1:
  CHECK_IMM(s2, 1, 95)
  CHECK_IMM(s4, REG_E + 0x800, 96)
  li t1, REG_E + 0x2008
  sd t1, 0(t1)                    /* entry 8 grants W */
  TRY_OK(PRV_S, s_store, REG_E + 0x2010, 97)
  /* writes to locked entries are ignored */
  li t0, -1
  csrw pmpcfg0, t0                /* entries 0-5, 7 become NAPOT RWXL over everything! keep 6 */
  csrr t0, pmpcfg0
  srli t0, t0, 48
  andi t0, t0, 0xff
  CHECK_IMM(t0, A_NAPOT | P_R | P_L, 98)
  csrw pmpcfg2, zero
  csrr t0, pmpcfg2
  andi t0, t0, 0xff
  CHECK_IMM(t0, A_TOR | P_R | P_W | P_L, 99)
  li t1, 0x1234
  csrw pmpaddr6, t1
  CHECK_CSR(pmpaddr6, NAPOT(REG_E, 0x1000), 100)
  csrw pmpaddr7, t1               /* below a locked TOR entry */
  CHECK_CSR(pmpaddr7, (REG_E + 0x2000) >> 2, 101)
  csrw pmpaddr8, t1
  CHECK_CSR(pmpaddr8, (REG_E + 0x3000) >> 2, 102)

  PASS

fail_5: FAIL(5)

/* ---- lower-privilege snippets: one access, then ecall ---- */
s_load:
  ld a0, 0(a1)
  ecall
s_lw:
  lw a0, 0(a1)
  ecall
s_store:
  sd a1, 0(a1)
  ecall
s_sw:
  sw a1, 0(a1)
  ecall
s_jump:
  jalr a1
  ecall
s_read_pmpcfg0:
  csrr t0, pmpcfg0
  ecall

pmp_func:
  li a0, 0x77
  ret

  MTRAP_HANDLER

  .data
  .align 3
scratch: .dword 0

  TOHOST_SECTION

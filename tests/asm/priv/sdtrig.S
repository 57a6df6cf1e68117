/*
 * Sdtrig trigger CSRs as QEMU 7.2 has them (src/machine/cpu/triggers.ts):
 * two triggers, tselect WARL over 0..1, tinfo = 0x44 (types 2 and 6),
 * tdata1 resetting to type 2, WARL writes (other types ignored; dmode,
 * match, chain, action, timing, select, hit read zero; unsupported sizes
 * dropped), tdata2 per trigger, tdata3 zero, no tcontrol/mcontext/
 * scontext/hcontext, M-only access; and firing: a breakpoint exception
 * (cause 3, tval 0) before an instruction at tdata2 or before a load/store
 * overlapping [tdata2, tdata2 + size), in the modes the trigger names.
 * The same ELF passes on qemu-system-riscv64 -M spike (tests/machine/qemu-agree.test.ts).
 */
#include "test.h"

#define TYPE2 (2 << 60)
#define TYPE6 (6 << 60)
#define T_LOAD 1
#define T_STORE 2
#define T_EXEC 4
#define T_U (1 << 3)
#define T_S (1 << 4)
#define T_M (1 << 6)

/* Sets the selected trigger's tdata1 to the constant v. Clobbers t0. */
#define TDATA1(v) li t0, v; csrw tdata1, t0
/* Disarms both triggers (type 2, no bits). Clobbers t0. */
#define DISARM    \
  li t0, 1;       \
  csrw tselect, t0; \
  TDATA1(TYPE2);  \
  csrw tselect, zero; \
  TDATA1(TYPE2)

  .option norvc
  .section .text.init
  .globl _start
_start:
  INSTALL_MTRAP
  /* QEMU refuses mret to S/U while no PMP entry exists: allow everything. */
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0

  /* ---- 1. reset values and tinfo ---- */
  CHECK_CSR(tselect, 0, 1)
  CHECK_CSR(tdata1, TYPE2, 2)
  CHECK_CSR(tdata2, 0, 3)
  CHECK_CSR(tdata3, 0, 4)
  CHECK_CSR(tinfo, 0x44, 5)
  csrw tinfo, zero           /* writable address, writes ignored */
  CHECK_CSR(tinfo, 0x44, 6)
  li t0, -1
  csrw tdata3, t0
  CHECK_CSR(tdata3, 0, 7)

  /* ---- 2. tselect: WARL over the two triggers ---- */
  li t0, 1
  csrw tselect, t0
  CHECK_CSR(tselect, 1, 10)
  CHECK_CSR(tdata1, TYPE2, 11)
  li t0, 2
  csrw tselect, t0
  CHECK_CSR(tselect, 1, 12)
  li t0, -1
  csrw tselect, t0
  CHECK_CSR(tselect, 1, 13)
  li t0, 0x100000000
  csrw tselect, t0
  CHECK_CSR(tselect, 1, 14)
  csrw tselect, zero
  CHECK_CSR(tselect, 0, 15)

  /* ---- 3. tdata1 WARL ---- */
  TDATA1(-1)                                  /* type 15: ignored */
  CHECK_CSR(tdata1, TYPE2, 20)
  TDATA1(0)                                   /* type 0: ignored */
  CHECK_CSR(tdata1, TYPE2, 21)
  TDATA1((3 << 60) | T_EXEC | T_M)            /* type 3: ignored */
  CHECK_CSR(tdata1, TYPE2, 22)
  TDATA1(TYPE2 | (1 << 59) | 0x7ffffff)       /* dmode and every mcontrol field */
  CHECK_CSR(tdata1, TYPE2 | 0x5f, 23)
  TDATA1(TYPE2 | (3 << 16) | T_M | T_U | T_EXEC)   /* size 4 bytes: kept */
  CHECK_CSR(tdata1, TYPE2 | (3 << 16) | 0x4c, 24)
  TDATA1(TYPE2 | (1 << 21) | (1 << 16))       /* size 8 bytes (sizehi:sizelo = 5): kept */
  CHECK_CSR(tdata1, TYPE2 | (1 << 21) | (1 << 16), 25)
  TDATA1(TYPE2 | (3 << 21))                   /* size 12: dropped */
  CHECK_CSR(tdata1, TYPE2, 26)
  TDATA1(TYPE2 | (1 << 21))                   /* size 4 = 6 bytes: dropped */
  CHECK_CSR(tdata1, TYPE2, 27)
  TDATA1(TYPE2 | (1 << 12))                   /* action 1 (debug mode): reads 0 */
  CHECK_CSR(tdata1, TYPE2, 28)
  TDATA1(TYPE6 | (1 << 59) | ((1 << 59) - 1)) /* mcontrol6, every bit: VU, VS, modes, R/W/X */
  CHECK_CSR(tdata1, TYPE6 | 0x180005f, 29)
  TDATA1(TYPE6 | (5 << 16))
  CHECK_CSR(tdata1, TYPE6 | (5 << 16), 30)
  TDATA1(TYPE6 | (4 << 16))
  CHECK_CSR(tdata1, TYPE6, 31)
  TDATA1(-1)                                  /* type 15 after type 6: still type 6 */
  CHECK_CSR(tdata1, TYPE6, 32)
  TDATA1(TYPE2)
  CHECK_CSR(tdata1, TYPE2, 33)

  /* ---- 4. tdata2 is per trigger and holds any value ---- */
  li t1, 0x0123456789abcdef
  csrw tdata2, t1
  li t0, 1
  csrw tselect, t0
  CHECK_CSR(tdata2, 0, 40)
  li t2, -3
  csrw tdata2, t2
  csrw tselect, zero
  csrr t3, tdata2
  CHECK_EQ(t3, t1, 41)
  li t0, 1
  csrw tselect, t0
  CHECK_CSR(tdata2, -3, 42)
  csrw tdata2, zero
  csrw tselect, zero

  /* ---- 5. what does not exist: tcontrol, mcontext, scontext, hcontext ---- */
  EXPECT_TRAP(1f)
  csrr t0, 0x7a5
  FAIL(50)
1:
  CHECK_IMM(s2, 2, 51)
  EXPECT_TRAP(1f)
  csrr t0, 0x7a8
  FAIL(52)
1:
  CHECK_IMM(s2, 2, 53)
  EXPECT_TRAP(1f)
  csrr t0, 0x5a8
  FAIL(54)
1:
  CHECK_IMM(s2, 2, 55)
  EXPECT_TRAP(1f)
  csrr t0, 0x6a8
  FAIL(56)
1:
  CHECK_IMM(s2, 2, 57)

  /* ---- 6. execute triggers in M ---- */
  la t1, xtarget
  csrw tdata2, t1
  TDATA1(TYPE2 | T_M | T_EXEC)
  li s6, 0
  EXPECT_TRAP(1f)
  jal xtarget
  FAIL(60)
1:
  CHECK_TRAP(3, xtarget, 0, 61)
  CHECK_IMM(s6, 1, 64)
  TDATA1(TYPE2 | T_U | T_S | T_EXEC)          /* not for M */
  jal xtarget
  TDATA1(TYPE2 | T_EXEC)                      /* no mode: disabled */
  jal xtarget
  TDATA1(TYPE2 | T_M | T_LOAD | T_STORE)      /* no EXECUTE */
  jal xtarget
  DISARM
  CHECK_IMM(s6, 1, 65)
  li t0, 1                                    /* the second trigger fires as well */
  csrw tselect, t0
  csrw tdata2, t1
  TDATA1(TYPE6 | T_M | T_EXEC)
  csrw tselect, zero
  EXPECT_TRAP(1f)
  jal xtarget
  FAIL(66)
1:
  CHECK_TRAP(3, xtarget, 0, 67)
  DISARM

  /* ---- 7. load and store triggers in M ---- */
  la t1, buf
  csrw tdata2, t1
  TDATA1(TYPE2 | T_M | T_LOAD)                /* size any: 8 bytes from tdata2 */
  li s6, 0
  EXPECT_TRAP(1f)
ld0:
  ld t2, 0(t1)
  FAIL(70)
1:
  CHECK_TRAP(3, ld0, 0, 71)
  EXPECT_TRAP(1f)
lb7:
  lb t2, 7(t1)
  FAIL(74)
1:
  CHECK_TRAP(3, lb7, 0, 75)
  ld t2, 8(t1)                                /* past the 8 bytes */
  ld t2, -8(t1)
  sd zero, 0(t1)                              /* a store does not match a load trigger */
  CHECK_IMM(s6, 2, 78)
  TDATA1(TYPE2 | T_M | T_STORE)
  li t2, 0x55
  EXPECT_TRAP(1f)
sd0:
  sd t2, 0(t1)
  FAIL(80)
1:
  CHECK_TRAP(3, sd0, 0, 81)
  ld t3, 0(t1)                                /* the store did not happen; loads do not match */
  CHECK_IMM(t3, 0, 84)
  EXPECT_TRAP(1f)
amo0:
  amoadd.d t3, t2, (t1)                       /* AMOs match store triggers */
  FAIL(85)
1:
  CHECK_TRAP(3, amo0, 0, 86)
  addi t3, t1, 3                              /* one byte at buf+3 */
  csrw tdata2, t3
  TDATA1(TYPE2 | T_M | T_LOAD | (1 << 16))
  lb t2, 1(t1)
  lb t2, 4(t1)
  EXPECT_TRAP(1f)
ld1:
  ld t2, 0(t1)                                /* overlaps buf+3 */
  FAIL(90)
1:
  CHECK_TRAP(3, ld1, 0, 91)
  EXPECT_TRAP(1f)
lw1:
  lw t2, 2(t1)                                /* misaligned, overlaps */
  FAIL(94)
1:
  CHECK_TRAP(3, lw1, 0, 95)
  addi t3, t1, 8                              /* size any at buf+8: a load at buf misses */
  csrw tdata2, t3
  TDATA1(TYPE2 | T_M | T_LOAD)
  ld t2, 0(t1)
  addi t3, t1, -4                             /* at buf-4: 8 bytes reach buf+3 */
  csrw tdata2, t3
  EXPECT_TRAP(1f)
ld2:
  ld t2, 0(t1)
  FAIL(98)
1:
  CHECK_TRAP(3, ld2, 0, 99)
  DISARM

  /* ---- 8. in S-mode: the S bit, type 2 and type 6 ---- */
  la t1, s_target
  csrw tdata2, t1
  TDATA1(TYPE2 | T_S | T_EXEC)
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, s_code)
1:
  CHECK_TRAP(3, s_target, 0, 110)
  CHECK_SAVED_STATUS(MSTATUS_MPP, PRV_S << 11, 113)
  TDATA1(TYPE6 | T_S | T_EXEC)
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, s_code)
1:
  CHECK_TRAP(3, s_target, 0, 114)
  TDATA1(TYPE2 | T_M | T_U | T_EXEC)          /* not for S: the S code ecalls back */
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, s_code)
1:
  CHECK_IMM(s2, 9, 117)
  la t1, buf
  csrw tdata2, t1
  TDATA1(TYPE2 | T_S | T_LOAD)                /* an S-mode load */
  EXPECT_TRAP(1f)
  ENTER_MODE(PRV_S, s_load)
1:
  CHECK_TRAP(3, s_ld, 0, 118)
  DISARM

  PASS

  .align 4
xtarget:
  ret
s_code:
  nop
s_target:
  nop
  ecall
s_load:
  la t1, buf
s_ld:
  ld t2, 0(t1)
  ecall

  MTRAP_HANDLER
  TOHOST_SECTION

  .data
  .align 4
  .dword 0
buf:
  .dword 0, 0

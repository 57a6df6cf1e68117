/*
 * sfence.vma's reach (priv spec 4.2.1) and satp writes, as S-mode sees
 * them under Sv39 with ASID 5: a remapped code page is fetched anew after
 * a fence naming its address, its ASID or nothing (under the JIT the call
 * into it chains through the jump cache, which must forget the old
 * block); a fence naming one 4 KiB piece of a megapage drops the whole
 * megapage; a satp write to a fresh ASID walks the tables again.
 *
 * VA 0xc0000000 + i * 4 KiB (tbl_l0): [0] code_1 or code_2 (RX), [1] data_a
 * or data_b (RW). VA 0xc0200000 (tbl_l1[1]): megapage at MEGA_A or MEGA_B.
 * VA 0x80000000: identity gigapage (S code, tables, data).
 */
#include "test.h"

#define VA_CODE   0xc0000000
#define VA_DATA   0xc0001000
#define VA_MEGA   0xc0200000
#define MEGA_A    0x80200000
#define MEGA_B    0x80400000
#define ASID      5
#define SATP_ASID(asid) ((8 << 60) | ((asid) << 44))

#define VAL_A 0xaaaa00000000aaaa
#define VAL_B 0xbbbb00000000bbbb
#define VAL_C 0xcccc00000000cccc
#define VAL_D 0xdddd00000000dddd

/* In S: call VA_CODE 16 times (compiled and chained under the JIT); fail with n unless each returns a0 = v. */
#define CALLS_GIVE(v, n)  \
  li s7, 16;              \
  9990:                   \
  li a0, 0;               \
  li t1, VA_CODE;         \
  jalr t1;                \
  CHECK_IMM(a0, v, n);    \
  addi s7, s7, -1;        \
  bnez s7, 9990b

/* In S: fail with n unless the doubleword at va is v. */
#define LOAD_GIVES(va, v, n) \
  li t1, va;                 \
  ld t0, 0(t1);              \
  CHECK_IMM(t0, v, n)

/* tbl_l0[idx] = leaf for symbol sym with flags (no fence). */
#define MAP_L0(idx, sym, flags) \
  la a1, sym;                   \
  SET_PTE(tbl_l0, idx, a1, flags)

  .option norvc
  .section .text.init
  .globl _start
_start:
  INSTALL_MTRAP
  /* the megapages' data, reached physically */
  li t1, MEGA_A + 0x1238
  li t0, VAL_A
  sd t0, 0(t1)
  li t1, MEGA_A + 0x5238
  li t0, VAL_C
  sd t0, 0(t1)
  li t1, MEGA_B + 0x1238
  li t0, VAL_B
  sd t0, 0(t1)
  li t1, MEGA_B + 0x5238
  li t0, VAL_D
  sd t0, 0(t1)
  /* tables */
  li a1, 0x80000000
  SET_PTE(tbl_l2, 2, a1, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
  la a1, tbl_l1
  SET_PTE(tbl_l2, 3, a1, PTE_V)
  la a1, tbl_l0
  SET_PTE(tbl_l1, 0, a1, PTE_V)
  li a1, MEGA_A
  SET_PTE(tbl_l1, 1, a1, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
  MAP_L0(0, code_1, PTE_V | PTE_R | PTE_X | PTE_A)
  MAP_L0(1, data_a, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
  la t0, tbl_l2
  srli t0, t0, 12
  li t1, SATP_ASID(ASID)
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
  EXPECT_TRAP(back_in_m)
  ENTER_MODE(PRV_S, s_tests)

s_tests:
  /* ---- a code page remapped: fence by address, by ASID, by both, everything ---- */
  CALLS_GIVE(1, 10)
  MAP_L0(0, code_2, PTE_V | PTE_R | PTE_X | PTE_A)
  li t1, VA_CODE
  sfence.vma t1, zero
  CALLS_GIVE(2, 11)
  MAP_L0(0, code_1, PTE_V | PTE_R | PTE_X | PTE_A)
  li t1, VA_CODE
  li t2, ASID
  sfence.vma t1, t2
  CALLS_GIVE(1, 12)
  MAP_L0(0, code_2, PTE_V | PTE_R | PTE_X | PTE_A)
  li t2, ASID
  sfence.vma zero, t2
  CALLS_GIVE(2, 13)
  MAP_L0(0, code_1, PTE_V | PTE_R | PTE_X | PTE_A)
  sfence.vma
  CALLS_GIVE(1, 14)
  /* a fence naming another page or another ASID leaves the call working */
  li t1, VA_DATA
  sfence.vma t1, zero
  li t2, ASID + 1
  sfence.vma zero, t2
  CALLS_GIVE(1, 15)

  /* ---- a data page remapped, fenced by its ASID ---- */
  LOAD_GIVES(VA_DATA, VAL_A, 20)
  MAP_L0(1, data_b, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
  li t2, ASID
  sfence.vma zero, t2
  LOAD_GIVES(VA_DATA, VAL_B, 21)

  /* ---- a megapage remapped, fenced by an address in a 4 KiB piece never touched ---- */
  LOAD_GIVES(VA_MEGA + 0x1238, VAL_A, 30)
  LOAD_GIVES(VA_MEGA + 0x5238, VAL_C, 31)
  li a1, MEGA_B
  SET_PTE(tbl_l1, 1, a1, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
  li t1, VA_MEGA + 0x7000
  sfence.vma t1, zero
  LOAD_GIVES(VA_MEGA + 0x1238, VAL_B, 32)
  LOAD_GIVES(VA_MEGA + 0x5238, VAL_D, 33)

  /* ---- satp to a fresh ASID: nothing of it is cached, so the new PTEs are seen ---- */
  MAP_L0(1, data_a, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
  MAP_L0(0, code_2, PTE_V | PTE_R | PTE_X | PTE_A)
  csrr t0, satp
  li t1, 1 << 44
  add t0, t0, t1                  /* ASID + 1 */
  csrw satp, t0
  LOAD_GIVES(VA_DATA, VAL_A, 40)
  CALLS_GIVE(2, 41)

  ecall
  FAIL(50)

back_in_m:
  CHECK_IMM(s2, 9, 51)            /* the ecall from S */
  PASS

  MTRAP_HANDLER

  /* code pages: each returns its number */
  .align 12
code_1:
  li a0, 1
  ret
  .align 12
code_2:
  li a0, 2
  ret

  .data
  .align 12
tbl_l2: .fill 512, 8, 0
tbl_l1: .fill 512, 8, 0
tbl_l0: .fill 512, 8, 0
data_a: .dword VAL_A
  .fill 511, 8, 0
data_b: .dword VAL_B
  .fill 511, 8, 0

  TOHOST_SECTION

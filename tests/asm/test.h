/*
 * Shared macros for the project's bare-metal assembly tests (HTIF tohost
 * convention: write 1 to pass, (n << 1) | 1 to fail with code n).
 *
 * Local labels used inside the macros are 9990..9999, so a test's own
 * numeric labels (1:, 2:, ...) are never captured by a macro.
 */
#define PASS            \
  la t6, tohost;        \
  li t5, 1;             \
  sd t5, 0(t6);         \
  9999: j 9999b

/* Fails with code n (1..1000). Clobbers t5, t6. */
#define FAIL(n)             \
  la t6, tohost;            \
  li t5, ((n) << 1) | 1;    \
  sd t5, 0(t6);             \
  9998: j 9998b

/* Fails with code n unless register a == register b. */
#define CHECK_EQ(a, b, n) \
  beq a, b, 9997f;        \
  FAIL(n);                \
  9997:

/* Fails with code n unless register r == the constant v. Clobbers t4. */
#define CHECK_IMM(r, v, n) \
  li t4, v;                \
  CHECK_EQ(r, t4, n)

/* Fails with code n unless CSR csr reads as the constant v. Clobbers t3, t4. */
#define CHECK_CSR(csr, v, n) \
  csrr t3, csr;              \
  CHECK_IMM(t3, v, n)

/* Fails with code n unless register r == the address of symbol sym. Clobbers t4. */
#define CHECK_ADDR(r, sym, n) \
  la t4, sym;                 \
  CHECK_EQ(r, t4, n)

#define TOHOST_SECTION                  \
  .section .tohost, "aw", @progbits;    \
  .align 6;                             \
  .globl tohost;                        \
  tohost: .dword 0;                     \
  .size tohost, 8;                      \
  .globl fromhost;                      \
  fromhost: .dword 0;                   \
  .size fromhost, 8

/* ------------------------------------------------------------------ */
/* Privileged-test helpers                                             */
/* ------------------------------------------------------------------ */

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

#define MSTATUS_SIE   (1 << 1)
#define MSTATUS_MIE   (1 << 3)
#define MSTATUS_SPIE  (1 << 5)
#define MSTATUS_MPIE  (1 << 7)
#define MSTATUS_SPP   (1 << 8)
#define MSTATUS_MPP   (3 << 11)
#define MSTATUS_FS    (3 << 13)
#define MSTATUS_MPRV  (1 << 17)
#define MSTATUS_SUM   (1 << 18)
#define MSTATUS_MXR   (1 << 19)
#define MSTATUS_TVM   (1 << 20)
#define MSTATUS_TW    (1 << 21)
#define MSTATUS_TSR   (1 << 22)

#define IRQ_BIT (1 << 63)
#define MIP_SSIP (1 << 1)
#define MIP_MSIP (1 << 3)
#define MIP_STIP (1 << 5)
#define MIP_MTIP (1 << 7)
#define MIP_SEIP (1 << 9)
#define MIP_MEIP (1 << 11)

#define CLINT_MSIP     0x2000000
#define CLINT_MTIMECMP 0x2004000
#define CLINT_MTIME    0x200bff8

/*
 * From M-mode: continue at `label` in privilege mode `prv` (PRV_U/S/M)
 * through mret. Clobbers t0. MPIE is left as it was (so MIE after the
 * mret = the MPIE bit).
 */
#define ENTER_MODE(prv, label)  \
  li t0, MSTATUS_MPP;           \
  csrc mstatus, t0;             \
  li t0, ((prv) << 11);         \
  csrs mstatus, t0;             \
  la t0, label;                 \
  csrw mepc, t0;                \
  mret

/* As ENTER_MODE, but to the address in register r. Clobbers t0. */
#define ENTER_MODE_REG(prv, r)  \
  li t0, MSTATUS_MPP;           \
  csrc mstatus, t0;             \
  li t0, ((prv) << 11);         \
  csrs mstatus, t0;             \
  csrw mepc, r;                 \
  mret

/*
 * The M-mode "record and resume" trap handler. It saves mcause, mepc,
 * mtval and mstatus in s2..s5, counts traps in s6, and continues in
 * M-mode at the address in s1 (set it with EXPECT_TRAP before the
 * instruction that should trap). Install it with INSTALL_MTRAP.
 */
#define MTRAP_HANDLER         \
  .align 6;                   \
  mtrap_resume:               \
  csrr s2, mcause;            \
  csrr s3, mepc;              \
  csrr s4, mtval;             \
  csrr s5, mstatus;           \
  addi s6, s6, 1;             \
  jr s1

/*
 * The M-mode "record and skip" trap handler: records as mtrap_resume does,
 * then returns to the trapping instruction + 4 (tests using it are built
 * with .option norvc) in the mode the trap came from.
 */
#define MTRAP_SKIP_HANDLER    \
  .align 6;                   \
  mtrap_skip:                 \
  csrr s2, mcause;            \
  csrr s3, mepc;              \
  csrr s4, mtval;             \
  csrr s5, mstatus;           \
  addi s6, s6, 1;             \
  addi s3, s3, 4;             \
  csrw mepc, s3;              \
  addi s3, s3, -4;            \
  mret

#define INSTALL_MTRAP   \
  la t0, mtrap_resume;  \
  csrw mtvec, t0;       \
  li s6, 0

#define INSTALL_MTRAP_SKIP \
  la t0, mtrap_skip;       \
  csrw mtvec, t0;          \
  li s6, 0

/* The next trap (to mtrap_resume) continues at `label`. */
#define EXPECT_TRAP(label) la s1, label

/*
 * After a trap to mtrap_resume: fail with n unless the trap was `cause`
 * at mepc == address of `epc_sym` with mtval == register/const tval.
 */
#define CHECK_TRAP(cause, epc_sym, tval, n) \
  CHECK_IMM(s2, cause, n);                  \
  CHECK_ADDR(s3, epc_sym, (n) + 1);         \
  CHECK_IMM(s4, tval, (n) + 2)

/* Fails with n unless the saved mstatus (s5) has field (mask) == value. Clobbers t3, t4. */
#define CHECK_SAVED_STATUS(mask, value, n) \
  li t3, mask;                             \
  and t3, s5, t3;                          \
  CHECK_IMM(t3, value, n)

/*
 * The S-mode "record and resume" trap handler (for traps delegated with
 * medeleg): saves scause, sepc, stval and sstatus in s2..s5 like
 * mtrap_resume, counts in s6 and continues in S-mode at s1.
 */
#define STRAP_HANDLER         \
  .align 6;                   \
  strap_resume:               \
  csrr s2, scause;            \
  csrr s3, sepc;              \
  csrr s4, stval;             \
  csrr s5, sstatus;           \
  addi s6, s6, 1;             \
  li t0, MSTATUS_SPP;         \
  csrs sstatus, t0;           \
  csrw sepc, s1;              \
  sret

/* Sv39/48/57 PTE bits */
#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_U 0x10
#define PTE_G 0x20
#define PTE_A 0x40
#define PTE_D 0x80

/* Register dst = a PTE for the physical address in register pa with flags. */
#define MAKE_PTE(dst, pa, flags) \
  srli dst, pa, 12;              \
  slli dst, dst, 10;             \
  ori dst, dst, flags

/*
 * table[idx] = a PTE for the physical address in register pa with flags.
 * Clobbers t0, t2, t3 (so pa must not be one of them).
 */
#define SET_PTE(table, idx, pa, flags) \
  MAKE_PTE(t0, pa, flags);             \
  la t2, table;                        \
  li t3, (idx) * 8;                    \
  add t2, t2, t3;                      \
  sd t0, 0(t2)

/* satp for a root table at symbol root with MODE mode. Clobbers t0, t1. */
#define SET_SATP(mode, root)   \
  la t0, root;                 \
  srli t0, t0, 12;             \
  li t1, (mode) << 60;         \
  or t0, t0, t1;               \
  csrw satp, t0;               \
  sfence.vma

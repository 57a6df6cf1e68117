/*
 * Shared macros for the project's bare-metal assembly tests (HTIF tohost
 * convention: write 1 to pass, (n << 1) | 1 to fail with code n).
 */
#define PASS            \
  la t6, tohost;        \
  li t5, 1;             \
  sd t5, 0(t6);         \
  1: j 1b

/* Fails with code n (1..1000). Clobbers t5, t6. */
#define FAIL(n)             \
  la t6, tohost;            \
  li t5, ((n) << 1) | 1;    \
  sd t5, 0(t6);             \
  1: j 1b

/* Fails with code n unless register a == register b. */
#define CHECK_EQ(a, b, n) \
  beq a, b, 9f;           \
  FAIL(n);                \
  9:

#define TOHOST_SECTION                  \
  .section .tohost, "aw", @progbits;    \
  .align 6;                             \
  .globl tohost;                        \
  tohost: .dword 0;                     \
  .globl fromhost;                      \
  fromhost: .dword 0

/* Minimal bare-metal runtime for benchmark programs: stack, FPU on, main(), then tohost = (ret << 1) | 1. */
.section .text.init
.globl _start
_start:
  la sp, _stack_top
  li t0, 0x6000
  csrs mstatus, t0      /* mstatus.FS = Dirty: FP instructions allowed */
  call main
  slli a0, a0, 1
  ori a0, a0, 1
  la t0, tohost
  sd a0, 0(t0)
1: j 1b

.section .tohost, "aw", @progbits
.align 6
.globl tohost
tohost: .dword 0
.size tohost, 8
.globl fromhost
fromhost: .dword 0
.size fromhost, 8

.bss
.align 16
.space 65536
_stack_top:

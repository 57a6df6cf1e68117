.section .text.init
.globl _start
_start:
  li a0, 5
  li a1, 7
  add a2, a0, a1
  li t0, 12
  bne a2, t0, fail
  la t1, tohost
  li t2, 1
  sd t2, 0(t1)
1: j 1b
fail:
  la t1, tohost
  li t2, 3
  sd t2, 0(t1)
  j 1b
.section .tohost,"aw",@progbits
.align 6
.globl tohost
tohost: .dword 0
.globl fromhost
fromhost: .dword 0

/* Sv57: the shared MMU body (mmu.inc) under satp.MODE = 10. */
#define SATP_MODE 10
#include "mmu.inc"

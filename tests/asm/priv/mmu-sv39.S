/* Sv39: the shared MMU body (mmu.inc) under satp.MODE = 8. */
#define SATP_MODE 8
#include "mmu.inc"

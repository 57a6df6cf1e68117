/* Sv48: the shared MMU body (mmu.inc) under satp.MODE = 9. */
#define SATP_MODE 9
#include "mmu.inc"

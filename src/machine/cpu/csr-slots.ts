/**
 * CSR storage slots: each CSR the hart keeps is one i64 in linear memory
 * (layout.ts, HART_CSR), so a snapshot is a dump and JIT code can load them.
 * Word index of slot s in the hart's `c` view: lo = 2*s, hi = 2*s + 1.
 */
export const S_MSTATUS = 0;
export const S_MEDELEG = 1;
export const S_MIDELEG = 2;
export const S_MIE = 3;
export const S_MTVEC = 4;
export const S_MCOUNTEREN = 5;
export const S_MENVCFG = 6;
export const S_MCOUNTINHIBIT = 7;
export const S_MSCRATCH = 8;
export const S_MEPC = 9;
export const S_MCAUSE = 10;
export const S_MTVAL = 11;
/** Software-writable mip bits; device lines are in S_MIP_HW and OR-ed on read. */
export const S_MIP = 12;
export const S_STVEC = 13;
export const S_SCOUNTEREN = 14;
export const S_SENVCFG = 15;
export const S_SSCRATCH = 16;
export const S_SEPC = 17;
export const S_SCAUSE = 18;
export const S_STVAL = 19;
export const S_STIMECMP = 20;
export const S_SATP = 21;
/** fflags in bits 4..0, frm in bits 7..5 (fcsr layout). */
export const S_FCSR = 22;
/** Current privilege level (0, 1, 3). */
export const S_PRIV = 23;
/** Interrupt lines driven by devices (MSIP, MTIP, MEIP, SEIP from the PLIC, STIP from Sstc). */
export const S_MIP_HW = 24;
/** minstret = retired count + offset (writes adjust the offset). */
export const S_INSTRET_OFF = 25;
export const S_CYCLE_OFF = 26;
export const S_MHARTID = 27;
/** Sdtrig (triggers.ts): tselect, then tdata1 and tdata2 of each of the two triggers. */
export const S_TSELECT = 28;
export const S_TDATA1 = 29;
export const S_TDATA2 = 31;
/** The virtualization mode V (H extension): 1 while in VS or VU mode. */
export const S_VIRT = 33;
/** H extension CSRs (hext.ts). hvip's bits live in S_MIP (VSSIP, VSTIP, VSEIP). */
export const S_HSTATUS = 34;
export const S_HEDELEG = 35;
export const S_HIDELEG = 36;
export const S_HCOUNTEREN = 37;
export const S_HTVAL = 38;
export const S_HTINST = 39;
export const S_HGATP = 40;
export const S_HENVCFG = 41;
export const S_HTIMEDELTA = 42;
export const S_VSSTATUS = 43;
export const S_VSTVEC = 44;
export const S_VSSCRATCH = 45;
export const S_VSEPC = 46;
export const S_VSCAUSE = 47;
export const S_VSTVAL = 48;
export const S_VSATP = 49;
export const S_VSTIMECMP = 50;
export const S_MTVAL2 = 51;
export const S_MTINST = 52;
/** While V=1: HS-level mstatus.FS (mstatus.FS then holds the effective value of both levels, hart.ts setVirt). */
export const S_MFS_SAVE = 53;
export const CSR_SLOTS = 54;

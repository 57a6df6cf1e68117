/** Privilege levels (priv spec 1.12, table 1.1). */
export const PRV_U = 0;
export const PRV_S = 1;
export const PRV_M = 3;

/** Exception causes (priv spec table 3.6). */
export const CAUSE_MISALIGNED_FETCH = 0;
export const CAUSE_FETCH_ACCESS = 1;
export const CAUSE_ILLEGAL_INSTRUCTION = 2;
export const CAUSE_BREAKPOINT = 3;
export const CAUSE_MISALIGNED_LOAD = 4;
export const CAUSE_LOAD_ACCESS = 5;
export const CAUSE_MISALIGNED_STORE = 6;
export const CAUSE_STORE_ACCESS = 7;
export const CAUSE_USER_ECALL = 8;
export const CAUSE_SUPERVISOR_ECALL = 9;
export const CAUSE_MACHINE_ECALL = 11;
export const CAUSE_FETCH_PAGE_FAULT = 12;
export const CAUSE_LOAD_PAGE_FAULT = 13;
export const CAUSE_STORE_PAGE_FAULT = 15;

/** Interrupt numbers = bit positions in mip/mie. */
export const IRQ_S_SOFT = 1;
export const IRQ_M_SOFT = 3;
export const IRQ_S_TIMER = 5;
export const IRQ_M_TIMER = 7;
export const IRQ_S_EXT = 9;
export const IRQ_M_EXT = 11;
export const MIP_SSIP = 1 << IRQ_S_SOFT;
export const MIP_MSIP = 1 << IRQ_M_SOFT;
export const MIP_STIP = 1 << IRQ_S_TIMER;
export const MIP_MTIP = 1 << IRQ_M_TIMER;
export const MIP_SEIP = 1 << IRQ_S_EXT;
export const MIP_MEIP = 1 << IRQ_M_EXT;
export const S_INTERRUPTS = MIP_SSIP | MIP_STIP | MIP_SEIP;

/** mstatus bits in the low word (priv spec 3.1.6). */
export const MSTATUS_SIE = 1 << 1;
export const MSTATUS_MIE = 1 << 3;
export const MSTATUS_SPIE = 1 << 5;
export const MSTATUS_MPIE = 1 << 7;
export const MSTATUS_SPP = 1 << 8;
export const MSTATUS_VS = 3 << 9;
export const MSTATUS_MPP_SHIFT = 11;
export const MSTATUS_MPP = 3 << 11;
export const MSTATUS_FS_SHIFT = 13;
export const MSTATUS_FS = 3 << 13;
export const MSTATUS_XS = 3 << 15;
export const MSTATUS_MPRV = 1 << 17;
export const MSTATUS_SUM = 1 << 18;
export const MSTATUS_MXR = 1 << 19;
export const MSTATUS_TVM = 1 << 20;
export const MSTATUS_TW = 1 << 21;
export const MSTATUS_TSR = 1 << 22;
/** mstatus high word: UXL = SXL = 2 (XLEN 64), read-only; SD is bit 31 of the high word. */
export const MSTATUS_HI_XL = 2 | (2 << 2);
export const MSTATUS_HI_SD = 1 << 31;

/** Access kinds for translation and PMP. */
export const ACCESS_FETCH = 0;
export const ACCESS_LOAD = 1;
export const ACCESS_STORE = 2;

/** H extension (priv spec chapter 8 "Hypervisor Extension"). */
export const CAUSE_VS_ECALL = 10;
export const CAUSE_FETCH_GUEST_PAGE_FAULT = 20;
export const CAUSE_LOAD_GUEST_PAGE_FAULT = 21;
export const CAUSE_VIRTUAL_INSTRUCTION = 22;
export const CAUSE_STORE_GUEST_PAGE_FAULT = 23;
export const IRQ_VS_SOFT = 2;
export const IRQ_VS_TIMER = 6;
export const IRQ_VS_EXT = 10;
export const IRQ_S_GEXT = 12;
export const MIP_VSSIP = 1 << IRQ_VS_SOFT;
export const MIP_VSTIP = 1 << IRQ_VS_TIMER;
export const MIP_VSEIP = 1 << IRQ_VS_EXT;
export const MIP_SGEIP = 1 << IRQ_S_GEXT;
/** The VS-level interrupts, read-only one in mideleg when H is present (priv spec 8.4.2? "mideleg"). */
export const VS_INTERRUPTS = MIP_VSSIP | MIP_VSTIP | MIP_VSEIP;
/** mstatus high word (bits 32..63): GVA is bit 38, MPV bit 39. */
export const MSTATUS_HI_GVA = 1 << 6;
export const MSTATUS_HI_MPV = 1 << 7;
/** hstatus bits (priv spec 8.2.1); VSXL = 2 in the high word (bits 33:32). */
export const HSTATUS_GVA = 1 << 6;
export const HSTATUS_SPV = 1 << 7;
export const HSTATUS_SPVP = 1 << 8;
export const HSTATUS_HU = 1 << 9;
export const HSTATUS_VGEIN_SHIFT = 12;
export const HSTATUS_VGEIN = 0x3f << 12;
export const HSTATUS_VTVM = 1 << 20;
export const HSTATUS_VTW = 1 << 21;
export const HSTATUS_VTSR = 1 << 22;
export const HSTATUS_HI_VSXL = 2;

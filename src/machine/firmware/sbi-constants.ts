/**
 * RISC-V Supervisor Binary Interface v2.0 numbers: extension IDs (a7),
 * function IDs (a6), error codes (returned in a0) and HSM hart states.
 */

/** Spec version we implement, encoded as get_spec_version returns it: major in bits 30:24, minor in 23:0. */
export const SBI_SPEC_VERSION = (2 << 24) | 0;
/**
 * Implementation ID for get_impl_id. Registered IDs are small integers
 * (0 BBL, 1 OpenSBI, 2 Xvisor, 3 KVM, 4 RustSBI, ... 11 bhyve); this one is
 * "VRTS" in ASCII, well clear of them.
 */
export const SBI_IMPL_ID = 0x5652_5453;
/** Implementation version: major << 16 | minor (the OpenSBI convention). */
export const SBI_IMPL_VERSION = (0 << 16) | 1;

// Extension IDs
export const EXT_LEGACY_SET_TIMER = 0x00;
export const EXT_LEGACY_CONSOLE_PUTCHAR = 0x01;
export const EXT_LEGACY_CONSOLE_GETCHAR = 0x02;
export const EXT_LEGACY_CLEAR_IPI = 0x03;
export const EXT_LEGACY_SEND_IPI = 0x04;
export const EXT_LEGACY_REMOTE_FENCE_I = 0x05;
export const EXT_LEGACY_REMOTE_SFENCE_VMA = 0x06;
export const EXT_LEGACY_REMOTE_SFENCE_VMA_ASID = 0x07;
export const EXT_LEGACY_SHUTDOWN = 0x08;
export const EXT_BASE = 0x10;
export const EXT_TIME = 0x5449_4d45; // "TIME"
export const EXT_IPI = 0x0073_5049; // "sPI"
export const EXT_RFENCE = 0x5246_4e43; // "RFNC"
export const EXT_HSM = 0x0048_534d; // "HSM"
export const EXT_SRST = 0x5352_5354; // "SRST"
export const EXT_PMU = 0x0050_4d55; // "PMU" (not implemented)
export const EXT_DBCN = 0x4442_434e; // "DBCN"
export const EXT_SUSP = 0x5355_5350; // "SUSP" (not implemented)

// BASE functions
export const BASE_GET_SPEC_VERSION = 0;
export const BASE_GET_IMPL_ID = 1;
export const BASE_GET_IMPL_VERSION = 2;
export const BASE_PROBE_EXTENSION = 3;
export const BASE_GET_MVENDORID = 4;
export const BASE_GET_MARCHID = 5;
export const BASE_GET_MIMPID = 6;

// TIME, IPI
export const TIME_SET_TIMER = 0;
export const IPI_SEND_IPI = 0;

// RFENCE functions (3..6 are the hypervisor fences: no H extension here)
export const RFENCE_REMOTE_FENCE_I = 0;
export const RFENCE_REMOTE_SFENCE_VMA = 1;
export const RFENCE_REMOTE_SFENCE_VMA_ASID = 2;
/** The hfence calls (remote_hfence_gvma_vmid 3, gvma 4, vvma_asid 5, vvma 6): with the H extension. */
export const RFENCE_REMOTE_HFENCE_GVMA_VMID = 3;
export const RFENCE_REMOTE_HFENCE_VVMA = 6;

// HSM functions
export const HSM_HART_START = 0;
export const HSM_HART_STOP = 1;
export const HSM_HART_GET_STATUS = 2;
export const HSM_HART_SUSPEND = 3;

/** HSM hart states (SBI spec table "HSM Hart States"). */
export const HSM_STARTED = 0;
export const HSM_STOPPED = 1;
export const HSM_START_PENDING = 2;
export const HSM_STOP_PENDING = 3;
export const HSM_SUSPENDED = 4;
export const HSM_SUSPEND_PENDING = 5;
export const HSM_RESUME_PENDING = 6;

/** hart_suspend types. */
export const SUSPEND_DEFAULT_RETENTIVE = 0x0000_0000;
export const SUSPEND_DEFAULT_NON_RETENTIVE = 0x8000_0000;

// SRST
export const SRST_SYSTEM_RESET = 0;
export const SRST_TYPE_SHUTDOWN = 0;
export const SRST_TYPE_COLD_REBOOT = 1;
export const SRST_TYPE_WARM_REBOOT = 2;
export const SRST_REASON_NONE = 0;
export const SRST_REASON_SYSTEM_FAILURE = 1;

// DBCN
export const DBCN_CONSOLE_WRITE = 0;
export const DBCN_CONSOLE_READ = 1;
export const DBCN_CONSOLE_WRITE_BYTE = 2;

/** Standard SBI error codes (returned in a0, sign-extended). */
export const SBI_SUCCESS = 0;
export const SBI_ERR_FAILED = -1;
export const SBI_ERR_NOT_SUPPORTED = -2;
export const SBI_ERR_INVALID_PARAM = -3;
export const SBI_ERR_DENIED = -4;
export const SBI_ERR_INVALID_ADDRESS = -5;
export const SBI_ERR_ALREADY_AVAILABLE = -6;
export const SBI_ERR_ALREADY_STARTED = -7;
export const SBI_ERR_ALREADY_STOPPED = -8;

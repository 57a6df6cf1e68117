/**
 * The one description of a VM (issue 10, item 1): plain JSON data that a
 * front end fills in (`virtus run` from its flags, later the daemon from a
 * request, the browser from a form), that a snapshot file carries in its
 * header, and that `buildVm` (src/vm/build.ts) turns into a running
 * machine. Files are named by path; the host services open them.
 *
 *   const config = validateVmConfig(JSON.parse(text));   // untrusted: every field checked
 *   const vm = await buildVm(config, host);
 */
import { MAX_HARTS } from "../machine/memory/layout.ts";
import { P9_MAX_TAG_LEN, validMountTag } from "../machine/virtio/p9.ts";
import { type DiskConfig, validateDiskConfig } from "./disk-config.ts";
import { type ExecConfig, validateExecConfig } from "./exec.ts";
import { DEFAULT_NETWORK, type NetworkConfig, validateNetworkConfig } from "./network-config.ts";
import {
  badConfig,
  expectArray,
  expectBoolean,
  expectInteger,
  expectObject,
  expectString,
} from "./validate.ts";

export type { DiskConfig } from "./disk-config.ts";
export type { NetworkConfig } from "./network-config.ts";

/** Which firmware runs in M-mode: the SBI built into Virtus, none (kernel in M-mode), or a file. */
export type BiosConfig = { kind: "builtin" } | { kind: "none" } | { kind: "file"; path: string };

/** A host directory served over virtio-9p. */
export interface ShareConfig {
  hostDir: string;
  /** The mount tag: `mount -t 9p -o trans=virtio TAG /mnt`. */
  tag: string;
  readOnly: boolean;
}

export interface ConsoleConfig {
  /** A virtio console (/dev/hvc1 in the default guest) besides the UART and the SBI console. */
  virtio: boolean;
}

export interface VmConfig {
  /** Linux Image, RISC-V ELF or raw binary. */
  kernel: string;
  initrd?: string;
  /** Kernel command line (/chosen bootargs). Its last console= also says where keyboard input goes. */
  append: string;
  bios: BiosConfig;
  /** Guest RAM in bytes: a multiple of 4 KiB, at most 3 GiB. */
  memory: number;
  /** Number of harts, 1..8. */
  harts: number;
  /** virtio-blk disks: /dev/vda, vdb… in this order. */
  disks: DiskConfig[];
  shares: ShareConfig[];
  network: NetworkConfig;
  console: ConsoleConfig;
  /** A virtio entropy device (/dev/hwrng). */
  rng: boolean;
  /** Time follows the retired-instruction count (design 2.6): the same inputs give the same bytes. */
  deterministic: boolean;
  /** Translate hot code to WebAssembly; false interprets only. */
  jit: boolean;
  /** Executions before code is translated (`--jit-hot`; omitted: the JIT's default). 1 is for testing the JIT. */
  jitHot?: number;
  /** Optional hart extensions (`--cpu h=off`); omitted = DEFAULT_CPU. */
  cpu?: CpuConfig;
  /** What a guest reboot does: reset the machine and boot again (QEMU's default), or end the run. */
  reboot?: "reset" | "exit";
  /** Run one command in the default guest (`virtus run --exec`, src/vm/exec.ts); its status ends the run. */
  exec?: ExecConfig;
}

/** Optional hart extensions. */
export interface CpuConfig {
  /** The hypervisor extension (H): misa.H, HS/VS/VU modes, two-stage translation. */
  h: boolean;
}

/**
 * H is on by default, as on QEMU's rv64 (its misa says rv64imafdch): software
 * built for QEMU's virt board expects to find it.
 */
export const DEFAULT_CPU: Readonly<CpuConfig> = { h: true };

export const MAX_MEMORY = 3 * 1024 ** 3;
/**
 * The largest JIT threshold: a decoded slot counts up to it and numbers
 * compiled blocks above it in 20 bits (memory/code-cache.ts JIT_WORD_MAX,
 * less jit/jit.ts MAX_LIVE_BLOCKS).
 */
export const MAX_JIT_HOT = 400_000;

/** A configuration with every optional device at its default; `kernel` is required. */
export function defaultVmConfig(kernel: string): VmConfig {
  return {
    kernel,
    append: "",
    bios: { kind: "builtin" },
    memory: 256 * 1024 * 1024,
    harts: 1,
    disks: [],
    shares: [],
    network: { ...DEFAULT_NETWORK, forwards: [] },
    console: { virtio: true },
    rng: true,
    deterministic: false,
    jit: true,
    cpu: { ...DEFAULT_CPU },
  };
}

function validateBios(v: unknown): BiosConfig {
  const o = expectObject(v, "bios");
  const kind = expectString(o.kind, "bios.kind");
  if (kind === "builtin" || kind === "none") return { kind };
  if (kind === "file") return { kind, path: expectString(o.path, "bios.path") };
  throw badConfig("bios.kind", 'expected "builtin", "none" or "file"');
}

function validateShare(v: unknown, where: string): ShareConfig {
  const o = expectObject(v, where);
  const hostDir = expectString(o.hostDir, `${where}.hostDir`);
  const tag = expectString(o.tag, `${where}.tag`);
  if (hostDir === "") throw badConfig(`${where}.hostDir`, "give a directory");
  if (!validMountTag(tag))
    throw badConfig(`${where}.tag`, `1 to ${P9_MAX_TAG_LEN} printable characters without spaces, ',' or ':'`);
  return { hostDir, tag, readOnly: expectBoolean(o.readOnly ?? false, `${where}.readOnly`) };
}

/**
 * Checks a configuration that arrives as JSON and returns a clean copy
 * (unknown fields dropped). Errors are VirtusErrors naming the field
 * ("memory: expected a whole number …").
 */
export function validateVmConfig(value: unknown): VmConfig {
  const o = expectObject(value, "config");
  const memory = expectInteger(o.memory, "memory", 4096, MAX_MEMORY);
  if (memory % 4096 !== 0) throw badConfig("memory", "must be a multiple of 4096 bytes");
  const shares = expectArray(o.shares ?? [], "shares").map((s, i) => validateShare(s, `shares[${i}]`));
  const tags = new Set<string>();
  for (const [i, s] of shares.entries()) {
    if (tags.has(s.tag)) throw badConfig(`shares[${i}].tag`, `"${s.tag}" is already used`);
    tags.add(s.tag);
  }
  const consoleCfg = expectObject(o.console ?? { virtio: true }, "console");
  const config: VmConfig = {
    kernel: expectString(o.kernel, "kernel"),
    append: expectString(o.append ?? "", "append"),
    bios: validateBios(o.bios ?? { kind: "builtin" }),
    memory,
    harts: expectInteger(o.harts ?? 1, "harts", 1, MAX_HARTS),
    disks: expectArray(o.disks ?? [], "disks").map((d, i) => validateDiskConfig(d, `disks[${i}]`)),
    shares,
    network: validateNetworkConfig(o.network ?? DEFAULT_NETWORK, "network"),
    console: { virtio: expectBoolean(consoleCfg.virtio ?? true, "console.virtio") },
    rng: expectBoolean(o.rng ?? true, "rng"),
    deterministic: expectBoolean(o.deterministic ?? false, "deterministic"),
    jit: expectBoolean(o.jit ?? true, "jit"),
  };
  const cpu = expectObject(o.cpu ?? {}, "cpu");
  config.cpu = { h: expectBoolean(cpu.h ?? DEFAULT_CPU.h, "cpu.h") };
  if (config.kernel === "") throw badConfig("kernel", "give a file name");
  if (o.initrd !== undefined) config.initrd = expectString(o.initrd, "initrd");
  if (o.jitHot !== undefined) config.jitHot = expectInteger(o.jitHot, "jitHot", 1, MAX_JIT_HOT);
  if (o.reboot !== undefined) {
    if (o.reboot !== "reset" && o.reboot !== "exit") throw badConfig("reboot", 'expected "reset" or "exit"');
    config.reboot = o.reboot;
  }
  if (o.exec !== undefined) config.exec = validateExecConfig(o.exec, "exec");
  return config;
}

/**
 * The configuration recorded in a snapshot file. Files written before H became
 * the default leave `cpu` out when H was off, so a missing `cpu` means off here.
 */
export function validateSavedVmConfig(value: unknown): VmConfig {
  const legacy = typeof value === "object" && value !== null && !("cpu" in value);
  return validateVmConfig(legacy ? { ...value, cpu: { h: false } } : value);
}

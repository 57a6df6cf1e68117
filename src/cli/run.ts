/**
 * `virtus run`: flags → VmConfig (or a snapshot to restore) → the library (src/vm/). This file
 * only parses; the VM is assembled by src/vm/build.ts in a worker thread and attached to the
 * terminal by src/host/node/vm-session.ts.
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { Option } from "commander";
import { ESCAPE_HELP } from "../host/node/console-escape.ts";
import { INPUT_LIMIT_TEXT } from "../host/node/console-input.ts";
import { ControlServer } from "../host/node/control-server.ts";
import { EXIT_PANIC, EXIT_VM_CRASHED } from "../host/node/exit-code.ts";
import { ensureGuest, GUEST_KERNEL_CMDLINE } from "../host/node/guest.ts";
import { runSession } from "../host/node/vm-session.ts";
import { VirtusError } from "../machine/errors.ts";
import { type BiosConfig, MAX_JIT_HOT, type VmConfig } from "../vm/config.ts";
import type { BootRequest } from "../vm/protocol.ts";
import { CPU_OPTION_HELP, parseCpuOption } from "./cpu.ts";
import { parseDiskSpec } from "./disk.ts";
import { networkConfig } from "./net.ts";
import { shareConfigs } from "./share.ts";
import { parseSize } from "./size.ts";

export interface RunOptions {
  kernel?: string;
  initrd?: string;
  append?: string;
  mem: string;
  smp: string;
  bios: string;
  deterministic?: boolean;
  /** false with --no-jit. */
  jit: boolean;
  /** `--jit-hot N`: executions before code is translated. */
  jitHot?: string;
  /** `--disk FILE[,readonly]`, in command-line order. */
  disk: string[];
  /** `--share HOSTDIR:TAG[,readonly]`, in command-line order. */
  share: string[];
  /** false with --no-virtio-console. */
  virtioConsole: boolean;
  /** false with --no-rng. */
  rng: boolean;
  /** `--net user[,restrict=on][,mac=M]|switch:NAME[,vlan=N][,mac=M]|none`. */
  net: string;
  /** `--pcap FILE`: capture the NIC's frames. */
  pcap?: string;
  /** `--forward PROTO:HOSTPORT:GUESTPORT`, in command-line order. */
  forward: string[];
  /** `--cpu h=on`. */
  cpu?: string;
  /** `--exec CMD`: run CMD in the default guest and exit with its status. */
  exec?: string;
  /** false with --no-reboot. */
  reboot: boolean;
  /** `--control PATH`: the control socket (docs/CONTROL.md). */
  control?: string;
  /** `--restore FILE`: continue the VM saved in FILE. */
  restore?: string;
  /** `--clone`: with --restore, run a second VM from the snapshot (new MAC, own forwards). */
  clone?: boolean;
  /** `--mac MAC`: the clone's MAC (implies --clone). */
  mac?: string;
  /** `--paused`: build or restore, then wait for `ctl PATH start`. */
  paused?: boolean;
  /** `--profile FILE`: write the JIT's counters and the VM thread's time by category to FILE at exit. */
  profile?: string;
}

/** The flags that describe the machine: a snapshot brings its own, so they do not go with --restore. */
const MACHINE_FLAGS: [keyof RunOptions, string][] = [
  ["kernel", "--kernel"],
  ["initrd", "--initrd"],
  ["append", "--append"],
  ["mem", "--mem"],
  ["smp", "--smp"],
  ["bios", "--bios"],
  ["deterministic", "--deterministic"],
  ["jit", "--no-jit"],
  ["jitHot", "--jit-hot"],
  ["disk", "--disk"],
  ["share", "--share"],
  ["virtioConsole", "--no-virtio-console"],
  ["rng", "--no-rng"],
  ["net", "--net"],
  ["cpu", "--cpu"],
  ["exec", "--exec"],
];

const repeatable = (v: string, all: string[]) => [...all, v];

/** Registers `virtus run` on the program. */
export function addRunCommand(program: Command): void {
  program
    .command("run")
    .description("boot a Linux guest on the virt board (default: the guest built by `npm run guest`)")
    .option("--kernel <file>", "Linux Image, RISC-V ELF or raw binary (default: the default guest's Image)")
    .option(
      "--initrd <file>",
      "initramfs/initrd image (default: the default guest's when no --kernel is given)",
    )
    .option("--append <cmdline>", "kernel command line", GUEST_KERNEL_CMDLINE)
    .option("--mem <size>", "RAM size, e.g. 256M or 1G", "256M")
    .option("--smp <n>", "number of harts, 1..8", "1")
    .addOption(
      new Option(
        "--bios <firmware>",
        "builtin (SBI inside Virtus), none (kernel in M-mode), or a firmware file",
      ).default("builtin"),
    )
    .option("--deterministic", "time follows the instruction count: the same inputs print the same bytes")
    .option("--no-jit", "interpret only: do not translate hot code to WebAssembly")
    .option(
      "--jit-hot <n>",
      "executions of code before it is translated (default: the JIT's own threshold; 1 translates what runs twice, for testing the JIT)",
    )
    .option("--cpu <h=on|off>", CPU_OPTION_HELP)
    .option(
      "--disk <file[,options]>",
      "raw or qcow2 image as virtio-blk (repeatable: /dev/vda, vdb, … in this order); options: readonly, snapshot, format=raw|qcow2, bw=RATE, iops=N",
      repeatable,
      [] as string[],
    )
    .option(
      "--share <hostdir:tag[,readonly]>",
      "share a host directory over virtio-9p (repeatable); in the guest: mount -t 9p -o trans=virtio TAG /mnt",
      repeatable,
      [] as string[],
    )
    .option("--no-virtio-console", "leave out the virtio console (/dev/hvc1 in the default guest)")
    .option("--no-rng", "leave out the virtio entropy device (/dev/hwrng)")
    .option(
      "--net <mode>",
      "user[,restrict=on][,mac=M]: virtio-net on a NAT through the host (DHCP 10.0.2.15, gateway 10.0.2.2 = host 127.0.0.1, DNS 10.0.2.3); switch:NAME[,vlan=N][,mac=M]: on a virtual switch shared with other VMs of this host (random 52:54:00 MAC unless mac= is given); none: no NIC",
      "user",
    )
    .option("--pcap <file>", "write every frame of the NIC to FILE (libpcap format: tcpdump -r FILE)")
    .option(
      "--forward <proto:hostport:guestport>",
      "forward host 127.0.0.1:HOSTPORT to the guest's port, e.g. tcp:8080:80 (repeatable; tcp or udp)",
      repeatable,
      [] as string[],
    )
    .option(
      "--exec <cmd>",
      "run CMD in the default guest's shell, print its output and exit with its status (standard input goes to CMD)",
    )
    .option("--no-reboot", "exit (status 0) when the guest reboots, instead of resetting the machine")
    .option("--control <path>", "listen on a Unix socket for commands (virtus ctl PATH status|pause|…)")
    .option("--restore <file>", "continue the VM saved in FILE (by Ctrl-A s or ctl PATH snapshot)")
    .option("--clone", "with --restore: a second VM from the snapshot, with a new MAC and no forwards")
    .option("--mac <mac>", "with --restore: the clone's MAC, e.g. 52:54:00:12:34:57 (implies --clone)")
    .option("--paused", "build or restore the VM, then wait for `virtus ctl PATH start`")
    .option(
      "--profile <file>",
      "profile the run: at exit write the JIT's counters and where the VM thread's time went to FILE (JSON; docs/PERFORMANCE.md); `ctl PATH profile NAME` starts a new segment",
    )
    .addHelpText("after", RUN_HELP)
    .action(async (opts: RunOptions, cmd: Command) => {
      const given = (key: keyof RunOptions) => cmd.getOptionValueSource(key) === "cli";
      process.exitCode = await runCommand(opts, given);
    });
}

/** The end of `virtus run --help`: exit codes and console escapes. */
export const RUN_HELP = `
Exit codes:
  0        the guest powered off (or rebooted, with --no-reboot), or you quit (Ctrl-A x)
  N        with --exec: CMD's exit status
  1..255   the guest's failure code (the sifive_test finisher; SBI system failure is 1)
  2        bad input: an option or file Virtus cannot use (one line on stderr says why)
  ${EXIT_PANIC}      the guest's kernel panicked (its reason is on stderr)
  ${EXIT_VM_CRASHED}       the VM's worker thread crashed (the reason is on stderr)

Console escapes (the terminal is the guest's console):
${ESCAPE_HELP.split("\r\n")
  .map((l) => `  ${l}`)
  .join("\n")}

Console input typed or piped before the guest reads it is kept (up to ${INPUT_LIMIT_TEXT} waiting).
When piped input ends, the guest gets end-of-file (Ctrl-D): the default guest's shell exits and
the guest powers off. With --kernel, a hint goes to stderr when the guest prints nothing for 10 s.`;

/**
 * `stty` settings for an --exec command. Piped input is data: no echo, no signals from ^C or ^\,
 * no flow control, no CR/LF translation (the terminal stays line-based, for its end-of-file).
 * Piped output gets no CR before LF.
 */
function execStty(stdinTty: boolean, stdoutTty: boolean): string {
  const input = stdinTty ? [] : ["-echo", "-isig", "-ixon", "-iexten", "-icrnl", "-inlcr", "-igncr"];
  return [...input, ...(stdoutTty ? [] : ["-onlcr"])].join(" ");
}

function parseSmp(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 8)
    throw new VirtusError("bad-smp", `--smp ${text}: give a number of harts from 1 to 8`);
  return n;
}

function parseJitHot(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_JIT_HOT)
    throw new VirtusError("bad-jit-hot", `--jit-hot ${text}: give a whole number from 1 to ${MAX_JIT_HOT}`);
  return n;
}

function parseBios(text: string): BiosConfig {
  if (text === "builtin" || text === "none") return { kind: text };
  return { kind: "file", path: text };
}

/**
 * The VmConfig the flags describe. Every flag is checked before anything
 * is built; without --kernel, the default guest (built on first use).
 */
export async function configFromFlags(opts: RunOptions): Promise<VmConfig> {
  const memory = parseSize(opts.mem);
  const harts = parseSmp(opts.smp);
  const disks = opts.disk.map(parseDiskSpec);
  const shares = shareConfigs(opts.share);
  const network = networkConfig(opts.net ?? "user", opts.forward ?? [], opts.pcap);
  const cpu = parseCpuOption(opts.cpu);
  let kernel = opts.kernel;
  let initrd = opts.initrd;
  if (opts.exec !== undefined && opts.exec.trim() === "")
    throw new VirtusError("bad-exec", "--exec: give a command, e.g. --exec 'uname -a'");
  if (kernel === undefined) {
    const g = await ensureGuest({ log: (l) => process.stderr.write(`${l}\n`) });
    kernel = g.kernel;
    initrd ??= g.initrd;
  }
  const config: VmConfig = {
    kernel,
    append: opts.append ?? GUEST_KERNEL_CMDLINE,
    bios: parseBios(opts.bios),
    memory,
    harts,
    disks,
    shares,
    network,
    console: { virtio: opts.virtioConsole },
    rng: opts.rng,
    deterministic: opts.deterministic === true,
    jit: opts.jit,
    cpu,
  };
  if (initrd !== undefined) config.initrd = initrd;
  if (opts.jitHot !== undefined) config.jitHot = parseJitHot(opts.jitHot);
  if (opts.reboot === false) config.reboot = "exit";
  if (opts.exec !== undefined) {
    config.exec = {
      command: opts.exec,
      stty: execStty(process.stdin.isTTY === true, process.stdout.isTTY === true),
    };
    // Kernel messages stay off CMD's output (unless --append says otherwise).
    if (config.append === GUEST_KERNEL_CMDLINE) config.append = `${GUEST_KERNEL_CMDLINE} quiet`;
  }
  return config;
}

/** The boot request of `--restore FILE [--clone] [--mac M] [--forward …]`; machine flags are refused. */
export function restoreRequest(opts: RunOptions, given: (key: keyof RunOptions) => boolean): BootRequest {
  const file = opts.restore!;
  for (const [key, flag] of MACHINE_FLAGS)
    if (given(key))
      throw new VirtusError(
        "bad-restore",
        `${flag} does not go with --restore: the snapshot brings the VM's whole configuration`,
      );
  const clone = opts.clone === true || opts.mac !== undefined;
  if (!clone && opts.forward.length > 0)
    throw new VirtusError(
      "bad-restore",
      "--forward goes with --restore only for a clone (--clone): the restored VM keeps its own forwards",
    );
  if (!clone) return { type: "boot", restore: { file: resolve(file) }, paused: opts.paused };
  const forwards = opts.forward.length > 0 ? networkConfig("user", opts.forward).forwards : undefined;
  return {
    type: "boot",
    restore: { file: resolve(file), clone: { mac: opts.mac, forwards } },
    paused: opts.paused,
  };
}

/** `virtus run`: exit 0 when the guest powers off, its fail code otherwise; 2 on bad input. */
export async function runCommand(
  opts: RunOptions,
  given: (key: keyof RunOptions) => boolean = () => false,
): Promise<number> {
  if (opts.restore === undefined && (opts.clone || opts.mac !== undefined))
    throw new VirtusError("bad-restore", `${opts.clone ? "--clone" : "--mac"} goes with --restore FILE`);
  const profile = opts.profile === undefined ? undefined : profileFile(opts.profile);
  if (profile !== undefined && opts.restore !== undefined)
    throw new VirtusError("bad-profile", "--profile does not go with --restore: profile a VM that boots");
  const boot: BootRequest =
    opts.restore !== undefined
      ? restoreRequest(opts, given)
      : { type: "boot", config: await configFromFlags(opts), paused: opts.paused };
  if (profile !== undefined) boot.profile = profile;
  let printed = false;
  // A kernel of the wrong kind, or a command line without its console, prints nothing at all.
  const silence =
    opts.kernel === undefined
      ? undefined
      : setTimeout(() => {
          if (!printed) process.stderr.write(`virtus: ${SILENCE_HINT}\n`);
        }, SILENCE_HINT_MS);
  silence?.unref();
  const control = opts.control === undefined ? undefined : await ControlServer.open(opts.control);
  try {
    return await runSession(boot, {
      attachments: control === undefined ? [] : [control],
      output: (bytes) => {
        printed = true;
        process.stdout.write(bytes);
      },
    });
  } finally {
    clearTimeout(silence);
    control?.close();
  }
}

/** `--profile FILE` as an absolute path (the VM's worker writes it), checked before the VM starts. */
export function profileFile(text: string): string {
  if (text.trim() === "")
    throw new VirtusError("bad-profile", "--profile: give a FILE to write, e.g. --profile run.json");
  const file = resolve(text);
  if (existsSync(file) && statSync(file).isDirectory())
    throw new VirtusError("bad-profile", `--profile ${text}: that is a directory; give a FILE to write`);
  const dir = dirname(file);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new VirtusError("bad-profile", `--profile ${text}: the directory ${dir} does not exist`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new VirtusError("bad-profile", `--profile ${text}: cannot write in ${dir}`);
  }
  return file;
}

/** How long a --kernel run may print nothing before the hint. */
const SILENCE_HINT_MS = 10_000;
export const SILENCE_HINT =
  "the guest has printed nothing for 10 s (still running): is --kernel a RISC-V kernel for the virt board, and does --append name its console (e.g. console=ttyS0 earlycon=sbi)? Ctrl-A x quits";

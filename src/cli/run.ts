import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { Option } from "commander";
import { FileBlockBackend } from "../host/node/block-file.ts";
import { hostEntropy } from "../host/node/entropy.ts";
import { ensureGuest, GUEST_KERNEL_CMDLINE } from "../host/node/guest.ts";
import { BufferedOutput, type RunOutcome, runVm } from "../host/node/vm-runner.ts";
import { type Bios, bootVirt } from "../machine/board/boot.ts";
import { type BootImage, classifyBootImage } from "../machine/board/boot-image.ts";
import { TIMEBASE_HZ } from "../machine/board/machine.ts";
import { VirtMachine } from "../machine/board/virt.ts";
import { assignVirtioSlots, type VirtioPlacement } from "../machine/board/virtio-slots.ts";
import type { CharBackend } from "../machine/devices/backends.ts";
import { VirtusError } from "../machine/errors.ts";
import type { SystemResetRequest } from "../machine/firmware/sbi.ts";
import { VirtioBlk } from "../machine/virtio/blk.ts";
import { VirtioConsole } from "../machine/virtio/console.ts";
import { virtioMmio } from "../machine/virtio/mmio.ts";
import { SeededEntropy, VirtioRng } from "../machine/virtio/rng.ts";
import { parseNetOptions, setupNetwork } from "./net.ts";
import { parseShareSpecs, sharePlacements } from "./share.ts";
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
  /** `--disk FILE[,readonly]`, in command-line order. */
  disk: string[];
  /** `--share HOSTDIR:TAG[,readonly]`, in command-line order. */
  share: string[];
  /** false with --no-virtio-console. */
  virtioConsole: boolean;
  /** false with --no-rng. */
  rng: boolean;
  /** `--net user|none`. */
  net: string;
  /** `--forward PROTO:HOSTPORT:GUESTPORT`, in command-line order. */
  forward: string[];
}

/** A parsed --disk argument. */
export interface DiskSpec {
  path: string;
  readOnly: boolean;
}

/** Parses `FILE[,readonly]`; anything else after the comma is a one-line error. */
export function parseDiskSpec(spec: string): DiskSpec {
  const [path, ...flags] = spec.split(",");
  if (path === "")
    throw new VirtusError("bad-disk", `--disk ${spec}: give a file name, e.g. --disk disk.img`);
  let readOnly = false;
  for (const f of flags) {
    if (f === "readonly") readOnly = true;
    else
      throw new VirtusError("bad-disk", `--disk ${spec}: unknown option "${f}" (the only one is readonly)`);
  }
  return { path, readOnly };
}

/** The virtio devices of a run and what the host keeps of them. */
interface VirtioSetup {
  placements: VirtioPlacement[];
  console: VirtioConsole | undefined;
  close(): void;
}

/**
 * Builds every virtio device of `virtus run` as slot placements; the slot
 * order (disks, network, 9p shares, console, rng) is applied by
 * assignVirtioSlots, so each kind just adds its placements here.
 */
function virtioDevices(opts: RunOptions, output: CharBackend): VirtioSetup {
  const log = (m: string) => process.stderr.write(`virtus: ${m}\n`);
  const placements: VirtioPlacement[] = [];
  const disks: FileBlockBackend[] = [];
  const closers: (() => void)[] = [];
  const close = () => {
    for (const d of disks) d.close();
    for (const c of closers) c();
  };
  try {
    for (const spec of opts.disk) {
      const { path, readOnly } = parseDiskSpec(spec);
      const backend = new FileBlockBackend(path, { readOnly });
      disks.push(backend);
      if (backend.size < 512)
        throw new VirtusError("bad-disk", `--disk ${path}: the image is smaller than one 512-byte sector`);
      const id = `virtus${disks.length - 1}`;
      placements.push({
        kind: "disk",
        what: `--disk ${spec}`,
        make: virtioMmio(() => new VirtioBlk(backend, { id }), { log }),
      });
    }
    const shares = sharePlacements(opts.share, log);
    closers.push(shares.close);
    placements.push(...shares.placements);
  } catch (e) {
    close();
    throw e;
  }
  let console: VirtioConsole | undefined;
  if (opts.virtioConsole) {
    const dev = new VirtioConsole({ output });
    console = dev;
    placements.push({ kind: "console", what: "virtio-console", make: virtioMmio(() => dev, { log }) });
  }
  if (opts.rng) {
    // Deterministic runs get a seeded source: the same inputs must give the same bytes.
    const source = opts.deterministic ? new SeededEntropy() : hostEntropy;
    placements.push({
      kind: "rng",
      what: "virtio-rng",
      make: virtioMmio(() => new VirtioRng(source), { log }),
    });
  }
  return { placements, console, close };
}

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
      "--disk <file[,readonly]>",
      "raw disk image as virtio-blk (repeatable: /dev/vda, vdb, … in this order)",
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option(
      "--share <hostdir:tag[,readonly]>",
      "share a host directory over virtio-9p (repeatable); in the guest: mount -t 9p -o trans=virtio TAG /mnt",
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option("--no-virtio-console", "leave out the virtio console (/dev/hvc1 in the default guest)")
    .option("--no-rng", "leave out the virtio entropy device (/dev/hwrng)")
    .option(
      "--net <mode>",
      "user: virtio-net on a NAT to the host (DHCP 10.0.2.15, gateway 10.0.2.2 = host 127.0.0.1); none: no NIC",
      "user",
    )
    .option(
      "--forward <proto:hostport:guestport>",
      "forward host 127.0.0.1:HOSTPORT to the guest's port, e.g. tcp:8080:80 (repeatable; tcp or udp)",
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .action(async (opts: RunOptions) => {
      process.exitCode = await runCommand(opts);
    });
}

function readInput(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VirtusError(
      "no-file",
      `${what} ${path}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : "cannot read it"}`,
    );
  }
}

function parseSmp(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 8)
    throw new VirtusError("bad-smp", `--smp ${text}: give a number of harts from 1 to 8`);
  return n;
}

/** `virtus run`: exit 0 when the guest powers off, its fail code otherwise; 2 on bad input. */
export async function runCommand(opts: RunOptions): Promise<number> {
  const ramSize = parseSize(opts.mem);
  const harts = parseSmp(opts.smp);
  for (const d of opts.disk) parseDiskSpec(d);
  parseShareSpecs(opts.share);
  const netOpts = parseNetOptions(opts.net ?? "user", opts.forward ?? []);
  let kernelPath = opts.kernel;
  let initrdPath = opts.initrd;
  if (kernelPath === undefined) {
    const g = await ensureGuest({ log: (l) => process.stderr.write(`${l}\n`) });
    kernelPath = g.kernel;
    initrdPath ??= g.initrd;
  }
  const kernel: BootImage = classifyBootImage(readInput(kernelPath, "--kernel"), kernelPath, "kernel");
  const initrd = initrdPath === undefined ? undefined : readInput(initrdPath, "--initrd");
  if (initrd !== undefined && initrd.length === 0)
    throw new VirtusError("bad-initrd", `--initrd ${initrdPath}: the file is empty`);
  let bios: Bios;
  if (opts.bios === "builtin") bios = { kind: "builtin" };
  else if (opts.bios === "none") bios = { kind: "none" };
  else
    bios = {
      kind: "file",
      name: opts.bios,
      image: classifyBootImage(readInput(opts.bios, "--bios"), opts.bios, "firmware"),
    };
  if (bios.kind === "file" && bios.image.kind === "linux") {
    throw new VirtusError(
      "bad-bios",
      `--bios ${opts.bios}: a Linux Image is a kernel; pass it with --kernel`,
    );
  }

  const output = new BufferedOutput((d) => process.stdout.write(d));
  const t0 = performance.now();
  const clock = opts.deterministic
    ? undefined
    : { now: () => Math.floor((performance.now() - t0) * (TIMEBASE_HZ / 1000)) };
  let reset: SystemResetRequest | undefined;
  const network = await setupNetwork(netOpts.mode, netOpts.forwards, {
    log: (m) => process.stderr.write(`virtus: ${m}\n`),
  });
  let virtio: VirtioSetup;
  try {
    virtio = virtioDevices(opts, output);
  } catch (e) {
    network.close();
    throw e;
  }
  if (network.placement !== undefined) virtio.placements.push(network.placement);
  try {
    const vm = new VirtMachine({
      virtio: assignVirtioSlots(virtio.placements),
      ramSize,
      harts,
      clock,
      jit: opts.jit,
      bootargs: opts.append ?? GUEST_KERNEL_CMDLINE,
      console: output,
    });
    const info = bootVirt(vm, {
      kernel,
      kernelName: kernelPath,
      initrd,
      bios,
      console: output,
      onReset: (r) => {
        reset = r;
      },
    });

    const stdin = process.stdin;
    const tty = stdin.isTTY === true;
    if (tty) stdin.setRawMode(true);
    stdin.resume();
    try {
      const outcome = await runVm(vm, {
        input: stdin,
        output,
        receive: consoleInput(opts.append ?? "", info.sbi, virtio.console, vm),
        writeHost: (t) => process.stderr.write(t),
        outcome: (): RunOutcome | undefined => {
          const e = vm.exit;
          if (e) return e.kind === "fail" ? { kind: "fail", code: e.code } : { kind: e.kind };
          if (reset) {
            if (reset.type !== "shutdown") return { kind: "reboot" };
            return reset.reason === "system_failure" ? { kind: "fail", code: 1 } : { kind: "poweroff" };
          }
          return undefined;
        },
      });
      if (outcome.kind === "fail") return Math.min(255, Math.max(1, outcome.code));
      if (outcome.kind === "reboot")
        process.stderr.write("virtus: the guest asked to reboot; stopping (reboot is not supported yet)\n");
      return 0;
    } finally {
      if (tty) stdin.setRawMode(false);
      stdin.pause();
    }
  } finally {
    virtio.close();
    network.close();
  }
}

/**
 * Where host keyboard input goes: to the kernel's console, the last
 * console= on the command line (as Linux picks /dev/console): hvc0 is the
 * SBI console, hvc1 the virtio console, anything else the UART.
 */
function consoleInput(
  append: string,
  sbi: { pushInput(b: Uint8Array): number } | undefined,
  virtioConsole: VirtioConsole | undefined,
  vm: VirtMachine,
): (b: Uint8Array) => number {
  const consoles = [...append.matchAll(/\bconsole=(\w+)/g)].map((m) => m[1]);
  const last = consoles.at(-1);
  if (last === "hvc0" && sbi !== undefined) return (b) => sbi.pushInput(b);
  if (last === "hvc1" && virtioConsole !== undefined) return (b) => virtioConsole.receive(b);
  return (b) => vm.receive(b);
}

import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { Option } from "commander";
import { ensureGuest, GUEST_KERNEL_CMDLINE } from "../host/node/guest.ts";
import { BufferedOutput, type RunOutcome, runVm } from "../host/node/vm-runner.ts";
import { type Bios, bootVirt } from "../machine/board/boot.ts";
import { type BootImage, classifyBootImage } from "../machine/board/boot-image.ts";
import { TIMEBASE_HZ } from "../machine/board/machine.ts";
import { VirtMachine } from "../machine/board/virt.ts";
import { VirtusError } from "../machine/errors.ts";
import type { SystemResetRequest } from "../machine/firmware/sbi.ts";
import { parseSize } from "./size.ts";

export interface RunOptions {
  kernel?: string;
  initrd?: string;
  append?: string;
  mem: string;
  smp: string;
  bios: string;
  deterministic?: boolean;
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
  const vm = new VirtMachine({
    ramSize,
    harts,
    clock,
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
      // Console input goes where the kernel's console is: the SBI console for hvc0, else the UART.
      receive:
        info.sbi !== undefined && /\bconsole=hvc/.test(opts.append ?? "")
          ? (b) => info.sbi!.pushInput(b)
          : (b) => vm.receive(b),
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
}

/**
 * The one place a VM is assembled (issue 10, item 1): a VmConfig plus the
 * host's services become a booted virt board with its virtio devices.
 * Front ends (`virtus run`, the worker, tests, benchmarks, later the daemon
 * and the browser) all come through here.
 *
 *   const vm = await buildVm(config, nodeHostServices(), { console: output });
 *   vm.board.machine.run(1_000_000);
 *   vm.sendInput(bytes);                // keyboard → the guest's console
 *   vm.guestExit();                     // set once the guest powered off, rebooted or failed
 *   vm.close();                         // releases files and sockets
 */
import { type Bios, bootVirt } from "../machine/board/boot.ts";
import { type BootImage, classifyBootImage } from "../machine/board/boot-image.ts";
import { VirtMachine } from "../machine/board/virt.ts";
import { assignVirtioSlots, type VirtioPlacement } from "../machine/board/virtio-slots.ts";
import { warmUpInterpreter } from "../machine/board/warm-up.ts";
import { VirtusError } from "../machine/errors.ts";
import type { BuiltinSbi, SystemResetRequest } from "../machine/firmware/sbi.ts";
import type { BlockBackend, CharBackend } from "../machine/host.ts";
import type { JitProfile } from "../machine/jit/profile.ts";
import { type MachineSnapshot, restoreVm } from "../machine/snapshot/machine-snapshot.ts";
import { VirtioBlk } from "../machine/virtio/blk.ts";
import { VirtioConsole } from "../machine/virtio/console.ts";
import { virtioMmio } from "../machine/virtio/mmio.ts";
import { VirtioNet } from "../machine/virtio/net.ts";
import { VirtioP9 } from "../machine/virtio/p9.ts";
import { SeededEntropy, VirtioRng } from "../machine/virtio/rng.ts";
import { DEFAULT_CPU, type VmConfig } from "./config.ts";
import { appendExecArchive, ExecChannel, ExecConsole } from "./exec.ts";
import type { VmHostServices } from "./host-services.ts";
import { machineLimiter, watchLimitedDevice } from "./limits.ts";
import { MacTranslator } from "./mac-translate.ts";
import { parseMac } from "./network-config.ts";
import { PanicWatch } from "./panic-watch.ts";
import { RunClock } from "./run-clock.ts";

/**
 * How the guest asked to stop (the finisher or SBI system reset), a kernel panic on its console,
 * or the end of an --exec command with its status.
 */
export type GuestExit =
  | { kind: "poweroff" }
  | { kind: "reboot" }
  | { kind: "fail"; code: number }
  | { kind: "panic"; reason: string }
  | { kind: "exec"; status: number };

/**
 * What the guest moved through its virtio disks (all of them together) and
 * its NIC since this machine was built: a restore or a reboot counts from 0
 * again (a counter reset, as Prometheus sees it). Successful disk requests
 * only; network bytes are Ethernet frames without the virtio header.
 */
export interface VmIoCounters {
  diskReadBytes: number;
  diskReadRequests: number;
  diskWriteBytes: number;
  diskWriteRequests: number;
  netRxBytes: number;
  netRxPackets: number;
  netTxBytes: number;
  netTxPackets: number;
}

/** A built VM: the board, its devices and the host resources behind them. */
export interface Vm {
  readonly config: VmConfig;
  readonly board: VirtMachine;
  /** The built-in SBI when `bios` is builtin. */
  readonly sbi: BuiltinSbi | undefined;
  /** Real-time guest time (pause/resume/set); undefined in deterministic mode. */
  readonly clock: RunClock | undefined;
  /** The virtio console, when configured. */
  readonly virtioConsole: VirtioConsole | undefined;
  /** Host keyboard input for the guest's console; returns how many bytes it took (retry the rest later). */
  sendInput(bytes: Uint8Array): number;
  /** Set once the guest powered off, asked to reboot or reported a failure. */
  guestExit(): GuestExit | undefined;
  /** Bytes and requests through its disks and NIC so far (host statistics, not machine state). */
  io(): VmIoCounters;
  /** Makes the guest's disk writes so far durable (before a snapshot names the disks). */
  flushDisks(): void;
  /** Releases disks, shares and sockets. Idempotent. */
  close(): void;
}

export interface BuildOptions {
  /** Where every guest console writes (UART, SBI console, virtio console). */
  console: CharBackend;
  /** A saved machine of this configuration to continue instead of booting (src/machine/snapshot/). */
  restore?: MachineSnapshot;
  /** Count the JIT's work into this profile (`--profile`, src/vm/profile.ts). */
  jitProfile?: JitProfile;
}

/** Host resources opened so far; closed in reverse order if the build fails. */
class Closers {
  private readonly list: (() => void)[] = [];
  add(close: () => void): void {
    this.list.push(close);
  }
  closeAll(): void {
    for (const c of this.list.splice(0).reverse()) {
      try {
        c();
      } catch {
        // Closing is best effort: one failure must not keep the others open.
      }
    }
  }
}

/** Hands the boot files back to the host once they are in guest RAM (VmHostServices.release). */
function releaseBootFiles(host: VmHostServices, boot: ReturnType<typeof loadBootFiles>): void {
  if (host.release === undefined) return;
  host.release(boot.kernel.bytes);
  if (boot.initrd !== undefined) host.release(boot.initrd);
  if (boot.bios.kind === "file") host.release(boot.bios.image.bytes);
}

function loadBootFiles(
  config: VmConfig,
  host: VmHostServices,
): { kernel: BootImage; initrd?: Uint8Array; bios: Bios } {
  const kernel = classifyBootImage(host.readFile(config.kernel, "--kernel"), config.kernel, "kernel");
  let initrd: Uint8Array | undefined;
  if (config.initrd !== undefined) {
    initrd = host.readFile(config.initrd, "--initrd");
    if (initrd.length === 0)
      throw new VirtusError("bad-initrd", `--initrd ${config.initrd}: the file is empty`);
  }
  if (config.exec !== undefined) {
    if (initrd === undefined)
      throw new VirtusError(
        "bad-exec",
        "--exec runs in the default guest: leave out --kernel, or give its --initrd",
      );
    initrd = appendExecArchive(initrd, config.exec.command, config.exec.stty);
  }
  let bios: Bios;
  if (config.bios.kind === "file") {
    const path = config.bios.path;
    const image = classifyBootImage(host.readFile(path, "--bios"), path, "firmware");
    if (image.kind === "linux")
      throw new VirtusError("bad-bios", `--bios ${path}: a Linux Image is a kernel; pass it with --kernel`);
    bios = { kind: "file", name: path, image };
  } else bios = { kind: config.bios.kind };
  return { kernel, initrd, bios };
}

/**
 * Builds every virtio device of the configuration as slot placements; the
 * slot order (disks, network, 9p shares, console, rng) is applied by
 * assignVirtioSlots, so each kind just adds its placements.
 */
async function virtioPlacements(
  config: VmConfig,
  host: VmHostServices,
  output: CharBackend,
  closers: Closers,
  exec?: ExecChannel,
): Promise<VirtioBuild> {
  const log = (m: string) => host.log(m);
  const placements: VirtioPlacement[] = [];
  const disks: BlockBackend[] = [];
  const blks: VirtioBlk[] = [];
  let nic: VirtioNet | undefined;
  config.disks.forEach((disk, i) => {
    const opened = host.openDisk(disk);
    closers.add(opened.close);
    const backend = opened.backend;
    disks.push(backend);
    if (backend.size < 512)
      throw new VirtusError("bad-disk", `--disk ${disk.path}: the image is smaller than one 512-byte sector`);
    const id = `virtus${i}`;
    placements.push({
      kind: "disk",
      what: `--disk ${disk.path}`,
      make: virtioMmio(
        (slot) => {
          const limiter = disk.limits && machineLimiter(slot, disk.limits);
          const dev = new VirtioBlk(backend, { id, limiter });
          blks.push(dev);
          if (limiter) watchLimitedDevice(slot, dev);
          return dev;
        },
        { log },
      ),
    });
  });
  if (config.network.mode !== "none") {
    const net = await host.openNetwork(config.network, log);
    closers.add(net.close);
    const mac = parseMac(config.network.mac)!;
    const guestMac = config.network.guestMac === undefined ? undefined : parseMac(config.network.guestMac);
    // A clone: the running guest still uses the original's MAC; translate it on the wire (src/vm/clone.ts).
    const backend =
      guestMac !== undefined && config.network.guestMac !== config.network.mac
        ? new MacTranslator(net.backend, guestMac, mac)
        : net.backend;
    placements.push({
      kind: "net",
      what: `virtio-net (--net ${config.network.mode})`,
      make: virtioMmio(
        (slot) => {
          // A guest waiting on a host socket must not see its timeouts expire in no real time.
          slot.holdIdle(net.hostActive);
          const limits = config.network.limits;
          if (limits === undefined) return (nic = new VirtioNet(backend, { mac }));
          const rxLimiter = machineLimiter(slot, limits);
          const txLimiter = machineLimiter(slot, limits);
          const dev = new VirtioNet(backend, { mac, rxLimiter, txLimiter });
          nic = dev;
          watchLimitedDevice(slot, dev);
          return dev;
        },
        { log },
      ),
    });
  }
  for (const share of config.shares) {
    const opened = host.openShare(share);
    closers.add(opened.close);
    placements.push({
      kind: "share",
      what: `--share ${share.hostDir}:${share.tag}`,
      make: virtioMmio(() => new VirtioP9({ tag: share.tag, backend: opened.backend, log }), { log }),
    });
  }
  let console: VirtioConsole | undefined;
  if (config.console.virtio) {
    const dev = new VirtioConsole({ output: exec ?? output });
    console = dev;
    placements.push({ kind: "console", what: "virtio-console", make: virtioMmio(() => dev, { log }) });
  }
  if (config.rng) {
    // Deterministic runs get a seeded source: the same inputs must give the same bytes.
    const source = config.deterministic ? new SeededEntropy() : host.entropy;
    placements.push({
      kind: "rng",
      what: "virtio-rng",
      make: virtioMmio(() => new VirtioRng(source), { log }),
    });
  }
  return { placements, console, disks, io: () => ioCounters(blks, nic) };
}

interface VirtioBuild {
  placements: VirtioPlacement[];
  console: VirtioConsole | undefined;
  disks: BlockBackend[];
  io: () => VmIoCounters;
}

function ioCounters(blks: readonly VirtioBlk[], nic: VirtioNet | undefined): VmIoCounters {
  const io: VmIoCounters = {
    diskReadBytes: 0,
    diskReadRequests: 0,
    diskWriteBytes: 0,
    diskWriteRequests: 0,
    netRxBytes: nic?.stats.rxBytes ?? 0,
    netRxPackets: nic?.stats.rxFrames ?? 0,
    netTxBytes: nic?.stats.txBytes ?? 0,
    netTxPackets: nic?.stats.txFrames ?? 0,
  };
  for (const { stats } of blks) {
    io.diskReadBytes += stats.readBytes;
    io.diskReadRequests += stats.readRequests;
    io.diskWriteBytes += stats.writeBytes;
    io.diskWriteRequests += stats.writeRequests;
  }
  return io;
}

/**
 * Where host keyboard input goes: to the kernel's console, the last
 * console= on the command line (as Linux picks /dev/console): hvc0 is the
 * SBI console, hvc1 the virtio console, anything else the UART.
 */
function consoleInput(
  append: string,
  sbi: BuiltinSbi | undefined,
  virtioConsole: VirtioConsole | undefined,
  board: VirtMachine,
): (b: Uint8Array) => number {
  const consoles = [...append.matchAll(/\bconsole=(\w+)/g)].map((m) => m[1]);
  const last = consoles.at(-1);
  if (last === "hvc0" && sbi !== undefined) return (b) => sbi.pushInput(b);
  if (last === "hvc1" && virtioConsole !== undefined) return (b) => virtioConsole.receive(b);
  // Held until the UART's driver receives (see Uart16550.acceptsInput); the caller keeps the bytes.
  return (b) => (board.uart.acceptsInput ? board.receive(b) : 0);
}

function exitOf(board: VirtMachine, reset: SystemResetRequest | undefined): GuestExit | undefined {
  const e = board.exit;
  if (e) return e.kind === "fail" ? { kind: "fail", code: e.code } : { kind: e.kind };
  if (reset) {
    if (reset.type !== "shutdown") return { kind: "reboot" };
    return reset.reason === "system_failure" ? { kind: "fail", code: 1 } : { kind: "poweroff" };
  }
  return undefined;
}

/**
 * Builds the VM a configuration describes and boots it, or, with
 * `opts.restore`, loads a saved machine into it instead of booting (the
 * kernel files are then not read). Files are read and opened through
 * `host`; bad files, settings and snapshots are VirtusErrors, and nothing
 * stays open when the build fails.
 */
export async function buildVm(config: VmConfig, host: VmHostServices, opts: BuildOptions): Promise<Vm> {
  // A boot runs ~40% of its instructions interpreted: give V8 the interpreter's feedback first
  // (board/warm-up.ts; ~70 ms once per process, the boot's CPU time -30%). A restore starts
  // from a booted guest, and its start-up time is what counts there.
  if (opts.restore === undefined) warmUpInterpreter();
  const boot = opts.restore === undefined ? loadBootFiles(config, host) : undefined;
  const closers = new Closers();
  const panic = new PanicWatch();
  // With --exec, the virtio console carries the protocol and the user sees only CMD's output.
  const exec = config.exec === undefined ? undefined : new ExecChannel();
  const execConsole = exec === undefined ? undefined : new ExecConsole(opts.console, exec);
  const userConsole = execConsole ?? opts.console;
  const guestConsole: CharBackend = {
    write(data) {
      panic.write(data);
      userConsole.write(data);
    },
  };
  if (exec !== undefined && !config.console.virtio)
    throw new VirtusError(
      "bad-exec",
      "--exec talks to the guest over the virtio console: leave out --no-virtio-console",
    );
  try {
    const virtio = await virtioPlacements(config, host, guestConsole, closers, exec);
    const clock = config.deterministic ? undefined : new RunClock(() => host.monotonicMs());
    let reset: SystemResetRequest | undefined;
    const onReset = (r: SystemResetRequest) => {
      reset = r;
    };
    const board = new VirtMachine({
      virtio: assignVirtioSlots(virtio.placements),
      ramSize: config.memory,
      harts: config.harts,
      clock,
      wallClock: clock === undefined ? undefined : { nowMs: () => host.wallClockMs() },
      jit: config.jit,
      jitHot: config.jitHot,
      jitProfile: opts.jitProfile,
      hExt: (config.cpu ?? DEFAULT_CPU).h,
      bootargs: config.append,
      console: guestConsole,
      // A restored machine gets its SBI now (its state is in the snapshot); a booted one from bootVirt.
      sbi:
        opts.restore !== undefined && config.bios.kind === "builtin"
          ? { console: guestConsole, onReset }
          : undefined,
    });
    if (boot !== undefined) {
      bootVirt(board, {
        kernel: boot.kernel,
        kernelName: config.kernel,
        initrd: boot.initrd,
        bios: boot.bios,
        console: guestConsole,
        onReset,
      });
      releaseBootFiles(host, boot);
    } else restoreVm(board, opts.restore!);
    const sbi = board.sbi;
    const input = consoleInput(config.append, sbi, virtio.console, board);
    return {
      config,
      board,
      sbi,
      clock,
      virtioConsole: virtio.console,
      sendInput: exec === undefined ? input : (b) => (exec.ready ? input(b) : 0),
      guestExit: () => {
        if (panic.reason !== undefined) {
          if (exec?.ready === false) execConsole?.release();
          return { kind: "panic", reason: panic.reason };
        }
        if (exec?.status !== undefined) return { kind: "exec", status: exec.status };
        const e = exitOf(board, reset);
        if (e !== undefined && exec?.ready === false) execConsole?.release();
        return e;
      },
      io: virtio.io,
      flushDisks: () => {
        for (const d of virtio.disks) if (!d.readOnly) d.flush();
      },
      close: () => closers.closeAll(),
    };
  } catch (e) {
    closers.closeAll();
    throw e;
  }
}

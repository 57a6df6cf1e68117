/**
 * The QEMU `virt` board (design 2.1): the memory map of QEMU's
 * hw/riscv/virt.c (one table: memory-map.ts), its devices wired to the PLIC,
 * and a device tree generated from the device list, so firmware and
 * kernels built for QEMU `virt` (OpenSBI, U-Boot, Linux) run unmodified.
 *
 * The board's component list is the single source of truth for what it
 * holds: the bus mappings, the device tree and the snapshot all come from
 * it, and a device on the bus must be Stateful to be listed at all.
 */
import type { MmioDevice } from "../bus/mmio.ts";
import { IRQ_M_SOFT, IRQ_M_TIMER } from "../cpu/constants.ts";
import { type HartState, restoreHartState, saveHartState } from "../cpu/hart-state.ts";
import type { CharBackend, WallClock } from "../devices/backends.ts";
import type { Clock } from "../devices/clint.ts";
import { GoldfishRtc } from "../devices/goldfish_rtc.ts";
import { Plic } from "../devices/plic.ts";
import { SifiveTest, type TestExit } from "../devices/sifive_test.ts";
import { Uart16550 } from "../devices/uart16550.ts";
import { FdtBuilder, type FdtNode } from "../fdt/builder.ts";
import type { FdtContext, FdtDevice } from "../fdt/device.ts";
import { unitName } from "../fdt/device.ts";
import { BuiltinSbi, type BuiltinSbiOptions } from "../firmware/sbi.ts";
import type { JitProfile } from "../jit/profile.ts";
import { MAX_HARTS } from "../memory/layout.ts";
import { StateError, type Stateful } from "../snapshot/state.ts";
import { EmptyVirtioSlot, VIRTIO_MMIO_SIZE, virtioMmioFdt } from "../virtio/empty-slot.ts";
import type { VirtioSlot } from "../virtio/slot.ts";
import { Machine, TIMEBASE_HZ } from "./machine.ts";

/** mtime ticks per millisecond. */
const TICKS_PER_MS = TIMEBASE_HZ / 1000;

import { VIRT_IRQ, VIRT_MEMMAP, VIRT_VIRTIO_SLOTS, virtioSlotBase, virtioSlotIrq } from "./memory-map.ts";

export type { VirtioSlot } from "../virtio/slot.ts";

/**
 * The ISA string the hart implements, for the device tree's `riscv,isa`
 * (and anything else that must agree with the hart: tests, misa checks).
 */
export const VIRT_ISA = "rv64imafdc_zicsr_zifencei_zihintpause_zba_zbb_zbs_sstc";
/** The same with the H extension (`--cpu h=on`), as QEMU writes it. */
export const VIRT_ISA_H = "rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb_zbs_sstc";
/** The largest translation mode the hart supports (it also does Sv39 and Sv48; Linux picks the largest). */
export const VIRT_MMU_TYPE = "riscv,sv57";
/** /chosen stdout-path: the UART. */
export const VIRT_STDOUT_PATH = "/soc/serial@10000000";

export interface VirtOptions {
  /** Guest RAM in bytes, at 0x8000_0000. */
  ramSize: number;
  /** Number of harts, 1..8 (default 1). */
  harts?: number;
  /** mtime source in timebase ticks; omitted → deterministic time from the instruction count (design 2.6). */
  clock?: Clock;
  /** The H extension on every hart (misa.H, `riscv,isa` with "h"). */
  hExt?: boolean;
  /** Translate hot code to WebAssembly (default true). */
  jit?: boolean;
  /** Executions before code is translated (MachineOptions.jitHot; default the JIT's own). */
  jitHot?: number;
  /** Count the JIT's work into this profile (MachineOptions.jitProfile). */
  jitProfile?: JitProfile;
  /** Compile in the background, installing from the event loop (MachineOptions.jitAsync). */
  jitAsync?: boolean;
  /** Kernel command line for /chosen bootargs. */
  bootargs?: string;
  /** Guest-physical range of an initrd already in RAM, for /chosen linux,initrd-start/end. */
  initrd?: { start: number; end: number };
  /** Where the UART's output goes (omitted: dropped). */
  console?: CharBackend;
  /**
   * Time for the goldfish RTC. Omitted: with a real-time `clock`, the host's
   * Date.now(); in deterministic mode, the Unix epoch plus mtime, so the same
   * inputs give the same guest dates.
   */
  wallClock?: WallClock;
  /** Called when the guest writes the test finisher (poweroff, reboot, fail). The machine also stops. */
  onExit?: (e: TestExit) => void;
  /** Devices for the virtio-mmio slots, by slot index; missing entries get an empty slot (device ID 0). */
  virtio?: (((slot: VirtioSlot) => VirtioSlotDevice) | undefined)[];
  /**
   * The built-in SBI (`--bios builtin`): the board creates it and saves it
   * with everything else. Omitted: no SBI (firmware runs in M-mode, or
   * bootVirt adds one).
   */
  sbi?: BuiltinSbiOptions;
}

/** What a virtio-mmio slot holds: a register window that saves its state (a transport, or an empty slot). */
export type VirtioSlotDevice = MmioDevice & Stateful<unknown>;

/**
 * One stateful part of the board. `name` keys its record in a snapshot
 * ("hart0", "clint", "virtio3", ...), so it is stable across versions.
 */
export interface BoardComponent {
  readonly name: string;
  readonly state: Stateful<unknown>;
  /** Where it sits on the bus, if anywhere (the CLINT is mapped by Machine). */
  readonly mmio?: { readonly base: number; readonly size: number; readonly device: MmioDevice };
  /** Adds its device-tree node(s), if it has any. */
  readonly fdt?: (ctx: FdtContext) => void;
  /**
   * Restored after everything else: the PLIC, whose record overrides the
   * line levels the other devices drive while they are restored.
   */
  readonly restoreLast?: boolean;
}

/** A component's record in a snapshot. */
export interface ComponentRecord {
  name: string;
  state: unknown;
}

/** A board device that knows its place and node, as a component (the type demands state). */
function busDevice(
  name: string,
  d: MmioDevice & FdtDevice & Stateful<unknown> & { readonly base: number; readonly size: number },
  restoreLast = false,
): BoardComponent {
  return {
    name,
    state: d,
    mmio: { base: d.base, size: d.size, device: d },
    fdt: (ctx) => d.fdt(ctx),
    restoreLast,
  };
}

/**
 * A QEMU-virt-compatible machine: a Machine (RAM, harts, CLINT) plus PLIC,
 * UART, RTC, test finisher and the virtio-mmio slots, with its device tree.
 *
 *   const vm = new VirtMachine({ ramSize: 256 << 20, harts: 2, console, bootargs: "console=ttyS0" });
 *   const dtb = vm.dtb();               // load into RAM, pass its address in a1
 *   vm.uart.receive(bytes);             // host keyboard → guest
 *   vm.machine.run(n);                  // returns "stopped" after the guest powers off; see vm.exit
 */
export class VirtMachine {
  readonly machine: Machine;
  readonly plic: Plic;
  readonly uart: Uart16550;
  readonly rtc: GoldfishRtc;
  readonly test: SifiveTest;
  /** The device in each virtio-mmio slot (EmptyVirtioSlot where none was given). */
  readonly virtio: VirtioSlotDevice[] = [];
  /** Kernel command line written to /chosen by deviceTree(). */
  bootargs: string;
  /** Initrd range written to /chosen by deviceTree(). */
  initrd: { start: number; end: number } | undefined;
  /** The last finisher write, if the guest asked to stop. */
  exit: TestExit | undefined = undefined;
  /**
   * Everything on the board that has state, in save order: harts, time
   * base, CLINT, then the bus devices in bus and device-tree order (the
   * PLIC first: the others name it as interrupt parent), then the SBI.
   */
  private readonly parts: BoardComponent[] = [];
  private sbiFirmware: BuiltinSbi | undefined;

  constructor(opts: VirtOptions) {
    const harts = opts.harts ?? 1;
    if (!Number.isInteger(harts) || harts < 1 || harts > MAX_HARTS)
      throw new RangeError(`harts must be 1..${MAX_HARTS}`);
    if ((opts.virtio?.length ?? 0) > VIRT_VIRTIO_SLOTS)
      throw new RangeError(`at most ${VIRT_VIRTIO_SLOTS} virtio-mmio devices`);
    const m = new Machine({
      ramSize: opts.ramSize,
      harts,
      clock: opts.clock,
      jit: opts.jit,
      jitHot: opts.jitHot,
      jitProfile: opts.jitProfile,
      jitAsync: opts.jitAsync,
      hExt: opts.hExt,
    });
    this.machine = m;
    this.bootargs = opts.bootargs ?? "";
    this.initrd = opts.initrd;

    const wall: WallClock =
      opts.wallClock ??
      (opts.clock !== undefined
        ? { nowMs: () => Date.now() }
        : { nowMs: () => m.clock.now() / (TIMEBASE_HZ / 1000) });

    const map = VIRT_MEMMAP;
    this.plic = new Plic(m.harts, map.plic.base);
    this.uart = new Uart16550({
      irq: this.plic.line(VIRT_IRQ.uart),
      backend: opts.console,
      base: map.uart.base,
      irqNumber: VIRT_IRQ.uart,
    });
    this.rtc = new GoldfishRtc({
      clock: wall,
      irq: this.plic.line(VIRT_IRQ.rtc),
      base: map.rtc.base,
      irqNumber: VIRT_IRQ.rtc,
    });
    this.test = new SifiveTest((e) => {
      this.exit = e;
      m.stopRequested = true;
      opts.onExit?.(e);
    }, map.test.base);

    for (const h of m.harts) {
      const state: Stateful<HartState> = {
        saveState: () => saveHartState(h),
        restoreState: (s) => restoreHartState(h, s),
      };
      this.parts.push({ name: `hart${h.id}`, state });
    }
    this.parts.push({ name: "time", state: m.timeBase() });
    this.parts.push({
      name: "clint",
      state: m.clint,
      // The CLINT belongs to Machine (which maps it); its node is written here.
      fdt: (ctx) => clintFdt(ctx),
    });
    this.parts.push(
      busDevice("plic", this.plic, true),
      busDevice("uart", this.uart),
      busDevice("rtc", this.rtc),
      busDevice("test", this.test),
    );

    for (let n = 0; n < VIRT_VIRTIO_SLOTS; n++) {
      const base = virtioSlotBase(n);
      const irqNumber = virtioSlotIrq(n);
      const make = opts.virtio?.[n];
      const dev: VirtioSlotDevice =
        make !== undefined
          ? make({
              index: n,
              base,
              size: VIRTIO_MMIO_SIZE,
              irqNumber,
              irq: this.plic.line(irqNumber),
              mem: m.mem,
              holdIdle: (held) => m.idleHolds.push(held),
              nowMs: () => m.clock.now() / TICKS_PER_MS,
              pollDevice: (poll, wakeAtMs) => {
                m.pollers.push(() => poll(m.pollTime / TICKS_PER_MS));
                m.wakeups.push(() => wakeAtMs() * TICKS_PER_MS);
              },
            })
          : new EmptyVirtioSlot(base, irqNumber);
      this.virtio.push(dev);
      this.parts.push({
        name: `virtio${n}`,
        state: dev,
        mmio: { base, size: VIRTIO_MMIO_SIZE, device: dev },
        // Every slot's node is the same whatever sits in it (virtio-mmio is probed at run time).
        fdt: (ctx) => virtioMmioFdt(ctx, base, irqNumber),
      });
    }

    for (const p of this.parts) if (p.mmio !== undefined) m.bus.map(p.mmio.base, p.mmio.size, p.mmio.device);
    m.pollers.push(() => this.rtc.poll());
    if (opts.sbi !== undefined) this.useBuiltinSbi(opts.sbi);
  }

  /** The built-in SBI, if the board has one (VirtOptions.sbi or useBuiltinSbi). */
  get sbi(): BuiltinSbi | undefined {
    return this.sbiFirmware;
  }

  /**
   * Installs the built-in SBI as every hart's ecall hook and lists it as a
   * component (its HSM states and console input are saved). Once only.
   */
  useBuiltinSbi(opts: BuiltinSbiOptions): BuiltinSbi {
    if (this.sbiFirmware !== undefined) throw new Error("the board already has a built-in SBI");
    const sbi = new BuiltinSbi(this.machine, opts);
    this.sbiFirmware = sbi;
    this.parts.push({ name: "sbi", state: sbi });
    return sbi;
  }

  /** The stateful components, in save order. */
  get components(): readonly BoardComponent[] {
    return this.parts;
  }

  /** Every component's record, in save order (RAM is saved by saveVm, snapshot/machine-snapshot.ts). */
  saveComponents(): ComponentRecord[] {
    return this.parts.map((p) => ({ name: p.name, state: p.state.saveState() }));
  }

  /**
   * Restores every component from its record. The records must name
   * exactly this board's components in order (a snapshot of a board with
   * other harts or devices is refused before anything is loaded). Each
   * component validates its record before loading it, but a bad record for
   * a later component leaves earlier ones loaded: on an error, discard the
   * machine (design 2.8: restore goes into a freshly built machine).
   */
  restoreComponents(records: readonly ComponentRecord[]): void {
    const want = this.parts.map((p) => p.name);
    const got = Array.isArray(records) ? records.map((r) => String((r as ComponentRecord | null)?.name)) : [];
    if (want.join(",") !== got.join(",")) {
      throw new StateError(
        "machine",
        `the snapshot holds ${got.join(", ") || "nothing"} but this machine has ${want.join(", ")}: restore with the configuration the snapshot was taken with`,
      );
    }
    const last: number[] = [];
    for (let i = 0; i < this.parts.length; i++) {
      if (this.parts[i].restoreLast) last.push(i);
      else this.parts[i].state.restoreState(records[i].state);
    }
    for (const i of last) this.parts[i].state.restoreState(records[i].state);
  }

  /** The whole device tree, built from the device list (each device adds its own node). */
  deviceTree(): FdtBuilder {
    const m = this.machine;
    const b = new FdtBuilder();
    const root = b.root
      .u32("#address-cells", 2)
      .u32("#size-cells", 2)
      .string("compatible", "riscv-virtio")
      .string("model", "riscv-virtio,qemu");

    const chosen = root.addNode("chosen");
    if (this.bootargs !== "") chosen.string("bootargs", this.bootargs);
    chosen.string("stdout-path", VIRT_STDOUT_PATH);
    if (this.initrd !== undefined) {
      chosen.u64("linux,initrd-start", this.initrd.start).u64("linux,initrd-end", this.initrd.end);
    }

    root
      .addNode(unitName("memory", VIRT_MEMMAP.dram.base))
      .string("device_type", "memory")
      .u64("reg", VIRT_MEMMAP.dram.base, m.mem.ramSize);

    const cpus = root
      .addNode("cpus")
      .u32("#address-cells", 1)
      .u32("#size-cells", 0)
      .u32("timebase-frequency", TIMEBASE_HZ);
    const cpuNodes: FdtNode[] = [];
    const intc: FdtNode[] = [];
    for (let i = 0; i < m.harts.length; i++) {
      const cpu = cpus
        .addNode(unitName("cpu", i))
        .string("device_type", "cpu")
        .u32("reg", i)
        .string("status", "okay")
        .string("compatible", "riscv")
        .string("riscv,isa", m.harts[i].hExt ? VIRT_ISA_H : VIRT_ISA)
        .string("mmu-type", VIRT_MMU_TYPE);
      intc.push(
        cpu
          .addNode("interrupt-controller")
          .u32("#interrupt-cells", 1)
          .empty("interrupt-controller")
          .string("compatible", "riscv,cpu-intc"),
      );
      cpuNodes.push(cpu);
    }
    const cluster = cpus.addNode("cpu-map").addNode("cluster0");
    for (let i = 0; i < cpuNodes.length; i++) cluster.addNode(`core${i}`).cells("cpu", cpuNodes[i]);

    const soc = root
      .addNode("soc")
      .u32("#address-cells", 2)
      .u32("#size-cells", 2)
      .string("compatible", "simple-bus")
      .empty("ranges");
    const ctx: FdtContext = { root, soc, cpuIntc: intc };

    for (const p of this.parts) p.fdt?.(ctx);
    return b;
  }

  /** The flattened device tree (DTB) to hand to firmware or the kernel in a1. */
  dtb(): Uint8Array {
    return this.deviceTree().build();
  }

  /** Host input for the console UART; returns how many bytes were taken (see Uart16550.receive). */
  receive(bytes: Uint8Array): number {
    return this.uart.receive(bytes);
  }
}

/** The CLINT's node: its two lines per hart (machine software and timer interrupts). */
function clintFdt(ctx: FdtContext): FdtNode {
  const ext: (number | FdtNode)[] = [];
  for (const n of ctx.cpuIntc) ext.push(n, IRQ_M_SOFT, n, IRQ_M_TIMER);
  const { base, size } = VIRT_MEMMAP.clint;
  return ctx.soc
    .addNode(unitName("clint", base))
    .cells("interrupts-extended", ...ext)
    .u64("reg", base, size)
    .strings("compatible", "sifive,clint0", "riscv,clint0");
}

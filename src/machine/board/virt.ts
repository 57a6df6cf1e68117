/**
 * The QEMU `virt` board (design 2.1): the memory map of QEMU's
 * hw/riscv/virt.c, its devices wired to the PLIC, and a device tree
 * generated from the device list, so firmware and kernels built for QEMU
 * `virt` (OpenSBI, U-Boot, Linux) run unmodified.
 *
 *   0x0000_0000_0010_0000  sifive_test (+ syscon poweroff/reboot)
 *   0x0000_0000_0010_1000  goldfish RTC          IRQ 11
 *   0x0000_0000_0200_0000  CLINT
 *   0x0000_0000_0c00_0000  PLIC
 *   0x0000_0000_1000_0000  NS16550A UART         IRQ 10
 *   0x0000_0000_1000_1000  virtio-mmio slot n at +n*0x1000, IRQ 1+n (8 slots)
 *   0x0000_0000_8000_0000  RAM
 */
import type { MmioDevice } from "../bus/mmio.ts";
import { IRQ_M_SOFT, IRQ_M_TIMER } from "../cpu/constants.ts";
import type { CharBackend, IrqLine, WallClock } from "../devices/backends.ts";
import { CLINT_BASE, CLINT_SIZE, type Clock } from "../devices/clint.ts";
import { GoldfishRtc, RTC_IRQ, type RtcState } from "../devices/goldfish_rtc.ts";
import { Plic, type PlicState } from "../devices/plic.ts";
import { SifiveTest, type SifiveTestState, type TestExit } from "../devices/sifive_test.ts";
import { UART_IRQ, Uart16550, type UartState } from "../devices/uart16550.ts";
import { FdtBuilder, type FdtNode } from "../fdt/builder.ts";
import type { FdtContext, FdtDevice } from "../fdt/device.ts";
import { unitName } from "../fdt/device.ts";
import { MAX_HARTS, RAM_BASE } from "../memory/layout.ts";
import { expectVersion } from "../snapshot/state.ts";
import {
  EmptyVirtioSlot,
  VIRTIO_MMIO_COUNT,
  VIRTIO_MMIO_IRQ_BASE,
  VIRTIO_MMIO_SIZE,
  virtioMmioFdt,
  virtioSlotBase,
} from "../virtio/empty-slot.ts";
import { Machine, TIMEBASE_HZ } from "./machine.ts";

/**
 * The ISA string the hart implements, for the device tree's `riscv,isa`
 * (and anything else that must agree with the hart: tests, misa checks).
 */
export const VIRT_ISA = "rv64imafdc_zicsr_zifencei_zihintpause_zba_zbb_zbs_sstc";
/** The largest translation mode the hart supports (it also does Sv39 and Sv48; Linux picks the largest). */
export const VIRT_MMU_TYPE = "riscv,sv57";
/** /chosen stdout-path: the UART. */
export const VIRT_STDOUT_PATH = "/soc/serial@10000000";

/** What a device placed in a virtio-mmio slot is given. */
export interface VirtioSlot {
  index: number;
  base: number;
  size: number;
  /** The slot's PLIC source number (1 + index). */
  irqNumber: number;
  /** The slot's interrupt line. */
  irq: IrqLine;
  machine: Machine;
}

export interface VirtOptions {
  /** Guest RAM in bytes, at 0x8000_0000. */
  ramSize: number;
  /** Number of harts, 1..8 (default 1). */
  harts?: number;
  /** mtime source in timebase ticks; omitted → deterministic time from the instruction count (design 2.6). */
  clock?: Clock;
  /** Translate hot code to WebAssembly (default true). */
  jit?: boolean;
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
  virtio?: (((slot: VirtioSlot) => MmioDevice) | undefined)[];
}

/** Device state of the board's own devices (harts, RAM and virtio devices are saved by their owners). */
export interface VirtDevicesState {
  version: 1;
  plic: PlicState;
  uart: UartState;
  rtc: RtcState;
  test: SifiveTestState;
}

/** A device on the board: where it is mapped and how it describes itself in the device tree. */
interface Placed {
  device: MmioDevice;
  base: number;
  size: number;
  fdt(ctx: FdtContext): void;
}

/** Places a board device that knows its own base, size and node. */
function placed(d: MmioDevice & FdtDevice & { readonly base: number; readonly size: number }): Placed {
  return { device: d, base: d.base, size: d.size, fdt: (ctx) => d.fdt(ctx) };
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
  readonly virtio: MmioDevice[] = [];
  /** Kernel command line written to /chosen by deviceTree(). */
  bootargs: string;
  /** Initrd range written to /chosen by deviceTree(). */
  initrd: { start: number; end: number } | undefined;
  /** The last finisher write, if the guest asked to stop. */
  exit: TestExit | undefined = undefined;
  /** Devices in bus and device-tree order (the PLIC first: the others name it as interrupt parent). */
  private readonly devices: Placed[] = [];

  constructor(opts: VirtOptions) {
    const harts = opts.harts ?? 1;
    if (!Number.isInteger(harts) || harts < 1 || harts > MAX_HARTS)
      throw new RangeError(`harts must be 1..${MAX_HARTS}`);
    if ((opts.virtio?.length ?? 0) > VIRTIO_MMIO_COUNT)
      throw new RangeError(`at most ${VIRTIO_MMIO_COUNT} virtio-mmio devices`);
    const m = new Machine({ ramSize: opts.ramSize, harts, clock: opts.clock, jit: opts.jit });
    this.machine = m;
    this.bootargs = opts.bootargs ?? "";
    this.initrd = opts.initrd;

    const wall: WallClock =
      opts.wallClock ??
      (opts.clock !== undefined
        ? { nowMs: () => Date.now() }
        : { nowMs: () => m.clock.now() / (TIMEBASE_HZ / 1000) });

    this.plic = new Plic(m.harts);
    this.uart = new Uart16550({ irq: this.plic.line(UART_IRQ), backend: opts.console });
    this.rtc = new GoldfishRtc({ clock: wall, irq: this.plic.line(RTC_IRQ) });
    this.test = new SifiveTest((e) => {
      this.exit = e;
      m.stopRequested = true;
      opts.onExit?.(e);
    });
    this.devices.push(placed(this.plic), placed(this.uart), placed(this.rtc), placed(this.test));

    for (let n = 0; n < VIRTIO_MMIO_COUNT; n++) {
      const base = virtioSlotBase(n);
      const irqNumber = VIRTIO_MMIO_IRQ_BASE + n;
      const make = opts.virtio?.[n];
      const dev =
        make !== undefined
          ? make({
              index: n,
              base,
              size: VIRTIO_MMIO_SIZE,
              irqNumber,
              irq: this.plic.line(irqNumber),
              machine: m,
            })
          : new EmptyVirtioSlot(base, irqNumber);
      this.virtio.push(dev);
      // Every slot's node is the same whatever sits in it (virtio-mmio is probed at run time).
      this.devices.push({
        device: dev,
        base,
        size: VIRTIO_MMIO_SIZE,
        fdt: (ctx) => virtioMmioFdt(ctx, base, irqNumber),
      });
    }

    for (const d of this.devices) m.bus.map(d.base, d.size, d.device);
    m.pollers.push(() => this.rtc.poll());
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
      .addNode(unitName("memory", RAM_BASE))
      .string("device_type", "memory")
      .u64("reg", RAM_BASE, m.mem.ramSize);

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
        .string("riscv,isa", VIRT_ISA)
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

    // The CLINT belongs to Machine; its node is written here.
    const clintExt: (number | FdtNode)[] = [];
    for (const n of intc) clintExt.push(n, IRQ_M_SOFT, n, IRQ_M_TIMER);
    soc
      .addNode(unitName("clint", CLINT_BASE))
      .cells("interrupts-extended", ...clintExt)
      .u64("reg", CLINT_BASE, CLINT_SIZE)
      .strings("compatible", "sifive,clint0", "riscv,clint0");

    for (const d of this.devices) d.fdt(ctx);
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

  saveDevicesState(): VirtDevicesState {
    return {
      version: 1,
      plic: this.plic.saveState(),
      uart: this.uart.saveState(),
      rtc: this.rtc.saveState(),
      test: this.test.saveState(),
    };
  }

  /**
   * Restores the board devices; the PLIC last, so the harts' external-interrupt
   * lines end up consistent. Each device validates its record before loading
   * it, but a bad record for a later device leaves earlier ones loaded: on an
   * error, discard the machine (design 2.8: restore builds a fresh machine).
   */
  restoreDevicesState(s: VirtDevicesState): void {
    expectVersion("virt devices", s, 1);
    this.test.restoreState(s.test);
    this.uart.restoreState(s.uart);
    this.rtc.restoreState(s.rtc);
    this.plic.restoreState(s.plic);
  }
}

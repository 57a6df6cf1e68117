import type { MmioDevice, MmioResult } from "../bus/mmio.ts";
import { type FdtContext, type FdtDevice, interruptParent, unitName } from "../fdt/device.ts";
import type { FdtNode } from "../fdt/node.ts";
import { expectNumber, expectVersion, StateError } from "../snapshot/state.ts";
import type { CharBackend, IrqLine } from "./backends.ts";

export const UART_SIZE = 0x100;
/** Input clock as on QEMU virt (3.6864 MHz); drivers derive the divisor from it. */
export const UART_CLOCK_HZ = 0x38_4000;
/** Receive FIFO depth of a 16550A. */
export const UART_FIFO_SIZE = 16;
/** Host-side input buffer behind the FIFO: pasted text waits here instead of overrunning. */
export const UART_HOST_QUEUE = 4096;

// Register offsets (reg-shift 0, 8-bit registers; the 0x100 window mirrors every 8 bytes as on QEMU).
const RBR_THR_DLL = 0;
const IER_DLM = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

// IER bits (16550 datasheet, table 2).
const IER_ERBFI = 0x01; // received data available
const IER_ETBEI = 0x02; // transmitter holding register empty
const IER_ELSI = 0x04; // receiver line status
// IER bit 3 (modem status) is stored but never fires: the modem inputs are constant.
// IIR values: bit 0 = no interrupt pending, bits 3:1 = id, bits 7:6 = 11 when FIFOs are enabled.
const IIR_NO_INT = 0x01;
const IIR_THRI = 0x02;
const IIR_RDI = 0x04;
const IIR_RLSI = 0x06;
const IIR_CTI = 0x0c;
const IIR_FIFO = 0xc0;
// FCR bits.
const FCR_FE = 0x01;
const FCR_RFR = 0x02; // reset receive FIFO
const FCR_XFR = 0x04; // reset transmit FIFO
// LCR bit 7: divisor latch access.
const LCR_DLAB = 0x80;
// MCR: DTR 0x01, RTS 0x02, OUT1 0x04, OUT2 0x08, LOOP 0x10.
const MCR_LOOP = 0x10;
// LSR bits.
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_ERRORS = 0x1e; // OE | PE | FE | BI
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const LSR_RXFE = 0x80;
// MSR: CTS 0x10, DSR 0x20, RI 0x40, DCD 0x80. Without a modem the inputs read as an idle, connected line.
const MSR_IDLE = 0xb0;
/**
 * LSR reads in a row, with no transmission between, after which the guest counts as polling for
 * input (U-Boot, OpenSBI's getchar): a driver waiting to transmit reads LSR once per byte sent.
 */
const POLLING_LSR_READS = 64;
/** FCR bits 7:6 → receive trigger level. */
const TRIGGER = [1, 4, 8, 14];

/** The UART as plain data (design 2.8). */
export interface UartState {
  version: 1;
  ier: number;
  fcr: number;
  lcr: number;
  mcr: number;
  /** Error bits of LSR (OE, PE, FE, BI, RXFE); DR, THRE and TEMT are derived. */
  lsrErrors: number;
  scr: number;
  dll: number;
  dlm: number;
  thrIpending: boolean;
  /** Receive FIFO contents, oldest first. */
  rx: Uint8Array;
  /** Host input not yet in the FIFO, oldest first. */
  hostQueue: Uint8Array;
}

/**
 * NS16550A as on QEMU virt. Transmission is instantaneous: a THR write goes
 * straight to the CharBackend, so THR is always empty (LSR THRE|TEMT). Host
 * input enters through receive() into a bounded queue that refills the
 * 16-byte FIFO as the guest reads, so a paste is not lost to overruns. The
 * character-timeout interrupt fires as soon as data below the trigger level
 * is waiting (the guest's clock is not the host's, so "4 character times" is
 * taken as already elapsed).
 */
export class Uart16550 implements MmioDevice, FdtDevice {
  readonly name = "uart16550";
  readonly base: number;
  readonly size = UART_SIZE;
  readonly irqNumber: number;
  private readonly irq: IrqLine;
  private readonly backend: CharBackend | undefined;
  /** Reused for every transmitted byte; backends copy what they keep (no allocation per byte). */
  private readonly txByte = new Uint8Array(1);

  private ier = 0;
  private fcr = 0;
  private lcr = 0;
  private mcr = 0;
  private lsrErrors = 0;
  private scr = 0;
  private dll = 0;
  private dlm = 0;
  /** THR-empty interrupt armed (set when THR empties or ETBEI turns on, cleared by reading IIR with that id). */
  private thrIpending = false;
  private irqLevel = false;
  /** LSR reads since the last transmission or receive-FIFO reset (up to POLLING_LSR_READS). */
  private lsrReads = 0;

  /** Receive FIFO ring; holds at most 1 byte while FIFOs are disabled (16450 mode). */
  private readonly rx = new Uint8Array(UART_FIFO_SIZE);
  private rxHead = 0;
  private rxCount = 0;
  /** Host input ring. */
  private readonly queue = new Uint8Array(UART_HOST_QUEUE);
  private qHead = 0;
  private qCount = 0;

  /** `base` and `irqNumber` come from the board's memory map (board/memory-map.ts). */
  constructor(opts: { irq: IrqLine; backend?: CharBackend; base: number; irqNumber: number }) {
    this.irq = opts.irq;
    this.backend = opts.backend;
    this.base = opts.base;
    this.irqNumber = opts.irqNumber;
  }

  /**
   * Host input: queues what fits (up to UART_HOST_QUEUE bytes waiting) and
   * returns how many bytes were taken; the host keeps the rest and retries.
   */
  receive(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, UART_HOST_QUEUE - this.qCount);
    for (let i = 0; i < n; i++) this.queue[(this.qHead + this.qCount + i) % UART_HOST_QUEUE] = bytes[i];
    this.qCount += n;
    if (n > 0) {
      this.pump();
      this.updateIrq();
    }
    return n;
  }

  /**
   * True when a driver is receiving: the received-data interrupt is enabled, or the guest polls
   * LSR. The host keeps console input until then: bytes given earlier would be lost when the
   * driver starts and resets the FIFO (Linux's 8250 startup does), or would never be read.
   * Derived from registers (and a poll count), so a restored UART answers the same.
   */
  get acceptsInput(): boolean {
    return (this.ier & IER_ERBFI) !== 0 || this.lsrReads >= POLLING_LSR_READS;
  }

  /** Bytes of host input not yet read by the guest (FIFO + queue). */
  get pendingInput(): number {
    return this.rxCount + this.qCount;
  }

  private get fifoEnabled(): boolean {
    return (this.fcr & FCR_FE) !== 0;
  }

  /** Moves host input into the FIFO while there is room; the line is disconnected in loopback mode. */
  private pump(): void {
    if ((this.mcr & MCR_LOOP) !== 0) return;
    const cap = this.fifoEnabled ? UART_FIFO_SIZE : 1;
    while (this.qCount > 0 && this.rxCount < cap) {
      this.rx[(this.rxHead + this.rxCount) % UART_FIFO_SIZE] = this.queue[this.qHead];
      this.rxCount++;
      this.qHead = (this.qHead + 1) % UART_HOST_QUEUE;
      this.qCount--;
    }
  }

  /** A byte arriving on the serial input (loopback): overrun if there is no room. */
  private rxPush(b: number): void {
    const cap = this.fifoEnabled ? UART_FIFO_SIZE : 1;
    if (this.rxCount >= cap) {
      this.lsrErrors |= LSR_OE;
      if (!this.fifoEnabled) this.rx[this.rxHead] = b; // 16450: the holding register is overwritten
      return;
    }
    this.rx[(this.rxHead + this.rxCount) % UART_FIFO_SIZE] = b;
    this.rxCount++;
  }

  private clearRx(): void {
    this.rxHead = 0;
    this.rxCount = 0;
    this.lsrErrors &= ~(LSR_ERRORS | LSR_RXFE);
  }

  /** The interrupt identification, in 16550 priority order (datasheet table 4), without the FIFO bits. */
  private interruptId(): number {
    if ((this.ier & IER_ELSI) !== 0 && (this.lsrErrors & LSR_ERRORS) !== 0) return IIR_RLSI;
    if ((this.ier & IER_ERBFI) !== 0 && this.rxCount > 0) {
      if (!this.fifoEnabled || this.rxCount >= TRIGGER[this.fcr >> 6]) return IIR_RDI;
      return IIR_CTI;
    }
    if ((this.ier & IER_ETBEI) !== 0 && this.thrIpending) return IIR_THRI;
    // Modem status (id 0) never fires: the modem inputs are constant, so no delta bits.
    return IIR_NO_INT;
  }

  private updateIrq(): void {
    const level = this.interruptId() !== IIR_NO_INT;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }

  private lsr(): number {
    return this.lsrErrors | LSR_THRE | LSR_TEMT | (this.rxCount > 0 ? LSR_DR : 0);
  }

  private msr(): number {
    if ((this.mcr & MCR_LOOP) === 0) return MSR_IDLE;
    // Loopback (datasheet, MCR bit 4): DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD.
    const m = this.mcr;
    return ((m & 0x01) << 5) | ((m & 0x02) << 3) | ((m & 0x04) << 4) | ((m & 0x08) << 4);
  }

  private transmit(b: number): void {
    if ((this.mcr & MCR_LOOP) !== 0) this.rxPush(b);
    else if (this.backend !== undefined) {
      this.txByte[0] = b;
      this.backend.write(this.txByte);
    }
    // Sent at once: THR is empty again, which arms the THRE interrupt.
    this.thrIpending = true;
  }

  /** Any access size; the byte register is at offset & 7, wider reads are zero-extended. */
  read(off: number, _size: number, res: MmioResult): number {
    res.hi = 0;
    switch (off & 7) {
      case RBR_THR_DLL: {
        if ((this.lcr & LCR_DLAB) !== 0) return this.dll;
        if (this.rxCount === 0) return 0;
        const b = this.rx[this.rxHead];
        this.rxHead = (this.rxHead + 1) % UART_FIFO_SIZE;
        this.rxCount--;
        if (this.rxCount === 0) this.lsrErrors &= ~LSR_RXFE;
        this.pump();
        this.updateIrq();
        return b;
      }
      case IER_DLM:
        return (this.lcr & LCR_DLAB) !== 0 ? this.dlm : this.ier;
      case IIR_FCR: {
        const id = this.interruptId();
        if (id === IIR_THRI) {
          this.thrIpending = false;
          this.updateIrq();
        }
        return id | (this.fifoEnabled ? IIR_FIFO : 0);
      }
      case LCR:
        return this.lcr;
      case MCR:
        return this.mcr;
      case LSR: {
        if (this.lsrReads < POLLING_LSR_READS) this.lsrReads++;
        const v = this.lsr();
        if ((this.lsrErrors & LSR_ERRORS) !== 0) {
          this.lsrErrors &= ~LSR_ERRORS; // reading LSR clears the error bits
          this.updateIrq();
        }
        return v;
      }
      case MSR:
        return this.msr();
      default:
        return this.scr;
    }
  }

  write(off: number, _size: number, lo: number, _hi: number): void {
    const v = lo & 0xff;
    switch (off & 7) {
      case RBR_THR_DLL:
        if ((this.lcr & LCR_DLAB) !== 0) this.dll = v;
        else {
          if (this.lsrReads < POLLING_LSR_READS) this.lsrReads = 0; // waiting to send, not polling
          this.thrIpending = false;
          this.transmit(v);
          this.updateIrq();
        }
        return;
      case IER_DLM: {
        if ((this.lcr & LCR_DLAB) !== 0) {
          this.dlm = v;
          return;
        }
        const changed = (this.ier ^ v) & 0x0f;
        this.ier = v & 0x0f;
        // Turning ETBEI on while THR is empty raises THRE again (what Linux's THRE test expects; QEMU does the same).
        if ((changed & IER_ETBEI) !== 0) this.thrIpending = (this.ier & IER_ETBEI) !== 0;
        this.updateIrq();
        return;
      }
      case IIR_FCR: {
        let f = v;
        // Changing the FIFO enable clears both FIFOs (datasheet, FCR bit 0).
        if (((f ^ this.fcr) & FCR_FE) !== 0) f |= FCR_RFR | FCR_XFR;
        if ((f & FCR_RFR) !== 0) {
          this.clearRx();
          this.lsrReads = 0; // a driver (re)starting: it says again how it receives
        }
        if ((f & FCR_XFR) !== 0) this.thrIpending = true; // the (always empty) transmitter FIFO is reset
        this.fcr = f & 0xc9; // FE, DMA mode, trigger level
        this.pump();
        this.updateIrq();
        return;
      }
      case LCR:
        this.lcr = v;
        return;
      case MCR: {
        const wasLoop = (this.mcr & MCR_LOOP) !== 0;
        this.mcr = v & 0x1f;
        if (wasLoop && (this.mcr & MCR_LOOP) === 0) this.pump();
        this.updateIrq();
        return;
      }
      case SCR:
        this.scr = v;
        return;
      default:
        return; // LSR and MSR are read-only
    }
  }

  /** `serial@10000000` as QEMU virt writes it. */
  fdt(ctx: FdtContext): FdtNode {
    return ctx.soc
      .addNode(unitName("serial", this.base))
      .u32("interrupts", this.irqNumber)
      .cells("interrupt-parent", interruptParent(ctx, this.name))
      .u32("clock-frequency", UART_CLOCK_HZ)
      .u64("reg", this.base, this.size)
      .string("compatible", "ns16550a");
  }

  saveState(): UartState {
    const rx = new Uint8Array(this.rxCount);
    for (let i = 0; i < this.rxCount; i++) rx[i] = this.rx[(this.rxHead + i) % UART_FIFO_SIZE];
    const hostQueue = new Uint8Array(this.qCount);
    for (let i = 0; i < this.qCount; i++) hostQueue[i] = this.queue[(this.qHead + i) % UART_HOST_QUEUE];
    return {
      version: 1,
      ier: this.ier,
      fcr: this.fcr,
      lcr: this.lcr,
      mcr: this.mcr,
      lsrErrors: this.lsrErrors,
      scr: this.scr,
      dll: this.dll,
      dlm: this.dlm,
      thrIpending: this.thrIpending,
      rx,
      hostQueue,
    };
  }

  /** Validates everything first; then loads and re-drives the interrupt line. */
  restoreState(s: UartState): void {
    const who = "uart16550";
    expectVersion(who, s, 1);
    const ier = expectNumber(who, "ier", s.ier, 0, 0x0f);
    const fcr = expectNumber(who, "fcr", s.fcr, 0, 0xff);
    if ((fcr & ~0xc9) !== 0) throw new StateError(who, "fcr has bits that do not stick");
    const lcr = expectNumber(who, "lcr", s.lcr, 0, 0xff);
    const mcr = expectNumber(who, "mcr", s.mcr, 0, 0x1f);
    const lsrErrors = expectNumber(who, "lsrErrors", s.lsrErrors, 0, 0xff);
    if ((lsrErrors & ~(LSR_ERRORS | LSR_RXFE)) !== 0)
      throw new StateError(who, "lsrErrors holds non-error bits");
    const scr = expectNumber(who, "scr", s.scr, 0, 0xff);
    const dll = expectNumber(who, "dll", s.dll, 0, 0xff);
    const dlm = expectNumber(who, "dlm", s.dlm, 0, 0xff);
    if (typeof s.thrIpending !== "boolean") throw new StateError(who, "thrIpending must be a boolean");
    if (!(s.rx instanceof Uint8Array) || s.rx.length > ((fcr & FCR_FE) !== 0 ? UART_FIFO_SIZE : 1)) {
      throw new StateError(who, "rx must be a Uint8Array that fits the FIFO");
    }
    if (!(s.hostQueue instanceof Uint8Array) || s.hostQueue.length > UART_HOST_QUEUE) {
      throw new StateError(who, `hostQueue must be a Uint8Array of at most ${UART_HOST_QUEUE} bytes`);
    }
    this.ier = ier;
    this.fcr = fcr;
    this.lcr = lcr;
    this.mcr = mcr;
    this.lsrErrors = lsrErrors;
    this.scr = scr;
    this.dll = dll;
    this.dlm = dlm;
    this.thrIpending = s.thrIpending;
    this.rx.set(s.rx);
    this.rxHead = 0;
    this.rxCount = s.rx.length;
    this.queue.set(s.hostQueue);
    this.qHead = 0;
    this.qCount = s.hostQueue.length;
    this.irqLevel = this.interruptId() !== IIR_NO_INT;
    this.irq.set(this.irqLevel);
  }
}

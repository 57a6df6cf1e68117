/**
 * virtio-console (virtio 1.2, 5.3), a single port without MULTIPORT:
 * queue 0 is receiveq (host → guest), queue 1 transmitq (guest → host).
 * Output goes to a CharBackend as the UART's does; host input comes in
 * through receive(), like Uart16550.receive().
 *
 * Linux binds it to the hvc driver. The default guest also has the SBI
 * console as an hvc device (CONFIG_HVC_RISCV_SBI), which takes hvc0, so the
 * virtio console is /dev/hvc1 there (checked by tests/boot/virtio.test.ts);
 * in a kernel without the SBI console it is /dev/hvc0.
 */
import type { CharBackend } from "../devices/backends.ts";
import { expectNumber, expectVersion, StateError } from "../snapshot/state.ts";
import { readConfigBytes, VIRTIO_ID_CONSOLE, type VirtioContext, type VirtioDevice } from "./device.ts";
import { DescriptorChain } from "./queue.ts";

/** Queue indices of port 0 (5.3.2). */
export const CONSOLE_RECEIVEQ = 0;
export const CONSOLE_TRANSMITQ = 1;
/** Host input held while the guest has no receive buffers posted; receive() takes no more. */
export const CONSOLE_INPUT_BUFFER = 4096;

/*
 * Configuration space (struct virtio_console_config, 5.3.4): le16 cols,
 * le16 rows (valid with VIRTIO_CONSOLE_F_SIZE), le32 max_nr_ports (with
 * MULTIPORT), le32 emerg_wr (with EMERG_WRITE). Virtus offers none of the
 * three features, so the fields read 0.
 */
const CONFIG_SIZE = 12;

export interface VirtioConsoleState {
  version: 1;
  /** Host input not yet delivered to the guest. */
  input: Uint8Array;
}

/** A single-port virtio console. */
export class VirtioConsole implements VirtioDevice {
  readonly name = "virtio-console";
  readonly deviceId = VIRTIO_ID_CONSOLE;
  readonly featuresLo = 0;
  readonly featuresHi = 0;
  readonly queueSizes = [64, 64];
  readonly configSize = CONFIG_SIZE;
  private readonly output: CharBackend | undefined;
  private readonly config = new Uint8Array(CONFIG_SIZE);
  /** Pending host input, a ring of CONFIG_INPUT_BUFFER bytes. */
  private readonly input = new Uint8Array(CONSOLE_INPUT_BUFFER);
  private inHead = 0;
  private inCount = 0;
  private ctx: VirtioContext | undefined;
  private rxChain: DescriptorChain | undefined;
  private txChain: DescriptorChain | undefined;

  constructor(opts: { output?: CharBackend } = {}) {
    this.output = opts.output;
  }

  /**
   * Host keyboard → guest. Buffers up to CONSOLE_INPUT_BUFFER bytes until
   * the guest posts receive buffers; returns how many bytes were taken
   * (the caller retries the rest later, as with the UART).
   */
  receive(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, CONSOLE_INPUT_BUFFER - this.inCount);
    for (let i = 0; i < n; i++)
      this.input[(this.inHead + this.inCount + i) % CONSOLE_INPUT_BUFFER] = bytes[i];
    this.inCount += n;
    if (n > 0) this.deliver();
    return n;
  }

  /** Host input bytes not yet given to the guest. */
  get pendingInput(): number {
    return this.inCount;
  }

  readConfig(offset: number, size: number): number {
    return readConfigBytes(this.config, offset, size);
  }

  writeConfig(): void {}

  attach(ctx: VirtioContext): void {
    this.ctx = ctx;
    this.rxChain = new DescriptorChain(ctx.mem);
    this.txChain = new DescriptorChain(ctx.mem);
  }

  activate(): void {
    this.deliver();
  }

  /** Keeps pending input: it was typed at the host, not sent to this driver instance. */
  reset(): void {}

  queueNotify(index: number): void {
    if (index === CONSOLE_RECEIVEQ) this.deliver();
    else if (index === CONSOLE_TRANSMITQ) this.transmit();
  }

  /** Sends every queued transmit chain's readable bytes to the backend. */
  private transmit(): void {
    const ctx = this.ctx;
    const c = this.txChain;
    if (ctx === undefined || c === undefined) return;
    const vq = ctx.queues[CONSOLE_TRANSMITQ];
    while (vq.pop(c)) {
      if (this.output !== undefined)
        for (let i = 0; i < c.readCount; i++) this.output.write(c.readableSlice(i));
      vq.push(c, 0);
    }
    vq.notify();
  }

  /** Moves pending input into the guest's receive buffers while both exist. */
  private deliver(): void {
    const ctx = this.ctx;
    const c = this.rxChain;
    if (ctx === undefined || c === undefined || !ctx.active || this.inCount === 0) return;
    const vq = ctx.queues[CONSOLE_RECEIVEQ];
    while (this.inCount > 0 && vq.pop(c)) {
      let written = 0;
      // At most two copies: the pending bytes may wrap around the ring's end.
      while (this.inCount > 0 && written < c.writeBytes) {
        const run = Math.min(this.inCount, CONSOLE_INPUT_BUFFER - this.inHead);
        const n = c.copyToWritable(written, this.input, this.inHead, run);
        if (n === 0) break;
        written += n;
        this.inHead = (this.inHead + n) % CONSOLE_INPUT_BUFFER;
        this.inCount -= n;
      }
      vq.push(c, written);
    }
    vq.notify();
  }

  saveState(): VirtioConsoleState {
    const input = new Uint8Array(this.inCount);
    for (let i = 0; i < this.inCount; i++) input[i] = this.input[(this.inHead + i) % CONSOLE_INPUT_BUFFER];
    return { version: 1, input };
  }

  restoreState(s: VirtioConsoleState): void {
    expectVersion(this.name, s, 1);
    if (!(s.input instanceof Uint8Array)) throw new StateError(this.name, "input must be bytes");
    expectNumber(this.name, "input length", s.input.length, 0, CONSOLE_INPUT_BUFFER);
    this.input.set(s.input);
    this.inHead = 0;
    this.inCount = s.input.length;
  }
}

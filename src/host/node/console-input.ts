/**
 * The terminal (or a pipe) as the VM's console input, for `virtus run`: bytes go to the VM's
 * worker with QEMU's Ctrl-A escapes taken out, the end of a pipe becomes the guest's
 * end-of-file, and input the guest has not taken yet is bounded (the stream is paused above
 * INPUT_LIMIT and resumed when the guest has taken half of it), so `virtus run < big-file` holds
 * at most that much in memory.
 */
import { type EscapeAction, EscapeFilter } from "./console-escape.ts";

/** Console input waiting for the guest beyond this pauses the input stream (backpressure). */
export const INPUT_LIMIT = 1024 * 1024;
export const INPUT_LIMIT_TEXT = "1 MiB";

/** Where the input goes: the VM (its worker). */
export interface ConsoleSink {
  input(bytes: Uint8Array): void;
  endInput(): void;
}

export interface ConsoleInputOptions {
  /** Ctrl-A escapes on (off for data piped into an --exec command). */
  escapes: boolean;
  onEscape(action: EscapeAction): void;
}

export class ConsoleInput {
  private readonly stream: NodeJS.ReadableStream;
  private readonly sink: ConsoleSink;
  private readonly opts: ConsoleInputOptions;
  private readonly filter = new EscapeFilter();
  /** Bytes sent to the VM and not taken by the guest yet. */
  private inFlight = 0;
  private paused = false;
  private readonly onData = (chunk: Buffer) => this.data(chunk);
  private readonly onEnd = () => this.sink.endInput();

  constructor(stream: NodeJS.ReadableStream, sink: ConsoleSink, opts: ConsoleInputOptions) {
    this.stream = stream;
    this.sink = sink;
    this.opts = opts;
    stream.on("data", this.onData);
    stream.on("end", this.onEnd);
  }

  /** Bytes in flight now (sent, not yet taken by the guest). */
  get waiting(): number {
    return this.inFlight;
  }

  /** The guest took `bytes` of the input: resume the stream once half the limit is free. */
  taken(bytes: number): void {
    this.inFlight = Math.max(0, this.inFlight - bytes);
    if (this.paused && this.inFlight <= INPUT_LIMIT / 2) {
      this.paused = false;
      this.stream.resume();
    }
  }

  private data(chunk: Buffer): void {
    if (!this.opts.escapes) return this.send(chunk);
    const { forward, actions } = this.filter.feed(chunk);
    this.send(forward);
    for (const a of actions) this.opts.onEscape(a);
  }

  private send(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.sink.input(bytes);
    this.inFlight += bytes.length;
    if (this.inFlight > INPUT_LIMIT && !this.paused) {
      this.paused = true;
      this.stream.pause();
    }
  }

  close(): void {
    this.stream.off("data", this.onData);
    this.stream.off("end", this.onEnd);
  }
}

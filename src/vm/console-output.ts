import type { CharBackend } from "../machine/host.ts";

/** Output held before it is handed on even in the middle of a chunk. */
export const OUTPUT_BUFFER_BYTES = 64 * 1024;

/**
 * Collects guest console output and hands it on in one piece per flush
 * (the runner flushes after every chunk): one write or message per byte
 * would dominate the run. The bytes go into one fixed buffer, handed on
 * whenever it fills: a guest writing its UART flat out (a byte every two
 * instructions) would otherwise make the host hold a chunk's worth of
 * one-byte pieces, hundreds of thousands, tens of MiB of heap.
 */
export class BufferedOutput implements CharBackend {
  private readonly buf = new Uint8Array(OUTPUT_BUFFER_BYTES);
  private size = 0;
  private readonly sink: (data: Uint8Array) => void;
  /** Bytes handed to the sink so far. */
  flushed = 0;

  constructor(sink: (data: Uint8Array) => void) {
    this.sink = sink;
  }

  write(data: Uint8Array): void {
    if (this.size + data.length > this.buf.length) this.flush();
    if (data.length >= this.buf.length) this.sink(data.slice());
    else {
      this.buf.set(data, this.size);
      this.size += data.length;
    }
  }

  /** Hands on what is held, as a copy of its own (the sink may transfer it). */
  flush(): void {
    if (this.size === 0) return;
    const all = this.buf.slice(0, this.size);
    this.size = 0;
    this.flushed += all.length;
    this.sink(all);
  }
}

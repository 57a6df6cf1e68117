import type { CharBackend } from "../machine/host.ts";

/**
 * Collects guest console output and hands it on in one piece per flush
 * (the runner flushes after every chunk): one write or message per byte
 * would dominate the run.
 */
export class BufferedOutput implements CharBackend {
  private parts: Uint8Array[] = [];
  private size = 0;
  private readonly sink: (data: Uint8Array) => void;

  constructor(sink: (data: Uint8Array) => void) {
    this.sink = sink;
  }

  write(data: Uint8Array): void {
    this.parts.push(data.slice());
    this.size += data.length;
  }

  flush(): void {
    if (this.size === 0) return;
    const all = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      all.set(p, at);
      at += p.length;
    }
    this.parts = [];
    this.size = 0;
    this.sink(all);
  }
}

/**
 * The file behind `--pcap FILE`: records are buffered and appended with
 * one write per 64 KiB or per 200 ms, and at close. A capture is a log that
 * grows during the run (as `tcpdump -w` writes it), not a document to
 * replace atomically; a crash loses at most the last 200 ms.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { VirtusError } from "../../machine/errors.ts";
import type { PcapSink } from "../../net/pcap.ts";

const FLUSH_BYTES = 64 << 10;
const FLUSH_MS = 200;

export class PcapFile implements PcapSink {
  private fd: number | undefined;
  private parts: Uint8Array[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly path: string;

  constructor(path: string) {
    this.path = path;
    try {
      this.fd = openSync(path, "w", 0o644);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new VirtusError("bad-pcap", `--pcap ${path}: cannot create the file (${code ?? "error"})`);
    }
  }

  write(bytes: Uint8Array): void {
    if (this.fd === undefined) return;
    this.parts.push(bytes);
    this.size += bytes.length;
    if (this.size >= FLUSH_BYTES) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.fd === undefined || this.size === 0) return;
    const all = Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    try {
      writeSync(this.fd, all);
    } catch (e) {
      process.stderr.write(`virtus: --pcap ${this.path}: ${(e as Error).message}; capture stopped\n`);
      this.close();
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * A running VM's serial console shared by whoever attaches (WebSocket
 * clients): output goes to every listener and into a bounded backlog, so
 * a client that attaches late first sees the screen it missed (the
 * prompt, say).
 */
export const BACKLOG_BYTES = 64 * 1024;
/** Output a console client may leave unread before it is closed. */
export const CLIENT_UNREAD_BYTES = 1024 * 1024;
/** WebSocket close code for a client that fell behind (an application code, 4000-4999). */
export const SLOW_CLIENT_CLOSE_CODE = 4008;

/** What a console client needs of its WebSocket. */
export interface ConsoleSocket {
  readonly bufferedAmount: number;
  send(bytes: Uint8Array): void;
  close(code: number, reason: string): void;
}

/**
 * A listener sending guest output to one client. A client that stops
 * reading would make the daemon queue the guest's output without end: past
 * CLIENT_UNREAD_BYTES it is closed instead (it may attach again and gets the
 * backlog).
 */
export function clientSender(socket: ConsoleSocket): (bytes: Uint8Array) => void {
  let closed = false;
  return (bytes) => {
    if (closed) return;
    if (socket.bufferedAmount + bytes.length > CLIENT_UNREAD_BYTES) {
      closed = true;
      socket.close(
        SLOW_CLIENT_CLOSE_CODE,
        "the console client fell 1 MiB behind the guest's output; attach again",
      );
    } else socket.send(bytes);
  };
}

export class ConsoleHub {
  private readonly listeners = new Set<(bytes: Uint8Array) => void>();
  private chunks: Uint8Array[] = [];
  private size = 0;
  /** Bytes the guest wrote since start. */
  total = 0;

  push(bytes: Uint8Array): void {
    this.total += bytes.length;
    this.chunks.push(bytes);
    this.size += bytes.length;
    while (this.size - this.chunks[0].length >= BACKLOG_BYTES) this.size -= this.chunks.shift()!.length;
    for (const l of this.listeners) l(bytes);
  }

  /** The most recent output, at most BACKLOG_BYTES. */
  backlog(): Uint8Array {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - BACKLOG_BYTES));
  }

  listen(f: (bytes: Uint8Array) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  /** The backlog as text (tests and `info` use it to find a prompt). */
  text(): string {
    return Buffer.from(this.backlog()).toString("latin1");
  }
}

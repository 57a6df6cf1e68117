import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { TIMEBASE_HZ } from "../../machine/board/machine.ts";
import type { VirtMachine } from "../../machine/board/virt.ts";
import type { CharBackend } from "../../machine/devices/backends.ts";
import { ESCAPE_HELP, EscapeFilter } from "./console-escape.ts";

/** Instructions between looks at the host (input, output, timers). */
const CHUNK = 1_000_000;

/** Buffers guest console output and writes it in one go per chunk (one write per byte would dominate). */
export class BufferedOutput implements CharBackend {
  private parts: Uint8Array[] = [];
  private readonly sink: (data: Uint8Array) => void;
  constructor(sink: (data: Uint8Array) => void) {
    this.sink = sink;
  }
  write(data: Uint8Array): void {
    this.parts.push(data.slice());
  }
  flush(): void {
    if (this.parts.length === 0) return;
    const all = Buffer.concat(this.parts);
    this.parts = [];
    this.sink(all);
  }
}

export type RunOutcome =
  | { kind: "poweroff" }
  | { kind: "reboot" }
  | { kind: "fail"; code: number }
  | { kind: "quit" };

/**
 * Drives a virt machine on the Node event loop: runs it in chunks, feeds it
 * console input (with QEMU's Ctrl-A escapes), sleeps while every hart waits
 * for an interrupt, and resolves when the guest powers off, reboots, fails
 * or the user quits.
 */
export async function runVm(
  vm: VirtMachine,
  io: {
    input: NodeJS.ReadableStream | undefined;
    output: BufferedOutput;
    /** Hands console input to the guest; returns how many bytes it took (the rest is retried later). */
    receive: (bytes: Uint8Array) => number;
    /** How the guest asked to stop, as reported by the board or the firmware. */
    outcome: () => RunOutcome | undefined;
    writeHost: (text: string) => void;
  },
): Promise<RunOutcome> {
  const m = vm.machine;
  const escapes = new EscapeFilter();
  let quit = false;
  const pending: Uint8Array[] = [];
  const onData = (chunk: Buffer) => {
    const { forward, actions } = escapes.feed(chunk);
    if (forward.length) pending.push(forward);
    for (const a of actions) {
      if (a === "quit") quit = true;
      else io.writeHost(`\r\n${ESCAPE_HELP}\r\n`);
    }
  };
  io.input?.on("data", onData);
  const feedInput = () => {
    while (pending.length) {
      const head = pending[0];
      const took = io.receive(head);
      if (took >= head.length) pending.shift();
      else {
        pending[0] = head.subarray(took);
        break;
      }
    }
  };
  try {
    for (;;) {
      feedInput();
      const reason = m.run(CHUNK);
      io.output.flush();
      const out = io.outcome();
      if (out) return out;
      if (quit) return { kind: "quit" };
      if (reason === "idle") {
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, 1));
        // Deterministic time holds still while idle, except while a device waits on the host.
        if (m.deterministic && m.idleHeld()) m.idleFor(((performance.now() - t0) * TIMEBASE_HZ) / 1000);
      } else await yieldToEventLoop();
    }
  } finally {
    io.output.flush();
    io.input?.off("data", onData);
  }
}

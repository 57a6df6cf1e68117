import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { TIMEBASE_HZ } from "../../machine/board/machine.ts";
import type { CharBackend } from "../../machine/host.ts";
import type { GuestExit, Vm } from "../../vm/build.ts";
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

/** How a run ended: the guest's own exit, or the user quit. */
export type RunOutcome = GuestExit | { kind: "quit" };

/**
 * The process exit code of a run: 0 on power-off or quit, the guest's fail
 * code (1..255) otherwise. The one place outcomes become exit codes.
 */
export function exitCodeOf(outcome: RunOutcome, writeHost: (text: string) => void): number {
  if (outcome.kind === "fail") return Math.min(255, Math.max(1, outcome.code));
  if (outcome.kind === "reboot")
    writeHost("virtus: the guest asked to reboot; stopping (reboot is not supported yet)\n");
  return 0;
}

/**
 * Drives a VM on the Node event loop: runs it in chunks, feeds it console
 * input (with QEMU's Ctrl-A escapes), sleeps while every hart waits for an
 * interrupt, and resolves when the guest powers off, reboots, fails or the
 * user quits.
 */
export async function runVm(
  vm: Vm,
  io: {
    input: NodeJS.ReadableStream | undefined;
    output: BufferedOutput;
    writeHost: (text: string) => void;
  },
): Promise<RunOutcome> {
  const m = vm.board.machine;
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
      const took = vm.sendInput(head);
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
      const out = vm.guestExit();
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

/**
 * Runs a VM on this thread for `virtus run` (src/cli/run.ts).
 *
 * For whoever moves runs into the worker runner (src/vm/runner.ts, vm-session.ts): issue 9's
 * contracts live here and in run.ts, each with a test that must stay green:
 * - exitCodeOf: `exec` -> its status, `panic` -> EXIT_PANIC (125) + one line
 *   (tests/host/vm-runner-input.test.ts, tests/boot/run-scripting.test.ts);
 * - input: kept until taken, the source paused above INPUT_LIMIT, no Ctrl-A escapes for piped
 *   --exec input, end of piped input -> endOfInput() bytes, the shell's Ctrl-D only when the
 *   guest is quiet (sendEofWhenQuiet);
 * - run.ts: a `reboot` outcome rebuilds the VM unless config.reboot === "exit"; the --kernel
 *   silence hint after 10 s without output.
 */
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
  /** Bytes written to the sink so far. */
  flushed = 0;
  flush(): void {
    if (this.parts.length === 0) return;
    const all = Buffer.concat(this.parts);
    this.parts = [];
    this.flushed += all.length;
    this.sink(all);
  }
}

/** How a run ended: the guest's own exit, or the user quit. */
export type RunOutcome = GuestExit | { kind: "quit" };

/** Exit status when the guest's kernel panicked. */
export const EXIT_PANIC = 125;

/** Console input waiting for the guest beyond this pauses the input stream (backpressure). */
export const INPUT_LIMIT = 1024 * 1024;
export const INPUT_LIMIT_TEXT = "1 MiB";

/**
 * The process exit code of a run: 0 on power-off, reboot (with --no-reboot) or quit, an --exec
 * command's status, EXIT_PANIC with the reason on a kernel panic, the guest's fail code (1..255)
 * otherwise. The one place outcomes become exit codes.
 */
export function exitCodeOf(outcome: RunOutcome, writeHost: (text: string) => void): number {
  switch (outcome.kind) {
    case "fail":
      return Math.min(255, Math.max(1, outcome.code));
    case "exec":
      return outcome.status;
    case "panic":
      writeHost(`virtus: the guest kernel panicked: ${outcome.reason}\n`);
      return EXIT_PANIC;
    default:
      return 0;
  }
}

/**
 * Before the end of piped input reaches a shell, the guest's console driver must have taken all
 * input before it, and the guest must have printed nothing and (in real time) had every hart
 * waiting for this long of guest time: Ctrl-D means end-of-file only to a reader that is waiting
 * (typed ahead into a terminal that is not reading yet, it becomes just a character), and a shell
 * waiting at its prompt prints nothing and idles. (A deterministic guest's idle time leaps to its
 * next timer, so there the quiet time alone tells.)
 */
const EOF_QUIET_TICKS = TIMEBASE_HZ / 2;

/**
 * What the guest gets when piped input ends: Ctrl-D (VEOF), which ends a line-editing shell at an
 * empty line and a canonical-mode read. After an unfinished last line, an --exec command gets a
 * second Ctrl-D (the first hands over the unfinished line); a shell gets a newline at once (its
 * Ctrl-D only ends an empty line) and the Ctrl-D once its console is quiet.
 */
export function endOfInput(
  lastByte: number | undefined,
  exec: boolean,
): { now: Uint8Array; whenQuiet: Uint8Array } {
  const complete = lastByte === undefined || lastByte === 0x0a;
  if (exec) return { now: new Uint8Array(complete ? [0x04] : [0x04, 0x04]), whenQuiet: new Uint8Array(0) };
  return { now: new Uint8Array(complete ? [] : [0x0a]), whenQuiet: new Uint8Array([0x04]) };
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
    input: (NodeJS.ReadableStream & { isTTY?: boolean }) | undefined;
    output: BufferedOutput;
    writeHost: (text: string) => void;
  },
): Promise<RunOutcome> {
  const m = vm.board.machine;
  const escapes = new EscapeFilter();
  const input = io.input;
  const piped = input !== undefined && input.isTTY !== true;
  const exec = vm.config.exec !== undefined;
  // Piped data for an --exec command is data, not keystrokes: no Ctrl-A escapes in it.
  const useEscapes = !(exec && piped);
  let quit = false;
  const pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let lastByte: number | undefined;
  let paused = false;
  const enqueue = (bytes: Uint8Array) => {
    if (bytes.length === 0) return;
    pending.push(bytes);
    pendingBytes += bytes.length;
    if (pendingBytes > INPUT_LIMIT && !paused) {
      paused = true;
      input?.pause();
    }
  };
  const onData = (chunk: Buffer) => {
    if (chunk.length > 0) lastByte = chunk[chunk.length - 1];
    if (!useEscapes) return enqueue(chunk);
    const { forward, actions } = escapes.feed(chunk);
    enqueue(forward);
    for (const a of actions) {
      if (a === "quit") quit = true;
      else if (a === "snapshot")
        io.writeHost(
          "\r\nvirtus: Ctrl-A s saves snapshots of VMs run with --control PATH (their worker runner)\r\n",
        );
      else io.writeHost(`\r\n${ESCAPE_HELP}\r\n`);
    }
  };
  // An --exec command reads a canonical-mode terminal set up before any input: EOF goes at once.
  let eofWaiting: Uint8Array | undefined;
  const onEnd = () => {
    const eof = endOfInput(lastByte, exec);
    enqueue(eof.now);
    if (eof.whenQuiet.length > 0) eofWaiting = eof.whenQuiet;
  };
  let lastActive = m.clock.now();
  let flushedBefore = io.output.flushed;
  const sendEofWhenQuiet = (idle: boolean) => {
    const uart = vm.board.uart;
    const busy = !idle && !m.deterministic;
    if (io.output.flushed !== flushedBefore || busy || uart.pendingInput > 0 || pending.length > 0) {
      flushedBefore = io.output.flushed;
      lastActive = m.clock.now();
    } else if (eofWaiting && m.clock.now() - lastActive >= EOF_QUIET_TICKS) {
      enqueue(eofWaiting);
      eofWaiting = undefined;
    }
  };
  input?.on("data", onData);
  if (piped) input?.on("end", onEnd);
  const feedInput = () => {
    while (pending.length) {
      const head = pending[0];
      const took = vm.sendInput(head);
      pendingBytes -= Math.min(took, head.length);
      if (took >= head.length) pending.shift();
      else {
        pending[0] = head.subarray(took);
        break;
      }
    }
    if (paused && pendingBytes <= INPUT_LIMIT / 2) {
      paused = false;
      input?.resume();
    }
  };
  try {
    for (;;) {
      feedInput();
      const reason = m.run(CHUNK);
      io.output.flush();
      sendEofWhenQuiet(reason === "idle");
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
    input?.off("data", onData);
    input?.off("end", onEnd);
  }
}

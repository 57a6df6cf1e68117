/**
 * What the guest gets when the console's piped input ends (`virtus run < file`, `--exec`), and
 * when. Platform-neutral: VmRunner applies it between chunks, where it can see the guest.
 */
import { TIMEBASE_HZ } from "../machine/board/machine.ts";

/**
 * Before the end of piped input reaches a shell, the guest's console driver must have taken all
 * input before it, and the guest must have printed nothing and (in real time) had every hart
 * waiting for this long of guest time: Ctrl-D means end-of-file only to a reader that is waiting
 * (typed ahead into a terminal that is not reading yet, it becomes just a character), and a shell
 * waiting at its prompt prints nothing and idles. (A deterministic guest's idle time leaps to its
 * next timer, so there the quiet time alone tells.)
 */
export const EOF_QUIET_TICKS = TIMEBASE_HZ / 2;

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

/** What the watch looks at after each chunk. */
export interface ConsoleActivity {
  /** Guest time in ticks. */
  now: number;
  /** Every hart waited for an interrupt in the last chunk. */
  idle: boolean;
  deterministic: boolean;
  /** Console bytes the guest has printed so far (any counter that grows with output). */
  printed: number;
  /** Input bytes waiting, in the UART and in front of it. */
  inputWaiting: number;
}

/** Holds the shell's Ctrl-D until the console has been quiet for EOF_QUIET_TICKS. */
export class QuietWatch {
  private lastActive = Number.NEGATIVE_INFINITY;
  private printedBefore = -1;
  private held: Uint8Array | undefined;

  /** Keep `bytes` until the console is quiet. */
  hold(bytes: Uint8Array): void {
    if (bytes.length > 0) this.held = bytes;
  }

  get holding(): boolean {
    return this.held !== undefined;
  }

  /** Called after each chunk: the held bytes once the guest has been quiet long enough. */
  check(a: ConsoleActivity): Uint8Array | undefined {
    const busy = !a.idle && !a.deterministic;
    if (a.printed !== this.printedBefore || busy || a.inputWaiting > 0 || this.lastActive > a.now) {
      this.printedBefore = a.printed;
      this.lastActive = a.now;
      return undefined;
    }
    if (this.held === undefined || a.now - this.lastActive < EOF_QUIET_TICKS) return undefined;
    const out = this.held;
    this.held = undefined;
    return out;
  }
}

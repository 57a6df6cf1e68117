/**
 * Finds a Linux kernel panic in the guest's console output: Linux prints
 * "Kernel panic - not syncing: REASON" (kernel/panic.c) on every console before it halts or, with
 * panic=N, reboots. The run then ends with the reason instead of rebooting or hanging. Fed every
 * console byte; keeps only what a panic line needs, across chunk boundaries.
 */

const MARKER = "Kernel panic - not syncing: ";
/** Longest reason kept (the line is cut there). */
const MAX_REASON = 200;

export class PanicWatch {
  /** The panic's reason, once one was printed. */
  reason: string | undefined;
  /** The unfinished current line (at most MARKER.length + MAX_REASON characters). */
  private line = "";

  write(data: Uint8Array): void {
    if (this.reason !== undefined) return;
    for (const b of data) {
      if (b === 0x0a || b === 0x0d) {
        this.endLine();
        if (this.reason !== undefined) return;
      } else if (this.line.length < MARKER.length + MAX_REASON + 32) this.line += String.fromCharCode(b);
    }
  }

  private endLine(): void {
    const at = this.line.indexOf(MARKER);
    if (at >= 0) this.reason = this.line.slice(at + MARKER.length, at + MARKER.length + MAX_REASON).trim();
    this.line = "";
  }
}

/**
 * QEMU's console escapes: Ctrl-A then a key. `x` quits, `h` lists the
 * escapes, `s` saves a snapshot (as QEMU's `C-a s` saves disk data), Ctrl-A
 * again sends a literal Ctrl-A to the guest. Everything else passes through. Pure (no I/O) so it can be tested byte by byte.
 */
export const CTRL_A = 0x01;

export type EscapeAction = "quit" | "help" | "snapshot";

export const ESCAPE_HELP = [
  "C-a h    print this help",
  "C-a s    save a snapshot of the VM (next to its first disk, or in the working directory)",
  "C-a x    exit Virtus",
  "C-a C-a  send C-a to the guest",
].join("\r\n");

export class EscapeFilter {
  private pending = false;

  /** Splits input into bytes for the guest and escape actions, in order. */
  feed(data: Uint8Array): { forward: Uint8Array; actions: EscapeAction[] } {
    const out: number[] = [];
    const actions: EscapeAction[] = [];
    for (const b of data) {
      if (this.pending) {
        this.pending = false;
        if (b === 0x78 /* x */) actions.push("quit");
        else if (b === 0x68 /* h */ || b === 0x3f /* ? */) actions.push("help");
        else if (b === 0x73 /* s */) actions.push("snapshot");
        else if (b === CTRL_A) out.push(CTRL_A);
        // any other key after C-a is dropped, as QEMU does
      } else if (b === CTRL_A) this.pending = true;
      else out.push(b);
    }
    return { forward: Uint8Array.from(out), actions };
  }
}

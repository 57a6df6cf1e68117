/**
 * `virtus run --exec CMD`: run one command in the default guest, like `docker run`.
 *
 * The command reaches the guest as a second cpio archive appended to its initramfs (Linux unpacks
 * concatenated archives, buffer-format.rst): /etc/virtus/exec holds CMD as a script and
 * /etc/virtus/stty the console settings for it. The guest's /init (guest/rootfs/init) answers on
 * the virtio console (hvc1), one line each: `ready` once the console is set up for CMD, then
 * `exit N` with CMD's status after the console has sent all of CMD's output.
 *
 * Until `ready` the host holds console input and keeps boot messages off the output; after
 * `exit N` the run ends with status N (the guest's power-off message never shows).
 */

import { badConfig, expectObject, expectString } from "./validate.ts";

/** `virtus run --exec`: the command and the console settings it runs with. */
export interface ExecConfig {
  /** A shell script (one command or several lines). */
  command: string;
  /** `stty` arguments for the console while it runs, e.g. "-echo -onlcr" for pipes. */
  stty: string;
}

export function validateExecConfig(v: unknown, where: string): ExecConfig {
  const o = expectObject(v, where);
  const command = expectString(o.command, `${where}.command`);
  const stty = expectString(o.stty ?? "", `${where}.stty`);
  if (command.trim() === "") throw badConfig(`${where}.command`, "give a command");
  if (!/^[-a-z0-9 ]*$/.test(stty)) throw badConfig(`${where}.stty`, "only stty flags like -echo -onlcr");
  return { command, stty };
}

/** The files /init looks for. */
const EXEC_DIR = "etc/virtus";

/** One newc cpio entry (buffer-format.rst: "070701", 13 fields of 8 hex digits, name, data, 4-byte padding). */
function newcEntry(name: string, mode: number, data: Uint8Array, ino: number): Uint8Array {
  const nameBytes = new TextEncoder().encode(`${name}\0`);
  const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0];
  const header = `070701${fields.map((f) => f.toString(16).padStart(8, "0")).join("")}`;
  const pad = (n: number) => (4 - (n % 4)) % 4;
  const headLen = header.length + nameBytes.length;
  const out = new Uint8Array(headLen + pad(headLen) + data.length + pad(data.length));
  out.set(new TextEncoder().encode(header), 0);
  out.set(nameBytes, header.length);
  out.set(data, headLen + pad(headLen));
  return out;
}

/** The newc archive with /etc/virtus/exec and /etc/virtus/stty. */
export function execArchive(command: string, stty: string): Uint8Array {
  const enc = new TextEncoder();
  const parts = [
    newcEntry(EXEC_DIR, 0o040755, new Uint8Array(0), 1),
    newcEntry(`${EXEC_DIR}/exec`, 0o100644, enc.encode(`${command}\n`), 2),
    newcEntry(`${EXEC_DIR}/stty`, 0o100644, enc.encode(`${stty}\n`), 3),
    newcEntry("TRAILER!!!", 0, new Uint8Array(0), 0),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `initrd` followed by the exec archive, which Linux wants at a 4-byte boundary (zeros between are skipped). */
export function appendExecArchive(initrd: Uint8Array, command: string, stty: string): Uint8Array {
  const archive = execArchive(command, stty);
  const start = initrd.length + ((4 - (initrd.length % 4)) % 4);
  const out = new Uint8Array(start + archive.length);
  out.set(initrd, 0);
  out.set(archive, start);
  return out;
}

/** Boot output kept while it is held back (shown if the guest ends before it runs the command). */
const HELD_BYTES = 64 * 1024;

/**
 * The console the user sees in an --exec run: output only between `ready` and `exit N` (CMD's
 * own); until then the last HELD_BYTES are kept, and released if the guest never got to CMD.
 */
export class ExecConsole {
  private readonly out: { write(data: Uint8Array): void };
  private readonly channel: ExecChannel;
  private held: Uint8Array[] = [];
  private heldBytes = 0;

  constructor(out: { write(data: Uint8Array): void }, channel: ExecChannel) {
    this.out = out;
    this.channel = channel;
  }

  write(data: Uint8Array): void {
    if (this.channel.status !== undefined) return;
    if (this.channel.ready) {
      this.out.write(data);
      return;
    }
    this.held.push(data.slice());
    this.heldBytes += data.length;
    while (this.heldBytes > HELD_BYTES && this.held.length > 1) this.heldBytes -= this.held.shift()!.length;
  }

  /** Writes what was held back (the guest ended or failed before CMD ran). */
  release(): void {
    for (const d of this.held) this.out.write(d);
    this.held = [];
    this.heldBytes = 0;
  }
}

/** Longest line /init sends on the exec channel; longer ones are not the protocol and are dropped. */
const MAX_LINE = 32;

/**
 * The host's end of the exec protocol: fed what the guest writes to the virtio console (untrusted:
 * only the exact lines `ready` and `exit N` with N in 0..255 count).
 */
export class ExecChannel {
  /** True once the guest said `ready`. */
  ready = false;
  /** CMD's exit status, once the guest said `exit N`. */
  status: number | undefined;
  private line = "";
  private overlong = false;

  write(data: Uint8Array): void {
    for (const b of data) {
      if (b === 0x0a) {
        if (!this.overlong) this.onLine(this.line.replace(/\r$/, ""));
        this.line = "";
        this.overlong = false;
      } else if (this.line.length < MAX_LINE) this.line += String.fromCharCode(b);
      else this.overlong = true;
    }
  }

  private onLine(line: string): void {
    if (line === "ready") this.ready = true;
    const m = /^exit (\d{1,3})$/.exec(line);
    if (m && Number(m[1]) <= 255 && this.status === undefined) this.status = Number(m[1]);
  }
}

/**
 * `virtus run`'s side of a VM: the VM runs on this thread behind
 * vm-worker.ts's protocol (vm-in-thread.ts: no worker's isolate, ~15 MiB
 * less memory) and this attaches it to the terminal. The one
 * place where console input (with QEMU's Ctrl-A escapes) goes in, guest
 * output comes out, and how the run ended becomes the exit status
 * (exit-code.ts). Reboots, the end of piped input and --exec are the
 * worker's (src/vm/runner.ts); backpressure on input is console-input.ts.
 */
import { dirname, join, resolve } from "node:path";
import type { VmCommand, VmEvent, VmReply } from "../../vm/commands.ts";
import type { VmConfig } from "../../vm/config.ts";
import type { BootRequest } from "../../vm/protocol.ts";
import type { EscapeAction } from "./console-escape.ts";
import { ESCAPE_HELP } from "./console-escape.ts";
import { ConsoleInput } from "./console-input.ts";
import { exitCodeOf } from "./exit-code.ts";
import { TRACE_STARTUP, traceStartup } from "./startup-trace.ts";
import { VmWorker } from "./vm-worker.ts";

/** Where Ctrl-A s saves: next to the first disk, else the working directory, with the time in the name. */
export function escapeSnapshotPath(config: VmConfig, now = new Date(), cwd = process.cwd()): string {
  const dir = config.disks.length > 0 ? dirname(resolve(cwd, config.disks[0].path)) : cwd;
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, "")
    .replace(/[-:]/g, "")
    .replace("T", "-");
  return join(dir, `virtus-${stamp}.snap`);
}

/** Something else that drives the VM alongside the console (the --control socket). */
export interface SessionAttachment {
  /** Called once the VM is up; returns what to do when the run ends. */
  attach(vm: { execute(cmd: VmCommand): Promise<VmReply> }): { onEvent(e: VmEvent): void; close(): void };
}

export interface SessionOptions {
  input?: NodeJS.ReadStream;
  output?: (bytes: Uint8Array) => void;
  writeHost?: (text: string) => void;
  attachments?: SessionAttachment[];
}

/** Boots (or restores) the VM, runs it attached to the terminal and returns the exit code. */
export async function runSession(boot: BootRequest, opts: SessionOptions = {}): Promise<number> {
  const stdin = opts.input ?? process.stdin;
  const writeHost = opts.writeHost ?? ((t: string) => process.stderr.write(t));
  let output = opts.output ?? ((b: Uint8Array) => process.stdout.write(b));
  if (TRACE_STARTUP) output = firstOutputTraced(output);
  const listeners: ((e: VmEvent) => void)[] = [];
  let consoleIn: ConsoleInput | undefined;
  const worker = await VmWorker.start({
    boot,
    inThread: true,
    onOutput: output,
    onInputTaken: (n) => consoleIn?.taken(n),
    onLog: (t) => writeHost(`${t}\n`),
    onEvent: (e) => {
      for (const l of listeners) l(e);
    },
  });
  const attached = (opts.attachments ?? []).map((a) => a.attach(worker));
  for (const a of attached) listeners.push((e) => a.onEvent(e));

  const snapshotNow = async () => {
    const file = escapeSnapshotPath(worker.config);
    writeHost(`\r\nvirtus: saving a snapshot to ${file}\r\n`);
    const reply = await worker.execute({ execute: "snapshot", arguments: { file } });
    if ("error" in reply) writeHost(`virtus: snapshot failed: ${reply.error.desc}\r\n`);
    else writeHost(`virtus: snapshot saved: ${file}\r\n`);
  };
  const onEscape = (a: EscapeAction) => {
    if (a === "quit") void worker.quit();
    else if (a === "snapshot") void snapshotNow();
    else writeHost(`\r\n${ESCAPE_HELP}\r\n`);
  };
  const tty = stdin.isTTY === true;
  // Piped data for an --exec command is data, not keystrokes: no Ctrl-A escapes in it.
  const escapes = tty || worker.config.exec === undefined;
  consoleIn = new ConsoleInput(stdin, worker, { escapes, onEscape });
  if (tty) stdin.setRawMode(true);
  stdin.resume();
  try {
    return exitCodeOf(await worker.ended, writeHost);
  } finally {
    consoleIn.close();
    if (tty) stdin.setRawMode(false);
    stdin.pause();
    for (const a of attached) a.close();
  }
}

function firstOutputTraced(output: (bytes: Uint8Array) => void): (bytes: Uint8Array) => void {
  let first = true;
  return (bytes) => {
    if (first) traceStartup("first output");
    first = false;
    output(bytes);
  };
}

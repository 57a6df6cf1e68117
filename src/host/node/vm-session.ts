/**
 * `virtus run`'s side of a VM: the VM runs in a worker thread
 * (vm-worker.ts) and this process attaches it to the terminal. The one
 * place where console input (with QEMU's Ctrl-A escapes) goes in, guest
 * output comes out, and how the run ended becomes the exit status.
 */
import { dirname, join, resolve } from "node:path";
import type { VmCommand, VmEvent, VmReply } from "../../vm/commands.ts";
import type { VmConfig } from "../../vm/config.ts";
import type { BootRequest } from "../../vm/protocol.ts";
import { ESCAPE_HELP, EscapeFilter } from "./console-escape.ts";
import { EXIT_PANIC } from "./vm-runner.ts";
import { VmWorker, type WorkerOutcome } from "./vm-worker.ts";

/** Exit status when the VM's worker crashed or had to be killed (EX_SOFTWARE). */
export const EXIT_VM_CRASHED = 70;

/**
 * The process exit code of a run: 0 on power-off, stop or quit, the
 * guest's fail code (1..255), EXIT_VM_CRASHED when the worker died. The one
 * place outcomes become exit codes.
 */
export function exitCodeOf(outcome: WorkerOutcome, writeHost: (text: string) => void): number {
  switch (outcome.kind) {
    case "fail":
      return Math.min(255, Math.max(1, outcome.code));
    case "reboot":
      writeHost("virtus: the guest asked to reboot; stopping (reboot is not supported yet)\n");
      return 0;
    case "crashed":
      writeHost(`virtus: the VM crashed: ${outcome.message}\n`);
      return EXIT_VM_CRASHED;
    case "panic":
      writeHost(`virtus: the guest kernel panicked: ${outcome.reason}\n`);
      return EXIT_PANIC;
    case "exec":
      return outcome.status;
    case "killed":
      writeHost("virtus: the VM did not stop when asked and was killed\n");
      return EXIT_VM_CRASHED;
    default:
      return 0;
  }
}

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

/** Boots (or restores) the VM in a worker, runs it attached to the terminal and returns the exit code. */
export async function runSession(boot: BootRequest, opts: SessionOptions = {}): Promise<number> {
  const stdin = opts.input ?? process.stdin;
  const writeHost = opts.writeHost ?? ((t: string) => process.stderr.write(t));
  const output = opts.output ?? ((b: Uint8Array) => process.stdout.write(b));
  const listeners: ((e: VmEvent) => void)[] = [];
  const worker = await VmWorker.start({
    boot,
    onOutput: output,
    onLog: (t) => writeHost(`${t}\n`),
    onEvent: (e) => {
      for (const l of listeners) l(e);
    },
  });
  const attached = (opts.attachments ?? []).map((a) => a.attach(worker));
  for (const a of attached) listeners.push((e) => a.onEvent(e));

  const escapes = new EscapeFilter();
  const snapshotNow = async () => {
    const file = escapeSnapshotPath(worker.config);
    writeHost(`\r\nvirtus: saving a snapshot to ${file}\r\n`);
    const reply = await worker.execute({ execute: "snapshot", arguments: { file } });
    if ("error" in reply) writeHost(`virtus: snapshot failed: ${reply.error.desc}\r\n`);
    else writeHost(`virtus: snapshot saved: ${file}\r\n`);
  };
  const onData = (chunk: Buffer) => {
    const { forward, actions } = escapes.feed(chunk);
    worker.input(forward);
    for (const a of actions) {
      if (a === "quit") void worker.quit();
      else if (a === "snapshot") void snapshotNow();
      else writeHost(`\r\n${ESCAPE_HELP}\r\n`);
    }
  };
  const tty = stdin.isTTY === true;
  if (tty) stdin.setRawMode(true);
  stdin.on("data", onData);
  stdin.resume();
  try {
    return exitCodeOf(await worker.ended, writeHost);
  } finally {
    stdin.off("data", onData);
    if (tty) stdin.setRawMode(false);
    stdin.pause();
    for (const a of attached) a.close();
  }
}

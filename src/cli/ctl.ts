/**
 * `virtus ctl PATH COMMAND [FILE]`: the client of `virtus run --control
 * PATH` (docs/CONTROL.md). Sends one command, prints its answer (JSON,
 * nothing for an empty one) and exits 0; an error answer is one line on
 * stderr and exit 1; a socket nobody listens on is exit 2.
 *
 *   virtus ctl /tmp/vm.sock status
 *   virtus ctl /tmp/vm.sock snapshot vm.snap     # FILE relative to this shell's directory
 */
import { connect } from "node:net";
import { resolve } from "node:path";
import type { Command } from "commander";
import { VirtusError } from "../machine/errors.ts";
import { VM_COMMANDS, type VmCommand, type VmCommandName } from "../vm/commands.ts";
import { SEGMENT_NAME } from "../vm/profile.ts";

/** How long to wait for an answer (a snapshot of a large VM takes a while). */
const ANSWER_TIMEOUT_MS = 180_000;

/** The command for `NAME [FILE]`; the file is made absolute (the VM runs in another directory). */
export function ctlRequest(name: string, args: readonly string[]): VmCommand {
  if (!(VM_COMMANDS as readonly string[]).includes(name))
    throw new VirtusError(
      "bad-command",
      `ctl ${name}: unknown command (commands: ${VM_COMMANDS.join(", ")})`,
    );
  const n = name as VmCommandName;
  if (n === "snapshot" || n === "restore") {
    if (args.length !== 1)
      throw new VirtusError("bad-command", `ctl ${n}: give one FILE, e.g. ctl PATH ${n} vm.snap`);
    return { execute: n, arguments: { file: resolve(args[0]) } };
  }
  if (n === "profile") {
    if (args.length !== 1 || !SEGMENT_NAME.test(args[0]))
      throw new VirtusError(
        "bad-command",
        "ctl profile: give one NAME (1 to 64 letters, digits or _.:-) for the profile's next segment",
      );
    return { execute: n, arguments: { name: args[0] } };
  }
  if (args.length > 0) throw new VirtusError("bad-command", `ctl ${n}: takes no arguments`);
  return { execute: n } as VmCommand;
}

/** Sends one command over the socket and resolves with the reply object. */
export function sendControlCommand(path: string, command: VmCommand): Promise<Record<string, unknown>> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect(path);
    let buffer = "";
    let greeted = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new VirtusError("control-timeout", `${path}: no answer within ${ANSWER_TIMEOUT_MS / 1000} s`, 1),
      );
    }, ANSWER_TIMEOUT_MS);
    const done = (f: () => void) => {
      clearTimeout(timer);
      socket.end();
      f();
    };
    socket.setEncoding("utf8");
    socket.on("error", (e: NodeJS.ErrnoException) =>
      done(() =>
        reject(
          new VirtusError(
            "bad-control",
            e.code === "ENOENT" || e.code === "ECONNREFUSED"
              ? `${path}: no VM is listening there`
              : `${path}: ${e.code ?? e.message}`,
          ),
        ),
      ),
    );
    socket.on("data", (d: string) => {
      buffer += d;
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const msg = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
        buffer = buffer.slice(nl + 1);
        if (!greeted) {
          greeted = true;
          socket.write(`${JSON.stringify({ ...command, id: 1 })}\n`);
        } else if (msg.id === 1) done(() => resolvePromise(msg));
      }
    });
    socket.on("end", () =>
      done(() => reject(new VirtusError("control-closed", `${path}: the VM closed the connection`, 1))),
    );
  });
}

/** `virtus ctl`: 0 on a return, 1 on an error answer, 2 on bad input. */
export async function ctlCommand(path: string, name: string, args: string[]): Promise<number> {
  const command = ctlRequest(name, args);
  const reply = await sendControlCommand(path, command);
  if ("error" in reply) {
    const e = reply.error as { desc?: string };
    process.stderr.write(`virtus: ${e.desc ?? JSON.stringify(e)}\n`);
    return 1;
  }
  const ret = reply.return;
  if (ret !== undefined && !(typeof ret === "object" && ret !== null && Object.keys(ret).length === 0))
    process.stdout.write(`${JSON.stringify(ret, null, 2)}\n`);
  return 0;
}

/** Registers `virtus ctl` on the program. */
export function addCtlCommand(program: Command): void {
  program
    .command("ctl")
    .description(`send a command to a VM started with --control (${VM_COMMANDS.join(", ")})`)
    .argument("<socket>", "the --control path of the VM")
    .argument("<command>", VM_COMMANDS.join("|"))
    .argument("[args...]", "FILE for snapshot and restore; NAME for profile (the next segment's)")
    .action(async (socket: string, command: string, args: string[]) => {
      process.exitCode = await ctlCommand(socket, command, args);
    });
}

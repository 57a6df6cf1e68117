/**
 * The command vocabulary of a VM (issue 10): what a front end can ask of a
 * running VM, the same whether the words come from the CLI's console
 * escapes, the worker protocol, the `--control` socket (docs/CONTROL.md)
 * or, later, the daemon. Shaped like QMP: `{"execute": NAME, "arguments":
 * {...}}`, answered by `{"return": ...}` or `{"error": {"class", "desc"}}`.
 *
 * | command  | arguments  | does                                                    |
 * |----------|------------|---------------------------------------------------------|
 * | start    |            | runs a VM that was created paused (`--paused`)          |
 * | pause    |            | stops the harts between two chunks; guest time stands  |
 * | resume   |            | runs a paused VM again                                  |
 * | status   |            | state, instructions retired, harts, memory, MAC         |
 * | snapshot | file       | saves the whole VM to `file` (paused while it writes)   |
 * | restore  | file       | replaces the VM with the one saved in `file`            |
 * | stop     |            | ends the guest (as if the power were cut); `quit` exits  |
 * | quit     |            | ends the guest and the VM's host process                |
 * | profile  | name       | with --profile: closes the profile's segment, starts `name` |
 */
import { VirtusError } from "../machine/errors.ts";
import type { GuestExit, VmIoCounters } from "./build.ts";
import { SEGMENT_NAME } from "./profile.ts";

export type { VmIoCounters };

/** Lifecycle of a VM: created (built, not yet run) → running ⇄ paused → stopped. */
export type VmState = "created" | "running" | "paused" | "stopped";

export type VmCommand =
  | { execute: "start" }
  | { execute: "pause" }
  | { execute: "resume" }
  | { execute: "status" }
  | { execute: "snapshot"; arguments: { file: string } }
  | { execute: "restore"; arguments: { file: string } }
  | { execute: "stop" }
  | { execute: "quit" }
  | { execute: "profile"; arguments: { name: string } };

export type VmCommandName = VmCommand["execute"];

export const VM_COMMANDS: readonly VmCommandName[] = [
  "start",
  "pause",
  "resume",
  "status",
  "snapshot",
  "restore",
  "stop",
  "quit",
  "profile",
];

/** The answer to `status`. */
export interface VmStatus {
  state: VmState;
  /** Instructions retired by all harts since boot. */
  instructions: number;
  harts: number;
  memory: number;
  /** The NIC's MAC, or null without a network. */
  mac: string | null;
  deterministic: boolean;
  jit: boolean;
  /** How the guest ended, once it did. */
  guestExit: GuestExit | null;
  io: VmIoCounters;
}

/** The answer to `snapshot`. */
export interface SnapshotResult {
  file: string;
  bytes: number;
  /** Milliseconds the VM was paused to save it. */
  ms: number;
}

/** An asynchronous event, as QMP sends them: `{"event": NAME, "data": {...}}`. */
export type VmEvent =
  | { event: "STATE"; data: { state: VmState; reason: string } }
  | { event: "SNAPSHOT"; data: SnapshotResult }
  | { event: "GUEST_EXIT"; data: GuestExit };

/** QMP-like error classes. */
export type VmErrorClass = "CommandNotFound" | "InvalidArguments" | "WrongState" | "GenericError";

export interface VmError {
  class: VmErrorClass;
  desc: string;
}

export type VmReply = { return: unknown } | { error: VmError };

/** A VirtusError carrying its QMP class, thrown by command handlers. */
export class VmCommandError extends VirtusError {
  readonly errorClass: VmErrorClass;
  constructor(errorClass: VmErrorClass, message: string) {
    super(`vm-${errorClass}`, message);
    this.errorClass = errorClass;
  }
}

/** The error reply for anything a handler threw (a plain Error is a bug: its message still goes back). */
export function errorReply(e: unknown): { error: VmError } {
  if (e instanceof VmCommandError) return { error: { class: e.errorClass, desc: e.message } };
  if (e instanceof VirtusError) return { error: { class: "GenericError", desc: e.message } };
  return { error: { class: "GenericError", desc: e instanceof Error ? e.message : String(e) } };
}

/**
 * Checks a command that arrives as JSON (a socket line, a message) and
 * returns it typed; anything else is a VmCommandError.
 */
export function parseVmCommand(value: unknown): VmCommand {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new VmCommandError("InvalidArguments", 'expected an object like {"execute":"status"}');
  const o = value as Record<string, unknown>;
  const name = o.execute;
  if (typeof name !== "string")
    throw new VmCommandError("InvalidArguments", 'expected "execute" with a command name');
  if (!(VM_COMMANDS as readonly string[]).includes(name))
    throw new VmCommandError(
      "CommandNotFound",
      `the command ${JSON.stringify(name)} has not been found (commands: ${VM_COMMANDS.join(", ")})`,
    );
  const args = o.arguments ?? {};
  if (typeof args !== "object" || args === null || Array.isArray(args))
    throw new VmCommandError("InvalidArguments", '"arguments" must be an object');
  if (name === "snapshot" || name === "restore") {
    const file = (args as Record<string, unknown>).file;
    if (typeof file !== "string" || file === "")
      throw new VmCommandError("InvalidArguments", `${name} needs "arguments": {"file": PATH}`);
    return { execute: name, arguments: { file } };
  }
  if (name === "profile") {
    const segment = (args as Record<string, unknown>).name;
    if (typeof segment !== "string" || !SEGMENT_NAME.test(segment))
      throw new VmCommandError(
        "InvalidArguments",
        'profile needs "arguments": {"name": NAME}, NAME 1 to 64 letters, digits or _.:-',
      );
    return { execute: name, arguments: { name: segment } };
  }
  return { execute: name as Exclude<VmCommandName, "snapshot" | "restore" | "profile"> };
}

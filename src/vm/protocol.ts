/**
 * Messages between a VM's worker (a Node worker thread, later a browser
 * Web Worker) and the host side that owns it. Everything is plain data,
 * so it crosses postMessage (structured clone) unchanged; console bytes
 * are transferred, not copied.
 *
 *   host → worker: boot once, then input, input-end and commands in any order
 *   worker → host: booted (or failed), output, input-taken, replies, events, ended
 */
import type { VmCommand, VmEvent, VmReply, VmStatus } from "./commands.ts";
import type { VmConfig } from "./config.ts";
import type { RunOutcome } from "./runner.ts";

/** How the worker gets its VM: booted from a configuration, or restored from a snapshot file. */
export type BootRequest = (
  | { type: "boot"; config: VmConfig; paused?: boolean }
  | { type: "boot"; restore: { file: string; clone?: CloneRequest }; paused?: boolean }
) & {
  /** The share of one host core the VM may use (src/vm/cpu-cap.ts); omitted: no cap. */
  cpuLimit?: number;
  /** Console input held for the guest at most, bytes (VmRunner's inputLimit); omitted: no bound. */
  inputLimit?: number;
  /** `--profile FILE`: profile the run (src/vm/profile.ts) and write the report to FILE at its end. */
  profile?: string;
};

/** What a clone changes in the restored configuration (see src/vm/clone.ts). */
export interface CloneRequest {
  /** The clone's MAC (default: a fresh random one). */
  mac?: string;
  /** The clone's port forwards (default: none, the original's ports are taken). */
  forwards?: VmConfig["network"]["forwards"];
}

export type ToWorker =
  | BootRequest
  | { type: "input"; bytes: Uint8Array }
  /** The console's input ended (a pipe closed): the guest gets its end-of-file. */
  | { type: "input-end" }
  | { type: "command"; id: number; command: VmCommand };

/** A VirtusError as data: its stable code, message and exit status. */
export interface ErrorData {
  code: string;
  message: string;
  exitCode: number;
}

export type FromWorker =
  | { type: "booted"; status: VmStatus; config: VmConfig }
  | { type: "failed"; error: ErrorData }
  | { type: "output"; bytes: Uint8Array }
  /** The guest took this many bytes of console input (the host side bounds what is in flight). */
  | { type: "input-taken"; bytes: number }
  | { type: "log"; text: string }
  | { type: "reply"; id: number; reply: VmReply }
  | { type: "event"; event: VmEvent }
  | { type: "ended"; outcome: RunOutcome };

/**
 * Messages between the page (web/main.ts) and the VM's Web Worker
 * (worker.ts). Plain data for postMessage; byte arrays are transferred.
 *
 *   page → worker: boot once (a configuration and the files it names, or a snapshot), then input,
 *                  commands, snapshot requests and files dropped into the share
 *   worker → page: booted (or failed), output, stats every second, snapshots, events, ended
 */
import type { VmCommand, VmEvent, VmReply } from "../../vm/commands.ts";
import type { VmConfig } from "../../vm/config.ts";
import type { RunOutcome } from "../../vm/runner.ts";
import type { DiskSource } from "./block.ts";

/** The tag of the share the page's dropped files go to (mount -t 9p -o trans=virtio TAG /mnt). */
export const PAGE_SHARE_TAG = "page";
/** The share's name in the configuration (its hostDir). */
export const PAGE_SHARE_NAME = "page-files";

export type ToBrowserWorker =
  | {
      type: "boot";
      config: VmConfig;
      /** The bytes of every file the configuration names, by name. */
      files: Record<string, Uint8Array>;
      /** A snapshot file (docs/SNAPSHOT.md) to continue instead of booting `config`. */
      snapshot?: Uint8Array;
      /** The disks `config.disks` names, by path (page-config.ts names them disk0, disk1, …). */
      disks?: Record<string, DiskSource>;
      /** `virtus relay`'s WebSocket URL with its token, for a configuration with network user. */
      relay?: string;
    }
  | { type: "input"; bytes: Uint8Array }
  | { type: "command"; id: number; command: VmCommand }
  | { type: "save-snapshot"; id: number }
  | { type: "put-file"; name: string; bytes: Uint8Array };

/** What the page shows once a second. */
export interface BrowserVmStats {
  instructions: number;
  /** Retired instructions per second over the last interval. */
  ips: number;
  /** Blocks translated to WebAssembly so far (0 without the JIT). */
  jitBlocks: number;
  state: string;
}

export type FromBrowserWorker =
  | { type: "booted"; config: VmConfig; restored: boolean }
  | { type: "failed"; message: string }
  | { type: "output"; bytes: Uint8Array }
  | { type: "log"; text: string }
  | { type: "stats"; stats: BrowserVmStats }
  | { type: "reply"; id: number; reply: VmReply }
  | { type: "snapshot"; id: number; bytes?: Uint8Array; error?: string }
  | { type: "event"; event: VmEvent }
  | { type: "ended"; outcome: RunOutcome };

/**
 * Opens the disks of a VmConfig on Node: the one place that turns a
 * DiskConfig into a BlockBackend (new formats and options hook in here).
 */
import type { BlockBackend } from "../../machine/host.ts";
import type { DiskConfig } from "../../vm/disk-config.ts";
import type { Opened } from "../../vm/host-services.ts";
import { FileBlockBackend } from "./block-file.ts";

/** A raw image file; a missing or unreadable one is a VirtusError naming --disk. */
export function openDisk(disk: DiskConfig): Opened<BlockBackend> {
  const backend = new FileBlockBackend(disk.path, { readOnly: disk.readOnly });
  return { backend, close: () => backend.close() };
}

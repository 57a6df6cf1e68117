/**
 * Opens the disks of a VmConfig on Node: the one place that turns a
 * DiskConfig into a BlockBackend. The format is probed by content unless
 * the config names it (host/node/block-image.ts has the rules); with
 * `snapshot`, the guest writes to a throwaway qcow2 overlay.
 */
import type { BlockBackend } from "../../machine/host.ts";
import type { DiskConfig } from "../../vm/disk-config.ts";
import type { Opened } from "../../vm/host-services.ts";
import { openImage, openSnapshotOverlay } from "./block-image.ts";

/** A raw or qcow2 image (with its backing chain); a missing, unreadable or bad one is a VirtusError naming --disk. */
export function openDisk(disk: DiskConfig): Opened<BlockBackend> {
  const what = `--disk ${disk.path}`;
  const backend = disk.snapshot
    ? openSnapshotOverlay(disk.path, { format: disk.format, what })
    : openImage(disk.path, { readOnly: disk.readOnly, format: disk.format, what });
  return { backend, close: () => backend.close() };
}

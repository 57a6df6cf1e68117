/**
 * `--disk FILE,snapshot` overlays that last as long as the run, not the
 * machine: as on QEMU, a guest reboot (or a stop and start of the same VM)
 * keeps what the guest wrote, and only the end of the run throws it away.
 * A reboot builds a fresh machine from the configuration, so the overlay
 * must outlive the machine that opened it: closing a throwaway disk hands
 * it back to this pool, and the next machine that opens the same disk
 * takes it again. Other disks pass through untouched.
 */
import type { BlockBackend } from "../machine/host.ts";
import type { DiskConfig } from "./disk-config.ts";
import type { Opened, VmHostServices } from "./host-services.ts";

export interface ThrowawayDisks {
  /** The host services with openDisk keeping throwaway overlays in the pool. */
  host: VmHostServices;
  /** Ends the run: closes (and so deletes) every overlay in the pool. */
  closeAll(): void;
}

/** Same image, same options: the same overlay (two such disks in one machine get one each). */
const keyOf = (disk: DiskConfig) => JSON.stringify([disk.path, disk.format ?? "", disk.readOnly]);

export function keepThrowawayDisks(host: VmHostServices): ThrowawayDisks {
  const free = new Map<string, Opened<BlockBackend>[]>();
  const all: Opened<BlockBackend>[] = [];
  const openDisk = (disk: DiskConfig): Opened<BlockBackend> => {
    if (!disk.snapshot) return host.openDisk(disk);
    const key = keyOf(disk);
    const pool = free.get(key) ?? [];
    free.set(key, pool);
    let opened = pool.pop();
    if (opened === undefined) {
      opened = host.openDisk(disk);
      all.push(opened);
    }
    const taken = opened;
    let returned = false;
    const close = () => {
      if (returned) return;
      returned = true;
      pool.push(taken);
    };
    return { backend: taken.backend, close };
  };
  const closeAll = () => {
    for (const opened of all.splice(0)) opened.close();
    free.clear();
  };
  return { host: { ...host, openDisk }, closeAll };
}

/**
 * Snapshots of a whole VM on Node (issue 10, items 5-6): `save` writes a
 * VM to one file (src/host/node/snapshot-file.ts: the format, atomic
 * writes, disk identity); `prepare` and `restoreFile` check a file and
 * build a fresh VM from it, continuing where it was saved or, for a clone,
 * as a second VM with its own MAC (src/vm/clone.ts).
 */
import { statSync } from "node:fs";
import type { DecodedSnapshot } from "../../formats/snapshot/file.ts";
import { VirtusError } from "../../machine/errors.ts";
import type { CharBackend } from "../../machine/host.ts";
import { saveVm } from "../../machine/snapshot/machine-snapshot.ts";
import { buildVm, type Vm } from "../../vm/build.ts";
import { cloneConfig, machineDifference } from "../../vm/clone.ts";
import { type VmConfig, validateSavedVmConfig } from "../../vm/config.ts";
import type { VmHostServices } from "../../vm/host-services.ts";
import type { CloneRequest } from "../../vm/protocol.ts";
import type { VmSnapshots } from "../../vm/runner.ts";
import {
  checkDisks,
  diskIdentity,
  readSnapshotFile,
  takeSnapshotFile,
  writeSnapshotFile,
} from "./snapshot-file.ts";
import { TRACE_STARTUP, traceStartup } from "./startup-trace.ts";

export interface NodeSnapshots extends VmSnapshots {
  /** A VM restored from `file` with the file's configuration (a clone's, when `clone` is given). */
  restoreFile(file: string, clone?: CloneRequest): Promise<Vm>;
}

/** The configuration a snapshot was taken with, checked like any other. */
function savedConfig(file: string, decoded: DecodedSnapshot): VmConfig {
  try {
    return validateSavedVmConfig(decoded.meta.config);
  } catch (e) {
    if (e instanceof VirtusError)
      throw new VirtusError(
        "bad-snapshot",
        `${file}: the configuration in the snapshot is not valid (${e.message})`,
      );
    throw e;
  }
}

/**
 * A disk that is gone, resized or replaced makes the restore unsafe: a
 * one-line error. A disk written since the snapshot is only warned about
 * (the VM that saved it may have gone on running; QEMU does not check).
 */
function checkSnapshotDisks(file: string, decoded: DecodedSnapshot, log: (m: string) => void): void {
  for (const p of checkDisks(decoded.meta.disks)) {
    if (p.kind === "modified") log(`${p.message} (restoring anyway)`);
    else throw new VirtusError("snapshot-disk", `${file}: ${p.message}`);
  }
}

export function nodeSnapshots(host: VmHostServices, console: CharBackend): NodeSnapshots {
  const read = (file: string) => {
    const decoded = readSnapshotFile(file);
    return { decoded, config: savedConfig(file, decoded) };
  };
  return {
    save(vm, file) {
      // The snapshot names the disks: the guest's writes so far must be in them.
      vm.flushDisks();
      const disks = vm.config.disks.map((d) => diskIdentity(d.path));
      writeSnapshotFile(file, saveVm(vm.board), { config: vm.config, disks });
      return statSync(file).size;
    },

    prepare(file, current) {
      const { decoded, config } = read(file);
      const diff = machineDifference(config, current.config);
      if (diff !== undefined)
        throw new VirtusError(
          "snapshot-config",
          `${file}: the snapshot was taken with another configuration (${diff}); restore it with virtus run --restore`,
        );
      checkSnapshotDisks(file, decoded, host.log);
      // The running VM keeps its identity (MAC, forwards); the guest gets the snapshot's state.
      const target: VmConfig = { ...current.config };
      if (config.network.mac !== current.config.network.mac && current.config.network.mode !== "none")
        target.network = {
          ...current.config.network,
          guestMac: config.network.guestMac ?? config.network.mac,
        };
      return () => buildVm(target, host, { console, restore: decoded.snapshot });
    },

    async restoreFile(file, clone) {
      const decoded = await takeSnapshotFile(file);
      const config = savedConfig(file, decoded);
      checkSnapshotDisks(file, decoded, host.log);
      traceStartup("disks checked");
      if (TRACE_STARTUP) traceRamRestore(decoded);
      const target = clone === undefined ? config : cloneConfig(config, clone, host.entropy);
      return buildVm(target, host, { console, restore: decoded.snapshot });
    },
  };
}

/** Marks the RAM's decompression in the startup trace (startup-trace.ts). */
function traceRamRestore(decoded: DecodedSnapshot): void {
  const ram = decoded.snapshot.ram;
  if (ram instanceof Uint8Array) return;
  decoded.snapshot.ram = {
    size: ram.size,
    restoreInto(dest, destIsZero) {
      traceStartup("RAM decompress start");
      ram.restoreInto(dest, destIsZero);
      traceStartup("RAM decompress end");
    },
  };
}

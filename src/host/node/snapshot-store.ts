/**
 * Snapshots of a whole VM on Node: `save` writes the VM to one file,
 * `load`/`restoreFile` build a fresh VM from one (the file format itself is
 * src/formats/snapshot*).
 */
import { VirtusError } from "../../machine/errors.ts";
import type { CharBackend } from "../../machine/host.ts";
import type { Vm } from "../../vm/build.ts";
import type { VmHostServices } from "../../vm/host-services.ts";
import type { CloneRequest } from "../../vm/protocol.ts";
import type { VmSnapshots } from "../../vm/runner.ts";

export interface NodeSnapshots extends VmSnapshots {
  /** A VM restored from `file` (a clone when `clone` is given). */
  restoreFile(file: string, clone?: CloneRequest): Promise<Vm>;
}

export function nodeSnapshots(_host: VmHostServices, _console: CharBackend): NodeSnapshots {
  const unavailable = () => new VirtusError("no-snapshots", "snapshots are not available in this build yet");
  return {
    save() {
      throw unavailable();
    },
    async load() {
      throw unavailable();
    },
    async restoreFile() {
      throw unavailable();
    },
  };
}

/**
 * The browser's implementation of the host services a VM needs
 * (src/vm/host-services.ts), for a VM in a Web Worker. There is no file
 * system: the page hands the worker the bytes of every file the
 * configuration names (kernel, initrd), the disks as block backends
 * (memory, a File/Blob, OPFS: block.ts) and the shares as in-memory trees
 * (memory-fs.ts). Paths in the configuration are keys into these tables.
 */
import type { EntropySource } from "../../machine/devices/backends.ts";
import { VirtusError } from "../../machine/errors.ts";
import type { BlockBackend, FsBackend } from "../../machine/host.ts";
import type { VmHostServices } from "../../vm/host-services.ts";
import { openRelay } from "./net-relay.ts";

/** What the page gave the worker, by the names the configuration uses. */
export interface BrowserResources {
  files: Map<string, Uint8Array>;
  disks: Map<string, BlockBackend>;
  shares: Map<string, FsBackend>;
  /** The WebSocket of `virtus relay` (with ?token=…) for network mode user; none without it. */
  relay?: string;
}

export function emptyResources(): BrowserResources {
  return { files: new Map(), disks: new Map(), shares: new Map() };
}

/** The browser's CSPRNG (Web Crypto; at most 65536 bytes per call, as the interface promises). */
export const browserEntropy: EntropySource = {
  fill(dst: Uint8Array): void {
    crypto.getRandomValues(dst);
  },
};

function missing(what: string, name: string): VirtusError {
  return new VirtusError("no-file", `${what} ${name}: the page did not provide it`);
}

/** The services for a VM in this worker; `log` gets diagnostics. */
export function browserHostServices(res: BrowserResources, log: (message: string) => void): VmHostServices {
  return {
    readFile(path, what) {
      const data = res.files.get(path);
      if (data === undefined) throw missing(what, path);
      return data;
    },
    openDisk(disk) {
      const backend = res.disks.get(disk.path);
      if (backend === undefined) throw missing("--disk", disk.path);
      return { backend, close: () => backend.flush() };
    },
    openShare(share) {
      const backend = res.shares.get(share.hostDir);
      if (backend === undefined) throw missing("--share", share.hostDir);
      return { backend, close: () => {} };
    },
    async openNetwork(net) {
      if (net.mode !== "user" || res.relay === undefined)
        throw new VirtusError(
          "bad-network",
          `network ${net.mode}: a browser VM has none, or user through a relay`,
        );
      const r = await openRelay(res.relay);
      return { backend: r.backend, hostActive: r.isOpen, close: r.close };
    },
    monotonicMs: () => performance.now(),
    wallClockMs: () => Date.now(),
    entropy: browserEntropy,
    log,
  };
}

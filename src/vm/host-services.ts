/**
 * What `buildVm` needs from the host that runs the VM: the files a
 * configuration names, opened as the core's backends (src/machine/host.ts),
 * plus time, entropy and a log. Node's implementation is
 * src/host/node/services.ts; a browser Web Worker would back files with
 * OPFS or fetched blobs and the network with a WebSocket relay.
 */
import type { BlockBackend, EntropySource, FsBackend, NetBackend } from "../machine/host.ts";
import type { ShareConfig } from "./config.ts";
import type { DiskConfig } from "./disk-config.ts";
import type { NetworkConfig } from "./network-config.ts";

/** A backend with host resources behind it (a descriptor, sockets) that `close` releases. */
export interface Opened<T> {
  backend: T;
  close(): void;
}

/** An opened network: the NIC's other end and whether the host is busy on the guest's behalf. */
export interface OpenedNetwork extends Opened<NetBackend> {
  /**
   * True while a host connection is open for the guest: an idle
   * deterministic machine must then let time pass at the wall-clock pace
   * (Machine.idleHolds) instead of jumping to its next timer.
   */
  hostActive(): boolean;
}

export interface VmHostServices {
  /**
   * The whole content of a file the configuration names (kernel, initrd,
   * firmware). `what` is how a user names it ("--kernel"); a missing or
   * unreadable file is a VirtusError saying so.
   */
  readFile(path: string, what: string): Uint8Array;
  /**
   * The VM has copied `data`, a readFile result, into guest RAM and will not
   * read it again. A host that made it for that one read may free it now:
   * otherwise a kernel and initrd (~6 MiB for the default guest) stay
   * allocated until the thread's next full garbage collection, which an idle
   * VM may never run, and count in its peak memory. Optional: a host that
   * keeps its files (the browser page, for a reboot) leaves it out.
   */
  release?(data: Uint8Array): void;
  /** Opens a disk; a missing, unreadable or too small image is a VirtusError. */
  openDisk(disk: DiskConfig): Opened<BlockBackend>;
  /** Opens a shared directory; a missing one is a VirtusError. */
  openShare(share: ShareConfig): Opened<FsBackend>;
  /** Starts the network (binds forwarded ports); mode "none" is never asked for. */
  openNetwork(net: NetworkConfig, log: (message: string) => void): Promise<OpenedNetwork>;
  /** A monotonic clock in milliseconds (performance.now()), for real-time guest time. */
  monotonicMs(): number;
  /** Wall-clock time in milliseconds since the Unix epoch, for the RTC. */
  wallClockMs(): number;
  /** The host's CSPRNG for virtio-rng (deterministic runs use a seeded source instead). */
  entropy: EntropySource;
  /** Where the VM's diagnostics go ("virtus: " is added by the host). */
  log(message: string): void;
}

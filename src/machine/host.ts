/**
 * Every service the platform-neutral core asks of its host (design 2.2),
 * gathered in one place. The core never opens a file, a socket or a
 * terminal and never reads the host's clock itself: a host (Node in
 * src/host/node/, later a browser Web Worker) implements these and hands
 * them to the devices, usually through src/vm/build.ts.
 *
 * | service        | used by                | Node implementation                     |
 * |----------------|------------------------|-----------------------------------------|
 * | CharBackend    | UART, SBI console, virtio-console | the runner's console output     |
 * | BlockBackend   | virtio-blk             | host/node/block-file.ts (block-open.ts) |
 * | NetBackend     | virtio-net             | src/net/user-net.ts on host/node/net-host.ts |
 * | FsBackend      | virtio-9p              | host/node/p9-fs.ts                      |
 * | Clock          | CLINT, Sstc, SBI TIME  | src/vm/run-clock.ts on the host's monotonic ms |
 * | WallClock      | goldfish RTC           | Date.now()                              |
 * | EntropySource  | virtio-rng             | host/node/entropy.ts (Web Crypto)       |
 *
 * Each interface is documented where it is defined; this file only
 * re-exports them so a host author has one list to implement.
 */

/** Console bytes out of the guest; input is pushed into the device by the host. */
export type { BlockBackend, CharBackend, EntropySource, WallClock } from "./devices/backends.ts";
/** mtime in timebase ticks (10 MHz); omitted → deterministic time from the instruction count. */
export type { Clock } from "./devices/clint.ts";
/** A shared directory tree for the 9P2000.L server; errors are FsError(errno). */
export type { FsBackend, FsFile, FsStat } from "./virtio/9p/backend.ts";
/** The other end of a virtual NIC: Ethernet frames both ways. */
export type { NetBackend } from "./virtio/net.ts";

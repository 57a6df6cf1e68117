/**
 * Host services that devices use (design 2.2): the core never touches a
 * terminal, a file or the wall clock itself; the host injects these.
 */

/** Byte sink for a console-like device (UART, virtio-console). Input is pushed by the host into the device. */
export interface CharBackend {
  write(data: Uint8Array): void;
}

/** Wall-clock time for the RTC, in milliseconds since the Unix epoch (may have a fraction). */
export interface WallClock {
  nowMs(): number;
}

/** An interrupt request line into the interrupt controller (level-triggered). */
export interface IrqLine {
  set(level: boolean): void;
}

/**
 * A disk image for virtio-blk (design 2.2: the host opens the file; a
 * browser host could back it with memory or OPFS). Synchronous: a request
 * completes inside the guest's QueueNotify write. Methods throw on a host
 * I/O error; the device turns that into VIRTIO_BLK_S_IOERR.
 */
export interface BlockBackend {
  /** Image size in bytes (the device exposes whole 512-byte sectors). */
  readonly size: number;
  /** Writes are refused by the device (VIRTIO_BLK_F_RO) and never reach the backend. */
  readonly readOnly: boolean;
  /** Fills `dst` with the bytes at `offset` (within size). */
  read(offset: number, dst: Uint8Array): void;
  /** Stores `src` at `offset` (within size). */
  write(offset: number, src: Uint8Array): void;
  /** Makes completed writes durable (fsync for a file). */
  flush(): void;
}

/** Random bytes for virtio-rng: the host's CSPRNG, or a seeded generator in deterministic mode. */
export interface EntropySource {
  /** Fills `dst` (at most 65536 bytes per call) with random bytes. */
  fill(dst: Uint8Array): void;
}

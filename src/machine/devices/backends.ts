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

/**
 * Packet captures in the classic libpcap format (what `tcpdump -r` and
 * Wireshark read): a 24-byte file header, then per frame a 16-byte record
 * header (seconds, microseconds, captured and original length) and the
 * frame. Little-endian, magic 0xa1b2c3d4, version 2.4, link type 1
 * (Ethernet).
 *
 * PcapTap sits between a NIC and its backend and records every frame in
 * both directions, as the guest's NIC sees them.
 */
import type { NetBackend, TransmitInfo } from "../machine/virtio/net.ts";

export const PCAP_MAGIC = 0xa1b2c3d4;
export const PCAP_LINKTYPE_ETHERNET = 1;
/** Frames are recorded whole up to this many bytes (TSO segments from the guest can reach 64 KiB). */
export const PCAP_SNAPLEN = 65535;

export function pcapFileHeader(): Uint8Array {
  const h = new Uint8Array(24);
  const v = new DataView(h.buffer);
  v.setUint32(0, PCAP_MAGIC, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setInt32(8, 0, true); // thiszone: UTC
  v.setUint32(12, 0, true); // sigfigs
  v.setUint32(16, PCAP_SNAPLEN, true);
  v.setUint32(20, PCAP_LINKTYPE_ETHERNET, true);
  return h;
}

/** One record: the header and the (possibly cut) frame, stamped `timeMs` (Unix epoch, ms with a fraction). */
export function pcapRecord(frame: Uint8Array, timeMs: number): Uint8Array {
  const caplen = Math.min(frame.length, PCAP_SNAPLEN);
  const r = new Uint8Array(16 + caplen);
  const v = new DataView(r.buffer);
  const sec = Math.floor(timeMs / 1000);
  v.setUint32(0, sec >>> 0, true);
  v.setUint32(4, Math.min(999_999, Math.floor((timeMs - sec * 1000) * 1000)), true);
  v.setUint32(8, caplen, true);
  v.setUint32(12, frame.length, true);
  r.set(frame.subarray(0, caplen), 16);
  return r;
}

/** Where records go: the host appends them to a file. */
export interface PcapSink {
  write(bytes: Uint8Array): void;
}

/** A NetBackend that records every frame passing between the NIC and `inner`. */
export class PcapTap implements NetBackend {
  readonly terminatesTcp: boolean | undefined;
  /** The inner backend's snapshot state passes through (present only when the inner backend has it). */
  readonly saveState?: () => unknown;
  readonly restoreState?: (state: unknown) => void;
  private readonly inner: NetBackend;
  private readonly sink: PcapSink;
  private readonly now: () => number;

  /** `now` is wall-clock milliseconds since the Unix epoch. */
  constructor(inner: NetBackend, sink: PcapSink, now: () => number) {
    this.inner = inner;
    this.sink = sink;
    this.now = now;
    this.terminatesTcp = inner.terminatesTcp;
    if (inner.saveState !== undefined && inner.restoreState !== undefined) {
      this.saveState = () => inner.saveState?.();
      this.restoreState = (state) => inner.restoreState?.(state);
    }
    sink.write(pcapFileHeader());
  }

  connect(receive: (frame: Uint8Array) => void): void {
    this.inner.connect((frame) => {
      this.sink.write(pcapRecord(frame, this.now()));
      receive(frame);
    });
  }

  transmit(frame: Uint8Array, info: TransmitInfo): void {
    this.sink.write(pcapRecord(frame, this.now()));
    this.inner.transmit(frame, info);
  }

  flush(): void {
    this.inner.flush?.();
  }
}

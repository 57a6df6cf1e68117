/**
 * A clone's NIC on the wire (see src/vm/clone.ts): the guest kernel still
 * uses the MAC it read when its driver probed (the original VM's), while
 * the clone must appear with its own. This backend wrapper rewrites the
 * guest's MAC to the clone's in what the guest sends (Ethernet source, ARP
 * sender hardware address) and back in what it receives (Ethernet
 * destination, ARP target hardware address). ARP has no checksum and
 * IPv4/TCP/UDP checksums do not cover MACs, so nothing else changes.
 *
 * If the guest starts using the clone's MAC itself (its driver probed
 * again), its frames carry that MAC and received frames are left alone:
 * the wrapper translates only while it sees the old address in use.
 */
import type { NetBackend, TransmitInfo } from "../machine/virtio/net.ts";

const ETHERTYPE_ARP = 0x0806;
/** ARP over Ethernet/IPv4: sender hardware address at 14+8, target hardware address at 14+18 (RFC 826). */
const ARP_SHA = 22;
const ARP_THA = 32;
const ARP_FRAME_MIN = 42;

function equalAt(frame: Uint8Array, off: number, mac: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (frame[off + i] !== mac[i]) return false;
  return true;
}

function isArp(frame: Uint8Array): boolean {
  return frame.length >= ARP_FRAME_MIN && ((frame[12] << 8) | frame[13]) === ETHERTYPE_ARP;
}

export class MacTranslator implements NetBackend {
  private readonly inner: NetBackend;
  private readonly guestMac: Uint8Array;
  private readonly wireMac: Uint8Array;
  /** True while the guest's frames carry guestMac (so replies must be translated back). */
  private guestUsesOld = true;
  readonly terminatesTcp: boolean | undefined;

  constructor(inner: NetBackend, guestMac: Uint8Array, wireMac: Uint8Array) {
    this.inner = inner;
    this.guestMac = guestMac;
    this.wireMac = wireMac;
    this.terminatesTcp = inner.terminatesTcp;
  }

  connect(receive: (frame: Uint8Array) => void): void {
    this.inner.connect((frame) => {
      const toOld = this.guestUsesOld && frame.length >= 14;
      const dst = toOld && equalAt(frame, 0, this.wireMac);
      const tha = toOld && isArp(frame) && equalAt(frame, ARP_THA, this.wireMac);
      if (!dst && !tha) {
        receive(frame);
        return;
      }
      // A copy: the backend may hand the same bytes to others (a broadcast) or keep them.
      const copy = frame.slice();
      if (dst) copy.set(this.guestMac, 0);
      if (tha) copy.set(this.guestMac, ARP_THA);
      receive(copy);
    });
  }

  transmit(frame: Uint8Array, info: TransmitInfo): void {
    if (frame.length >= 14) {
      if (equalAt(frame, 6, this.guestMac)) {
        this.guestUsesOld = true;
        frame.set(this.wireMac, 6);
        if (isArp(frame) && equalAt(frame, ARP_SHA, this.guestMac)) frame.set(this.wireMac, ARP_SHA);
      } else if (equalAt(frame, 6, this.wireMac)) this.guestUsesOld = false;
    }
    this.inner.transmit(frame, info);
  }

  flush(): void {
    this.inner.flush?.();
  }

  saveState(): unknown {
    return this.inner.saveState?.() ?? null;
  }

  restoreState(state: unknown): void {
    this.inner.restoreState?.(state);
  }
}

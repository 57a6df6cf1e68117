/**
 * The browser VM's network: virtio-net's backend over a WebSocket to
 * `virtus relay` (src/host/node/relay.ts), one binary message per Ethernet
 * frame. The guest computes its own checksums (no offload is offered).
 */
import type { NetBackend } from "../../machine/host.ts";

/** Connects to the relay (`url` carries ?token=…); rejects when it refuses or cannot be reached. */
export function openRelay(url: string): Promise<{ backend: NetBackend; isOpen(): boolean; close(): void }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    let receive: ((frame: Uint8Array) => void) | undefined;
    ws.onmessage = (e) => {
      if (e.data instanceof ArrayBuffer) receive?.(new Uint8Array(e.data));
    };
    ws.onerror = () => reject(new Error(`the relay ${url.replace(/\?.*/, "")} refused or is not running`));
    ws.onopen = () =>
      resolve({
        backend: {
          connect: (r) => {
            receive = r;
          },
          transmit: (frame) => {
            if (ws.readyState === WebSocket.OPEN) ws.send(frame);
          },
        },
        isOpen: () => ws.readyState === WebSocket.OPEN,
        close: () => ws.close(),
      });
  });
}

import { webcrypto } from "node:crypto";
import type { EntropySource } from "../../machine/devices/backends.ts";

/** The host's CSPRNG (Web Crypto, as in a browser) for virtio-rng. */
export const hostEntropy: EntropySource = {
  fill(dst: Uint8Array): void {
    webcrypto.getRandomValues(dst);
  },
};

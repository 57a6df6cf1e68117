/**
 * `virtus run --net user|none --forward PROTO:HOSTPORT:GUESTPORT`: the
 * guest's network interface and its port forwards, parsed into the VM's
 * NetworkConfig (src/vm/network-config.ts; opened by
 * src/host/node/net-open.ts).
 *
 *   --net user     (default) virtio-net on the user-mode network: DHCP gives
 *                  10.0.2.15/24, gateway 10.0.2.2 (= the host's 127.0.0.1)
 *   --net none     no network device
 *   --forward tcp:8080:80   host 127.0.0.1:8080 → guest port 80 (repeatable; udp: too)
 */
import { VirtusError } from "../machine/errors.ts";
import type { PortForward } from "../net/user-net.ts";
import { DEFAULT_MAC, type NetworkConfig } from "../vm/network-config.ts";

export type NetMode = "user" | "none";

export function parseNetMode(text: string): NetMode {
  if (text === "user" || text === "none") return text;
  throw new VirtusError("bad-net", `--net ${text}: give user (NAT to the host, the default) or none`);
}

function parsePort(text: string, spec: string, which: string): number {
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n < 1 || n > 65535)
    throw new VirtusError(
      "bad-forward",
      `--forward ${spec}: ${which} port "${text}" is not a number from 1 to 65535`,
    );
  return n;
}

/** Parses PROTO:HOSTPORT:GUESTPORT (PROTO tcp or udp). */
export function parseForward(spec: string): PortForward {
  const parts = spec.split(":");
  if (parts.length !== 3)
    throw new VirtusError(
      "bad-forward",
      `--forward ${spec}: write PROTO:HOSTPORT:GUESTPORT, e.g. --forward tcp:8080:80`,
    );
  const [proto, host, guest] = parts;
  if (proto !== "tcp" && proto !== "udp")
    throw new VirtusError("bad-forward", `--forward ${spec}: the protocol is tcp or udp, not "${proto}"`);
  return { proto, hostPort: parsePort(host, spec, "host"), guestPort: parsePort(guest, spec, "guest") };
}

/** Checks --net and every --forward (also that no host port is forwarded twice). */
export function parseNetOptions(
  net: string,
  forward: readonly string[],
): { mode: NetMode; forwards: PortForward[] } {
  const mode = parseNetMode(net);
  const forwards = forward.map(parseForward);
  if (mode === "none" && forwards.length > 0)
    throw new VirtusError("bad-forward", `--forward ${forward[0]}: there is no network with --net none`);
  const seen = new Set<string>();
  for (let i = 0; i < forwards.length; i++) {
    const k = `${forwards[i].proto}:${forwards[i].hostPort}`;
    if (seen.has(k))
      throw new VirtusError(
        "bad-forward",
        `--forward ${forward[i]}: host port ${forwards[i].hostPort} is forwarded twice`,
      );
    seen.add(k);
  }
  return { mode, forwards };
}

/** The NetworkConfig of `--net MODE --forward …` (the MAC is the default one unless a clone changes it). */
export function networkConfig(net: string, forward: readonly string[]): NetworkConfig {
  const { mode, forwards } = parseNetOptions(net, forward);
  return { mode, forwards, mac: DEFAULT_MAC };
}

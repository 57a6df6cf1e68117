/**
 * `virtus run --net user|none --forward PROTO:HOSTPORT:GUESTPORT`: the
 * guest's network interface and its port forwards.
 *
 *   --net user     (default) virtio-net on the user-mode network: DHCP gives
 *                  10.0.2.15/24, gateway 10.0.2.2 (= the host's 127.0.0.1)
 *   --net none     no network device
 *   --forward tcp:8080:80   host 127.0.0.1:8080 → guest port 80 (repeatable; udp: too)
 */
import { NodeHostNet, nodeNetTimers } from "../host/node/net-host.ts";
import type { VirtioPlacement } from "../machine/board/virtio-slots.ts";
import { VirtusError } from "../machine/errors.ts";
import { virtioMmio } from "../machine/virtio/mmio.ts";
import { VirtioNet } from "../machine/virtio/net.ts";
import { type PortForward, UserNet } from "../net/user-net.ts";

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

/** The network of one run: its device placement (none with --net none) and the stack to close. */
export interface NetworkSetup {
  placement: VirtioPlacement | undefined;
  net: UserNet | undefined;
  close(): void;
}

/**
 * Builds the user-mode network and binds the forwarded host ports. A port
 * that cannot be bound is a VirtusError (one line, exit 2).
 */
export async function setupNetwork(
  mode: NetMode,
  forwards: PortForward[],
  opts: { log?: (message: string) => void } = {},
): Promise<NetworkSetup> {
  if (mode === "none") return { placement: undefined, net: undefined, close() {} };
  const net = new UserNet({ host: new NodeHostNet(), timers: nodeNetTimers, forwards });
  await net.start();
  const log = opts.log;
  return {
    placement: {
      kind: "net",
      what: "virtio-net (--net user)",
      make: virtioMmio(
        (slot) => {
          // A guest waiting on a host socket must not see its timeouts expire in no real time.
          slot.machine.idleHolds.push(() => net.hostActive);
          return new VirtioNet(net);
        },
        { log },
      ),
    },
    net,
    close: () => net.close(),
  };
}

/**
 * Opens the network of a VmConfig on Node: the one place that turns a
 * NetworkConfig into the NIC's backend (new modes hook in here).
 */

import { UserNet } from "../../net/user-net.ts";
import type { OpenedNetwork } from "../../vm/host-services.ts";
import type { NetworkConfig } from "../../vm/network-config.ts";
import { parseMac } from "../../vm/network-config.ts";
import { NodeHostNet, nodeNetTimers } from "./net-host.ts";

/**
 * User-mode networking on the host's sockets, with the forwarded ports
 * bound. A port that cannot be bound is a VirtusError (one line, exit 2).
 */
export async function openNetwork(
  net: NetworkConfig,
  _log: (message: string) => void,
): Promise<OpenedNetwork> {
  if (net.mode !== "user") throw new Error(`network mode ${net.mode} has no backend`);
  const user = new UserNet({
    host: new NodeHostNet(),
    timers: nodeNetTimers,
    forwards: net.forwards,
    guestMac: parseMac(net.mac),
    restrict: net.restrict === true,
  });
  await user.start();
  return { backend: user, hostActive: () => user.hostActive, close: () => user.close() };
}

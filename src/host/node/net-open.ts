/**
 * Opens the network of a VmConfig on Node: the one place that turns a
 * NetworkConfig into the NIC's backend (new modes hook in here): the
 * user-mode NAT on the host's sockets, or a port on a virtual switch; with
 * `pcap`, wrapped in a tap that records every frame.
 */

import type { NetBackend } from "../../machine/virtio/net.ts";
import { PcapTap } from "../../net/pcap.ts";
import { UserNet } from "../../net/user-net.ts";
import type { OpenedNetwork } from "../../vm/host-services.ts";
import type { NetworkConfig } from "../../vm/network-config.ts";
import { parseMac } from "../../vm/network-config.ts";
import { NodeHostNet, nodeNetTimers } from "./net-host.ts";
import { PcapFile } from "./pcap-file.ts";
import { SwitchPort } from "./switch-port.ts";

async function openBackend(
  net: NetworkConfig,
  log: (message: string) => void,
): Promise<{ backend: NetBackend; hostActive: () => boolean; close: () => void }> {
  if (net.mode === "switch" && net.switch !== undefined) {
    const port = new SwitchPort(net.switch.name, net.switch.vlan, log);
    await port.start();
    return { backend: port, hostActive: () => port.hostActive, close: () => port.close() };
  }
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

/**
 * The NIC's backend with its host resources: forwarded ports bound, the
 * switch reached, the capture file created. Failures are VirtusErrors
 * (one line, exit 2) and leave nothing open.
 */
export async function openNetwork(
  net: NetworkConfig,
  log: (message: string) => void,
): Promise<OpenedNetwork> {
  const pcap = net.pcap === undefined ? undefined : new PcapFile(net.pcap);
  let opened: Awaited<ReturnType<typeof openBackend>>;
  try {
    opened = await openBackend(net, log);
  } catch (e) {
    pcap?.close();
    throw e;
  }
  if (pcap === undefined) return opened;
  return {
    backend: new PcapTap(opened.backend, pcap, () => performance.timeOrigin + performance.now()),
    hostActive: opened.hostActive,
    close: () => {
      opened.close();
      pcap.close();
    },
  };
}

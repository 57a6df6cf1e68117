/**
 * `virtus run --net user|none --forward PROTO:HOSTPORT:GUESTPORT`: the
 * guest's network interface and its port forwards, parsed into the VM's
 * NetworkConfig (src/vm/network-config.ts; opened by
 * src/host/node/net-open.ts).
 *
 *   --net user     (default) virtio-net on the user-mode network: DHCP gives
 *                  10.0.2.15/24, gateway 10.0.2.2 (= the host's 127.0.0.1),
 *                  name server 10.0.2.3 (the host's resolver), NAT to any
 *                  IPv4 address through the host's sockets
 *   --net user,restrict=on   the same, but the guest reaches nothing on or
 *                  beyond the host (DHCP and forwards into the guest work)
 *   --net user,bw=10M,iops=1000   the same, with each direction of the NIC
 *                  limited by token buckets (src/cli/disk.ts parseLimitOptions)
 *   --net switch:NAME[,vlan=N]   on virtual switch NAME with the other VMs
 *                  of this host that name it (src/net/switch.ts,
 *                  src/host/node/switch-service.ts); VLAN 1 by default
 *   --net …,mac=52:54:00:ab:cd:ef   the NIC's MAC (default: QEMU's
 *                  52:54:00:12:34:56 on the user network, random on a switch)
 *   --pcap FILE    capture every frame of the NIC (tcpdump -r FILE)
 *   --net none     no network device
 *   --forward tcp:8080:80   host 127.0.0.1:8080 → guest port 80 (repeatable; udp: too)
 */

import { hostEntropy } from "../host/node/entropy.ts";
import { VirtusError } from "../machine/errors.ts";
import type { RateLimitConfig } from "../machine/virtio/rate-limiter.ts";
import type { PortForward } from "../net/user-net.ts";
import {
  DEFAULT_MAC,
  DEFAULT_VLAN,
  type NetworkConfig,
  parseMac,
  randomMac,
  SWITCH_NAME_RE,
} from "../vm/network-config.ts";
import { parseLimitOptions } from "./disk.ts";

function onOff(text: string, spec: string, key: string): boolean {
  if (text === "on" || text === "yes") return true;
  if (text === "off" || text === "no") return false;
  throw new VirtusError("bad-net", `--net ${spec}: ${key}= takes on or off, not "${text}"`);
}

/** `--net` as parsed: the mode and its options (forwards come from --forward). */
export type NetSpec =
  | { mode: "none" }
  | { mode: "user"; restrict: boolean; mac?: string; limits?: RateLimitConfig }
  | { mode: "switch"; name: string; vlan: number; mac?: string; limits?: RateLimitConfig };

function netError(text: string, why: string): VirtusError {
  return new VirtusError("bad-net", `--net ${text}: ${why}`);
}

/**
 * Parses `user[,restrict=on|off][,mac=M]`, `switch:NAME[,vlan=N][,mac=M]`
 * or `none`.
 */
export function parseNetSpec(text: string): NetSpec {
  const [head, ...opts] = text.split(",");
  if (head === "none" && opts.length === 0) return { mode: "none" };
  let spec: NetSpec;
  if (head === "user") spec = { mode: "user", restrict: false };
  else if (head.startsWith("switch:")) {
    const name = head.slice("switch:".length);
    if (!SWITCH_NAME_RE.test(name))
      throw netError(text, `the switch name is 1 to 64 letters, digits, '_', '.' or '-', e.g. switch:lab`);
    spec = { mode: "switch", name, vlan: DEFAULT_VLAN };
  } else
    throw netError(
      text,
      "give user[,restrict=on] (NAT through the host, the default), switch:NAME[,vlan=N] or none",
    );
  const limits = parseLimitOptions(opts, `--net ${text}`, () => {});
  if (limits !== undefined) spec.limits = limits;
  for (const o of opts.filter((f) => !/^(bw|bw_burst|iops|iops_burst)=/.test(f))) {
    const eq = o.indexOf("=");
    const key = eq < 0 ? o : o.slice(0, eq);
    const value = eq < 0 ? "" : o.slice(eq + 1);
    if (key === "mac") {
      if (parseMac(value) === undefined)
        throw netError(text, `mac=${value} is not a unicast MAC like 52:54:00:12:34:57`);
      spec.mac = value.toLowerCase();
    } else if (key === "restrict" && spec.mode === "user") spec.restrict = onOff(value, text, key);
    else if (key === "vlan" && spec.mode === "switch") {
      const n = Number(value);
      if (!/^\d{1,4}$/.test(value) || n < 1 || n > 4094)
        throw netError(text, `vlan=${value}: give a VLAN from 1 to 4094`);
      spec.vlan = n;
    } else
      throw netError(
        text,
        `unknown option "${key}" (user takes restrict=on|off and mac=; switch takes vlan=N and mac=; both take bw=, iops=)`,
      );
  }
  return spec;
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

/** The network options of a run, checked. */
export interface NetOptions {
  net: NetSpec;
  forwards: PortForward[];
}

/** Checks --net and every --forward (also that no host port is forwarded twice). */
export function parseNetOptions(net: string, forward: readonly string[]): NetOptions {
  const spec = parseNetSpec(net);
  const forwards = forward.map(parseForward);
  if (spec.mode !== "user" && forwards.length > 0)
    throw new VirtusError(
      "bad-forward",
      `--forward ${forward[0]}: forwards need the user-mode network (--net user), not --net ${net}`,
    );
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
  return { net: spec, forwards };
}

/**
 * The NetworkConfig of `--net MODE --forward … --pcap FILE`. The MAC is
 * mac= if given; otherwise QEMU's default for the user network (it is the
 * only NIC on its LAN) and a random one in QEMU's 52:54:00 block on a
 * switch, where every VM needs its own.
 */
export function networkConfig(net: string, forward: readonly string[], pcap?: string): NetworkConfig {
  const { net: spec, forwards } = parseNetOptions(net, forward);
  if (spec.mode === "none") {
    if (pcap !== undefined)
      throw new VirtusError("bad-pcap", `--pcap ${pcap}: there is no NIC with --net none`);
    return { mode: "none", forwards, mac: DEFAULT_MAC };
  }
  const config: NetworkConfig = {
    mode: spec.mode,
    forwards,
    mac: spec.mac ?? (spec.mode === "switch" ? randomMac(hostEntropy) : DEFAULT_MAC),
  };
  if (spec.mode === "user" && spec.restrict) config.restrict = true;
  if (spec.limits) config.limits = spec.limits;
  if (spec.mode === "switch") config.switch = { name: spec.name, vlan: spec.vlan };
  if (pcap !== undefined) {
    if (pcap === "") throw new VirtusError("bad-pcap", "--pcap: give a file name");
    config.pcap = pcap;
  }
  return config;
}

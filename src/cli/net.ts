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
 *   --net none     no network device
 *   --forward tcp:8080:80   host 127.0.0.1:8080 → guest port 80 (repeatable; udp: too)
 */
import { VirtusError } from "../machine/errors.ts";
import type { RateLimitConfig } from "../machine/virtio/rate-limiter.ts";
import type { PortForward } from "../net/user-net.ts";
import { DEFAULT_MAC, type NetworkConfig } from "../vm/network-config.ts";
import { parseLimitOptions } from "./disk.ts";

function onOff(text: string, spec: string, key: string): boolean {
  if (text === "on" || text === "yes") return true;
  if (text === "off" || text === "no") return false;
  throw new VirtusError("bad-net", `--net ${spec}: ${key}= takes on or off, not "${text}"`);
}

/** `--net` as parsed: the mode and its options (forwards come from --forward). */
export type NetSpec = { mode: "none" } | { mode: "user"; restrict: boolean; limits?: RateLimitConfig };

/** Parses `user[,restrict=on|off]` or `none`. */
export function parseNetSpec(text: string): NetSpec {
  const [mode, ...opts] = text.split(",");
  if (mode === "none" && opts.length === 0) return { mode: "none" };
  if (mode !== "user")
    throw new VirtusError(
      "bad-net",
      `--net ${text}: give user[,restrict=on] (NAT through the host, the default) or none`,
    );
  const spec: NetSpec = { mode: "user", restrict: false };
  const limits = parseLimitOptions(opts, `--net ${text}`, () => {});
  if (limits !== undefined) spec.limits = limits;
  for (const o of opts.filter((f) => !/^(bw|bw_burst|iops|iops_burst)=/.test(f))) {
    const eq = o.indexOf("=");
    const key = eq < 0 ? o : o.slice(0, eq);
    const value = eq < 0 ? "" : o.slice(eq + 1);
    if (key === "restrict") spec.restrict = onOff(value, text, key);
    else
      throw new VirtusError(
        "bad-net",
        `--net ${text}: unknown option "${key}" (user takes restrict=on|off, bw=, iops=)`,
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

/** The NetworkConfig of `--net MODE --forward …` (the MAC is the default one unless a clone changes it). */
export function networkConfig(net: string, forward: readonly string[]): NetworkConfig {
  const { net: spec, forwards } = parseNetOptions(net, forward);
  const config: NetworkConfig = { mode: spec.mode, forwards, mac: DEFAULT_MAC };
  if (spec.mode === "user" && spec.restrict) config.restrict = true;
  if (spec.mode === "user" && spec.limits) config.limits = spec.limits;
  return config;
}

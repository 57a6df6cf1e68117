/**
 * The network of a VmConfig: plain data. `virtus run --net/--forward`
 * parse into it (src/cli/net.ts) and the host opens it
 * (src/host/node/net-open.ts). New network modes and options are added
 * here, to the parser and to the opener.
 */
import type { EntropySource } from "../machine/devices/backends.ts";
import type { RateLimitConfig } from "../machine/virtio/rate-limiter.ts";
import type { PortForward } from "../net/user-net.ts";
import { validateRateLimit } from "./disk-config.ts";
import {
  badConfig,
  expectArray,
  expectBoolean,
  expectInteger,
  expectObject,
  expectString,
} from "./validate.ts";

/** A port on a virtual switch shared by VMs of this host (src/net/switch.ts). */
export interface SwitchConfig {
  /** The switch's name: VMs naming the same switch are on one LAN. */
  name: string;
  /** The VLAN of the port, 1..4094: frames stay within it. */
  vlan: number;
}

export interface NetworkConfig {
  /** user: virtio-net on the user-mode NAT (src/net/); switch: on a virtual switch; none: no NIC. */
  mode: "user" | "switch" | "none";
  /** The switch (mode switch only). */
  switch?: SwitchConfig;
  /** Record every frame of the NIC in this libpcap file (`--pcap FILE`). */
  pcap?: string;
  /** Host ports forwarded into the guest (user mode only). */
  forwards: PortForward[];
  /** User mode: the guest reaches nothing on or beyond the host (`--net user,restrict=on`). */
  restrict?: boolean;
  /**
   * The NIC's MAC as "52:54:00:12:34:56". It is part of the machine: a
   * snapshot keeps it, a clone gets a new one (see src/vm/clone.ts).
   */
  mac: string;
  /** Token-bucket limits on the NIC, each direction separately (`--net user,bw=…,iops=…`). */
  limits?: RateLimitConfig;
  /**
   * Set on clones: the MAC the running guest's driver read when it probed
   * (the original's), which the NIC translates to and from `mac` on the
   * wire (src/vm/mac-translate.ts). Absent: the guest uses `mac`.
   */
  guestMac?: string;
}

/** QEMU's first NIC. */
export const DEFAULT_MAC = "52:54:00:12:34:56";

export const DEFAULT_NETWORK: NetworkConfig = { mode: "user", forwards: [], mac: DEFAULT_MAC };

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** The 6 bytes of "aa:bb:cc:dd:ee:ff", or undefined if the text is not a unicast MAC. */
export function parseMac(text: string): Uint8Array | undefined {
  const t = text.toLowerCase();
  if (!MAC_RE.test(t)) return undefined;
  const bytes = Uint8Array.from(t.split(":").map((h) => Number.parseInt(h, 16)));
  // Bit 0 of the first byte marks a group (multicast) address: a NIC cannot have one.
  return bytes[0] & 1 ? undefined : bytes;
}

export function formatMac(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** A fresh MAC in QEMU's 52:54:00 block for a clone, never the default one. */
export function randomMac(entropy: EntropySource): string {
  const tail = new Uint8Array(3);
  do entropy.fill(tail);
  while (tail[0] === 0x12 && tail[1] === 0x34 && tail[2] === 0x56);
  return formatMac(Uint8Array.of(0x52, 0x54, 0x00, ...tail));
}

function validateForward(v: unknown, where: string): PortForward {
  const o = expectObject(v, where);
  const proto = expectString(o.proto, `${where}.proto`);
  if (proto !== "tcp" && proto !== "udp") throw badConfig(`${where}.proto`, 'expected "tcp" or "udp"');
  const f: PortForward = {
    proto,
    hostPort: expectInteger(o.hostPort, `${where}.hostPort`, 1, 65535),
    guestPort: expectInteger(o.guestPort, `${where}.guestPort`, 1, 65535),
  };
  if (o.hostAddr !== undefined) f.hostAddr = expectString(o.hostAddr, `${where}.hostAddr`);
  return f;
}

/** Switch names: what fits in a socket name. */
export const SWITCH_NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
export const DEFAULT_VLAN = 1;

function validateSwitch(value: unknown, where: string): SwitchConfig {
  const o = expectObject(value, where);
  const name = expectString(o.name, `${where}.name`);
  if (!SWITCH_NAME_RE.test(name))
    throw badConfig(`${where}.name`, "1 to 64 letters, digits, '_', '.' or '-'");
  return { name, vlan: expectInteger(o.vlan ?? DEFAULT_VLAN, `${where}.vlan`, 1, 4094) };
}

export function validateNetworkConfig(value: unknown, where: string): NetworkConfig {
  const o = expectObject(value, where);
  const mode = expectString(o.mode, `${where}.mode`);
  if (mode !== "user" && mode !== "none" && mode !== "switch")
    throw badConfig(`${where}.mode`, 'expected "user", "switch" or "none"');
  const forwards = expectArray(o.forwards ?? [], `${where}.forwards`).map((f, i) =>
    validateForward(f, `${where}.forwards[${i}]`),
  );
  if (mode === "none" && forwards.length > 0)
    throw badConfig(`${where}.forwards`, "there is no network to forward to with mode none");
  if (mode === "switch" && forwards.length > 0)
    throw badConfig(`${where}.forwards`, "only the user-mode network forwards ports, not mode switch");
  const seen = new Set<string>();
  for (const [i, f] of forwards.entries()) {
    const key = `${f.proto}:${f.hostAddr ?? ""}:${f.hostPort}`;
    if (seen.has(key))
      throw badConfig(`${where}.forwards[${i}]`, `host port ${f.hostPort} is forwarded twice`);
    seen.add(key);
  }
  const mac = expectString(o.mac ?? DEFAULT_MAC, `${where}.mac`);
  if (parseMac(mac) === undefined)
    throw badConfig(`${where}.mac`, `"${mac}" is not a unicast MAC like 52:54:00:12:34:56`);
  const config: NetworkConfig = { mode, forwards, mac: mac.toLowerCase() };
  if (o.guestMac !== undefined) {
    const guestMac = expectString(o.guestMac, `${where}.guestMac`);
    if (parseMac(guestMac) === undefined)
      throw badConfig(`${where}.guestMac`, `"${guestMac}" is not a unicast MAC like 52:54:00:12:34:56`);
    config.guestMac = guestMac.toLowerCase();
  }
  if (o.restrict !== undefined && expectBoolean(o.restrict, `${where}.restrict`)) {
    if (mode !== "user") throw badConfig(`${where}.restrict`, "only the user-mode network has it");
    config.restrict = true;
  }
  if (o.limits !== undefined) config.limits = validateRateLimit(o.limits, `${where}.limits`);
  if (mode === "switch") config.switch = validateSwitch(o.switch, `${where}.switch`);
  else if (o.switch !== undefined) throw badConfig(`${where}.switch`, "only mode switch has a switch");
  if (o.pcap !== undefined) {
    if (mode === "none") throw badConfig(`${where}.pcap`, "there is no NIC to capture with mode none");
    config.pcap = expectString(o.pcap, `${where}.pcap`);
    if (config.pcap === "") throw badConfig(`${where}.pcap`, "give a file name");
  }
  return config;
}

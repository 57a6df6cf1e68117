/**
 * Restoring and cloning (issue 10, item 6): what may differ between the
 * configuration a snapshot was taken with and the VM it is restored into.
 *
 * A restore continues the same VM: the configuration comes from the
 * snapshot, MAC included, so the guest's NIC is exactly as it was.
 *
 * A clone is a second VM from the same snapshot, running beside the
 * first: it gets its own MAC (the NIC's configuration space shows it) and
 * its own port forwards (the original's host ports are taken; by default a
 * clone forwards none). A Linux guest reads the MAC from configuration
 * space only when its driver probes, so the clone's running kernel keeps
 * the snapshot's address on its interface; the clone's device translates
 * between the two on the wire (src/vm/mac-translate.ts), so every frame
 * that leaves a clone carries the clone's own MAC and frames for that MAC
 * reach its guest.
 */

import { VirtusError } from "../machine/errors.ts";
import type { EntropySource } from "../machine/host.ts";
import type { VmConfig } from "./config.ts";
import { parseMac, randomMac } from "./network-config.ts";
import type { CloneRequest } from "./protocol.ts";

/** The clone's configuration: the snapshot's, with a new MAC and its own forwards. */
export function cloneConfig(saved: VmConfig, req: CloneRequest, entropy: EntropySource): VmConfig {
  if (saved.network.mode === "none") {
    if (req.mac !== undefined || (req.forwards?.length ?? 0) > 0)
      throw new VirtusError(
        "bad-clone",
        "the snapshot's VM has no network: a clone cannot get a MAC or forwards",
      );
    return saved;
  }
  let mac = req.mac?.toLowerCase() ?? randomMac(entropy);
  if (parseMac(mac) === undefined)
    throw new VirtusError("bad-clone", `--mac ${req.mac}: not a unicast MAC like 52:54:00:12:34:57`);
  if (mac === saved.network.mac) {
    if (req.mac !== undefined)
      throw new VirtusError(
        "bad-clone",
        `--mac ${req.mac}: the original already has this MAC; a clone needs its own`,
      );
    mac = randomMac(entropy);
  }
  // The guest keeps the MAC its driver read at boot: the original's, also for a clone of a clone.
  const guestMac = saved.network.guestMac ?? saved.network.mac;
  return { ...saved, network: { ...saved.network, mac, guestMac, forwards: req.forwards ?? [] } };
}

/**
 * What differs in the machine two configurations describe, or undefined
 * when a snapshot of one can be restored into a VM of the other. The MAC,
 * the forwards and the JIT are not part of the machine's state.
 */
export function machineDifference(saved: VmConfig, target: VmConfig): string | undefined {
  const mib = (n: number) => `${n / (1 << 20)} MiB`;
  if (saved.memory !== target.memory) return `memory ${mib(saved.memory)}, not ${mib(target.memory)}`;
  if (saved.harts !== target.harts) return `${saved.harts} harts, not ${target.harts}`;
  if (saved.bios.kind !== target.bios.kind) return `--bios ${saved.bios.kind}, not ${target.bios.kind}`;
  if (saved.deterministic !== target.deterministic)
    return saved.deterministic ? "deterministic time" : "real time";
  const disks = (c: VmConfig) => c.disks.map((d) => `${d.path}${d.readOnly ? ",readonly" : ""}`).join(" ");
  if (disks(saved) !== disks(target)) return `disks [${disks(saved)}], not [${disks(target)}]`;
  const shares = (c: VmConfig) => c.shares.map((s) => s.tag).join(" ");
  if (shares(saved) !== shares(target)) return `shares [${shares(saved)}], not [${shares(target)}]`;
  if (saved.network.mode !== target.network.mode)
    return `--net ${saved.network.mode}, not ${target.network.mode}`;
  if (saved.console.virtio !== target.console.virtio)
    return saved.console.virtio ? "a virtio console" : "no virtio console";
  if (saved.rng !== target.rng) return saved.rng ? "a virtio-rng" : "no virtio-rng";
  return undefined;
}

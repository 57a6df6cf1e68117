/**
 * A stored definition → the library's VmConfig (src/vm/config.ts): image
 * names become the daemon's own files, the default guest fills in a
 * missing kernel, and the network is user mode with `restrict` on, so a
 * guest reaches neither the daemon's API nor any port on the host's
 * loopback (another tenant's forwards included).
 */
import { GUEST_KERNEL_CMDLINE } from "../host/node/guest.ts";
import { defaultVmConfig, type VmConfig } from "../vm/config.ts";
import { DEFAULT_MAC } from "../vm/network-config.ts";
import { bad, type VmDefinition } from "./definition.ts";
import type { ImageRow } from "./store.ts";

export interface ConfigSources {
  /** The tenant's image of that name, if any. */
  image(name: string): ImageRow | undefined;
  /** The default guest's files (built or unpacked on first use). */
  defaultGuest(): Promise<{ kernel: string; initrd: string }>;
}

function imageFile(src: ConfigSources, name: string, what: string): ImageRow {
  const img = src.image(name);
  if (img === undefined) throw bad(`${what}: there is no image named ${name} (virtus vm image list)`);
  return img;
}

export async function vmConfigOf(def: VmDefinition, src: ConfigSources): Promise<VmConfig> {
  let kernel: string;
  let initrd: string | undefined;
  if (def.kernel === undefined) ({ kernel, initrd } = await src.defaultGuest());
  else {
    kernel = imageFile(src, def.kernel, "kernel").file;
    if (def.initrd !== undefined) initrd = imageFile(src, def.initrd, "initrd").file;
  }
  const config: VmConfig = {
    ...defaultVmConfig(kernel),
    append: def.append ?? (def.kernel === undefined ? GUEST_KERNEL_CMDLINE : ""),
    bios: { kind: def.bios },
    memory: def.memory,
    harts: def.vcpus,
    disks: def.disks.map((d) => {
      const img = imageFile(src, d.image, "disks");
      return { path: img.file, readOnly: d.readOnly, format: img.format === "qcow2" ? "qcow2" : "raw" };
    }),
    network: { mode: "user", forwards: [], mac: DEFAULT_MAC, restrict: true },
    deterministic: def.deterministic,
    jit: def.jit,
  };
  if (initrd !== undefined) config.initrd = initrd;
  return config;
}

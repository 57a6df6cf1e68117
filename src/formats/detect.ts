/**
 * Which format an image file is, by its content (as QEMU probes): a qcow2
 * magic means qcow2; the magic of a format Virtus does not read (VMDK, VDI,
 * VHDX, VHD, QED, LUKS, Parallels, Bochs, qcow version 1) is refused rather
 * than handed to the guest as a raw disk full of someone else's metadata;
 * anything else is raw (a plain disk image has no magic). `,format=raw`
 * on the command line overrides the probe.
 */
import { QCOW2_MAGIC } from "./qcow2-header.ts";

/** Bytes of the file the probe looks at. */
export const PROBE_BYTES = 512;

export type ImageFormat = "raw" | "qcow2";

export type Probe = { format: ImageFormat } | { unsupported: string };

const ascii = (b: Uint8Array, at: number, text: string) => {
  if (b.length < at + text.length) return false;
  for (let i = 0; i < text.length; i++) if (b[at + i] !== text.charCodeAt(i)) return false;
  return true;
};

/** Magics of formats that are recognised but not read, with their names. */
const UNSUPPORTED: [number, string, string][] = [
  [0, "KDMV", "VMDK"],
  [0, "# Disk DescriptorFile", "VMDK (descriptor)"],
  [0, "COWD", "VMDK3"],
  [0, "vhdxfile", "VHDX"],
  [0, "conectix", "VHD (vpc)"],
  [0, "QED\0", "QED"],
  [0, "LUKS\xba\xbe", "LUKS"],
  [0, "WithoutFreeSpace", "Parallels"],
  [0, "WithouFreSpacExt", "Parallels"],
  [0, "Bochs Virtual HD Image", "Bochs"],
  [0, "<<< Oracle VM VirtualBox Disk Image >>>", "VDI"],
  [0, "<<< Sun VirtualBox Disk Image >>>", "VDI"],
  [0, "<<< innotek VirtualBox Disk Image >>>", "VDI"],
];

/** Probes the first PROBE_BYTES of a file (fewer if it is shorter). */
export function probeFormat(first: Uint8Array): Probe {
  if (first.length >= 8 && new DataView(first.buffer, first.byteOffset, 8).getUint32(0) === QCOW2_MAGIC) {
    const version = new DataView(first.buffer, first.byteOffset, 8).getUint32(4);
    if (version === 1) return { unsupported: "qcow (version 1)" };
    return { format: "qcow2" };
  }
  for (const [at, magic, name] of UNSUPPORTED) if (ascii(first, at, magic)) return { unsupported: name };
  // VDI's signature word (little-endian 0xbeda107f at 64) also marks it whatever the text says.
  if (
    first.length >= 68 &&
    new DataView(first.buffer, first.byteOffset, 68).getUint32(64, true) === 0xbeda107f
  )
    return { unsupported: "VDI" };
  return { format: "raw" };
}

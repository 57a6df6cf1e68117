/**
 * A virtual disk in a VmConfig: plain data, validated like any other
 * configuration. `virtus run --disk FILE[,readonly]` parses into it
 * (src/cli/disk.ts) and the host opens it (src/host/node/block-open.ts).
 * New disk options (formats, overlays, rate limits) are added here, to
 * the parser and to the opener: those three places only.
 */
import { VirtusError } from "../machine/errors.ts";
import { expectBoolean, expectObject, expectString } from "./validate.ts";

export interface DiskConfig {
  /** Path of the image file as the host names it. */
  path: string;
  /** The guest sees a read-only disk (VIRTIO_BLK_F_RO); the file is opened read-only. */
  readOnly: boolean;
}

/** Checks one disk entry of a configuration (untrusted: JSON from a file or a socket). */
export function validateDiskConfig(value: unknown, where: string): DiskConfig {
  const o = expectObject(value, where);
  const path = expectString(o.path, `${where}.path`);
  if (path === "") throw new VirtusError("bad-config", `${where}.path: give a file name`);
  return { path, readOnly: expectBoolean(o.readOnly ?? false, `${where}.readOnly`) };
}

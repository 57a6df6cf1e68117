/**
 * `virtus run --disk FILE[,readonly]`: the one parser from a --disk
 * argument to a DiskConfig (src/vm/disk-config.ts). New disk options are
 * parsed here.
 */
import { VirtusError } from "../machine/errors.ts";
import type { DiskConfig } from "../vm/disk-config.ts";

/** Parses `FILE[,readonly]`; anything else after the comma is a one-line error. */
export function parseDiskSpec(spec: string): DiskConfig {
  const [path, ...flags] = spec.split(",");
  if (path === "")
    throw new VirtusError("bad-disk", `--disk ${spec}: give a file name, e.g. --disk disk.img`);
  let readOnly = false;
  for (const f of flags) {
    if (f === "readonly") readOnly = true;
    else
      throw new VirtusError("bad-disk", `--disk ${spec}: unknown option "${f}" (the only one is readonly)`);
  }
  return { path, readOnly };
}

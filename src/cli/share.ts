/**
 * `virtus run --share HOSTDIR:TAG[,readonly]` (repeatable): each share is a
 * virtio-9p device serving HOSTDIR under mount tag TAG; the guest mounts it
 * with `mount -t 9p -o trans=virtio TAG /mnt`.
 */
import { VirtusError } from "../machine/errors.ts";
import { P9_MAX_TAG_LEN, validMountTag } from "../machine/virtio/p9.ts";
import type { ShareConfig } from "../vm/config.ts";

/** A parsed --share argument. */
export interface ShareSpec {
  hostDir: string;
  tag: string;
  readonly: boolean;
}

const USAGE = "use HOSTDIR:TAG[,readonly], e.g. --share ./data:data";

/** Parses `HOSTDIR:TAG[,readonly]` (the last ':' separates the tag); anything else is a one-line error. */
export function parseShareSpec(spec: string): ShareSpec {
  const colon = spec.lastIndexOf(":");
  if (colon < 0) throw new VirtusError("bad-share", `--share ${spec}: ${USAGE}`);
  const hostDir = spec.slice(0, colon);
  const [tag, ...flags] = spec.slice(colon + 1).split(",");
  if (hostDir === "") throw new VirtusError("bad-share", `--share ${spec}: no host directory; ${USAGE}`);
  if (tag === "") throw new VirtusError("bad-share", `--share ${spec}: no mount tag; ${USAGE}`);
  if (!validMountTag(tag))
    throw new VirtusError(
      "bad-share",
      `--share ${spec}: the tag "${tag}" must be 1 to ${P9_MAX_TAG_LEN} printable characters without spaces, ',' or ':'`,
    );
  let readonly = false;
  for (const f of flags) {
    if (f === "readonly") readonly = true;
    else
      throw new VirtusError("bad-share", `--share ${spec}: unknown option "${f}" (the only one is readonly)`);
  }
  return { hostDir, tag, readonly };
}

/** Parses every --share and checks the tags are distinct; throws VirtusError on the first problem. */
export function parseShareSpecs(specs: readonly string[]): ShareSpec[] {
  const out = specs.map(parseShareSpec);
  const seen = new Set<string>();
  for (let i = 0; i < out.length; i++) {
    if (seen.has(out[i].tag))
      throw new VirtusError("bad-share", `--share ${specs[i]}: the tag "${out[i].tag}" is already used`);
    seen.add(out[i].tag);
  }
  return out;
}

/** The ShareConfigs of every --share, checked. */
export function shareConfigs(specs: readonly string[]): ShareConfig[] {
  return parseShareSpecs(specs).map((s) => ({ hostDir: s.hostDir, tag: s.tag, readOnly: s.readonly }));
}

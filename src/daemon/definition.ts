/**
 * A VM's definition as a tenant writes it (JSON or YAML, `POST /v1/vms`):
 * what the daemon stores, and what it turns into a VmConfig at start
 * (vm-config.ts). It names the tenant's images, never host paths: a
 * tenant reaches no file of the host but its own images.
 *
 *   name: web
 *   memory: 256M          # or bytes
 *   vcpus: 1              # harts
 *   cpu_limit: 0.5        # share of one host core (optional)
 *   kernel: my-kernel     # an image; omitted: the default guest
 *   disks: [{image: data}]
 */
import { VirtusError } from "../machine/errors.ts";
import { MAX_MEMORY } from "../vm/config.ts";

export interface DiskRef {
  image: string;
  readOnly: boolean;
}

export interface VmDefinition {
  name: string;
  /** Guest RAM in bytes. */
  memory: number;
  vcpus: number;
  /** Share of one host core the VM may use (e.g. 0.25); null: no cap. */
  cpuLimit: number | null;
  /** Image names; kernel omitted = the default guest (with its initramfs). */
  kernel?: string;
  initrd?: string;
  append?: string;
  /** The built-in SBI (default) or none (the kernel runs in M-mode). */
  bios: "builtin" | "none";
  disks: DiskRef[];
  deterministic: boolean;
  jit: boolean;
}

/** Names of VMs, images, snapshots and tenants: safe in a URL, a table and a file name. */
export const NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$";
const NAME_RE = new RegExp(NAME_PATTERN);

export const MAX_VCPUS = 8;

export function bad(message: string): VirtusError {
  return new VirtusError("bad-request", message);
}

export function checkName(name: unknown, what: string): string {
  if (typeof name !== "string" || !NAME_RE.test(name))
    throw bad(`${what}: use 1 to 63 letters, digits, '.', '_' or '-' (not starting with '.', '_' or '-')`);
  return name;
}

/** Parses `256M`, `1G`, `65536K` or a byte count (number or digits); a multiple of 4 KiB up to 3 GiB. */
export function parseMemory(v: unknown, what = "memory"): number {
  let bytes: number;
  if (typeof v === "number") bytes = v;
  else {
    const m = typeof v === "string" ? /^(\d+)([KMG]?)i?B?$/i.exec(v.trim()) : null;
    if (!m) throw bad(`${what}: use a size like 256M or 1G`);
    bytes = Number(m[1]) * { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase() as "K"];
  }
  if (!Number.isSafeInteger(bytes) || bytes < 1 << 20 || bytes % 4096 !== 0 || bytes > MAX_MEMORY)
    throw bad(`${what}: give a multiple of 4K from 1M to 3G`);
  return bytes;
}

export function parseCpuLimit(v: unknown, vcpus: number): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || v > vcpus)
    throw bad(`cpu_limit: give a share of one host core above 0 and at most vcpus (${vcpus}), e.g. 0.25`);
  return v;
}

const FIELDS = new Set([
  "name",
  "memory",
  "vcpus",
  "cpu_limit",
  "kernel",
  "initrd",
  "append",
  "bios",
  "disks",
]);
const FLAGS = new Set(["deterministic", "jit"]);

/** Checks a definition from a request body (already parsed from JSON or YAML). */
export function parseDefinition(body: unknown): VmDefinition {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw bad("the definition must be an object");
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!FIELDS.has(k) && !FLAGS.has(k))
      throw bad(`${k}: unknown field (fields: ${[...FIELDS, ...FLAGS].join(", ")})`);
  const vcpus = o.vcpus ?? 1;
  if (typeof vcpus !== "number" || !Number.isInteger(vcpus) || vcpus < 1 || vcpus > MAX_VCPUS)
    throw bad(`vcpus: give a whole number from 1 to ${MAX_VCPUS}`);
  const def: VmDefinition = {
    name: checkName(o.name, "name"),
    memory: parseMemory(o.memory ?? "256M"),
    vcpus,
    cpuLimit: parseCpuLimit(o.cpu_limit, vcpus),
    bios: "builtin",
    disks: [],
    deterministic: flag(o.deterministic, "deterministic", false),
    jit: flag(o.jit, "jit", true),
  };
  if (o.kernel !== undefined) def.kernel = checkName(o.kernel, "kernel (an image name)");
  if (o.initrd !== undefined) def.initrd = checkName(o.initrd, "initrd (an image name)");
  if (o.append !== undefined) {
    if (typeof o.append !== "string" || o.append.length > 4096) throw bad("append: a kernel command line");
    def.append = o.append;
  }
  if (o.bios !== undefined) {
    if (o.bios !== "builtin" && o.bios !== "none") throw bad('bios: "builtin" or "none"');
    def.bios = o.bios;
  }
  if (def.initrd !== undefined && def.kernel === undefined)
    throw bad("initrd goes with kernel (the default guest brings its own)");
  const disks = o.disks ?? [];
  if (!Array.isArray(disks) || disks.length > 8) throw bad("disks: a list of at most 8 {image, readOnly}");
  def.disks = disks.map((d, i) => {
    if (typeof d !== "object" || d === null) throw bad(`disks[${i}]: expected {image, readOnly}`);
    const r = d as Record<string, unknown>;
    return {
      image: checkName(r.image, `disks[${i}].image`),
      readOnly: flag(r.readOnly, `disks[${i}].readOnly`, false),
    };
  });
  return def;
}

function flag(v: unknown, what: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") throw bad(`${what}: expected true or false`);
  return v;
}

/** The definition as the API shows it (snake_case like the input). */
export function definitionJson(d: VmDefinition): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: d.name,
    memory: d.memory,
    vcpus: d.vcpus,
    cpu_limit: d.cpuLimit,
    bios: d.bios,
    disks: d.disks,
    deterministic: d.deterministic,
    jit: d.jit,
  };
  if (d.kernel !== undefined) out.kernel = d.kernel;
  if (d.initrd !== undefined) out.initrd = d.initrd;
  if (d.append !== undefined) out.append = d.append;
  return out;
}

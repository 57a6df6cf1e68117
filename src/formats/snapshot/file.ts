/**
 * The snapshot file (docs/SNAPSHOT.md): one file holding a whole VM — the
 * caller's configuration, the disks it refers to, every component's state
 * record and guest RAM. Platform-neutral: the host injects the codec
 * (zstd and a native CRC-32 in Node) and writes the parts atomically.
 *
 *   const parts = encodeSnapshotFile(saveVm(vm), { config, disks }, codec);  // write them in order
 *   const { snapshot, meta } = decodeSnapshotFile(bytes, [codec, plainCodec]); // validates everything
 *   restoreVm(freshVm, snapshot);                                             // RAM decompresses here
 *
 * Layout (little-endian):
 *
 *   header, 64 bytes
 *     0  magic "VIRTSNAP"          32 u32 CRC-32 of the section table
 *     8  u32 format version (1)    36 24 reserved bytes (zero)
 *    12  u32 machine-model version 60 u32 CRC-32 of header bytes 0..59
 *    16  u32 codec (0 none, 1 zstd)
 *    20  u32 section count
 *    24  u64 file length
 *   section table, 32 bytes per section
 *     0  name, 8 ASCII bytes, zero-padded
 *     8  u32 section version
 *    12  u32 CRC-32 of the payload
 *    16  u64 offset of the payload (8-byte aligned)
 *    24  u64 length of the payload
 *   payloads, in table order, each at its offset
 *
 * Sections (version 1 each): "meta" (JSON: the caller's configuration and
 * disk identities), "machine" (the component records, encoded by
 * value.ts), "ram" (ram.ts). Decoding checks the magic, versions, every
 * length against the file, every CRC, and the records' encoding before it
 * returns, so a truncated, corrupt or foreign file is an error and never a
 * half-restored machine; RAM chunks are decompressed only at restore, into
 * a fresh machine that is discarded if one turns out bad.
 */
import { MACHINE_MODEL_VERSION, type MachineSnapshot } from "../../machine/snapshot/machine-snapshot.ts";
import { CODEC_NAMES, type SnapshotCodec } from "./codec.ts";
import { decodeRam, encodeRam } from "./ram.ts";
import { decodeValue, encodeValue, snapshotError } from "./value.ts";

export const SNAPSHOT_MAGIC = "VIRTSNAP";
export const SNAPSHOT_FORMAT_VERSION = 1;
const HEADER_SIZE = 64;
const ENTRY_SIZE = 32;
const MAX_SECTIONS = 16;
/** Files are read whole into memory; anything larger than this is not a snapshot of a machine we can build. */
const MAX_FILE = 2 ** 40;
/** The configuration and records are small; a huge one is a hostile file. */
const MAX_META = 16 << 20;
const MAX_MACHINE = 64 << 20;

/** What a restore needs to check about a disk the VM used (the disk itself is not in the file). */
export interface DiskIdentity {
  /** As given in the configuration (absolute or relative to where the VM ran). */
  path: string;
  /** Bytes. */
  size: number;
  /** Last modification time in ms: a disk written after the snapshot no longer matches the guest's caches. */
  mtimeMs: number;
  /** A hash of the first blocks (hex), to tell another image of the same size apart. */
  head: string;
}

/** The file's description of the VM, as the caller supplied it. */
export interface SnapshotMeta {
  /** The VM configuration, an opaque JSON value (src/vm/ defines it): a restore rebuilds the machine from it. */
  config: unknown;
  disks: DiskIdentity[];
}

export interface DecodedSnapshot {
  meta: SnapshotMeta;
  /** The machine; its `ram` is an image that decompresses into the machine at restore. */
  snapshot: MachineSnapshot;
  /** Decompresses the RAM ahead of the restore, off the thread if the codec can (ram.ts's prefetch). */
  prefetchRam(): Promise<void>;
  /** Format and codec facts, for tools and error messages. */
  info: { formatVersion: number; model: number; codec: string; ramStoredPages: number };
}

interface Section {
  name: string;
  version: number;
  parts: Uint8Array[];
}

const ascii = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });

function u64(dv: DataView, at: number, v: number): void {
  dv.setUint32(at, v % 2 ** 32, true);
  dv.setUint32(at + 4, Math.floor(v / 2 ** 32), true);
}

function getU64(dv: DataView, at: number): number {
  return dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 2 ** 32;
}

/** CRC-32 over a payload in parts, as if they were one array. */
function partsCrc(parts: Uint8Array[], codec: SnapshotCodec): number {
  let c = 0;
  for (const p of parts) c = codec.crc32(p, c);
  return c;
}

/**
 * Encodes a machine snapshot and its description as the file's bytes, in
 * parts to be written one after the other (no full-size copy of RAM is
 * made). `snap.ram` must be the RAM bytes (saveVm's view or a copy).
 */
export function encodeSnapshotFile(
  snap: MachineSnapshot,
  meta: SnapshotMeta,
  codec: SnapshotCodec,
): Uint8Array[] {
  if (!(snap.ram instanceof Uint8Array))
    throw new TypeError("encodeSnapshotFile needs the RAM bytes (saveVm)");
  const { ram, ...machine } = snap;
  const sections: Section[] = [
    { name: "meta", version: 1, parts: [ascii.encode(JSON.stringify(meta))] },
    { name: "machine", version: 1, parts: [encodeValue(machine)] },
    { name: "ram", version: 1, parts: encodeRam(ram, codec) },
  ];
  const table = new Uint8Array(ENTRY_SIZE * sections.length);
  const tv = new DataView(table.buffer);
  const out: Uint8Array[] = [];
  let offset = HEADER_SIZE + table.length;
  const padTo8 = () => {
    const pad = (8 - (offset % 8)) % 8;
    if (pad) {
      out.push(new Uint8Array(pad));
      offset += pad;
    }
  };
  padTo8();
  sections.forEach((s, i) => {
    let length = 0;
    for (const p of s.parts) length += p.length;
    const e = i * ENTRY_SIZE;
    table.set(ascii.encode(s.name), e);
    tv.setUint32(e + 8, s.version, true);
    tv.setUint32(e + 12, partsCrc(s.parts, codec), true);
    u64(tv, e + 16, offset);
    u64(tv, e + 24, length);
    out.push(...s.parts);
    offset += length;
    padTo8();
  });
  const header = new Uint8Array(HEADER_SIZE);
  const hv = new DataView(header.buffer);
  header.set(ascii.encode(SNAPSHOT_MAGIC), 0);
  hv.setUint32(8, SNAPSHOT_FORMAT_VERSION, true);
  hv.setUint32(12, snap.model, true);
  hv.setUint32(16, codec.id, true);
  hv.setUint32(20, sections.length, true);
  u64(hv, 24, offset);
  hv.setUint32(32, codec.crc32(table), true);
  hv.setUint32(60, codec.crc32(header.subarray(0, 60)), true);
  return [header, table, ...out];
}

/**
 * Decodes and validates a whole snapshot file. Throws a VirtusError with
 * code "bad-snapshot" and a message that says what is wrong (truncated,
 * not a snapshot, another version, corrupt section, other codec, ...).
 */
export function decodeSnapshotFile(
  bytes: Uint8Array,
  codecs: SnapshotCodec | readonly SnapshotCodec[],
): DecodedSnapshot {
  // A host may read several codecs (the browser writes "none" and reads Node's zstd too).
  const readable: readonly SnapshotCodec[] = Array.isArray(codecs) ? codecs : [codecs as SnapshotCodec];
  const crc32 = readable[0].crc32;
  if (bytes.length < HEADER_SIZE) {
    if (bytes.length >= 8 && utf8Safe(bytes.subarray(0, 8)) !== SNAPSHOT_MAGIC)
      throw snapshotError("not a Virtus snapshot (no VIRTSNAP magic)");
    throw snapshotError(`truncated: ${bytes.length} bytes, shorter than the header`);
  }
  const hv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (utf8Safe(bytes.subarray(0, 8)) !== SNAPSHOT_MAGIC)
    throw snapshotError("not a Virtus snapshot (no VIRTSNAP magic)");
  if (hv.getUint32(60, true) !== crc32(bytes.subarray(0, 60)))
    throw snapshotError("the header is corrupt (checksum mismatch)");
  const format = hv.getUint32(8, true);
  if (format !== SNAPSHOT_FORMAT_VERSION)
    throw snapshotError(`format version ${format}; this Virtus reads version ${SNAPSHOT_FORMAT_VERSION}`);
  const model = hv.getUint32(12, true);
  if (model !== MACHINE_MODEL_VERSION)
    throw snapshotError(`machine model ${model}; this Virtus restores model ${MACHINE_MODEL_VERSION}`);
  const codecId = hv.getUint32(16, true);
  const codec = readable.find((c) => c.id === codecId);
  if (codec === undefined)
    throw snapshotError(
      `compressed with ${CODEC_NAMES[codecId] ?? `codec ${codecId}`}, but this host reads ${readable.map((c) => c.name).join(" and ")}`,
    );
  const count = hv.getUint32(20, true);
  const fileLength = getU64(hv, 24);
  if (fileLength > MAX_FILE) throw snapshotError(`claims an absurd length of ${fileLength} bytes`);
  if (bytes.length < fileLength)
    throw snapshotError(`truncated: ${bytes.length} of ${fileLength} bytes (the write did not finish?)`);
  if (bytes.length > fileLength)
    throw snapshotError(`${bytes.length - fileLength} bytes of garbage after the end`);
  if (count < 1 || count > MAX_SECTIONS) throw snapshotError(`${count} sections`);
  const tableEnd = HEADER_SIZE + count * ENTRY_SIZE;
  if (tableEnd > bytes.length) throw snapshotError("truncated inside the section table");
  if (hv.getUint32(32, true) !== codec.crc32(bytes.subarray(HEADER_SIZE, tableEnd)))
    throw snapshotError("the section table is corrupt (checksum mismatch)");

  const sections = new Map<string, { version: number; data: Uint8Array }>();
  let last = tableEnd;
  for (let i = 0; i < count; i++) {
    const e = HEADER_SIZE + i * ENTRY_SIZE;
    const name = utf8Safe(bytes.subarray(e, e + 8)).replace(/\0+$/, "");
    const version = hv.getUint32(e + 8, true);
    const crc = hv.getUint32(e + 12, true);
    const offset = getU64(hv, e + 16);
    const length = getU64(hv, e + 24);
    if (!/^[a-z0-9-]{1,8}$/.test(name)) throw snapshotError(`section ${i} has a bad name`);
    if (sections.has(name)) throw snapshotError(`two "${name}" sections`);
    if (offset < last || offset > bytes.length || length > bytes.length - offset)
      throw snapshotError(`section "${name}" lies outside the file (offset ${offset}, length ${length})`);
    last = offset + length;
    const data = bytes.subarray(offset, offset + length);
    if (codec.crc32(data) !== crc) throw snapshotError(`section "${name}" is corrupt (checksum mismatch)`);
    sections.set(name, { version, data });
  }
  const section = (name: string, max: number): Uint8Array => {
    const s = sections.get(name);
    if (s === undefined) throw snapshotError(`no "${name}" section`);
    if (s.version !== 1)
      throw snapshotError(`"${name}" section version ${s.version}; this Virtus reads version 1`);
    if (s.data.length > max) throw snapshotError(`"${name}" section of ${s.data.length} bytes`);
    return s.data;
  };

  const meta = decodeMeta(section("meta", MAX_META));
  const machine = decodeValue(section("machine", MAX_MACHINE)) as Record<string, unknown> | null;
  if (typeof machine !== "object" || machine === null || Array.isArray(machine))
    throw snapshotError("the machine section is not a record");
  if (machine.model !== model) throw snapshotError("the machine section disagrees with the header's model");
  const ramSize = machine.ramSize;
  if (typeof ramSize !== "number" || !Number.isInteger(ramSize) || ramSize <= 0 || ramSize > 2 ** 36)
    throw snapshotError("the machine section has no valid RAM size");
  const ram = decodeRam(section("ram", Number.MAX_SAFE_INTEGER), ramSize, codec);
  // The records themselves are checked by restoreVm, component by component, as untrusted input.
  const snapshot = { ...machine, ram } as unknown as MachineSnapshot;
  return {
    meta,
    snapshot,
    prefetchRam: () => ram.prefetch(),
    info: { formatVersion: format, model, codec: codec.name, ramStoredPages: ram.storedPages },
  };
}

function utf8Safe(b: Uint8Array): string {
  let s = "";
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

function decodeMeta(data: Uint8Array): SnapshotMeta {
  let v: unknown;
  try {
    v = JSON.parse(utf8.decode(data));
  } catch {
    throw snapshotError("the meta section is not JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw snapshotError("the meta section is not a record");
  const m = v as Record<string, unknown>;
  if (!Array.isArray(m.disks)) throw snapshotError("the meta section has no disk list");
  const disks = m.disks.map((d, i): DiskIdentity => {
    const r = d as Record<string, unknown> | null;
    if (
      typeof r !== "object" ||
      r === null ||
      typeof r.path !== "string" ||
      typeof r.size !== "number" ||
      typeof r.mtimeMs !== "number" ||
      typeof r.head !== "string"
    )
      throw snapshotError(`disk ${i} in the meta section is malformed`);
    return { path: r.path, size: r.size, mtimeMs: r.mtimeMs, head: r.head };
  });
  return { config: m.config, disks };
}

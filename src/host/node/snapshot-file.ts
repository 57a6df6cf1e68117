/**
 * Snapshot files on a Node host: the zstd codec from node:zlib, atomic
 * writes, reading with one-line errors, and the disk identity a restore
 * checks (docs/SNAPSHOT.md).
 *
 *   writeSnapshotFile("vm.snap", saveVm(vm), { config, disks: [diskIdentity("disk.img")] });
 *   const { snapshot, meta } = readSnapshotFile("vm.snap");
 *   const problems = checkDisks(meta.disks);   // [] when every disk is as it was
 */
import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { promisify } from "node:util";
import { constants, crc32, zstdCompressSync, zstdDecompress, zstdDecompressSync } from "node:zlib";
import { CODEC_ZSTD, plainCodec, type SnapshotCodec } from "../../formats/snapshot/codec.ts";
import {
  type DecodedSnapshot,
  type DiskIdentity,
  decodeSnapshotFile,
  encodeSnapshotFile,
  type SnapshotMeta,
} from "../../formats/snapshot/file.ts";
import { VirtusError } from "../../machine/errors.ts";
import type { MachineSnapshot } from "../../machine/snapshot/machine-snapshot.ts";
import { writeFileAtomic } from "./atomic-file.ts";
import { traceStartup } from "./startup-trace.ts";

/**
 * zstd level 1: RAM compresses about as well as at level 3 (mostly zero
 * fill and code) at twice the speed; decompression speed does not depend
 * on the level.
 */
const ZSTD_LEVEL = 1;

const zstdDecompressAsync = promisify(zstdDecompress);

/** One output buffer of the expected size: with the default 16 KiB chunks, Node decompresses a 256 KiB chunk in pieces and joins them (measured 2-4x slower). */
const decompressOptions = (size: number) => ({
  maxOutputLength: Math.max(1, size),
  chunkSize: Math.max(64, size),
});

export const nodeSnapshotCodec: SnapshotCodec = {
  id: CODEC_ZSTD,
  name: "zstd",
  compress: (data) => zstdCompressSync(data, { params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } }),
  decompress(data, size) {
    const out = zstdDecompressSync(data, decompressOptions(size));
    if (out.length !== size) throw new Error(`${out.length} bytes where ${size} were expected`);
    return out;
  },
  decompressAsync: (data, size) => zstdDecompressAsync(data, decompressOptions(size)),
  crc32: (data, previous = 0) => crc32(data, previous),
};

/** Encodes and writes a snapshot file atomically (temporary file, fsync, rename). */
export function writeSnapshotFile(path: string, snap: MachineSnapshot, meta: SnapshotMeta): void {
  const parts = encodeSnapshotFile(snap, meta, nodeSnapshotCodec);
  try {
    writeFileAtomic(path, parts);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    throw new VirtusError("snapshot-write", `${path}: cannot write the snapshot (${code})`);
  }
}

/** Reads and validates a snapshot file; every problem is a one-line VirtusError naming the file. */
export function readSnapshotFile(path: string): DecodedSnapshot {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VirtusError(
      "no-file",
      `${path}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : `cannot read it (${code ?? "error"})`}`,
    );
  }
  traceStartup("snapshot file read");
  try {
    // Browsers write uncompressed snapshots (docs/SNAPSHOT.md); Node reads both.
    const decoded = decodeSnapshotFile(bytes, [nodeSnapshotCodec, plainCodec]);
    traceStartup("snapshot file checked and decoded (RAM still compressed)");
    return decoded;
  } catch (e) {
    if (e instanceof VirtusError) throw new VirtusError(e.code, `${path}: ${e.message}`);
    throw e;
  }
}

type Prefetched = { ok: true; decoded: DecodedSnapshot; ram: Promise<void> } | { ok: false; error: unknown };
const prefetched = new Map<string, Prefetched>();

/**
 * Reads and checks `path` now and starts decompressing its RAM on libuv's
 * threads, for a restore that comes later (the VM's worker does this while
 * its modules load). Holds the decompressed pages until the restore takes
 * them; a bad file's error waits for it too.
 */
export function prefetchSnapshotFile(path: string): void {
  try {
    const decoded = readSnapshotFile(path);
    prefetched.set(path, { ok: true, decoded, ram: decoded.prefetchRam() });
  } catch (error) {
    prefetched.set(path, { ok: false, error });
  }
}

/** The file as prefetchSnapshotFile read it, its RAM decompressed; a file not prefetched is read now. */
export async function takeSnapshotFile(path: string): Promise<DecodedSnapshot> {
  const p = prefetched.get(path);
  prefetched.delete(path);
  if (p === undefined) return readSnapshotFile(path);
  if (!p.ok) throw p.error;
  await p.ram;
  traceStartup("RAM prefetched");
  return p.decoded;
}

/** Bytes of the disk's head that identify it beyond its size (the partition table and superblocks). */
const HEAD_BYTES = 64 * 1024;

/** Size, modification time and a hash of the first 64 KiB of a disk image. */
export function diskIdentity(path: string): DiskIdentity {
  const fd = openSync(path, "r");
  try {
    const st = fstatSync(fd);
    const head = Buffer.alloc(Math.min(HEAD_BYTES, st.size));
    let at = 0;
    while (at < head.length) {
      const n = readSync(fd, head, at, head.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return {
      path,
      size: st.size,
      mtimeMs: st.mtimeMs,
      head: createHash("sha256").update(head.subarray(0, at)).digest("hex"),
    };
  } finally {
    closeSync(fd);
  }
}

/** How a disk differs from what the snapshot recorded. */
export interface DiskProblem {
  path: string;
  kind: "missing" | "size" | "content" | "modified";
  message: string;
}

/**
 * Compares each recorded disk with the file at its path now. "missing",
 * "size" and "content" (another image) make a restore unsafe; "modified"
 * (same head, newer mtime) means the disk was written after the snapshot,
 * so the guest's caches may disagree with it: the caller decides.
 */
export function checkDisks(disks: readonly DiskIdentity[]): DiskProblem[] {
  const problems: DiskProblem[] = [];
  for (const d of disks) {
    let now: DiskIdentity;
    try {
      statSync(d.path);
      now = diskIdentity(d.path);
    } catch {
      problems.push({ path: d.path, kind: "missing", message: `${d.path}: the disk is missing` });
      continue;
    }
    if (now.size !== d.size)
      problems.push({
        path: d.path,
        kind: "size",
        message: `${d.path}: the disk is ${now.size} bytes; the snapshot was taken with ${d.size}`,
      });
    else if (now.head !== d.head)
      problems.push({
        path: d.path,
        kind: "content",
        message: `${d.path}: not the disk the snapshot was taken with`,
      });
    else if (now.mtimeMs !== d.mtimeMs)
      problems.push({
        path: d.path,
        kind: "modified",
        message: `${d.path}: the disk was written after the snapshot was taken`,
      });
  }
  return problems;
}

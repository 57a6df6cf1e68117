/**
 * Snapshots in the browser (docs/SNAPSHOT.md): the same file format as
 * Node's. A browser has no synchronous zstd compressor, so it writes codec
 * "none" (zero pages are still left out) and reads both "none" and Node's
 * zstd files (fzstd, pure JavaScript). Node reads both codecs too.
 * Files live in memory: `save` keeps the bytes under the name the runner
 * passes, and the page downloads them.
 */
import { decompress } from "fzstd";
import { CODEC_ZSTD, plainCodec, type SnapshotCodec } from "../../formats/snapshot/codec.ts";
import { type DecodedSnapshot, decodeSnapshotFile, encodeSnapshotFile } from "../../formats/snapshot/file.ts";
import { VirtusError } from "../../machine/errors.ts";
import { saveVm } from "../../machine/snapshot/machine-snapshot.ts";
import { type VmConfig, validateSavedVmConfig } from "../../vm/config.ts";
import type { VmSnapshots } from "../../vm/runner.ts";

/** Reads zstd snapshots written by Node; it cannot write them. */
export const fzstdCodec: SnapshotCodec = {
  id: CODEC_ZSTD,
  name: "zstd",
  compress() {
    throw new VirtusError("snapshot-write", "this browser host writes uncompressed snapshots only");
  },
  decompress(data, size) {
    const out = decompress(data, new Uint8Array(size));
    if (out.length !== size) throw new Error(`${out.length} bytes where ${size} were expected`);
    return out;
  },
  crc32: plainCodec.crc32,
};

/** The codecs a browser reads, the one it writes first. */
export const BROWSER_CODECS: readonly SnapshotCodec[] = [plainCodec, fzstdCodec];

function join(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

/** A snapshot file from the page, checked: its machine state and the configuration it was taken with. */
export function readBrowserSnapshot(bytes: Uint8Array): DecodedSnapshot & { config: VmConfig } {
  const decoded = decodeSnapshotFile(bytes, BROWSER_CODECS);
  let config: VmConfig;
  try {
    config = validateSavedVmConfig(decoded.meta.config);
  } catch (e) {
    throw new VirtusError(
      "bad-snapshot",
      `the configuration in the snapshot is not valid (${(e as Error).message})`,
    );
  }
  return { ...decoded, config };
}

/** Saving for VmRunner's `snapshot` command; `take` hands the file's bytes over once. */
export function browserSnapshots(): VmSnapshots & { take(file: string): Uint8Array | undefined } {
  const files = new Map<string, Uint8Array>();
  return {
    save(vm, file) {
      vm.flushDisks();
      // Disks are the page's (memory, File, OPFS): the snapshot names none to check.
      const bytes = join(encodeSnapshotFile(saveVm(vm.board), { config: vm.config, disks: [] }, plainCodec));
      files.set(file, bytes);
      return bytes.length;
    },
    prepare() {
      throw new VirtusError("snapshot-restore", "restore a snapshot by loading it into a fresh page");
    },
    take(file) {
      const bytes = files.get(file);
      files.delete(file);
      return bytes;
    },
  };
}

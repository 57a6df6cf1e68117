/**
 * Node's implementation of the host services a VM needs
 * (src/vm/host-services.ts): files with node:fs, disks, 9p shares and
 * sockets through the openers next to this file.
 */
import { readFileSync } from "node:fs";
import { VirtusError } from "../../machine/errors.ts";
import type { ShareConfig } from "../../vm/config.ts";
import type { VmHostServices } from "../../vm/host-services.ts";
import { openDisk } from "./block-open.ts";
import { hostEntropy } from "./entropy.ts";
import { openNetwork } from "./net-open.ts";
import { NodeFsBackend } from "./p9-fs.ts";

/** Reads a whole input file; a missing or unreadable one is a one-line VirtusError. */
export function readInputFile(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : "cannot read it";
    throw new VirtusError("no-file", `${what} ${path}: ${why}`);
  }
}

/**
 * Frees the memory of `data` at once when it is the whole of an ArrayBuffer
 * (what readInputFile returns for a file larger than Node's 4 KiB buffer
 * pool): transfer(0) detaches the buffer and V8 frees its bytes without
 * waiting for a garbage collection. A view into a shared or pooled buffer is
 * left alone.
 */
export function releaseInputFile(data: Uint8Array): void {
  const buffer = data.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  if (!(buffer instanceof ArrayBuffer) || typeof buffer.transfer !== "function") return;
  if (data.byteOffset !== 0 || data.byteLength !== buffer.byteLength) return;
  buffer.transfer(0);
}

function openShare(share: ShareConfig) {
  let backend: NodeFsBackend;
  try {
    backend = new NodeFsBackend(share.hostDir, { readonly: share.readOnly });
  } catch (e) {
    if (e instanceof VirtusError)
      throw new VirtusError(e.code, `--share ${share.hostDir}:${share.tag}: ${e.message}`);
    throw e;
  }
  return { backend, close: () => backend.close() };
}

/** The services for a VM in this process (or in this worker thread); `log` gets diagnostics. */
export function nodeHostServices(
  log: (message: string) => void = (m) => process.stderr.write(`virtus: ${m}\n`),
): VmHostServices {
  return {
    readFile: readInputFile,
    release: releaseInputFile,
    openDisk,
    openShare,
    openNetwork,
    monotonicMs: () => performance.now(),
    wallClockMs: () => Date.now(),
    entropy: hostEntropy,
    log,
  };
}

/**
 * Disks for a VM in a Web Worker (virtio-blk's BlockBackend, synchronous
 * like a request inside the guest's QueueNotify write):
 *
 * - memory: a blank image in the worker's memory, gone with the page;
 * - blob:   a File or Blob the user picked, read with FileReaderSync; the
 *           guest's writes go to an in-memory overlay (the file is never
 *           changed, as `--disk FILE,snapshot`);
 * - opfs:   a file in the Origin Private File System through a
 *           FileSystemSyncAccessHandle (workers only): it persists across
 *           page loads.
 *
 * Opening is asynchronous (OPFS), so the worker opens every disk before it
 * builds the VM (openDiskSource).
 */
import type { BlockBackend } from "../../machine/host.ts";
import { MemoryBlockBackend } from "../../machine/virtio/blk.ts";

/** What the page asks for; `size` is in bytes, a multiple of 512. */
export type DiskSource =
  | { kind: "memory"; size: number }
  | { kind: "blob"; blob: Blob }
  | { kind: "opfs"; name: string; size: number };

/** The largest disk the page creates (memory and OPFS). */
export const MAX_PAGE_DISK = 2 * 1024 ** 3;

const PAGE = 4096;

/** Synchronous Blob reads, in workers only (not in the DOM's lib). */
declare const FileReaderSync: new () => { readAsArrayBuffer(blob: Blob): ArrayBuffer };

/** A File or Blob read on demand; writes stay in memory, page by page. */
export class BlobBlockBackend implements BlockBackend {
  readonly readOnly = false;
  readonly size: number;
  private readonly blob: Blob;
  private readonly reader = new FileReaderSync();
  private readonly written = new Map<number, Uint8Array>();

  constructor(blob: Blob) {
    this.blob = blob;
    this.size = blob.size - (blob.size % 512);
  }

  private page(index: number): Uint8Array {
    const w = this.written.get(index);
    if (w !== undefined) return w;
    const start = index * PAGE;
    const bytes = new Uint8Array(this.reader.readAsArrayBuffer(this.blob.slice(start, start + PAGE)));
    if (bytes.length === PAGE) return bytes;
    const full = new Uint8Array(PAGE);
    full.set(bytes);
    return full;
  }

  read(offset: number, dst: Uint8Array): void {
    // Whole runs of unwritten pages are read from the blob in one go.
    let done = 0;
    while (done < dst.length) {
      const at = offset + done;
      const index = Math.floor(at / PAGE);
      const inPage = at % PAGE;
      const n = Math.min(PAGE - inPage, dst.length - done);
      const w = this.written.get(index);
      if (w !== undefined) dst.set(w.subarray(inPage, inPage + n), done);
      else dst.set(new Uint8Array(this.reader.readAsArrayBuffer(this.blob.slice(at, at + n))), done);
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    let done = 0;
    while (done < src.length) {
      const at = offset + done;
      const index = Math.floor(at / PAGE);
      const inPage = at % PAGE;
      const n = Math.min(PAGE - inPage, src.length - done);
      const p = this.page(index);
      p.set(src.subarray(done, done + n), inPage);
      this.written.set(index, p);
      done += n;
    }
  }

  flush(): void {}
}

/** The parts of FileSystemSyncAccessHandle used here (in the worker's lib, not the DOM's). */
interface SyncAccessHandle {
  read(dst: Uint8Array, opts: { at: number }): number;
  write(src: Uint8Array, opts: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

/** A disk in the Origin Private File System: persistent, private to the page's origin. */
export class OpfsBlockBackend implements BlockBackend {
  readonly readOnly = false;
  readonly size: number;
  private readonly handle: SyncAccessHandle;

  constructor(handle: SyncAccessHandle) {
    this.handle = handle;
    this.size = handle.getSize();
  }

  read(offset: number, dst: Uint8Array): void {
    const n = this.handle.read(dst, { at: offset });
    if (n < dst.length) dst.fill(0, n);
  }

  write(offset: number, src: Uint8Array): void {
    if (this.handle.write(src, { at: offset }) !== src.length) throw new Error("short write to OPFS");
  }

  flush(): void {
    this.handle.flush();
  }

  close(): void {
    this.handle.flush();
    this.handle.close();
  }
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size <= 0 || size % 512 !== 0 || size > MAX_PAGE_DISK)
    throw new Error(`a disk of ${size} bytes: give a multiple of 512 up to ${MAX_PAGE_DISK}`);
}

/** Opens what the page asked for; an OPFS file is created (or grown) to `size`. */
export async function openDiskSource(src: DiskSource): Promise<BlockBackend & { close?(): void }> {
  if (src.kind === "memory") {
    checkSize(src.size);
    return new MemoryBlockBackend(new Uint8Array(src.size));
  }
  if (src.kind === "blob") {
    if (src.blob.size < 512) throw new Error("the disk file is smaller than one 512-byte sector");
    return new BlobBlockBackend(src.blob);
  }
  checkSize(src.size);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(src.name)) throw new Error(`OPFS disk name ${JSON.stringify(src.name)}`);
  const root = await navigator.storage.getDirectory();
  const file = await root.getFileHandle(src.name, { create: true });
  const handle = await (
    file as unknown as { createSyncAccessHandle(): Promise<SyncAccessHandle> }
  ).createSyncAccessHandle();
  if (handle.getSize() < src.size) handle.truncate(src.size);
  return new OpfsBlockBackend(handle);
}

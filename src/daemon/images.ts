/**
 * A tenant's images: uploaded bytes (`PUT /v1/images/NAME`, raw or
 * qcow2, also kernels and initramfs files) written to a temporary file in
 * the data directory, fsynced and renamed into place, then recorded in
 * the store. The upload stops as soon as it passes the tenant's disk
 * quota. A qcow2 image may not name a backing file: it would be a path on
 * the host, outside the tenant's images.
 */
import {
  closeSync,
  createWriteStream,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
} from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { probeFormat } from "../formats/detect.ts";
import { VirtusError } from "../machine/errors.ts";
import { bad } from "./definition.ts";
import { conflict } from "./errors.ts";
import { diskLeft } from "./quota.ts";
import type { ImageRow, Store, TenantRow } from "./store.ts";

export function imageDir(dataDir: string, tenantId: number): string {
  return join(dataDir, "images", String(tenantId));
}

function firstBytes(file: string, n: number): Uint8Array {
  const fd = openSync(file, "r");
  try {
    const b = new Uint8Array(n);
    return b.subarray(0, readSync(fd, b, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** The format of an uploaded file, or a refusal. */
function formatOf(file: string): "raw" | "qcow2" {
  const head = firstBytes(file, 512);
  const p = probeFormat(head);
  if ("unsupported" in p)
    throw bad(`the image is ${p.unsupported}, which Virtus does not read (convert it to qcow2 or raw)`);
  if (p.format === "qcow2") {
    const backing = new DataView(head.buffer, head.byteOffset, head.length).getBigUint64(8);
    if (backing !== 0n)
      throw bad("a qcow2 image with a backing file cannot be imported: flatten it (virtus image convert)");
  }
  return p.format;
}

export async function importImage(
  store: Store,
  dataDir: string,
  tenant: TenantRow,
  name: string,
  body: Readable,
): Promise<ImageRow> {
  if (store.image(tenant.id, name) !== undefined) throw conflict(`an image named ${name} exists already`);
  const dir = imageDir(dataDir, tenant.id);
  mkdirSync(dir, { recursive: true });
  const final = join(dir, `${name}.img`);
  const tmp = join(dir, `.${name}.${process.pid}.${Date.now()}.tmp`);
  const left = diskLeft(store, tenant);
  let size = 0;
  try {
    await pipeline(
      body,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const c of chunks) {
          size += c.length;
          if (size > left)
            throw new VirtusError(
              "quota",
              `quota exceeded for tenant ${tenant.name}: the image passes the disk left (${left} bytes)`,
            );
          yield c;
        }
      },
      createWriteStream(tmp, { mode: 0o600 }),
    );
    if (size === 0) throw bad("the image is empty: send its bytes as application/octet-stream");
    const format = formatOf(tmp);
    const fd = openSync(tmp, "r");
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, final);
    try {
      return store.addImage(tenant.id, name, format, final, size);
    } catch (e) {
      rmSync(final, { force: true });
      throw e;
    }
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function deleteImage(store: Store, img: ImageRow, inUse: boolean): void {
  if (inUse) throw conflict(`image ${img.name} is used by a running VM`);
  store.deleteImage(img.id);
  rmSync(img.file, { force: true });
}

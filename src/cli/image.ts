/**
 * `virtus image`: create, inspect, convert and check disk images.
 *
 *   virtus image create FILE [SIZE] [--backing BASE] [--format qcow2|raw]
 *   virtus image info FILE [--json]
 *   virtus image convert IN OUT --format raw|qcow2
 *   virtus image check FILE
 *
 * Exit codes: 0 done (check: no errors, no leaks); 1 check found
 * corruption or leaks; 2 bad input (a missing file, an unknown format, a
 * malformed image header), with one line on stderr.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { type Command, Option } from "commander";
import { PROBE_BYTES, probeFormat } from "../formats/detect.ts";
import type { DiskImage } from "../formats/image-file.ts";
import { Qcow2Image } from "../formats/qcow2.ts";
import { checkQcow2 } from "../formats/qcow2-check.ts";
import { qcow2Layout } from "../formats/qcow2-create.ts";
import { INCOMPAT_CORRUPT, INCOMPAT_DIRTY, parseQcow2Header } from "../formats/qcow2-header.ts";
import { NodeImageFile, nodeDecompress } from "../host/node/block-file.ts";
import { createQcow2Image, openImage, writeFileAtomic } from "../host/node/block-image.ts";
import { VirtusError } from "../machine/errors.ts";
import { parseBytes } from "./size.ts";

export function addImageCommand(program: Command): void {
  const image = program
    .command("image")
    .description("create, inspect, convert and check disk images (raw, qcow2)");
  image
    .command("create")
    .description("create an empty image (qcow2 by default); with --backing, a copy-on-write overlay")
    .argument("<file>", "the new image (must not exist)")
    .argument("[size]", "virtual size, e.g. 10G (default with --backing: the backing image's size)")
    .option(
      "--backing <base>",
      "backing image (qcow2 only); a relative name resolves against FILE's directory",
    )
    .addOption(new Option("--format <format>", "image format").choices(["qcow2", "raw"]).default("qcow2"))
    .action((file: string, size: string | undefined, opts: { backing?: string; format: string }) => {
      process.exitCode = createCommand(file, size, opts);
    });
  image
    .command("info")
    .description("format, virtual size, allocated size and backing chain")
    .argument("<file>")
    .option("--json", "print JSON")
    .action((file: string, opts: { json?: boolean }) => {
      process.exitCode = infoCommand(file, opts);
    });
  image
    .command("convert")
    .description("copy an image (flattening its backing chain) into a new image of the given format")
    .argument("<in>")
    .argument("<out>", "the new image (must not exist)")
    .addOption(
      new Option("--format <format>", "output format").choices(["qcow2", "raw"]).makeOptionMandatory(),
    )
    .action((input: string, output: string, opts: { format: "raw" | "qcow2" }) => {
      process.exitCode = convertCommand(input, output, opts.format);
    });
  image
    .command("check")
    .description("check a qcow2 image's metadata; exit 1 on corruption or leaked clusters")
    .argument("<file>")
    .action((file: string) => {
      process.exitCode = checkCommand(file);
    });
}

function refuseExisting(path: string): void {
  if (existsSync(path))
    throw new VirtusError("exists", `${path} already exists; remove it first or pick another name`);
}

/** Creates a sparse raw file atomically. */
function createRaw(path: string, size: number): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  let fd: number;
  try {
    fd = openSync(tmp, "wx", 0o644);
  } catch (e) {
    throw new VirtusError(
      "bad-image",
      `${path}: cannot create it (${(e as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  try {
    ftruncateSync(fd, size);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function createCommand(
  file: string,
  sizeText: string | undefined,
  opts: { backing?: string; format: string },
): number {
  refuseExisting(file);
  const size = sizeText === undefined ? undefined : parseBytes(sizeText, "SIZE");
  if (opts.format === "raw") {
    if (opts.backing !== undefined)
      throw new VirtusError("bad-image", "--backing needs --format qcow2 (raw images have no backing file)");
    if (size === undefined)
      throw new VirtusError("bad-size", "give the image a size, e.g. virtus image create disk.img 10G");
    createRaw(file, size);
  } else createQcow2Image(file, { size, backing: opts.backing });
  return 0;
}

interface ImageInfo {
  file: string;
  format: string;
  virtualSize: number;
  fileSize: number;
  allocatedSize: number;
  clusterSize?: number;
  qcow2Version?: number;
  refcountBits?: number;
  compression?: string;
  dirty?: boolean;
  corrupt?: boolean;
  snapshots?: number;
  backingFile?: string;
  backingFormat?: string;
  /** The whole chain below this image, nearest first. */
  backingChain: { file: string; format: string; virtualSize: number }[];
}

function describe(img: DiskImage): ImageInfo {
  const st = statSync(img.name);
  const info: ImageInfo = {
    file: img.name,
    format: img.format,
    virtualSize: img.size,
    fileSize: st.size,
    allocatedSize: st.blocks * 512,
    backingChain: [],
  };
  if (img instanceof Qcow2Image) {
    const h = img.header;
    info.clusterSize = img.clusterSize;
    info.qcow2Version = h.version;
    info.refcountBits = 2 ** h.refcountOrder;
    info.compression = h.compressionType === 1 ? "zstd" : "deflate";
    info.dirty = (h.incompatible & INCOMPAT_DIRTY) !== 0;
    info.corrupt = (h.incompatible & INCOMPAT_CORRUPT) !== 0;
    info.snapshots = h.nbSnapshots;
    info.backingFile = h.backingFile;
    info.backingFormat = h.backingFormat;
  }
  for (let b = img.backing; b !== undefined; b = b.backing)
    info.backingChain.push({ file: b.name, format: b.format, virtualSize: b.size });
  return info;
}

const human = (n: number) => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
};

export function infoCommand(file: string, opts: { json?: boolean }): number {
  const img = openImage(file, { readOnly: true });
  let info: ImageInfo;
  try {
    info = describe(img);
  } finally {
    img.close();
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `image: ${info.file}`,
    `format: ${info.format}`,
    `virtual size: ${human(info.virtualSize)} (${info.virtualSize} bytes)`,
    `file size: ${human(info.fileSize)}`,
    `allocated size: ${human(info.allocatedSize)}`,
  ];
  if (info.clusterSize !== undefined) {
    lines.push(
      `cluster size: ${info.clusterSize}`,
      `qcow2 version: ${info.qcow2Version}, refcount bits: ${info.refcountBits}, compression: ${info.compression}`,
    );
    if (info.snapshots) lines.push(`internal snapshots: ${info.snapshots}`);
    if (info.dirty) lines.push("dirty: yes (not closed cleanly)");
    if (info.corrupt) lines.push("corrupt: yes");
  }
  if (info.backingFile !== undefined)
    lines.push(
      `backing file: ${info.backingFile}${info.backingFormat ? ` (format ${info.backingFormat})` : ""}`,
    );
  for (const [i, b] of info.backingChain.entries())
    lines.push(`backing chain ${i + 1}: ${b.file} (${b.format}, ${human(b.virtualSize)})`);
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

/** Progress on a TTY: a bar redrawn at most every 100 ms; nothing when stderr is not a terminal. */
function progressBar(total: number): { update(done: number): void; end(): void } {
  if (!process.stderr.isTTY || total === 0) return { update() {}, end() {} };
  let last = 0;
  const draw = (done: number) => {
    const frac = done / total;
    const width = 30;
    const fill = Math.round(frac * width);
    process.stderr.write(
      `\r[${"#".repeat(fill)}${" ".repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${human(done)} / ${human(total)}`,
    );
  };
  return {
    update(done) {
      const now = performance.now();
      if (now - last < 100) return;
      last = now;
      draw(done);
    },
    end() {
      draw(total);
      process.stderr.write("\n");
    },
  };
}

const CHUNK = 1024 * 1024;

function isZero(b: Uint8Array): boolean {
  const w = new Uint32Array(b.buffer, b.byteOffset, b.length >>> 2);
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
  for (let i = w.length * 4; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * Copies every non-zero range of `src` (through its backing chain) into
 * `dst`; ranges the chain says are zero are skipped without reading, as are
 * zero 64 KiB pieces of what is read (the output stays sparse).
 */
function copyImage(
  src: DiskImage,
  dst: { write(pos: number, b: Uint8Array): void },
  progress: (done: number) => void,
): void {
  const buf = new Uint8Array(CHUNK);
  let pos = 0;
  while (pos < src.size) {
    const s = src.allocation(pos, Math.min(CHUNK * 64, src.size - pos));
    if (s.zero) {
      pos += s.len;
      progress(pos);
      continue;
    }
    const end = pos + s.len;
    while (pos < end) {
      const n = Math.min(CHUNK, end - pos);
      const part = buf.subarray(0, n);
      src.read(pos, part);
      for (let at = 0; at < n; at += 65536) {
        const piece = part.subarray(at, Math.min(n, at + 65536));
        if (!isZero(piece)) dst.write(pos + at, piece);
      }
      pos += n;
      progress(pos);
    }
  }
}

export function convertCommand(input: string, output: string, format: "raw" | "qcow2"): number {
  refuseExisting(output);
  const src = openImage(input, { readOnly: true });
  const tmp = join(dirname(output), `.${basename(output)}.tmp-${process.pid}`);
  const bar = progressBar(src.size);
  try {
    if (format === "raw") createRaw(tmp, src.size);
    else writeFileAtomic(tmp, qcow2Layout({ size: src.size }));
    const file = NodeImageFile.open(tmp, { readOnly: false, what: output });
    try {
      if (format === "raw") copyImage(src, file, bar.update);
      else {
        const first = new Uint8Array(65536 * 2);
        const n = file.read(0, first);
        const out = new Qcow2Image(file, parseQcow2Header(first.subarray(0, n), output, file.length()), {
          readOnly: false,
          decompress: nodeDecompress,
        });
        copyImage(src, out, bar.update);
      }
      file.flush();
    } finally {
      file.close();
    }
    renameSync(tmp, output);
    bar.end();
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    src.close();
  }
  return 0;
}

export function checkCommand(path: string): number {
  const file = NodeImageFile.open(path, { readOnly: true, what: path });
  try {
    const first = new Uint8Array(2 * 1024 * 1024);
    const n = file.read(0, first);
    const probe = probeFormat(first.subarray(0, Math.min(n, PROBE_BYTES)));
    if ("unsupported" in probe)
      throw new VirtusError("bad-image", `${path}: a ${probe.unsupported} image; Virtus checks qcow2 images`);
    if (probe.format === "raw") {
      process.stdout.write(`${path}: a raw image has no metadata to check\n`);
      return 0;
    }
    const h = parseQcow2Header(first.subarray(0, n), path, file.length());
    const r = checkQcow2(file, h);
    for (const line of r.errors) process.stdout.write(`ERROR ${line}\n`);
    if (r.corruptions > r.errors.length)
      process.stdout.write(`… and ${r.corruptions - r.errors.length} more errors\n`);
    if (r.leaks > 0) process.stdout.write(`${r.leaks} leaked clusters (space lost, data safe)\n`);
    if (r.corruptions === 0 && r.leaks === 0) process.stdout.write("No errors were found on the image.\n");
    else process.stdout.write(`${r.corruptions} errors, ${r.leaks} leaked clusters\n`);
    process.stdout.write(`${r.dataClusters} data clusters, ${r.fileClusters} clusters in the file\n`);
    return r.corruptions > 0 || r.leaks > 0 ? 1 : 0;
  } finally {
    file.close();
  }
}

/**
 * `npm run bench:disk`: sequential disk throughput inside the default guest
 * with busybox dd and O_DIRECT (no guest page cache), on Virtus
 * (`--disk IMG`) and on qemu-system-riscv64 with the equivalent
 * `-drive file=IMG,if=none,format=raw,id=d0 -device virtio-blk-device,drive=d0`,
 * alternating; prints the medians in MB/s (guest `time -p` real time) and
 * the ratios. Each VM gets a fresh sparse raw image (128 MiB by default),
 * and with --format qcow2 (or both, the default) a fresh qcow2 image from
 * `qemu-img create` (64 KiB clusters), which QEMU opens with format=qcow2:
 * writes allocate clusters, reads follow the L1/L2 tables.
 *
 *   npm run bench:disk -- [--runs N] [--mib M] [--format raw|qcow2|both]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureGuest } from "../src/host/node/guest.ts";
import { GuestSession } from "../tests/support/guest-session.ts";
import { median, qemuArgs, timeInGuest } from "./lib.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    mib: { type: "string", default: "128" },
    format: { type: "string", default: "both" },
  },
});
const runs = Number(values.runs);
const mib = Number(values.mib);
const formats =
  values.format === "both" ? (["raw", "qcow2"] as const) : ([values.format] as ("raw" | "qcow2")[]);
const g = await ensureGuest({ log: (l) => console.error(l) });
const dir = mkdtempSync(join(tmpdir(), "virtus-bench-disk-"));

const WRITE = `dd if=/dev/zero of=/dev/vda bs=1M count=${mib} oflag=direct 2>/dev/null`;
const READ = `dd if=/dev/vda of=/dev/null bs=1M count=${mib} iflag=direct 2>/dev/null`;

function freshImage(name: string, format: "raw" | "qcow2"): string {
  const p = join(dir, `${name}.${format}`);
  rmSync(p, { force: true });
  if (format === "qcow2") execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", p, `${mib}M`]);
  else {
    writeFileSync(p, "");
    truncateSync(p, mib << 20);
  }
  return p;
}

/** Boots, writes then reads the whole disk; returns MB/s for each. */
async function measure(s: GuestSession): Promise<{ write: number; read: number }> {
  try {
    await s.expect("guest# ", 600_000);
    const w = await timeInGuest(s, WRITE);
    const r = await timeInGuest(s, READ);
    s.send("poweroff -f\n");
    await s.exited;
    return { write: (mib * 1.048576) / w, read: (mib * 1.048576) / r };
  } finally {
    s.kill();
  }
}

type Rates = { write: number; read: number };
const v: Record<string, Rates[]> = { raw: [], qcow2: [] };
const q: Record<string, Rates[]> = { raw: [], qcow2: [] };
try {
  for (let i = 0; i < runs; i++) {
    for (const format of formats) {
      const vr = await measure(
        new GuestSession(["--kernel", g.kernel, "--initrd", g.initrd, "--disk", freshImage("v", format)]),
      );
      const qimg = freshImage("q", format);
      const qr = await measure(
        new GuestSession(
          [
            ...qemuArgs(g.kernel, g.initrd),
            "-drive",
            `file=${qimg},if=none,format=${format},id=d0`,
            "-device",
            "virtio-blk-device,drive=d0",
          ],
          "qemu-system-riscv64",
        ),
      );
      v[format].push(vr);
      q[format].push(qr);
      console.error(
        `run ${i + 1} ${format}: virtus write ${vr.write.toFixed(1)} read ${vr.read.toFixed(1)} MB/s, qemu write ${qr.write.toFixed(1)} read ${qr.read.toFixed(1)} MB/s`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
for (const format of formats) {
  for (const kind of ["write", "read"] as const) {
    const mv = median(v[format].map((x) => x[kind]));
    const mq = median(q[format].map((x) => x[kind]));
    console.log(
      `${format} sequential ${kind} ${mib} MiB (dd bs=1M, O_DIRECT): virtus median ${mv.toFixed(1)} MB/s | qemu median ${mq.toFixed(1)} MB/s | qemu/virtus ${(mq / mv).toFixed(2)}x | runs ${runs}`,
    );
  }
}

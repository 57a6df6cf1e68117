/**
 * `npm run bench:disk`: sequential disk throughput inside the default guest
 * with busybox dd and O_DIRECT (no guest page cache), on Virtus
 * (`--disk IMG`) and on qemu-system-riscv64 with the equivalent
 * `-drive file=IMG,if=none,format=raw,id=d0 -device virtio-blk-device,drive=d0`,
 * alternating; prints the medians in MB/s (guest `time -p` real time) and
 * the ratios. Each VM gets a fresh sparse raw image (128 MiB by default).
 *
 *   npm run bench:disk -- [--runs N] [--mib M]
 */
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureGuest } from "../src/host/node/guest.ts";
import { GuestSession } from "../tests/support/guest-session.ts";
import { median, qemuArgs, timeInGuest } from "./lib.ts";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "5" }, mib: { type: "string", default: "128" } },
});
const runs = Number(values.runs);
const mib = Number(values.mib);
const g = await ensureGuest({ log: (l) => console.error(l) });
const dir = mkdtempSync(join(tmpdir(), "virtus-bench-disk-"));

const WRITE = `dd if=/dev/zero of=/dev/vda bs=1M count=${mib} oflag=direct 2>/dev/null`;
const READ = `dd if=/dev/vda of=/dev/null bs=1M count=${mib} iflag=direct 2>/dev/null`;

function freshImage(name: string): string {
  const p = join(dir, name);
  writeFileSync(p, "");
  truncateSync(p, mib << 20);
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

const v: { write: number; read: number }[] = [];
const q: { write: number; read: number }[] = [];
try {
  for (let i = 0; i < runs; i++) {
    v.push(
      await measure(
        new GuestSession(["--kernel", g.kernel, "--initrd", g.initrd, "--disk", freshImage("v.img")]),
      ),
    );
    const qimg = freshImage("q.img");
    q.push(
      await measure(
        new GuestSession(
          [
            ...qemuArgs(g.kernel, g.initrd),
            "-drive",
            `file=${qimg},if=none,format=raw,id=d0`,
            "-device",
            "virtio-blk-device,drive=d0",
          ],
          "qemu-system-riscv64",
        ),
      ),
    );
    console.error(
      `run ${i + 1}: virtus write ${v[i].write.toFixed(1)} read ${v[i].read.toFixed(1)} MB/s, qemu write ${q[i].write.toFixed(1)} read ${q[i].read.toFixed(1)} MB/s`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
for (const kind of ["write", "read"] as const) {
  const mv = median(v.map((x) => x[kind]));
  const mq = median(q.map((x) => x[kind]));
  console.log(
    `sequential ${kind} ${mib} MiB (dd bs=1M, O_DIRECT): virtus median ${mv.toFixed(1)} MB/s | qemu median ${mq.toFixed(1)} MB/s | qemu/virtus ${(mq / mv).toFixed(2)}x | runs ${runs}`,
  );
}

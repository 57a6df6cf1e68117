/**
 * `npm run bench:net`: TCP throughput between the default guest and a host
 * service on 127.0.0.1, through user-mode networking: Virtus (`--net user`,
 * virtio-net) against qemu-system-riscv64 with `-netdev user,id=n0 -device
 * virtio-net-device,netdev=n0` (slirp), alternating, same kernel and initrd.
 *
 *   upload    guest: dd if=/dev/zero bs=64k | nc 10.0.2.2 SINK   → a host socket that counts bytes
 *   download  guest: wget -O /dev/null http://10.0.2.2:HTTP/     ← a host HTTP server
 *
 * Times are the guest's `time -p` real seconds (both guests run on real
 * time); the host checks that every byte arrived. Prints the medians in
 * MB/s and the ratios. Traffic never leaves 127.0.0.1.
 *
 *   npm run bench:net -- [--runs N] [--mib M] [--virtus-args "..."]
 */
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { parseArgs } from "node:util";
import { ensureGuest } from "../src/host/node/guest.ts";
import { GuestSession } from "../tests/support/guest-session.ts";
import { median, qemuArgs, timeInGuest } from "./lib.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    mib: { type: "string", default: "32" },
    "virtus-args": { type: "string", default: "" },
  },
});
const runs = Number(values.runs);
const mib = Number(values.mib);
const extra = values["virtus-args"] ? values["virtus-args"].split(" ") : [];
const g = await ensureGuest({ log: (l) => console.error(l) });

// Host side: a byte sink for uploads and an HTTP server for downloads, both on loopback.
let sunk = 0;
const sink = createServer((s) => {
  s.on("data", (d) => {
    sunk += d.length;
  });
  s.on("end", () => s.end());
  s.on("error", () => {});
});
await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
const sinkPort = (sink.address() as { port: number }).port;
const payload = Buffer.alloc(mib << 20, 0x61);
const http = createHttpServer((_req, res) => res.end(payload));
await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
const httpPort = (http.address() as { port: number }).port;

const UPLOAD = `dd if=/dev/zero bs=64k count=${mib * 16} 2>/dev/null | nc 10.0.2.2 ${sinkPort}`;
const DOWNLOAD = `wget -q -O /dev/null http://10.0.2.2:${httpPort}/`;

/** Boots, configures eth0 as DHCP would, uploads then downloads; returns MB/s for each. */
async function measure(s: GuestSession): Promise<{ upload: number; download: number }> {
  try {
    await s.expect("guest# ", 600_000);
    await s.run("ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up && route add default gw 10.0.2.2");
    sunk = 0;
    const up = await timeInGuest(s, UPLOAD);
    if (sunk !== mib << 20) throw new Error(`upload: the host received ${sunk} of ${mib << 20} bytes`);
    const down = await timeInGuest(s, DOWNLOAD);
    s.send("poweroff -f\n");
    await s.exited;
    return { upload: (mib * 1.048576) / up, download: (mib * 1.048576) / down };
  } finally {
    s.kill();
  }
}

const v: { upload: number; download: number }[] = [];
const q: { upload: number; download: number }[] = [];
try {
  for (let i = 0; i < runs; i++) {
    v.push(
      await measure(
        new GuestSession(["--kernel", g.kernel, "--initrd", g.initrd, "--net", "user", ...extra]),
      ),
    );
    q.push(
      await measure(
        new GuestSession(
          [
            ...qemuArgs(g.kernel, g.initrd),
            "-netdev",
            "user,id=n0",
            "-device",
            "virtio-net-device,netdev=n0",
          ],
          "qemu-system-riscv64",
        ),
      ),
    );
    console.error(
      `run ${i + 1}: virtus upload ${v[i].upload.toFixed(1)} download ${v[i].download.toFixed(1)} MB/s, qemu upload ${q[i].upload.toFixed(1)} download ${q[i].download.toFixed(1)} MB/s`,
    );
  }
} finally {
  sink.close();
  http.close();
}
for (const kind of ["upload", "download"] as const) {
  const mv = median(v.map((x) => x[kind]));
  const mq = median(q.map((x) => x[kind]));
  console.log(
    `TCP ${kind} ${mib} MiB (guest ${kind === "upload" ? "dd | nc" : "wget"} via 10.0.2.2): virtus median ${mv.toFixed(1)} MB/s | qemu median ${mq.toFixed(1)} MB/s | qemu/virtus ${(mq / mv).toFixed(2)}x | runs ${runs}`,
  );
}

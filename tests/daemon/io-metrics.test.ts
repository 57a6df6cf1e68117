/**
 * /metrics counts a VM's disk and network I/O: the default guest, with a
 * raw disk, reads and writes the disk and pings the gateway; the counters
 * of its virtio-blk and virtio-net devices grow by at least what it moved.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { WebSocket } from "ws";
import { type Daemon, startDaemon } from "../../src/daemon/server.ts";
import { ensureGuest, findGuest } from "../../src/host/node/guest.ts";
import { http, until } from "./support.ts";

const noGuest = findGuest() === undefined && "the default guest is not built: run `npm run guest`";

const COUNTERS = [
  "disk_read_bytes",
  "disk_read_requests",
  "disk_write_bytes",
  "disk_write_requests",
  "net_rx_bytes",
  "net_rx_packets",
  "net_tx_bytes",
  "net_tx_packets",
] as const;
type Counters = Record<(typeof COUNTERS)[number], number>;

async function ioCounters(socket: string, token: string, vm: string): Promise<Counters> {
  const text = (await http(socket, token, "GET", "/metrics")).text;
  const out = {} as Counters;
  for (const c of COUNTERS) {
    const name = `virtus_vm_${c}_total`;
    assert.match(text, new RegExp(`^# TYPE ${name} counter$`, "m"));
    const m = new RegExp(`^${name}\\{tenant="admin",vm="${vm}"\\} (\\d+)$`, "m").exec(text);
    assert.ok(m, `${name} for ${vm} in:\n${text}`);
    out[c] = Number(m[1]);
  }
  return out;
}

/** Reads 256 KiB the boot did not touch, writes 128 KiB through to the disk, pings the gateway twice. */
const IO_COMMANDS = [
  "i=0; while [ ! -e /etc/resolv.conf ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done",
  "dd if=/dev/vda of=/dev/null bs=4096 skip=512 count=64",
  "dd if=/dev/zero of=/dev/vda bs=4096 seek=128 count=32 conv=fsync",
  "ping -c 2 10.0.2.2",
  "echo IO-$((40+2))",
].join("; ");

test("/metrics shows a VM's disk reads and writes and its network traffic growing", {
  skip: noGuest,
  timeout: 300_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "virtus-io-"));
  let d: Daemon | undefined;
  try {
    d = await startDaemon({
      dataDir: dir,
      defaultGuest: async () => {
        const g = await ensureGuest({ log: () => {} });
        return { kernel: g.kernel, initrd: g.initrd };
      },
    });
    const socket = d.url.slice("unix:".length);
    const admin = d.adminToken;
    const img = await http(
      socket,
      admin,
      "PUT",
      "/v1/images/data",
      Buffer.alloc(4 << 20, 0x5a),
      "application/octet-stream",
    );
    assert.equal(img.status, 201, img.text);
    const def = { name: "io", memory: "128M", disks: [{ image: "data" }] };
    assert.equal((await http(socket, admin, "POST", "/v1/vms", def)).status, 201);
    const started = await http(socket, admin, "POST", "/v1/vms/io/start");
    assert.equal(started.status, 200, started.text);

    const ws = new WebSocket(`ws+unix:${socket}:/v1/vms/io/console`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    let text = "";
    ws.on("message", (b: Buffer) => (text += b.toString("latin1")));
    await new Promise<void>((r, j) => {
      ws.on("open", () => r());
      ws.on("error", j);
    });
    await until(() => text.includes("guest# "), "the guest's prompt", 240_000);
    const before = await ioCounters(socket, admin, "io");
    assert.ok(before.disk_read_requests > 0, "the kernel read the disk's partition table at boot");
    ws.send(Buffer.from(`${IO_COMMANDS}\n`));
    await until(() => text.includes("IO-42"), "the guest's I/O commands", 120_000);
    assert.match(text, /2 packets received/, text.slice(-2000));
    const after = await ioCounters(socket, admin, "io");

    assert.ok(after.disk_read_bytes - before.disk_read_bytes >= 64 * 4096, "256 KiB read");
    assert.ok(after.disk_read_requests > before.disk_read_requests);
    assert.ok(after.disk_write_bytes - before.disk_write_bytes >= 32 * 4096, "128 KiB written");
    assert.ok(after.disk_write_requests > before.disk_write_requests);
    // Two echo requests out and two replies in (98-byte frames), maybe ARP besides.
    assert.ok(after.net_tx_packets - before.net_tx_packets >= 2, "echo requests sent");
    assert.ok(after.net_tx_bytes - before.net_tx_bytes >= 2 * 98);
    assert.ok(after.net_rx_packets - before.net_rx_packets >= 2, "echo replies received");
    assert.ok(after.net_rx_bytes - before.net_rx_bytes >= 2 * 98);
    ws.close();
    // The default guest saves and restores a snapshot within its worker's derived heap bound (workerHeapMb).
    const snap = await http(socket, admin, "POST", "/v1/vms/io/snapshots", { name: "s" });
    assert.equal(snap.status, 201, snap.text);
    assert.equal(
      ((await http(socket, admin, "GET", "/v1/vms/io")).body as { state: string }).state,
      "running",
    );
    assert.equal((await http(socket, admin, "POST", "/v1/vms/io/destroy")).status, 200);
    const restored = await http(socket, admin, "POST", "/v1/vms/io/snapshots/s/restore");
    assert.equal(restored.status, 200, restored.text);
    assert.equal((await http(socket, admin, "POST", "/v1/vms/io/destroy")).status, 200);
  } finally {
    await d?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

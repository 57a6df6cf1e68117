/**
 * `npm run bench:net-vm`: TCP throughput between two VMs of this host, one
 * sending and one receiving: two Virtus VMs on a virtual switch
 * (`--net switch:NAME`) against two qemu-system-riscv64 on a `-netdev
 * socket` link (one listens on 127.0.0.1, the other connects; QEMU's
 * stream of length-prefixed frames, the same wire as the Virtus switch),
 * alternating, same kernel and initrd as the boot benchmark.
 *
 *   receiver: nc -l -p 5001 < /dev/null | wc -c      (byte count checked)
 *   sender:   dd if=/dev/zero bs=64k count=N | nc RECEIVER 5001   (timed with time -p)
 *   and before it, ping -c 5 RECEIVER for the round-trip time of the link
 *
 * Prints the medians in MB/s and the ratio. Nothing leaves the host: the
 * switch is a Unix socket, QEMU's link is on 127.0.0.1.
 *
 *   npm run bench:net-vm -- [--runs N] [--mib M]
 */
import { createServer } from "node:net";
import { parseArgs } from "node:util";
import { ensureGuest } from "../src/host/node/guest.ts";
import { GuestSession } from "../tests/support/guest-session.ts";
import { median, qemuArgs, timeInGuest } from "./lib.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    mib: { type: "string", default: "16" },
  },
});
const runs = Number(values.runs);
const mib = Number(values.mib);
const g = await ensureGuest({ log: (l) => console.error(l) });

const SENDER_IP = "192.168.77.1";
const RECEIVER_IP = "192.168.77.2";
const SEND = `dd if=/dev/zero bs=64k count=${mib * 16} 2>/dev/null | nc ${RECEIVER_IP} 5001`;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Boots both, sends mib MiB from the first to the second; returns MB/s. */
async function measure(sender: GuestSession, receiver: GuestSession): Promise<number> {
  try {
    await Promise.all([sender.expect("guest# ", 600_000), receiver.expect("guest# ", 600_000)]);
    // No DHCP server on these links: stop the guest's udhcpc (its deconfig would flush the address).
    const up = (ip: string) =>
      `killall udhcpc 2>/dev/null; ip link set eth0 up; ip addr add ${ip}/24 dev eth0`;
    await sender.run(up(SENDER_IP));
    await receiver.run(up(RECEIVER_IP));
    // The first ping also fills both ARP caches and the switch's MAC table.
    const ping = await sender.run(`ping -c 2 -W 5 ${RECEIVER_IP}`);
    if (!/ 2 packets received/.test(ping) && !/ 1 packets received/.test(ping))
      throw new Error(`the VMs cannot reach each other:\n${ping}`);
    // The round trip between the VMs once both are idle (busybox ping's average).
    const rtt = /round-trip min\/avg\/max = [\d.]+\/([\d.]+)\//.exec(
      await sender.run(`ping -c 5 ${RECEIVER_IP}`),
    );
    rtts.push(rtt ? Number(rtt[1]) : Number.NaN);
    await receiver.run("nc -l -p 5001 < /dev/null | wc -c > /tmp/n &");
    const secs = await timeInGuest(sender, SEND);
    const n = await receiver.run("sleep 1; cat /tmp/n");
    if (!new RegExp(`^\\s*${mib << 20}\\s*$`, "m").test(n))
      throw new Error(`the receiver counted ${n.trim()} of ${mib << 20} bytes`);
    sender.send("poweroff -f\n");
    receiver.send("poweroff -f\n");
    await Promise.all([sender.exited, receiver.exited]);
    return (mib * 1.048576) / secs;
  } finally {
    sender.kill();
    receiver.kill();
  }
}

const base = ["--kernel", g.kernel, "--initrd", g.initrd];
const v: number[] = [];
const q: number[] = [];
/** Ping round trips (ms) of every measurement, Virtus and QEMU alternating. */
const rtts: number[] = [];
for (let i = 0; i < runs; i++) {
  const sw = `bench${process.pid}-${i}`;
  v.push(
    await measure(
      new GuestSession([...base, "--net", `switch:${sw},mac=52:54:00:00:00:0a`]),
      new GuestSession([...base, "--net", `switch:${sw},mac=52:54:00:00:00:0b`]),
    ),
  );
  const port = await freePort();
  const qemu = (netdev: string, mac: string) =>
    new GuestSession(
      [
        ...qemuArgs(g.kernel, g.initrd),
        "-netdev",
        `socket,id=n0,${netdev}`,
        "-device",
        `virtio-net-device,netdev=n0,mac=${mac}`,
      ],
      "qemu-system-riscv64",
    );
  // The listening QEMU starts first; the connecting one retries nothing, so give the listener a moment.
  const receiver = qemu(`listen=127.0.0.1:${port}`, "52:54:00:00:00:0b");
  await new Promise((r) => setTimeout(r, 1000));
  const sender = qemu(`connect=127.0.0.1:${port}`, "52:54:00:00:00:0a");
  q.push(await measure(sender, receiver));
  console.error(
    `run ${i + 1}: virtus ${v[i].toFixed(2)} MB/s (ping ${rtts[2 * i]} ms), qemu ${q[i].toFixed(2)} MB/s (ping ${rtts[2 * i + 1]} ms)`,
  );
}
const mv = median(v);
const mq = median(q);
console.log(
  `VM-to-VM TCP ${mib} MiB (dd | nc): virtus switch median ${mv.toFixed(2)} MB/s | qemu -netdev socket median ${mq.toFixed(2)} MB/s | qemu/virtus ${(mq / mv).toFixed(2)}x | runs ${runs}`,
);

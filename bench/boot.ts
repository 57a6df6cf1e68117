/**
 * `npm run bench:boot`: time from process start to `GUEST-READY` for the
 * default guest (same kernel, initrd and command line) on Virtus (built-in
 * SBI) and on `qemu-system-riscv64 -M virt -smp 1 -m 256M` with OpenSBI
 * fw_jump, alternating, in two device sets:
 *   - same:    no virtio devices on either side (QEMU's plain `-M virt`);
 *   - default: Virtus's defaults (virtio console, rng, net on user-mode NAT)
 *              and their virtio-mmio counterparts on QEMU.
 * Then the peak RSS (VmHWM) of each process with the guest booted and idle
 * for 3 s at its prompt. Prints medians and ratios.
 *
 *   npm run bench:boot -- [--runs N] [--devices same|default|both] [--virtus-args "..."]
 */
import { parseArgs } from "node:util";
import { ensureGuest } from "../src/host/node/guest.ts";
import { GuestSession } from "../tests/support/guest-session.ts";
import { median, qemuArgs, timeBoot, VIRTUS_SAME_DEVICES, virtusBootArgs } from "./lib.ts";
import { idlePeakRss } from "./rss.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    devices: { type: "string", default: "both" },
    "virtus-args": { type: "string", default: "" },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs: give a whole number ≥ 1");
if (!["same", "default", "both"].includes(values.devices))
  throw new Error("--devices: give same, default or both");
const g = await ensureGuest({ log: (l) => console.error(l) });
const extra = values["virtus-args"] ? values["virtus-args"].split(" ") : [];

/** QEMU's virtio-mmio devices matching Virtus's defaults (console, entropy, NIC on user-mode NAT). */
const QEMU_DEFAULT_DEVICES = [
  "-device",
  "virtio-serial-device",
  "-device",
  "virtio-rng-device",
  "-netdev",
  "user,id=n0",
  "-device",
  "virtio-net-device,netdev=n0",
];

interface DeviceSet {
  name: "same" | "default";
  virtus: string[];
  qemu: string[];
}
const sets: DeviceSet[] = [
  { name: "same", virtus: VIRTUS_SAME_DEVICES, qemu: [] },
  { name: "default", virtus: [], qemu: QEMU_DEFAULT_DEVICES },
].filter((s) => values.devices === "both" || s.name === values.devices) as DeviceSet[];

const virtusSession = (set: DeviceSet) =>
  new GuestSession([...virtusBootArgs(g.kernel, g.initrd), ...set.virtus, ...extra]);
const qemuSession = (set: DeviceSet) =>
  new GuestSession([...qemuArgs(g.kernel, g.initrd), ...set.qemu], "qemu-system-riscv64");

const lines: string[] = [];
for (const set of sets) {
  const v: number[] = [];
  const q: number[] = [];
  for (let i = 0; i < runs; i++) {
    v.push(await timeBoot(virtusSession(set)));
    q.push(await timeBoot(qemuSession(set)));
    console.error(
      `${set.name} devices, run ${i + 1}: virtus ${v[i].toFixed(2)} s, qemu ${q[i].toFixed(2)} s`,
    );
  }
  const [mv, mq] = [median(v), median(q)];
  lines.push(
    `boot to GUEST-READY (${set.name} devices): virtus median ${mv.toFixed(2)} s | qemu median ${mq.toFixed(2)} s | virtus/qemu ${(mv / mq).toFixed(2)}x | runs ${runs}`,
  );
  const rv = await idlePeakRss(virtusSession(set));
  const rq = await idlePeakRss(qemuSession(set));
  lines.push(
    `peak RSS booted and idle (${set.name} devices): virtus ${rv.toFixed(0)} MB | qemu ${rq.toFixed(0)} MB | difference ${(rv - rq).toFixed(0)} MB`,
  );
}
for (const l of lines) console.log(l);

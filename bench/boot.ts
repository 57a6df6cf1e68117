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
 *   npm run bench:boot -- [--runs N] [--devices same|default|both] [--virtus-args "..."] [--against DIR]
 *
 * --against DIR runs another checkout's Virtus (DIR/bin/virtus.js, e.g. a worktree at main) in
 * QEMU's place with Virtus's own arguments, alternating, labelled "base": an A/B of two builds
 * under the same load (as bench:guest's option).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
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
    against: { type: "string" },
  },
});
const runs = Number(values.runs);
/** Bad input: one line that says what to do, and a non-zero exit. */
function fail(msg: string): never {
  console.error(`bench:boot: ${msg}`);
  process.exit(2);
}
if (!Number.isInteger(runs) || runs < 1) fail("--runs: give a whole number ≥ 1");
if (!["same", "default", "both"].includes(values.devices)) fail("--devices: give same, default or both");
const againstBin = values.against === undefined ? undefined : resolve(values.against, "bin/virtus.js");
if (againstBin !== undefined && !existsSync(againstBin))
  fail(`--against takes a Virtus checkout (with bin/virtus.js and node_modules), not "${values.against}"`);
const other = againstBin === undefined ? "qemu" : "base";
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
  againstBin !== undefined
    ? new GuestSession(
        [againstBin, "run", ...virtusBootArgs(g.kernel, g.initrd), ...set.virtus],
        process.execPath,
      )
    : new GuestSession([...qemuArgs(g.kernel, g.initrd), ...set.qemu], "qemu-system-riscv64");

const lines: string[] = [];
for (const set of sets) {
  const v: number[] = [];
  const q: number[] = [];
  for (let i = 0; i < runs; i++) {
    v.push(await timeBoot(virtusSession(set)));
    q.push(await timeBoot(qemuSession(set)));
    console.error(
      `${set.name} devices, run ${i + 1}: virtus ${v[i].toFixed(2)} s, ${other} ${q[i].toFixed(2)} s`,
    );
  }
  const [mv, mq] = [median(v), median(q)];
  lines.push(
    `boot to GUEST-READY (${set.name} devices): virtus median ${mv.toFixed(2)} s | ${other} median ${mq.toFixed(2)} s | virtus/${other} ${(mv / mq).toFixed(2)}x | runs ${runs}`,
  );
  const rv = await idlePeakRss(virtusSession(set));
  const rq = await idlePeakRss(qemuSession(set));
  lines.push(
    `peak RSS booted and idle (${set.name} devices): virtus ${rv.toFixed(0)} MB | ${other} ${rq.toFixed(0)} MB | difference ${(rv - rq).toFixed(0)} MB`,
  );
}
for (const l of lines) console.log(l);

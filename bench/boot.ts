/**
 * `npm run bench:boot`: time from process start to `GUEST-READY` for the
 * default guest (same kernel, initrd and command line) on Virtus (built-in
 * SBI, and the same devices as QEMU: no virtio) and on `qemu-system-riscv64
 * -M virt -smp 1 -m 256M` with OpenSBI fw_jump, alternating, and prints both
 * medians and the ratio.
 *
 *   npm run bench:boot -- [--runs N] [--virtus-args "..."]
 */
import { parseArgs } from "node:util";
import { ensureGuest, GUEST_KERNEL_CMDLINE } from "../src/host/node/guest.ts";
import { GuestSession } from "../tests/support/guest-session.ts";
import { median, qemuArgs, timeBoot, VIRTUS_SAME_DEVICES } from "./lib.ts";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "5" }, "virtus-args": { type: "string", default: "" } },
});
const runs = Number(values.runs);
const g = await ensureGuest({ log: (l) => console.error(l) });
const extra = values["virtus-args"] ? values["virtus-args"].split(" ") : [];
const v: number[] = [];
const q: number[] = [];
for (let i = 0; i < runs; i++) {
  v.push(
    await timeBoot(
      new GuestSession([
        "--kernel",
        g.kernel,
        "--initrd",
        g.initrd,
        "--append",
        GUEST_KERNEL_CMDLINE,
        ...VIRTUS_SAME_DEVICES,
        ...extra,
      ]),
    ),
  );
  q.push(await timeBoot(new GuestSession(qemuArgs(g.kernel, g.initrd), "qemu-system-riscv64")));
  console.error(`run ${i + 1}: virtus ${v[i].toFixed(2)} s, qemu ${q[i].toFixed(2)} s`);
}
const mv = median(v);
const mq = median(q);
console.log(
  `boot to GUEST-READY: virtus median ${mv.toFixed(2)} s | qemu median ${mq.toFixed(2)} s | virtus/qemu ${(mv / mq).toFixed(2)}x | runs ${runs}`,
);

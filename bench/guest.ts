/**
 * `npm run bench:guest`: sqlite's speedtest1 (a CPU benchmark nobody here
 * wrote) inside the default guest on Virtus and on qemu-system-riscv64 with
 * the same kernel, initrd and command line, alternating; prints the medians
 * of the guest's own `time -p` real time and the ratio.
 *
 *   npm run bench:guest -- [--runs N] [--size S] [--virtus-args "..."]
 */
import { parseArgs } from "node:util";
import { ensureGuest } from "../src/host/node/guest.ts";
import { GuestSession } from "../tests/support/guest-session.ts";
import { median, qemuArgs, timeInGuest, VIRTUS_SAME_DEVICES } from "./lib.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    size: { type: "string", default: "5" },
    "virtus-args": { type: "string", default: "" },
  },
});
const extra = values["virtus-args"] ? values["virtus-args"].split(" ") : [];
const runs = Number(values.runs);
const cmd = `speedtest1 --memdb --size ${Number(values.size)}`;
const g = await ensureGuest({ log: (l) => console.error(l) });

async function measure(s: GuestSession): Promise<number> {
  try {
    await s.expect("guest# ", 600_000);
    const t = await timeInGuest(s, cmd);
    s.send("poweroff -f\n");
    await s.exited;
    return t;
  } finally {
    s.kill();
  }
}

const v: number[] = [];
const q: number[] = [];
for (let i = 0; i < runs; i++) {
  v.push(
    await measure(
      new GuestSession(["--kernel", g.kernel, "--initrd", g.initrd, ...VIRTUS_SAME_DEVICES, ...extra]),
    ),
  );
  q.push(await measure(new GuestSession(qemuArgs(g.kernel, g.initrd), "qemu-system-riscv64")));
  console.error(`run ${i + 1}: virtus ${v[i].toFixed(2)} s, qemu ${q[i].toFixed(2)} s`);
}
const mv = median(v);
const mq = median(q);
console.log(
  `${cmd}: virtus median ${mv.toFixed(2)} s | qemu median ${mq.toFixed(2)} s | virtus/qemu ${(mv / mq).toFixed(2)}x | runs ${runs}`,
);

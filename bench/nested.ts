/**
 * `npm run bench:nested`: a nested Linux under KVM (the prebuilt KVM host
 * kernel of tests/kvm/prebuilt/, running tests/kvm/mini-vmm.c as init, which
 * boots the default guest as its nested guest) on Virtus with `--cpu h=on`
 * and on `qemu-system-riscv64 -cpu rv64,h=true` (OpenSBI fw_jump, 1 hart,
 * 512 MiB, no virtio on either), alternating. Measured: the nested boot
 * (from mini-vmm's start line to the nested GUEST-READY), and a CPU-bound
 * program (an awk loop under `time -p`) in the nested guest and one level up,
 * in the KVM host booted to its own shell. Prints medians and ratios.
 *
 *   npm run bench:nested -- [--runs N] [--loops N]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureGuest } from "../src/host/node/guest.ts";
import { writeNestedInitrd } from "../tests/kvm/nested-initrd.ts";
import { kvmKernelImage } from "../tests/kvm/prebuilt-kernel.ts";
import { GuestSession } from "../tests/support/guest-session.ts";
import { FW_JUMP, median, timeInGuest, VIRTUS_SAME_DEVICES } from "./lib.ts";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "3" }, loops: { type: "string", default: "200000" } },
});
const runs = Number(values.runs);
const loops = Number(values.loops);
if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(loops) || loops < 1) {
  console.error("bench:nested: --runs and --loops take positive integers");
  process.exit(2);
}
const kernel = kvmKernelImage();
if (kernel === undefined) {
  console.error("bench:nested: no prebuilt KVM kernel in tests/kvm/prebuilt/");
  process.exit(2);
}
const g = await ensureGuest({ log: (l) => console.error(l) });
// Double quotes only: timeInGuest and the nested script wrap it in sh -c '...'.
const CPU = `awk "BEGIN { s = 0; for (i = 0; i < ${loops}; i++) s += i * i; print s }"`;
const dir = mkdtempSync(join(tmpdir(), "virtus-bench-nested-"));
const nestedInitrd = writeNestedInitrd(dir, g, `time -p sh -c '${CPU} >/dev/null'; poweroff -f\n`);
const NESTED_APPEND = "console=ttyS0 rdinit=/mini-vmm panic=-1";
const HOST_APPEND = "console=ttyS0 panic=-1";

type Level = { initrd: string; append: string };
const nested: Level = { initrd: nestedInitrd, append: NESTED_APPEND };
const host: Level = { initrd: g.initrd, append: HOST_APPEND };

function virtus(l: Level): GuestSession {
  const args = ["--cpu", "h=on", "--mem", "512M", "--kernel", kernel!, "--initrd", l.initrd];
  return new GuestSession([...args, "--append", l.append, ...VIRTUS_SAME_DEVICES]);
}

function qemu(l: Level): GuestSession {
  const args = ["-M", "virt", "-cpu", "rv64,h=true", "-nographic", "-no-reboot", "-smp", "1", "-m", "512M"];
  const boot = ["-bios", FW_JUMP, "-kernel", kernel!, "-initrd", l.initrd, "-append", l.append];
  return new GuestSession([...args, ...boot], "qemu-system-riscv64");
}

/** Nested boot seconds (mini-vmm start → nested GUEST-READY) and the nested CPU program's real seconds. */
async function nestedRun(s: GuestSession): Promise<{ boot: number; cpu: number }> {
  try {
    await s.expect("MINI-VMM: starting the nested guest", 600_000);
    const t0 = performance.now();
    await s.expect("GUEST-READY", 1_800_000);
    const boot = (performance.now() - t0) / 1000;
    const out = await s.expect("MINI-VMM: the nested guest powered off", 1_800_000);
    const m = /real ([\d.]+)/.exec(out);
    if (!m) throw new Error(`no time in the nested output: ${out.slice(-500)}`);
    return { boot, cpu: Number(m[1]) };
  } finally {
    s.kill();
  }
}

/** The CPU program's real seconds in the KVM host itself (one level up). */
async function hostRun(s: GuestSession): Promise<number> {
  try {
    await s.expect("guest# ", 600_000);
    return await timeInGuest(s, CPU);
  } finally {
    s.kill();
  }
}

const r = { vBoot: [] as number[], qBoot: [] as number[], vNested: [] as number[], qNested: [] as number[] };
const up = { v: [] as number[], q: [] as number[] };
try {
  for (let i = 0; i < runs; i++) {
    const v = await nestedRun(virtus(nested));
    const q = await nestedRun(qemu(nested));
    const vh = await hostRun(virtus(host));
    const qh = await hostRun(qemu(host));
    r.vBoot.push(v.boot);
    r.qBoot.push(q.boot);
    r.vNested.push(v.cpu);
    r.qNested.push(q.cpu);
    up.v.push(vh);
    up.q.push(qh);
    console.error(
      `run ${i + 1}: nested boot virtus ${v.boot.toFixed(1)} s, qemu ${q.boot.toFixed(1)} s; ` +
        `cpu nested virtus ${v.cpu} s, qemu ${q.cpu} s; one level up virtus ${vh} s, qemu ${qh} s`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const f = (x: number) => x.toFixed(2);
const [vb, qb, vn, qn, vu, qu] = [r.vBoot, r.qBoot, r.vNested, r.qNested, up.v, up.q].map(median);
console.log(
  `nested boot (mini-vmm start to GUEST-READY): virtus ${f(vb)} s | qemu ${f(qb)} s | virtus/qemu ${f(vb / qb)}x`,
);
console.log(
  `cpu program (awk, ${loops} loops), nested: virtus ${f(vn)} s | qemu ${f(qn)} s | virtus/qemu ${f(vn / qn)}x`,
);
console.log(
  `cpu program one level up (KVM host): virtus ${f(vu)} s | qemu ${f(qu)} s | virtus/qemu ${f(vu / qu)}x`,
);
console.log(`nested/one level up: virtus ${f(vn / vu)}x | qemu ${f(qn / qu)}x | runs ${runs}`);

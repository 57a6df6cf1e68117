/**
 * `npm run bench:guest`: the suite of third-party guest programs (bench/guest-suite.ts) in the
 * benchmark initramfs (bench/guest/), on Virtus and on qemu-system-riscv64 with the same kernel,
 * initramfs, memory, harts and devices. Each run boots both, alternating which goes first,
 * writes the inputs (untimed), then runs the workloads one by one, timed by the guest's clock,
 * so boot is excluded. Prints per-run times, then the medians, Virtus/QEMU per workload and the
 * geometric mean, and the peak RSS (VmHWM) of both host processes.
 *
 *   npm run bench:guest -- [--runs N] [--only gzip,lua] [--mem 256M] [--smp 1] [--data-mb 1]
 *                          [--virtus-args "..."] [--against DIR]
 *
 * --against DIR runs another checkout's Virtus (DIR/bin/virtus.js, e.g. a worktree at main) in
 * QEMU's place, same arguments, alternating: an A/B of two builds under the same load, which
 * says whether a change is faster in wall time when the machine is too busy for ratios to QEMU.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { GuestSession } from "../tests/support/guest-session.ts";
import { ensureBenchGuest } from "./guest-image.ts";
import {
  formatTable,
  type GuestResult,
  median,
  parseBenchLines,
  type Row,
  selectWorkloads,
  type Workload,
} from "./guest-suite.ts";
import { qemuArgs, VIRTUS_SAME_DEVICES, virtusBootArgs } from "./lib.ts";
import { peakRssBytes } from "./rss.ts";

function fail(message: string): never {
  console.error(`bench:guest: ${message}`);
  process.exit(2);
}

function cliValues() {
  try {
    return parseArgs({
      options: {
        runs: { type: "string", default: "3" },
        only: { type: "string" },
        mem: { type: "string", default: "256M" },
        smp: { type: "string", default: "1" },
        "data-mb": { type: "string", default: "1" },
        "virtus-args": { type: "string", default: "" },
        against: { type: "string" },
      },
    }).values;
  } catch (e) {
    return fail(`${(e as Error).message} (see the usage at the top of bench/guest.ts)`);
  }
}
const values = cliValues();
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) fail(`--runs must be a positive integer, not "${values.runs}"`);
if (!/^\d+[MG]$/.test(values.mem)) fail(`--mem takes a size like 256M or 1G, not "${values.mem}"`);
if (!/^[1-8]$/.test(values.smp)) fail(`--smp takes 1..8, not "${values.smp}"`);
if (!/^\d+$/.test(values["data-mb"])) fail(`--data-mb takes a whole number, not "${values["data-mb"]}"`);
let workloads: Workload[] = [];
try {
  workloads = selectWorkloads(values.only);
} catch (e) {
  fail((e as Error).message);
}
const extra = values["virtus-args"] ? values["virtus-args"].split(" ") : [];
const againstBin = values.against === undefined ? undefined : resolve(values.against, "bin/virtus.js");
if (againstBin !== undefined && !existsSync(againstBin))
  fail(`--against takes a Virtus checkout (with bin/virtus.js and node_modules), not "${values.against}"`);
const otherName = againstBin === undefined ? "QEMU" : "base";
const guest = await ensureBenchGuest((l) => console.error(l));

type Engine = "virtus" | "qemu";

function session(engine: Engine): GuestSession {
  const { kernel, initrd } = guest;
  const args = [
    ...virtusBootArgs(kernel, initrd),
    "--mem",
    values.mem,
    "--smp",
    values.smp,
    ...VIRTUS_SAME_DEVICES,
  ];
  if (engine === "virtus") return new GuestSession([...args, ...extra]);
  if (againstBin !== undefined) return new GuestSession([againstBin, "run", ...args], process.execPath);
  return new GuestSession(qemuArgs(kernel, initrd, values.smp, values.mem), "qemu-system-riscv64");
}

interface BootResult {
  results: Map<string, GuestResult>;
  peakRss: number;
}

const PROMPT = "guest# ";
const WORKLOAD_TIMEOUT_MS = 1_800_000;

/** One boot: inputs, then each workload; the peak RSS is read just before power-off. */
async function measure(engine: Engine): Promise<BootResult> {
  const s = session(engine);
  try {
    await s.expect(PROMPT, 600_000);
    s.send(`/bench/mkdata.sh ${values["data-mb"]}\n`);
    await s.expect(PROMPT, WORKLOAD_TIMEOUT_MS);
    const results = new Map<string, GuestResult>();
    for (const w of workloads) {
      s.send(`/bench/run ${w.name}\n`);
      const r = parseBenchLines(await s.expect(PROMPT, WORKLOAD_TIMEOUT_MS)).get(w.name);
      if (!r) throw new Error(`${engine}: no result line for ${w.name}:\n${s.output.slice(-1500)}`);
      if (r.status !== 0) {
        const err = await s.run(`tail -n 5 /tmp/err.${w.name}`);
        throw new Error(`${engine}: ${w.name} exited with status ${r.status}:\n${err}`);
      }
      results.set(w.name, r);
    }
    const peakRss = peakRssBytes(s.proc.pid ?? -1);
    s.send("poweroff -f\n");
    await s.exited;
    return { results, peakRss };
  } finally {
    s.kill();
  }
}

const times: Record<Engine, Map<string, number[]>> = { virtus: new Map(), qemu: new Map() };
const rss: Record<Engine, number[]> = { virtus: [], qemu: [] };
const digests = new Map<string, string>();
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

for (let i = 0; i < runs; i++) {
  const order: Engine[] = i % 2 === 0 ? ["virtus", "qemu"] : ["qemu", "virtus"];
  for (const engine of order) {
    const { results, peakRss } = await measure(engine);
    rss[engine].push(peakRss);
    for (const w of workloads) {
      const r = results.get(w.name)!;
      if (!times[engine].has(w.name)) times[engine].set(w.name, []);
      times[engine].get(w.name)!.push(r.seconds);
      const seen = digests.get(w.name);
      if (w.deterministic && seen !== undefined && seen !== r.digest)
        fail(
          `${w.name} printed different output on ${engine} (digest ${r.digest}, before ${seen}): a wrong result`,
        );
      digests.set(w.name, r.digest);
    }
    const line = workloads.map((w) => `${w.name} ${results.get(w.name)!.seconds.toFixed(2)}`).join(", ");
    const label = engine === "qemu" && againstBin !== undefined ? "base" : engine;
    console.error(`run ${i + 1} ${label}: ${line} s; peak RSS ${mb(peakRss)}`);
  }
}

const rows: Row[] = workloads.map((w) => ({
  name: w.name,
  virtus: median(times.virtus.get(w.name)!),
  qemu: median(times.qemu.get(w.name)!),
}));
const qemuVersion = execFileSync("qemu-system-riscv64", ["--version"], { encoding: "utf8" }).split("\n")[0];
console.log(formatTable(rows, otherName));
console.log(
  `\npeak RSS (VmHWM, median): virtus ${mb(median(rss.virtus))} | ${otherName} ${mb(median(rss.qemu))}` +
    ` | runs ${runs}, --mem ${values.mem}, --smp ${values.smp}`,
);
console.log(`${qemuVersion}; node ${process.version}; initramfs ${guest.initrd}`);

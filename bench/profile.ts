/**
 * `npm run bench:profile`: a profile of each bench:guest workload (issue 15 item 6). Boots the
 * benchmark initramfs once under `virtus run --profile FILE --control SOCK` (the same kernel,
 * memory, harts and devices as bench:guest), writes the inputs, then runs each workload once,
 * starting a profile segment before each (`profile NAME` on the control socket); with "boot"
 * among the parts, first profiles the default guest's boot to GUEST-READY (default devices).
 * Prints Markdown tables: instructions and time shares, returns to JavaScript by cause, blocks
 * compiled, and each workload's hottest functions. The reports stay in --out.
 *
 *   npm run bench:profile -- [--only boot,gzip,lua] [--mem 256M] [--smp 1] [--data-mb 1]
 *                            [--out DIR] [--virtus-args "..."]
 *
 * Profiling runs slower than bench:guest (the sampler and the counters): its times are for
 * shares, not for comparison with QEMU.
 */
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { sendControlCommand } from "../src/cli/ctl.ts";
import type { ProfileReport, ProfileSegment } from "../src/vm/profile.ts";
import { GuestSession } from "../tests/support/guest-session.ts";
import { ensureBenchGuest } from "./guest-image.ts";
import { parseBenchLines, selectWorkloads, WORKLOADS } from "./guest-suite.ts";
import { VIRTUS_SAME_DEVICES, virtusBootArgs } from "./lib.ts";
import { blocksTable, countsAddUp, exitsTable, hotFunctions, sharesTable } from "./profile-report.ts";

function fail(message: string): never {
  console.error(`bench:profile: ${message}`);
  process.exit(2);
}

function cliValues() {
  try {
    return parseArgs({
      options: {
        only: { type: "string" },
        mem: { type: "string", default: "256M" },
        smp: { type: "string", default: "1" },
        "data-mb": { type: "string", default: "1" },
        out: { type: "string" },
        "virtus-args": { type: "string", default: "" },
      },
    }).values;
  } catch (e) {
    return fail(`${(e as Error).message} (see the usage at the top of bench/profile.ts)`);
  }
}
const values = cliValues();
if (!/^\d+[MG]$/.test(values.mem)) fail(`--mem takes a size like 256M or 1G, not "${values.mem}"`);
if (!/^[1-8]$/.test(values.smp)) fail(`--smp takes 1..8, not "${values.smp}"`);
if (!/^\d+$/.test(values["data-mb"])) fail(`--data-mb takes a whole number, not "${values["data-mb"]}"`);
const BOOT = { name: "boot", what: "the default guest's boot to GUEST-READY", deterministic: false };
let parts: string[] = [];
try {
  parts = selectWorkloads(values.only, [BOOT, ...WORKLOADS]).map((w) => w.name);
} catch (e) {
  fail((e as Error).message);
}
const out = values.out ?? mkdtempSync(join(tmpdir(), "virtus-profile-"));
mkdirSync(out, { recursive: true });
const extra = values["virtus-args"] ? values["virtus-args"].split(" ") : [];
const PROMPT = "guest# ";
const TIMEOUT_MS = 1_800_000;

/** Starts `virtus run` with a profile and a control socket; `mark` starts a named segment. */
function profiled(file: string, args: string[]) {
  const sock = join(out, `${file}.sock`);
  const s = new GuestSession(["--profile", join(out, file), "--control", sock, ...args, ...extra]);
  const mark = async (name: string) => {
    const reply = await sendControlCommand(sock, { execute: "profile", arguments: { name } });
    if ("error" in reply) throw new Error(`profile ${name}: ${JSON.stringify(reply.error)}`);
  };
  return { s, mark };
}

/** Powers the guest off and reads the report the run wrote at its end. */
async function finish(s: GuestSession, file: string): Promise<ProfileReport> {
  s.send("poweroff -f\n");
  const code = await s.exited;
  if (code !== 0) throw new Error(`virtus exited with ${code}:\n${s.output.slice(-1500)}`);
  return JSON.parse(readFileSync(join(out, file), "utf8")) as ProfileReport;
}

async function profileBoot(): Promise<ProfileSegment> {
  const { s, mark } = profiled("boot.json", []);
  try {
    await s.expect("GUEST-READY", 600_000);
    await mark("after-ready");
    await s.expect(PROMPT);
    const report = await finish(s, "boot.json");
    return report.segments[0];
  } finally {
    s.kill();
  }
}

async function profileSuite(names: string[]): Promise<ProfileSegment[]> {
  const guest = await ensureBenchGuest((l) => console.error(l));
  const args = [
    ...virtusBootArgs(guest.kernel, guest.initrd),
    "--mem",
    values.mem,
    "--smp",
    values.smp,
    ...VIRTUS_SAME_DEVICES,
  ];
  const { s, mark } = profiled("suite.json", args);
  try {
    await s.expect(PROMPT, 600_000);
    await mark("mkdata");
    s.send(`/bench/mkdata.sh ${values["data-mb"]}\n`);
    await s.expect(PROMPT, TIMEOUT_MS);
    for (const name of names) {
      await mark(name);
      s.send(`/bench/run ${name}\n`);
      const r = parseBenchLines(await s.expect(PROMPT, TIMEOUT_MS)).get(name);
      if (r === undefined || r.status !== 0) throw new Error(`${name} failed:\n${s.output.slice(-1500)}`);
      console.error(`${name}: ${r.seconds.toFixed(2)} s in the guest (profiled)`);
    }
    await mark("end");
    const report = await finish(s, "suite.json");
    return report.segments.filter((seg) => names.includes(seg.name));
  } finally {
    s.kill();
  }
}

const segments: ProfileSegment[] = [];
if (parts.includes("boot")) segments.push(await profileBoot());
const suite = parts.filter((p) => p !== "boot");
if (suite.length > 0) segments.push(...(await profileSuite(suite)));
for (const s of segments)
  if (!countsAddUp(s))
    console.error(`bench:profile: ${s.name}: blocks + interpreter != retired (${JSON.stringify(s.jit)})`);

console.log("Instructions in blocks, and the VM thread's time by category:\n");
console.log(sharesTable(segments));
console.log("\nReturns from compiled code to JavaScript, by cause (share of returns):\n");
console.log(exitsTable(segments));
console.log("\nBlocks compiled:\n");
console.log(blocksTable(segments));
console.log("\nHottest functions (self time):\n");
console.log(hotFunctions(segments));
console.log(`\nnode ${process.version}; reports in ${out}`);

/**
 * `npm run bench:snapshot`: the default guest booted to its prompt with
 * 256 MiB and the same devices as QEMU's plain `-M virt`, on Virtus and on
 * qemu-system-riscv64, side by side:
 *
 * - save: `ctl pause` + `ctl snapshot FILE` (Virtus) against QMP `stop` +
 *   `migrate "exec:cat > FILE"` until completed (QEMU); time and file size;
 * - restore: from spawning `virtus run --restore FILE` (QEMU: the same
 *   command line plus `-incoming "exec:cat FILE"` and a QMP `cont`) to the
 *   guest's prompt after a newline typed at once, i.e. the first guest
 *   output after the restore;
 * - and, for Virtus, the restore inside one process (read and check the
 *   file, build the machine, load RAM): what is left without Node's start.
 *
 * The Virtus restore runs with VIRTUS_TRACE_STARTUP=1 (src/host/node/startup-trace.ts) and
 * the benchmark prints the median time of each step from the spawn: where the time goes.
 *
 *   npm run bench:snapshot -- [--runs N]
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { sendControlCommand } from "../src/cli/ctl.ts";
import { ensureGuest } from "../src/host/node/guest.ts";
import { nodeHostServices } from "../src/host/node/services.ts";
import { nodeSnapshots } from "../src/host/node/snapshot-store.ts";
import { epochMs } from "../src/host/node/startup-trace.ts";
import type { VmCommand } from "../src/vm/commands.ts";
import { GuestSession } from "../tests/support/guest-session.ts";
import { median, qemuArgs, VIRTUS_SAME_DEVICES, virtusBootArgs } from "./lib.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "3" } } });
const runs = Number(values.runs);
const g = await ensureGuest({ log: (l) => console.error(l) });
const dir = mkdtempSync(join(tmpdir(), "virtus-bench-snapshot-"));

async function ctl(sock: string, command: VmCommand): Promise<Record<string, unknown>> {
  for (let tries = 0; ; tries++) {
    try {
      const r = await sendControlCommand(sock, command);
      if (!("return" in r)) throw new Error(JSON.stringify(r));
      return r.return as Record<string, unknown>;
    } catch (e) {
      if (tries > 300 || !/no VM is listening/.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A minimal QMP client: one command at a time, events skipped. */
async function qmp(path: string) {
  for (let tries = 0; ; tries++) {
    try {
      const sock = connect(path);
      await new Promise<void>((res, rej) => {
        sock.once("connect", res);
        sock.once("error", rej);
      });
      let buf = "";
      const waiting: ((m: Record<string, unknown>) => void)[] = [];
      sock.setEncoding("utf8");
      sock.on("data", (d: string) => {
        buf += d;
        for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
          const m = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
          buf = buf.slice(nl + 1);
          if (!("event" in m)) waiting.shift()?.(m);
        }
      });
      const next = () => new Promise<Record<string, unknown>>((r) => waiting.push(r));
      await next(); // greeting
      const execute = async (name: string, args?: object) => {
        const reply = next();
        sock.write(`${JSON.stringify({ execute: name, arguments: args })}\n`);
        const r = await reply;
        if ("error" in r) throw new Error(`QMP ${name}: ${JSON.stringify(r.error)}`);
        return r.return as Record<string, unknown>;
      };
      await execute("qmp_capabilities");
      return { execute, close: () => sock.end() };
    } catch (e) {
      if (tries > 300) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const size = (f: string) => statSync(f).size;

async function virtusSave(file: string): Promise<{ ms: number; bytes: number }> {
  const sock = join(dir, "v.sock");
  const s = new GuestSession([
    ...virtusBootArgs(g.kernel, g.initrd),
    ...VIRTUS_SAME_DEVICES,
    "--control",
    sock,
  ]);
  try {
    await s.expect("guest# ", 600_000);
    const t0 = performance.now();
    await ctl(sock, { execute: "pause" });
    await ctl(sock, { execute: "snapshot", arguments: { file } });
    const ms = performance.now() - t0;
    await ctl(sock, { execute: "quit" });
    await s.exited;
    return { ms, bytes: size(file) };
  } finally {
    s.kill();
  }
}

/** Each traced step of a restore: ms from the spawn, per run. */
const steps = new Map<string, number[]>();

function recordTrace(output: string, spawnedAt: number): void {
  for (const [, at, thread, step] of output.matchAll(/^virtus-trace: ([\d.]+) (\w+) (.*)$/gm)) {
    const key = `${thread}: ${step}`;
    if (!steps.has(key)) steps.set(key, []);
    steps.get(key)!.push(Number(at) - spawnedAt);
  }
}

async function virtusRestore(file: string): Promise<number> {
  const spawnedAt = epochMs();
  const t0 = performance.now();
  process.env.VIRTUS_TRACE_STARTUP = "1";
  const s = new GuestSession(["--restore", file]);
  delete process.env.VIRTUS_TRACE_STARTUP;
  try {
    s.send("\n");
    await s.expect("guest# ", 120_000);
    const ms = performance.now() - t0;
    s.send("poweroff -f\n");
    await s.exited;
    recordTrace(s.output, spawnedAt);
    return ms;
  } finally {
    s.kill();
  }
}

/** The restore inside this process: read and check the file, build the machine, load RAM. */
async function virtusRestoreInProcess(file: string): Promise<number> {
  const host = nodeHostServices(() => {});
  const t0 = performance.now();
  const vm = await nodeSnapshots(host, { write() {} }).restoreFile(file);
  const ms = performance.now() - t0;
  vm.close();
  return ms;
}

async function qemuSave(file: string): Promise<{ ms: number; bytes: number }> {
  const q = join(dir, "q.qmp");
  const s = new GuestSession(
    [...qemuArgs(g.kernel, g.initrd), "-qmp", `unix:${q},server=on,wait=off`],
    "qemu-system-riscv64",
  );
  try {
    await s.expect("guest# ", 600_000);
    const c = await qmp(q);
    const t0 = performance.now();
    await c.execute("stop");
    await c.execute("migrate", { uri: `exec:cat > ${file}` });
    for (;;) {
      const st = (await c.execute("query-migrate")).status;
      if (st === "completed") break;
      if (st === "failed" || st === "cancelled") throw new Error(`QEMU migration ${st}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const ms = performance.now() - t0;
    await c.execute("quit").catch(() => {});
    c.close();
    await s.exited;
    return { ms, bytes: size(file) };
  } finally {
    s.kill();
  }
}

async function qemuRestore(file: string): Promise<number> {
  const q = join(dir, "qr.qmp");
  rmSync(q, { force: true });
  const t0 = performance.now();
  const s = new GuestSession(
    [
      ...qemuArgs(g.kernel, g.initrd),
      "-qmp",
      `unix:${q},server=on,wait=off`,
      "-incoming",
      `exec:cat ${file}`,
    ],
    "qemu-system-riscv64",
  );
  try {
    const c = await qmp(q);
    for (;;) {
      const st = (await c.execute("query-status")).status;
      if (st === "paused" || st === "postmigrate" || st === "running") break;
      await new Promise((r) => setTimeout(r, 2));
    }
    await c.execute("cont");
    s.send("\n");
    await s.expect("guest# ", 120_000);
    const ms = performance.now() - t0;
    await c.execute("quit").catch(() => {});
    c.close();
    await s.exited;
    return ms;
  } finally {
    s.kill();
  }
}

const rows = {
  vSave: [] as number[],
  vBytes: 0,
  vRestore: [] as number[],
  vInProc: [] as number[],
  qSave: [] as number[],
  qBytes: 0,
  qRestore: [] as number[],
};
try {
  const vFile = join(dir, "virtus.snap");
  const qFile = join(dir, "qemu.mig");
  for (let i = 0; i < runs; i++) {
    const vs = await virtusSave(vFile);
    const qs = await qemuSave(qFile);
    rows.vSave.push(vs.ms);
    rows.vBytes = vs.bytes;
    rows.qSave.push(qs.ms);
    rows.qBytes = qs.bytes;
    rows.vRestore.push(await virtusRestore(vFile));
    rows.vInProc.push(await virtusRestoreInProcess(vFile));
    rows.qRestore.push(await qemuRestore(qFile));
    console.error(
      `run ${i + 1}: save virtus ${vs.ms.toFixed(0)} ms / qemu ${qs.ms.toFixed(0)} ms; restore to prompt virtus ${rows.vRestore[i].toFixed(0)} ms (in-process ${rows.vInProc[i].toFixed(0)} ms) / qemu ${rows.qRestore[i].toFixed(0)} ms`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const m = (xs: number[]) => median(xs).toFixed(0);
console.log(
  `save (pause + write): virtus median ${m(rows.vSave)} ms, ${mib(rows.vBytes)} | qemu median ${m(rows.qSave)} ms, ${mib(rows.qBytes)} | virtus/qemu ${(median(rows.vSave) / median(rows.qSave)).toFixed(2)}x`,
);
console.log(
  `restore to the guest's prompt: virtus median ${m(rows.vRestore)} ms (in-process restore ${m(rows.vInProc)} ms) | qemu median ${m(rows.qRestore)} ms | virtus/qemu ${(median(rows.vRestore) / median(rows.qRestore)).toFixed(2)}x | runs ${runs}`,
);
console.log("virtus --restore, median ms from the spawn to each step (VIRTUS_TRACE_STARTUP=1):");
for (const [step, ats] of [...steps].sort((a, b) => median(a[1]) - median(b[1])))
  console.log(`  ${median(ats).toFixed(0).padStart(6)}  ${step}`);

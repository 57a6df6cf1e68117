import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  formatTable,
  geomean,
  median,
  parseBenchLines,
  parseVmHwm,
  selectWorkloads,
  WORKLOADS,
} from "../../bench/guest-suite.ts";

const SCRIPTS = join(import.meta.dirname, "../../bench/guest/rootfs/bench/w");

test("median of odd and even counts, unsorted input left alone", () => {
  const xs = [3, 1, 2];
  assert.equal(median(xs), 2);
  assert.deepEqual(xs, [3, 1, 2]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test("geomean: equal ratios, reciprocal ratios, and NaN for nothing or a zero", () => {
  assert.equal(geomean([2, 2, 2]), 2);
  assert.ok(Math.abs(geomean([4, 0.25]) - 1) < 1e-12);
  assert.ok(Math.abs(geomean([1, 8]) - Math.sqrt(8)) < 1e-12);
  assert.ok(Number.isNaN(geomean([])));
  assert.ok(Number.isNaN(geomean([1, 0])));
});

test("parseBenchLines reads /bench/run's lines among console noise and CRs", () => {
  const out =
    "/bench/run gzip lua\r\n[   12.345] random: crng init done\r\n" +
    "bench gzip status 0 seconds 3.250 digest 0123abcd\r\n" +
    "bench lua status 1 seconds 10 digest ffff\r\nbench broken status x seconds 1 digest a\r\nguest# ";
  const r = parseBenchLines(out);
  assert.deepEqual([...r.keys()], ["gzip", "lua"]);
  assert.deepEqual(r.get("gzip"), { status: 0, seconds: 3.25, digest: "0123abcd" });
  assert.deepEqual(r.get("lua"), { status: 1, seconds: 10, digest: "ffff" });
});

test("parseVmHwm returns bytes, or undefined without the line", () => {
  const status = "Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t  206412 kB\nVmRSS:\t  100 kB\n";
  assert.equal(parseVmHwm(status), 206412 * 1024);
  assert.equal(parseVmHwm("Name:\tnode\n"), undefined);
});

test("selectWorkloads keeps table order, rejects unknown names with the choices", () => {
  assert.equal(selectWorkloads(undefined).length, WORKLOADS.length);
  assert.deepEqual(
    selectWorkloads("lua, gzip").map((w) => w.name),
    ["gzip", "lua"],
  );
  assert.throws(() => selectWorkloads("gzip,zip"), /unknown workload zip: choose from gzip, /);
});

test("formatTable gives the ratio per workload and their geometric mean", () => {
  const t = formatTable([
    { name: "a", virtus: 2, qemu: 1 },
    { name: "b", virtus: 1, qemu: 2 },
  ]);
  assert.match(t, /\| a \| 2\.00 \| 1\.00 \| 2\.00× \|/);
  assert.match(t, /\| b \| 1\.00 \| 2\.00 \| 0\.50× \|/);
  assert.match(t, /geometric mean\*\* \| \| \| \*\*1\.00×\*\*/);
});

test("every workload in the table has its script in the benchmark initramfs, and no other", () => {
  const scripts = readdirSync(SCRIPTS)
    .filter((f) => f.endsWith(".sh"))
    .map((f) => f.slice(0, -3))
    .sort();
  assert.deepEqual(scripts, WORKLOADS.map((w) => w.name).sort());
  assert.ok(WORKLOADS.length >= 6);
  for (const name of scripts) assert.match(readFileSync(join(SCRIPTS, `${name}.sh`), "utf8"), /^# /);
});

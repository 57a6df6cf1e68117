/**
 * The benchmark suite of third-party guest programs (`npm run bench:guest`): the table of
 * workloads and the pure helpers of the harness (selection, parsing the guest's lines and the
 * host's /proc status, medians, geometric mean, the result table). The workloads themselves are
 * shell scripts in the benchmark initramfs (bench/guest/rootfs/bench/w/NAME.sh), run by
 * /bench/run, which prints one `bench NAME status S seconds T digest D` line each.
 */
export { median } from "./lib.ts";
export { parseVmHwm } from "./rss.ts";

export interface Workload {
  name: string;
  /** One line for the table's legend. */
  what: string;
  /** The output is the same on every machine, so Virtus's and QEMU's digests must agree. */
  deterministic: boolean;
}

/** In the order they run; names match bench/guest/rootfs/bench/w/NAME.sh. */
export const WORKLOADS: readonly Workload[] = [
  { name: "gzip", what: "gzip 1.12 -6, compress and decompress a 5 MiB corpus", deterministic: true },
  { name: "bzip2", what: "bzip2 1.0.8 -9, compress and decompress 2 MiB of it", deterministic: true },
  { name: "xz", what: "xz 5.4 -3, compress and decompress 2 MiB of it", deterministic: true },
  { name: "sqlite", what: "sqlite speedtest1 --memdb --size 5", deterministic: false },
  { name: "sha256", what: "busybox sha256sum ×3 and sha512sum ×2 of the corpus", deterministic: true },
  { name: "lua", what: "Lua 5.4 script: fannkuch, strings, sort, methods, closures", deterministic: true },
  { name: "text", what: "busybox sort and mawk over a 1 MiB words file", deterministic: true },
  {
    name: "fft",
    what: "kissfft benchkiss, double: 4000 complex 1024-point and 600 real 4096-point FFTs",
    deterministic: true,
  },
];

/** `--only a,b` → those workloads in table order; throws a one-line message for an unknown name. */
export function selectWorkloads(only: string | undefined, all: readonly Workload[] = WORKLOADS): Workload[] {
  if (only === undefined || only.trim() === "") return [...all];
  const wanted = only
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const known = new Set(all.map((w) => w.name));
  const unknown = wanted.filter((n) => !known.has(n));
  if (unknown.length > 0)
    throw new Error(`unknown workload ${unknown.join(", ")}: choose from ${[...known].join(", ")}`);
  return all.filter((w) => wanted.includes(w.name));
}

export interface GuestResult {
  status: number;
  seconds: number;
  digest: string;
}

const BENCH_LINE = /^bench (\S+) status (\d+) seconds (\d+(?:\.\d+)?) digest (\S+)\s*$/gm;

/** The `bench …` lines that /bench/run printed, by workload name (carriage returns allowed). */
export function parseBenchLines(output: string): Map<string, GuestResult> {
  const results = new Map<string, GuestResult>();
  for (const m of output.replace(/\r/g, "").matchAll(BENCH_LINE)) {
    results.set(m[1], { status: Number(m[2]), seconds: Number(m[3]), digest: m[4] });
  }
  return results;
}

/** Geometric mean of positive numbers (NaN for none or a non-positive one). */
export function geomean(xs: readonly number[]): number {
  if (xs.length === 0 || xs.some((x) => !(x > 0))) return Number.NaN;
  return Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
}

export interface Row {
  name: string;
  virtus: number;
  qemu: number;
}

/** A Markdown table: medians in seconds, Virtus's time over QEMU's, and the geometric mean. */
export function formatTable(rows: readonly Row[], other = "QEMU"): string {
  const lines = [
    `| workload | Virtus (s) | ${other} (s) | Virtus/${other} |`,
    "| --- | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.virtus.toFixed(2)} | ${r.qemu.toFixed(2)} | ${(r.virtus / r.qemu).toFixed(2)}× |`,
    ),
  ];
  const g = geomean(rows.map((r) => r.virtus / r.qemu));
  lines.push(`| **geometric mean** | | | **${g.toFixed(2)}×** |`);
  return lines.join("\n");
}

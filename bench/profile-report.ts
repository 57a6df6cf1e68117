/**
 * The tables of `npm run bench:profile` (bench/profile.ts), from the
 * segments of `virtus run --profile` (src/vm/profile.ts): one row per
 * workload, Markdown, for docs/PERFORMANCE.md.
 */
import { jcSetOffset } from "../src/machine/jit/emit.ts";
import type { ExitCause, JitProfileData } from "../src/machine/jit/profile.ts";
import { JC_WAYS } from "../src/machine/memory/layout.ts";
import { CPU_CATEGORIES } from "../src/vm/cpu-profile.ts";
import type { ProfileSegment } from "../src/vm/profile.ts";

const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : "–");
const perMillion = (n: number, of: number) => (of > 0 ? ((n * 1e6) / of).toFixed(1) : "–");
const millions = (n: number) => (n / 1e6).toFixed(n >= 1e8 ? 0 : 1);

/** The categories the time table shows, in order; the rest go to "other". */
const TIME_COLUMNS = CPU_CATEGORIES.filter((c) => c !== "other");

/** Instructions and time shares, one row per segment. */
export function sharesTable(segments: readonly ProfileSegment[]): string {
  const lines = [
    `| workload | retired (M) | in blocks | wall (s) | ${TIME_COLUMNS.join(" | ")} | other |`,
    `| --- | ---: | ---: | ---: | ${TIME_COLUMNS.map(() => "---:").join(" | ")} | ---: |`,
  ];
  for (const s of segments) {
    const cpu = s.cpu?.ms;
    const total = cpu === undefined ? 0 : CPU_CATEGORIES.reduce((a, c) => a + cpu[c], 0);
    const shown = TIME_COLUMNS.map((c) => (cpu === undefined ? "–" : pct(cpu[c], total)));
    const rest = cpu === undefined ? 0 : total - TIME_COLUMNS.reduce((a, c) => a + cpu[c], 0);
    lines.push(
      `| ${s.name} | ${millions(s.retired)} | ${pct(s.jit.blockInsns, s.retired)} | ${(s.wallMs / 1000).toFixed(1)} | ${shown.join(" | ")} | ${cpu === undefined ? "–" : pct(rest, total)} |`,
    );
  }
  return lines.join("\n");
}

/** The exit causes a table shows, with short headings. */
const EXIT_COLUMNS: [ExitCause[], string][] = [
  [["jc-miss-direct", "jc-miss-end", "jc-miss"], "jc miss direct"],
  [["jc-miss-indirect"], "jc miss indirect"],
  [["not-compiled"], "not compiled"],
  [["stop"], "stop"],
  [["memory"], "memory"],
  [["budget"], "budget"],
  [["helper-trap", "other"], "other"],
];

/** The top `n` entries of a count record, as "name n%" of `whole`. */
function topOf(counts: Record<string, number>, whole: number, n: number): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${k} ${pct(v, whole)}`)
    .join(", ");
}

/** What the loads and stores that left compiled code were, as shares. */
function memoryShares(j: JitProfileData): string {
  const { refills, uncached, misaligned } = j.memory;
  const all = refills + uncached + misaligned;
  return all === 0 ? "–" : `${pct(refills, all)} / ${pct(uncached, all)} / ${pct(misaligned, all)}`;
}

/**
 * How concentrated the jump-cache misses are: the share going to the 16 pcs
 * missed most, and the share going to those of them whose jump-cache set
 * (jcSetOffset) more than JC_WAYS of them use: entries that evict each other.
 */
function jcMissConcentration(j: JitProfileData): string {
  const misses =
    j.exits["jc-miss-direct"] + j.exits["jc-miss-indirect"] + j.exits["jc-miss-end"] + j.exits["jc-miss"];
  const top = Object.entries(j.jcMissTargets).map(([pc, n]) => ({ index: jcSetOffset(Number(pc)), n }));
  if (misses === 0 || top.length === 0) return "–";
  const uses = new Map<number, number>();
  for (const t of top) uses.set(t.index, (uses.get(t.index) ?? 0) + 1);
  const sum = (ts: typeof top) => ts.reduce((a, t) => a + t.n, 0);
  return `${pct(sum(top), misses)} (${pct(sum(top.filter((t) => (uses.get(t.index) ?? 0) > JC_WAYS)), misses)})`;
}

const exitsOf = (j: JitProfileData) => Object.values(j.exits).reduce((a, b) => a + b, 0);

/** Returns to JavaScript: how often, and why. */
export function exitsTable(segments: readonly ProfileSegment[]): string {
  const lines = [
    `| workload | insns per entry | insns per block run | exits per M insns | entries retiring nothing | ${EXIT_COLUMNS.map(([, h]) => h).join(" | ")} | loads/stores leaving: refill / uncached / misaligned | jump cache emptied (TLB / dropped code) / page flushes, per M insns | jc misses to the top 16 targets (of them, to more targets than ways sharing a set) | stops before |`,
    `| --- | ---: | ---: | ---: | ---: | ${EXIT_COLUMNS.map(() => "---:").join(" | ")} | ---: | ---: | ---: | --- |`,
  ];
  for (const s of segments) {
    const j = s.jit;
    const exits = exitsOf(j);
    // Blocks run: entries from JavaScript that retired something, and chained calls.
    const runs = j.entries - j.refused + j.chains;
    const cols = EXIT_COLUMNS.map(([causes]) =>
      pct(
        causes.reduce((a, c) => a + j.exits[c], 0),
        exits,
      ),
    );
    lines.push(
      `| ${s.name} | ${j.entries > 0 ? (j.blockInsns / j.entries).toFixed(0) : "–"} | ${runs > 0 ? (j.blockInsns / runs).toFixed(1) : "–"} | ${s.retired > 0 ? ((exits * 1e6) / s.retired).toFixed(0) : "–"} | ${pct(j.refused, j.entries)} | ${cols.join(" | ")} | ${memoryShares(j)} | ${perMillion(j.jcFlushes, s.retired)} / ${perMillion(j.jcDrops, s.retired)} / ${perMillion(j.jcPageFlushes, s.retired)} | ${jcMissConcentration(j)} | ${topOf(j.stopOps, j.exits.stop, 3)} |`,
    );
  }
  return lines.join("\n");
}

/** Blocks compiled: how many, how large, what compiling cost, what helpers run. */
export function blocksTable(segments: readonly ProfileSegment[]): string {
  const lines = [
    "| workload | blocks | mean size | sizes 1 / 2-3 / 4-7 / 8-15 / 16-31 / 32-63 / 64+ | compile (ms) | helper calls per M insns | top helpers |",
    "| --- | ---: | ---: | --- | ---: | ---: | --- |",
  ];
  for (const s of segments) {
    const j = s.jit;
    const sizes = Object.values(j.blockSizes);
    const buckets = [...sizes.slice(0, 6), sizes.slice(6).reduce((a, b) => a + b, 0)];
    const helpers = Object.values(j.helperOps).reduce((a, b) => a + b, 0);
    lines.push(
      `| ${s.name} | ${j.compiled} | ${j.compiled > 0 ? (j.compiledInsns / j.compiled).toFixed(1) : "–"} | ${buckets.join(" / ")} | ${j.compileMs.toFixed(0)} | ${s.retired > 0 ? ((helpers * 1e6) / s.retired).toFixed(0) : "–"} | ${topOf(j.helperOps, helpers, 3)} |`,
    );
  }
  return lines.join("\n");
}

/** Each segment's hottest functions (self time), one line each. */
export function hotFunctions(segments: readonly ProfileSegment[], n = 6): string {
  return segments
    .filter((s) => s.cpu !== null)
    .map((s) => {
      const cpu = s.cpu!;
      const total = CPU_CATEGORIES.reduce((a, c) => a + cpu.ms[c], 0);
      const top = cpu.top
        .slice(0, n)
        .map((t) => `${t.fn} ${pct(t.ms, total)}`)
        .join("; ");
      return `- ${s.name}: ${top}`;
    })
    .join("\n");
}

/** Whether a segment's counters add up: blocks plus interpreter = retired. */
export function countsAddUp(s: ProfileSegment): boolean {
  return s.jit.blockInsns + s.jit.interpInsns === s.retired;
}

/**
 * Differential fuzzing of user-level instructions against qemu-riscv64.
 *
 *   npm run fuzz:isa -- --count 5000 --seed 42
 *   npm run fuzz:isa -- --seed 42 --index 1234 --keep   reproduce one case, write it to a file
 *   npm run fuzz:isa -- --jit --count 20000            the same against Virtus's JIT
 *
 * Options:
 *   --count N      number of cases (default 1000)
 *   --seed S       run seed (default: random; printed)
 *   --index I      run only case I of the seed (a reproducer)
 *   --start I      first case index (default 0)
 *   --no-fp        integer cases only
 *   --only-fp      every case includes FP instructions
 *   --fp-rate P    fraction of cases with FP (default 0.5)
 *   --specials P   extra probability that an initial FP register is a special value (default 0)
 *   --per N        cases per compiled program (default 100)
 *   --jobs N       concurrent compiler/qemu processes
 *   --keep         write each failing case as a standalone program (fuzz-isa-<seed>-<index>.s)
 *   --max-show N   print at most N mismatches in full (default 20)
 *   --jit          test the JIT: each case runs three times (--passes 3) and Virtus compiles
 *                  a block the second time it reaches code (--jit-hot 1) and runs it from
 *                  the third, so the third pass runs compiled code (with two passes the
 *                  blocks would be compiled but never run). A mismatch is rechecked with
 *                  the interpreter alone.
 *   --passes N     runs of each case's sequence (default 1, or 3 with --jit)
 *   --jit-hot N    Virtus's JIT threshold (default: the Machine's, or 1 with --jit)
 *   --no-jit       run Virtus with the interpreter alone
 *
 * Exits 1 on any mismatch or error.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { caseListing, generateCase, programSource } from "./gen.ts";
import { type Mismatch, missingTools, runDiff } from "./harness.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "1000" },
    seed: { type: "string" },
    index: { type: "string" },
    start: { type: "string", default: "0" },
    "no-fp": { type: "boolean", default: false },
    "only-fp": { type: "boolean", default: false },
    "fp-rate": { type: "string" },
    specials: { type: "string", default: "0" },
    per: { type: "string", default: "100" },
    jobs: { type: "string" },
    keep: { type: "boolean", default: false },
    "max-show": { type: "string", default: "20" },
    jit: { type: "boolean", default: false },
    "no-jit": { type: "boolean", default: false },
    passes: { type: "string" },
    "jit-hot": { type: "string" },
  },
});

const why = missingTools();
if (why) {
  console.error(`fuzz:isa: ${why}`);
  process.exit(2);
}

const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const fpRate = values["no-fp"] ? 0 : values["only-fp"] ? 1 : Number(values["fp-rate"] ?? 0.5);
const single = values.index !== undefined;
const start = single ? Number(values.index) : Number(values.start);
const count = single ? 1 : Number(values.count);
const specials = Number(values.specials);
const genOpts = { fpRate, specials };
const passes = Number(values.passes ?? (values.jit ? 3 : 1));
const jitHot = values["jit-hot"] !== undefined ? Number(values["jit-hot"]) : values.jit ? 1 : undefined;
const jit = values["no-jit"] ? false : undefined;
/** The options that select this kind of run, repeated in reproducer command lines. */
const modeArgs = [
  values.jit ? "--jit" : "",
  values.passes !== undefined ? `--passes ${passes}` : "",
  values["jit-hot"] !== undefined ? `--jit-hot ${jitHot}` : "",
  values["no-jit"] ? "--no-jit" : "",
  specials !== 0 ? `--specials ${specials}` : "",
]
  .filter((a) => a)
  .join(" ");

function show(m: Mismatch): void {
  console.log(`\n=== MISMATCH seed ${m.c.seed} index ${m.c.index}`);
  console.log(
    `reproduce: npm run fuzz:isa -- --seed ${m.c.seed} --index ${m.c.index} --fp-rate ${fpRate}${modeArgs ? ` ${modeArgs}` : ""} --keep`,
  );
  console.log(caseListing(m.c));
  if (m.trap) console.log(`# ${m.trap}`);
  if (m.interpreterMatches !== undefined)
    console.log(
      m.interpreterMatches
        ? "# the interpreter alone matches qemu: a JIT difference"
        : "# the interpreter alone differs too",
    );
  for (const d of m.diffs) console.log(`#   ${d.what.padEnd(14)} qemu ${d.qemu}   virtus ${d.virtus}`);
}

const t0 = performance.now();
let lastReport = 0;
const res = await runDiff(
  {
    seed,
    start,
    count,
    ...genOpts,
    perProgram: Number(values.per),
    jobs: values.jobs ? Number(values.jobs) : undefined,
    cache: false,
    passes,
    jit,
    jitHot,
  },
  (done, r) => {
    const now = performance.now();
    if (now - lastReport > 5000) {
      lastReport = now;
      process.stderr.write(`  ${done}/${count} sequences, ${r.mismatches.length} mismatches\n`);
    }
  },
);
const secs = ((performance.now() - t0) / 1000).toFixed(1);
const maxShow = Number(values["max-show"]);
res.mismatches.slice(0, maxShow).forEach(show);
if (res.mismatches.length > maxShow)
  console.log(`\n(${res.mismatches.length - maxShow} more mismatches not shown)`);
for (const e of res.errors) console.log(`\nERROR ${e}`);
if (values.keep) {
  for (const m of res.mismatches) {
    const c = generateCase(seed, m.c.index, genOpts);
    const file = `fuzz-isa-${seed}-${m.c.index}.s`;
    writeFileSync(file, `${caseListing(c).replace(/^/gm, "# ")}\n\n${programSource([c], { passes })}`);
    console.log(`wrote ${file}`);
  }
}
console.log(
  `\nfuzz:isa seed ${seed}: ran ${res.ran} of ${count} sequences (fp rate ${fpRate}` +
    `${passes > 1 ? `, ${passes} passes` : ""}${jitHot !== undefined ? `, jit-hot ${jitHot}` : ""}` +
    `${jit === false ? ", interpreter only" : ""}) in ${secs}s: ` +
    `${res.mismatches.length} mismatches, ${res.errors.length} errors` +
    (jit !== false
      ? `\n  jit: ${res.jit.compiled} blocks compiled, ${res.jit.runs} block runs retired ${res.jit.retired} ` +
        `instructions (${res.jit.caseRetired} in the cases' own code)`
      : ""),
);
process.exitCode = res.mismatches.length || res.errors.length ? 1 : 0;

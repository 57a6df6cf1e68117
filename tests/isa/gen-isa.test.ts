/**
 * `npm run gen:isa -- --check` cannot pass while a tier is stale: in a temp
 * copy of the generator, the table and the tiers (cpu/interpreter.ts,
 * cpu/exec/, jit/), an op literal tagged with another instruction's name,
 * an untagged op literal and an untagged case label each make --check exit
 * non-zero with one line naming the file and line and what to run; the
 * generator rewrites the stale tag and refuses (writing nothing) the
 * untagged ones.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { OP_NAMES } from "../../src/isa/decoder.generated.ts";

const root = join(import.meta.dirname, "../..");
const temps: string[] = [];
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** A copy of what the generator reads and writes. */
function copy(): string {
  const dir = mkdtempSync(join(tmpdir(), "virtus-gen-isa-"));
  temps.push(dir);
  for (const p of ["scripts/gen-isa.ts", "src/isa", "src/machine/cpu", "src/machine/jit"])
    cpSync(join(root, p), join(dir, p), { recursive: true });
  return dir;
}

function gen(dir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(dir, "scripts/gen-isa.ts"), ...args], { encoding: "utf8" });
  return { status: r.status, lines: r.stderr.split("\n").filter((l) => l !== "") };
}

/** Replaces the first `from` in file `rel` of `dir`; returns the 1-based line it was on. */
function edit(dir: string, rel: string, from: string, to: string): number {
  const path = join(dir, rel);
  const src = readFileSync(path, "utf8");
  const at = src.indexOf(from);
  assert.ok(at >= 0, `${from} not in ${rel}`);
  writeFileSync(path, src.slice(0, at) + to + src.slice(at + from.length));
  return src.slice(0, at).split("\n").length;
}

const ADD = OP_NAMES.indexOf("add");
const ADDI = OP_NAMES.indexOf("addi");

test("an unchanged copy passes --check", () => {
  assert.deepEqual(gen(copy(), "--check"), { status: 0, lines: [] });
});

test("an op literal whose tag names another instruction fails --check at its line; gen:isa rewrites it", () => {
  const dir = copy();
  const file = "src/machine/jit/emit-base.ts";
  const line = edit(dir, file, `${ADDI} /* addi */:`, `${ADDI} /* add */:`);
  const r = gen(dir, "--check");
  assert.equal(r.status, 1);
  assert.deepEqual(r.lines, [`${file}:${line}: ${ADDI} /* add */ is op ${ADD} now: run \`npm run gen:isa\``]);
  assert.equal(gen(dir).status, 0);
  assert.match(readFileSync(join(dir, file), "utf8"), new RegExp(`\\b${ADD} /\\* add \\*/:`));
  assert.equal(gen(dir, "--check").status, 0);
});

test("an untagged op literal fails --check at its line, and gen:isa refuses it, writing nothing", () => {
  const dir = copy();
  const file = "src/machine/cpu/exec/zb.ts";
  const src = readFileSync(join(dir, file), "utf8");
  writeFileSync(join(dir, file), `${src}\nexport const isAdd = (op: number) => op === ${ADD};\n`);
  const line = src.split("\n").length + 1;
  // And a stale tag elsewhere, which a refusing run must not rewrite either.
  edit(dir, "src/machine/jit/emit-base.ts", `${ADDI} /* addi */:`, `${ADDI} /* add */:`);
  const check = gen(dir, "--check");
  assert.equal(check.status, 1);
  const untagged = check.lines.filter((l) => l.startsWith(`${file}:`));
  assert.equal(untagged.length, 1);
  assert.match(
    untagged[0],
    new RegExp(`^${file}:${line}: op literal ${ADD} has no /\\* name \\*/ tag.*npm run gen:isa`),
  );
  const write = gen(dir);
  assert.equal(write.status, 1);
  assert.deepEqual(write.lines, untagged);
  assert.match(
    readFileSync(join(dir, "src/machine/jit/emit-base.ts"), "utf8"),
    / \/\* add \*\/:/,
    "nothing written",
  );
});

test("an untagged case label in a switch over an op fails --check; one in another switch does not", () => {
  const dir = copy();
  const file = "src/machine/cpu/interpreter.ts";
  const line = edit(dir, file, `case ${ADDI} /* addi */:`, `case ${ADDI}:`);
  const r = gen(dir, "--check");
  assert.equal(r.status, 1);
  assert.equal(r.lines.length, 1);
  assert.match(r.lines[0], new RegExp(`^${file}:${line}: op literal ${ADDI} has no /\\* name \\*/ tag`));
  // interpreter.ts has switches over funct3 with plain `case 0:` labels: those pass (the unchanged copy above).
  assert.match(readFileSync(join(root, file), "utf8"), /switch \(f3\) \{\s*case 0:/);
});

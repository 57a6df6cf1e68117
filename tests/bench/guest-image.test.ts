import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { benchImageHash } from "../../bench/guest-image.ts";

const BUILD = join(import.meta.dirname, "../../bench/guest/build.sh");

test("the benchmark initramfs's hash follows its recipe and its base, not its docs", () => {
  const dir = mkdtempSync(join(tmpdir(), "virtus-bench-recipe-"));
  try {
    const recipe = join(dir, "recipe");
    mkdirSync(join(recipe, "w"), { recursive: true });
    writeFileSync(join(recipe, "build.sh"), "echo build\n");
    writeFileSync(join(recipe, "w/a.sh"), "echo a\n");
    const base = join(dir, "base.cpio.gz");
    writeFileSync(base, "base 1");
    const h1 = benchImageHash(base, recipe);
    assert.match(h1, /^[0-9a-f]{16}$/);
    writeFileSync(join(recipe, "README.md"), "docs\n");
    assert.equal(benchImageHash(base, recipe), h1);
    writeFileSync(join(recipe, "w/a.sh"), "echo A\n");
    const h2 = benchImageHash(base, recipe);
    assert.notEqual(h2, h1);
    writeFileSync(base, "base 2");
    assert.notEqual(benchImageHash(base, recipe), h2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("build.sh without a base initramfs says how to call it and exits 2", () => {
  const env = { ...process.env, BASE_INITRAMFS: "" };
  const r = spawnSync("bash", [BUILD, join(tmpdir(), "virtus-bench-never")], { encoding: "utf8", env });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^usage: .*build\.sh OUT_DIR \[BASE_INITRAMFS\]/);
});

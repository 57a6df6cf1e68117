import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  findGuest,
  GUEST_RECIPE_DIR,
  guestCacheDir,
  guestRecipeFiles,
  guestRecipeHash,
  virtusCacheRoot,
} from "../../src/host/node/guest.ts";

const scratch = mkdtempSync(join(tmpdir(), "virtus-guest-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the real recipe in a fresh folder. */
function copyRecipe(name: string): string {
  const dir = join(scratch, name);
  cpSync(GUEST_RECIPE_DIR, dir, { recursive: true });
  return dir;
}

describe("guest recipe hash", () => {
  test("covers the build script, the config fragments and the rootfs files, not the docs", () => {
    const files = guestRecipeFiles();
    for (const f of ["build.sh", "kernel.fragment", "rootfs/init"]) assert.ok(files.includes(f), f);
    assert.ok(!files.some((f) => f.endsWith(".md")));
  });

  test("is 16 hex digits, stable, and independent of where the recipe lives", () => {
    const hash = guestRecipeHash();
    assert.match(hash, /^[0-9a-f]{16}$/);
    assert.equal(guestRecipeHash(), hash);
    assert.equal(guestRecipeHash(copyRecipe("same")), hash);
  });

  test("changes when a recipe file changes, is added or renamed; not for README edits", () => {
    const base = guestRecipeHash();
    const edited = copyRecipe("edited");
    writeFileSync(join(edited, "kernel.fragment"), "CONFIG_SMP=y\n", { flag: "a" });
    assert.notEqual(guestRecipeHash(edited), base);

    const added = copyRecipe("added");
    writeFileSync(join(added, "rootfs", "etc", "motd"), "hello\n");
    assert.notEqual(guestRecipeHash(added), base);

    const docs = copyRecipe("docs");
    writeFileSync(join(docs, "README.md"), "changed docs\n");
    writeFileSync(join(docs, "NOTES.md"), "more docs\n");
    assert.equal(guestRecipeHash(docs), base);
  });

  test("rejects a folder without build.sh", () => {
    const empty = join(scratch, "empty");
    mkdirSync(empty);
    assert.throws(() => guestRecipeHash(empty), /build\.sh/);
  });
});

describe("guest cache dir", () => {
  test("honours VIRTUS_CACHE_DIR, then XDG_CACHE_HOME", () => {
    const saved = { virtus: process.env.VIRTUS_CACHE_DIR, xdg: process.env.XDG_CACHE_HOME };
    try {
      process.env.VIRTUS_CACHE_DIR = join(scratch, "cache");
      assert.equal(guestCacheDir("0123456789abcdef"), join(scratch, "cache", "guest", "0123456789abcdef"));
      assert.equal(guestCacheDir(), join(scratch, "cache", "guest", guestRecipeHash()));
      delete process.env.VIRTUS_CACHE_DIR;
      process.env.XDG_CACHE_HOME = join(scratch, "xdg");
      assert.equal(virtusCacheRoot(), join(scratch, "xdg", "virtus"));
    } finally {
      for (const [key, value] of [
        ["VIRTUS_CACHE_DIR", saved.virtus],
        ["XDG_CACHE_HOME", saved.xdg],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});

describe("findGuest", () => {
  const dir = join(scratch, "build");
  mkdirSync(join(dir, "bench"), { recursive: true });

  test("is undefined for a missing or incomplete build", () => {
    assert.equal(findGuest(join(scratch, "nothing")), undefined);
    writeFileSync(join(dir, "Image"), "kernel");
    writeFileSync(join(dir, "initramfs.cpio.gz"), "initrd");
    assert.equal(findGuest(dir), undefined, "no DONE marker yet");
    writeFileSync(join(dir, "DONE"), "");
    rmSync(join(dir, "initramfs.cpio.gz"));
    assert.equal(findGuest(dir), undefined, "initramfs missing");
  });

  test("returns the files of a complete build; speedtest1 only when the build has it", () => {
    writeFileSync(join(dir, "initramfs.cpio.gz"), "initrd");
    const files = { dir, kernel: join(dir, "Image"), initrd: join(dir, "initramfs.cpio.gz") };
    assert.deepEqual(findGuest(dir), files);
    writeFileSync(join(dir, "bench", "speedtest1"), "bench");
    assert.deepEqual(findGuest(dir), { ...files, speedtest1: join(dir, "bench", "speedtest1") });
  });
});

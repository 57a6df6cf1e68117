import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { findGuest, GUEST_RECIPE_DIR, guestRecipeHash } from "../../src/host/node/guest.ts";
import {
  extractPrebuiltGuest,
  GUEST_PREBUILT_DIR,
  readPrebuiltManifest,
} from "../../src/host/node/guest-prebuilt.ts";
import { VirtusError } from "../../src/machine/errors.ts";

const scratch = mkdtempSync(join(tmpdir(), "virtus-prebuilt-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
const bin = join(import.meta.dirname, "../../bin/virtus.js");

/** Runs `fn` with VIRTUS_CACHE_DIR set to `dir`. */
function withCache<T>(dir: string, fn: () => T): T {
  const saved = process.env.VIRTUS_CACHE_DIR;
  process.env.VIRTUS_CACHE_DIR = dir;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.VIRTUS_CACHE_DIR;
    else process.env.VIRTUS_CACHE_DIR = saved;
  }
}

describe("the prebuilt guest", () => {
  test("was built from the recipe in guest/ (else: run `npm run guest` and commit guest/prebuilt/)", () => {
    const manifest = readPrebuiltManifest();
    assert.ok(manifest, `${GUEST_PREBUILT_DIR}manifest.json is missing`);
    assert.equal(
      manifest.recipe,
      guestRecipeHash(),
      "guest/prebuilt/ does not match the guest recipe: run `npm run guest` and commit guest/prebuilt/ with the recipe change",
    );
    assert.deepEqual(
      manifest.files.map((f) => f.name),
      ["Image", "initramfs.cpio.gz", "versions.txt"],
    );
  });

  test("is not part of the recipe hash", () => {
    const copy = join(scratch, "recipe");
    cpSync(GUEST_RECIPE_DIR, copy, { recursive: true });
    writeFileSync(join(copy, "prebuilt", "manifest.json"), "{}");
    assert.equal(guestRecipeHash(copy), guestRecipeHash());
  });

  test("findGuest() extracts it into an empty cache, with the sums it lists, atomically", () => {
    const cache = join(scratch, "cache");
    const g = withCache(cache, () => findGuest());
    assert.ok(g, "findGuest() found no guest");
    const dir = join(cache, "guest", guestRecipeHash());
    assert.equal(g.dir, dir);
    assert.equal(g.kernel, join(dir, "Image"));
    assert.equal(g.initrd, join(dir, "initramfs.cpio.gz"));
    // RISC-V Linux Image header: magic "RISCV\0\0\0" at 48, "RSC\x05" at 56.
    const image = readFileSync(g.kernel);
    assert.equal(image.subarray(48, 53).toString("latin1"), "RISCV");
    assert.match(readFileSync(join(dir, "DONE"), "utf8"), /from the prebuilt guest/);
    // Only the finished directory is left: no temporary one.
    assert.deepEqual(readdirSync(join(cache, "guest")), [guestRecipeHash()]);
    // A second call finds it in place.
    assert.deepEqual(
      withCache(cache, () => findGuest()),
      g,
    );
  });

  test("a damaged file is refused and leaves nothing in the cache", () => {
    const copy = join(scratch, "damaged");
    cpSync(GUEST_PREBUILT_DIR, copy, { recursive: true });
    const initrd = join(copy, "initramfs.cpio.gz");
    const bytes = readFileSync(initrd);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(initrd, bytes);
    const manifest = readPrebuiltManifest(copy)!;
    const target = join(scratch, "damaged-cache", "abc");
    assert.throws(
      () => extractPrebuiltGuest(manifest, target, "DONE", copy),
      (e) => e instanceof VirtusError && /initramfs\.cpio\.gz has the wrong sum/.test(e.message),
    );
    assert.equal(existsSync(target), false);
  });

  test("a malformed manifest is a clear error", () => {
    const copy = join(scratch, "malformed");
    cpSync(GUEST_PREBUILT_DIR, copy, { recursive: true });
    writeFileSync(join(copy, "manifest.json"), '{"format":1,"recipe":"x","files":[]}');
    assert.throws(() => readPrebuiltManifest(copy), /damaged \(manifest\.json has no recipe hash\)/);
    assert.equal(readPrebuiltManifest(join(scratch, "nowhere")), undefined);
  });

  test("virtus run with an unwritable cache: one line that says what to do, exit 2", () => {
    const file = join(scratch, "a-file");
    writeFileSync(file, "");
    const r = spawnSync(process.execPath, [bin, "run"], {
      encoding: "utf8",
      env: { ...process.env, VIRTUS_CACHE_DIR: join(file, "cache") },
      timeout: 60_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      /^virtus: cannot write the guest cache .*: .*set VIRTUS_CACHE_DIR to a writable directory/,
    );
  });
});

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  BUILD_SPACE_BYTES,
  type BuildHost,
  buildPlan,
  guestBuildEnv,
  guestBuildPackages,
} from "../../src/host/node/guest-build.ts";

const scratch = mkdtempSync(join(tmpdir(), "virtus-guest-build-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
const guestCli = join(import.meta.dirname, "../../src/host/node/guest-cli.ts");

/** A machine that can build the guest, with `over` changed. */
function host(over: Partial<BuildHost> = {}): BuildHost {
  return {
    uid: 1000,
    onPath: () => true,
    missingPackages: () => [],
    haveDebSrc: () => true,
    freeBytes: () => 10 * BUILD_SPACE_BYTES,
    writable: () => true,
    ...over,
  };
}
const plan = (over: Partial<BuildHost>, env: NodeJS.ProcessEnv = {}) =>
  buildPlan({ cacheDir: "/cache/guest", env, packages: ["bc", "linux-source-6.1"] }, host(over));
const check = (over: Partial<BuildHost>, env: NodeJS.ProcessEnv = {}) => plan(over, env).problem;

describe("guest build checks", () => {
  test("a machine with everything installed can build, as root or not", () => {
    assert.equal(check({}), undefined);
    assert.equal(check({ uid: 0, missingPackages: () => ["bc"], haveDebSrc: () => false }), undefined);
  });

  test("no apt: says the build needs Debian's apt-get and how to use the prebuilt guest instead", () => {
    const p = check({ onPath: (c) => c !== "apt-get" });
    assert.match(p ?? "", /apt-get and dpkg-query are not on PATH.*Debian 12.*prebuilt guest/);
  });

  test("not root with missing packages: the exact apt-get command, or sudo", () => {
    const p = check({ missingPackages: () => ["linux-source-6.1"] });
    assert.match(
      p ?? "",
      /missing: linux-source-6\.1; install them with `sudo apt-get install --no-install-recommends linux-source-6\.1`, or run `sudo npm run guest`/,
    );
    // SKIP_APT=1 as root: nothing will install them either.
    assert.match(check({ uid: 0, missingPackages: () => ["bc"] }, { SKIP_APT: "1" }) ?? "", /missing: bc/);
  });

  test("not root without deb-src entries: run it once as root", () => {
    assert.match(check({ haveDebSrc: () => false }) ?? "", /no deb-src entries.*sudo npm run guest/);
  });

  test("an unwritable cache or scratch folder, or a full disk: what to set or free", () => {
    assert.match(check({ writable: (d) => d !== "/cache/guest" }) ?? "", /set VIRTUS_CACHE_DIR/);
    assert.match(
      check({ writable: (d) => d !== "/scratch" }, { BUILD_DIR: "/scratch" }) ?? "",
      /set BUILD_DIR/,
    );
    assert.match(
      check({ freeBytes: () => 1024 ** 3 }) ?? "",
      /needs 3\.0 GB free in .* and there is 1\.0 GB: free some space, or set BUILD_DIR/,
    );
  });

  test("build.sh uses apt only when something is missing (and then as root)", () => {
    assert.deepEqual(plan({}), { skipApt: true });
    assert.deepEqual(plan({ uid: 0 }), { skipApt: true });
    assert.deepEqual(plan({ uid: 0, missingPackages: () => ["bc"] }), { skipApt: false });
    assert.deepEqual(plan({ uid: 0, haveDebSrc: () => false }), { skipApt: false });
    assert.equal(guestBuildEnv({ skipApt: true }, {}, {}).SKIP_APT, "1");
    assert.equal(guestBuildEnv({ skipApt: false }, {}, {}).SKIP_APT, undefined);
    assert.equal(guestBuildEnv({ skipApt: false }, { PARTS_CACHE: "/p" }, {}).PARTS_CACHE, "/p");
  });

  test("guest/packages.txt lists the packages build.sh installs", () => {
    const pkgs = guestBuildPackages();
    for (const p of ["linux-source-6.1", "gcc-riscv64-linux-gnu", "build-essential"])
      assert.ok(pkgs.includes(p), p);
  });

  test("npm run guest without apt-get on PATH: one line, exit 2, nothing built", () => {
    const bin = join(scratch, "bin");
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, "node"));
    const cache = join(scratch, "cache");
    const r = spawnSync(join(bin, "node"), [guestCli, "--rebuild"], {
      encoding: "utf8",
      env: { PATH: bin, HOME: scratch, VIRTUS_CACHE_DIR: cache },
      timeout: 60_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      /^virtus guest: cannot build the guest for recipe [0-9a-f]{16}: apt-get and dpkg-query are not on PATH/,
    );
  });

  test("npm run guest with an unwritable cache: one line, exit 2", () => {
    const file = join(scratch, "file");
    writeFileSync(file, "");
    const r = spawnSync(process.execPath, [guestCli, "--rebuild"], {
      encoding: "utf8",
      env: { ...process.env, VIRTUS_CACHE_DIR: join(file, "cache") },
      timeout: 60_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /cannot write the guest cache .*set VIRTUS_CACHE_DIR to a writable directory/);
  });
});

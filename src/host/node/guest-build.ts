// What building the default guest needs from this machine, checked before build.sh starts so that
// a machine that cannot build it gets one line saying what to do instead of a failure deep in the
// build: apt-get and dpkg (Debian 12), the packages of guest/packages.txt (root installs them),
// deb-src entries for `apt-get source`, and free space for the sources and build trees.

import { spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fromRoot } from "./project-root.ts";

const PACKAGES_FILE = fromRoot("guest/packages.txt");

/** Free space a build needs: linux-source unpacked (1.6 GB), build trees and the output. */
export const BUILD_SPACE_BYTES = 3 * 1024 ** 3;

/** The Debian packages guest/build.sh installs (guest/packages.txt, one per line, `#` comments). */
export function guestBuildPackages(file: string = PACKAGES_FILE): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter((l) => l !== "");
}

/** What the checks look at; tests pass a fake one. */
export interface BuildHost {
  /** Effective user id (undefined on systems without one). */
  uid: number | undefined;
  /** True when `cmd` is an executable on PATH. */
  onPath(cmd: string): boolean;
  /** The packages of `pkgs` that dpkg does not list as installed. */
  missingPackages(pkgs: string[]): string[];
  /** True when `apt-get source` can fetch busybox and sqlite3 (deb-src entries are fetched). */
  haveDebSrc(): boolean;
  /** Bytes free for an unprivileged user at `path` (or its closest existing parent). */
  freeBytes(path: string): number;
  /** True when the current user can create files in `dir`. */
  writable(dir: string): boolean;
}

function onPath(cmd: string, path = process.env.PATH ?? ""): boolean {
  return path.split(delimiter).some((dir) => {
    if (dir === "") return false;
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function closestExisting(path: string): string {
  let p = path;
  for (;;) {
    try {
      statfsSync(p);
      return p;
    } catch {
      const parent = join(p, "..");
      if (parent === p) return p;
      p = parent;
    }
  }
}

export const nodeBuildHost: BuildHost = {
  uid: process.geteuid?.(),
  onPath: (cmd) => onPath(cmd),
  missingPackages(pkgs) {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format, not a template
    const r = spawnSync("dpkg-query", ["-W", "-f", "${Package} ${db:Status-Status}\\n", ...pkgs], {
      encoding: "utf8",
    });
    const installed = new Set(
      (r.stdout ?? "")
        .split("\n")
        .filter((l) => l.endsWith(" installed"))
        .map((l) => l.split(" ")[0].replace(/:.*/, "")),
    );
    return pkgs.filter((p) => !installed.has(p));
  },
  haveDebSrc() {
    const r = spawnSync("apt-get", ["source", "--print-uris", "busybox", "sqlite3"], { stdio: "ignore" });
    return r.status === 0;
  },
  freeBytes(path) {
    const s = statfsSync(closestExisting(path));
    return s.bavail * s.bsize;
  },
  writable(dir) {
    try {
      accessSync(closestExisting(dir), constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
};

/** The scratch folder build.sh will use: $BUILD_DIR, else a new folder in $TMPDIR or /tmp. */
function scratchDir(env: NodeJS.ProcessEnv): string {
  return env.BUILD_DIR || env.TMPDIR || tmpdir();
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
}

/** What buildPlan decided. */
export interface BuildPlan {
  /** Why this machine cannot build the guest as it is, in one sentence that says what to do. */
  problem?: string;
  /** True when build.sh need not touch apt (everything is installed and deb-src works). */
  skipApt: boolean;
}

/**
 * Whether this machine can build the guest into `cacheDir`, and whether build.sh needs apt-get
 * (only when packages or deb-src entries are missing; then it needs root).
 */
export function buildPlan(
  opts: { cacheDir: string; env?: NodeJS.ProcessEnv; packages?: string[] },
  host: BuildHost = nodeBuildHost,
): BuildPlan {
  const env = opts.env ?? process.env;
  const fail = (problem: string): BuildPlan => ({ problem, skipApt: true });
  if (!host.onPath("apt-get") || !host.onPath("dpkg-query"))
    return fail(
      "apt-get and dpkg-query are not on PATH, and the guest is built from Debian 12 packages: build it on Debian 12, or use the prebuilt guest (`git checkout guest/` restores the recipe it was built from)",
    );
  if (!host.writable(opts.cacheDir))
    return fail(
      `the guest cache ${opts.cacheDir} is not writable: set VIRTUS_CACHE_DIR to a writable directory`,
    );
  const scratch = scratchDir(env);
  if (!host.writable(scratch))
    return fail(
      `the scratch folder ${scratch} is not writable: set BUILD_DIR (or TMPDIR) to a writable directory`,
    );
  const free = host.freeBytes(scratch);
  if (free < BUILD_SPACE_BYTES)
    return fail(
      `the build needs ${gib(BUILD_SPACE_BYTES)} free in ${scratch} and there is ${gib(free)}: free some space, or set BUILD_DIR to a folder on a bigger disk`,
    );
  const missing = host.missingPackages(opts.packages ?? guestBuildPackages());
  const debSrc = missing.length === 0 && host.haveDebSrc();
  if (missing.length === 0 && debSrc) return { skipApt: true };
  if (host.uid === 0 && env.SKIP_APT !== "1") return { skipApt: false };
  if (missing.length > 0)
    return fail(
      `these Debian packages are missing: ${missing.join(" ")}; install them with \`sudo apt-get install --no-install-recommends ${missing.join(" ")}\`, or run \`sudo npm run guest\``,
    );
  return fail(
    "`apt-get source busybox sqlite3` cannot fetch the sources (no deb-src entries): run `sudo npm run guest` once, which adds them",
  );
}

/** build.sh's environment for `plan`, with `extra` added. */
export function guestBuildEnv(
  plan: BuildPlan,
  extra: NodeJS.ProcessEnv,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  return { ...env, ...(plan.skipApt ? { SKIP_APT: "1" } : {}), ...extra };
}

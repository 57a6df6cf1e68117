// npm run guest [-- --print-dir | --rebuild | --check]: make sure the default guest for the recipe in
// guest/ is in the cache (from the prebuilt guest when it matches, else built) and that
// guest/prebuilt/ matches the recipe; print its paths. Progress goes to stderr; stdout holds only
// the result.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { VirtusError } from "../../machine/errors.ts";
import {
  ensureGuest,
  GUEST_KERNEL_CMDLINE,
  GUEST_READY_LINE,
  GUEST_RECIPE_DIR,
  guestRecipeHash,
  runBuildScript,
} from "./guest.ts";
import { buildPlan, guestBuildEnv } from "./guest-build.ts";
import { GUEST_PREBUILT_DIR, readPrebuiltManifest, writePrebuiltGuest } from "./guest-prebuilt.ts";
import { fromRoot } from "./project-root.ts";

const USAGE = `usage: npm run guest [-- --print-dir | --rebuild | --check]
Makes sure the default riscv64 guest for the recipe in guest/ is in the cache: the prebuilt guest
(guest/prebuilt/) when it was built from this recipe, else a build from Debian sources, which then
also refreshes guest/prebuilt/ (commit it with the recipe change). Prints the guest's files.
  --print-dir   print only the cache directory
  --rebuild     build from the sources even if the cache or guest/prebuilt/ has this recipe
  --check       build everything from scratch in a temporary folder (no cached parts) and boot it to
                ${GUEST_READY_LINE}: proves the recipe still produces a working guest
Env: VIRTUS_CACHE_DIR (cache root), BUILD_DIR (scratch), JOBS=N, SKIP_APT=1 (no apt-get)`;

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Boots kernel + initrd with `virtus run` until GUEST-READY and the prompt, then powers it off. */
function bootCheck(kernel: string, initrd: string, timeoutMs = 600_000): Promise<void> {
  const bin = fromRoot("bin/virtus.js");
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bin, "run", "--kernel", kernel, "--initrd", initrd], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    let ready = false;
    const timer = setTimeout(() => {
      p.kill("SIGKILL");
      reject(new VirtusError("guest-check", `the guest did not print ${GUEST_READY_LINE} in time`, 1));
    }, timeoutMs);
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString("latin1");
      if (!ready && out.includes(GUEST_READY_LINE) && out.includes("guest# ")) {
        ready = true;
        log(`boot check: ${GUEST_READY_LINE}`);
        p.stdin.write("poweroff -f\n");
      }
    });
    p.on("exit", (code) => {
      clearTimeout(timer);
      if (ready && code === 0) resolve();
      else
        reject(
          new VirtusError(
            "guest-check",
            `the built guest did not boot to ${GUEST_READY_LINE} (exit ${code}):\n${out.slice(-2000)}`,
            1,
          ),
        );
    });
  });
}

/** --check: a full build in a temporary folder, no cached parts, then a boot. */
async function check(): Promise<void> {
  const hash = guestRecipeHash();
  const plan = buildPlan({ cacheDir: tmpdir() });
  if (plan.problem)
    throw new VirtusError("guest-build", `cannot build the guest for recipe ${hash}: ${plan.problem}`);
  const out = mkdtempSync(join(tmpdir(), "virtus-guest-check-"));
  try {
    log(`check: building recipe ${hash} from scratch into ${out}`);
    const env = guestBuildEnv(plan, {});
    delete env.PARTS_CACHE;
    await runBuildScript(join(GUEST_RECIPE_DIR, "build.sh"), out, env, log);
    await bootCheck(join(out, "Image"), join(out, "initramfs.cpio.gz"));
    log(`check passed: recipe ${hash} builds a guest that boots to ${GUEST_READY_LINE}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "print-dir": { type: "boolean" },
      rebuild: { type: "boolean" },
      check: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.check) {
    await check();
    return;
  }
  const hash = guestRecipeHash();
  const guest = await ensureGuest({ log, rebuild: values.rebuild });
  if (readPrebuiltManifest()?.recipe !== hash || values.rebuild) {
    writePrebuiltGuest(guest.dir, hash);
    log(`wrote ${GUEST_PREBUILT_DIR} for recipe ${hash}: commit it together with the recipe change`);
  }
  if (values["print-dir"]) {
    console.log(guest.dir);
  } else {
    console.log(`dir:        ${guest.dir}`);
    console.log(`kernel:     ${guest.kernel}`);
    console.log(`initrd:     ${guest.initrd}`);
    if (guest.speedtest1) console.log(`speedtest1: ${guest.speedtest1}`);
    console.log(`cmdline:    ${GUEST_KERNEL_CMDLINE}`);
  }
}

try {
  await main();
} catch (e) {
  process.stderr.write(`virtus guest: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof VirtusError ? e.exitCode : 1);
}

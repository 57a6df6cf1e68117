/**
 * The benchmark initramfs of `npm run bench:guest`: built by bench/guest/build.sh on top of the
 * default guest's initramfs and cached in `<cache root>/bench-guest/<hash>/`, where the hash
 * covers the recipe (bench/guest/ and guest/lib.sh) and the base initramfs. The programs it
 * cross-builds are kept in `<cache root>/bench-parts/`, so a change to a workload script only
 * re-assembles the archive (seconds); a clean build takes 10 to 30 minutes.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ensureGuest,
  type GuestFiles,
  guestRecipeFiles,
  runBuildScript,
  virtusCacheRoot,
} from "../src/host/node/guest.ts";

const RECIPE_DIR = join(import.meta.dirname, "guest");
const GUEST_LIB = join(import.meta.dirname, "../guest/lib.sh");

/** First 16 hex digits of sha256 over the recipe's files, guest/lib.sh and the base initramfs. */
export function benchImageHash(baseInitrd: string, recipeDir: string = RECIPE_DIR): string {
  const hash = createHash("sha256");
  const add = (label: string, content: Buffer) => {
    hash.update(`${label}\0${content.length}\0`);
    hash.update(content);
  };
  for (const file of guestRecipeFiles(recipeDir)) add(file, readFileSync(join(recipeDir, file)));
  add("guest/lib.sh", readFileSync(GUEST_LIB));
  add("base", readFileSync(baseInitrd));
  return hash.digest("hex").slice(0, 16);
}

/** The default guest's kernel with the benchmark initramfs, built first if the cache lacks it. */
export async function ensureBenchGuest(log: (line: string) => void): Promise<GuestFiles> {
  const base = await ensureGuest({ log });
  const hash = benchImageHash(base.initrd);
  const dir = join(virtusCacheRoot(), "bench-guest", hash);
  const initrd = join(dir, "initramfs.cpio.gz");
  if (existsSync(join(dir, "DONE"))) return { ...base, dir, initrd };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(`building the benchmark initramfs ${hash} into ${tmp}`);
  try {
    await runBuildScript(
      join(RECIPE_DIR, "build.sh"),
      tmp,
      { ...process.env, PARTS_CACHE: join(virtusCacheRoot(), "bench-parts"), BASE_INITRAMFS: base.initrd },
      log,
    );
    writeFileSync(join(tmp, "DONE"), `recipe ${hash}\nbuilt ${new Date().toISOString()}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { ...base, dir, initrd };
}

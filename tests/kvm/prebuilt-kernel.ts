/**
 * The KVM host kernel that ships as a test fixture (tests/kvm/prebuilt/): the
 * Image built by build-kernel.sh, zstd-compressed, with a manifest in the
 * format of guest/prebuilt/ (src/host/node/guest-prebuilt.ts). Its recipe
 * hash covers build-kernel.sh and the default guest's recipe (whose kernel
 * configuration it starts from), so a change to either fails
 * prebuilt-kernel.test.ts until the fixture is rebuilt:
 *   tests/kvm/build-kernel.sh OUT GUEST_DIR && node tests/kvm/make-prebuilt.ts OUT
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { guestRecipeHash, virtusCacheRoot } from "../../src/host/node/guest.ts";
import {
  extractPrebuiltGuest,
  type PrebuiltManifest,
  readPrebuiltManifest,
  writePrebuiltGuest,
} from "../../src/host/node/guest-prebuilt.ts";

export const KVM_PREBUILT_DIR = join(import.meta.dirname, "prebuilt");
export const KVM_PREBUILT_FILES = [
  { name: "Image", compress: true },
  { name: "kernel.config", compress: true },
] as const;

/** sha256 over build-kernel.sh and the default guest's recipe hash; the first 16 hex digits. */
export function kvmKernelRecipeHash(): string {
  const script = readFileSync(join(import.meta.dirname, "build-kernel.sh"));
  return createHash("sha256")
    .update(`build-kernel.sh\0${script.length}\0`)
    .update(script)
    .update(`guest\0${guestRecipeHash()}`)
    .digest("hex")
    .slice(0, 16);
}

export function readKvmManifest(): PrebuiltManifest | undefined {
  return readPrebuiltManifest(KVM_PREBUILT_DIR);
}

/** The prebuilt KVM kernel's Image, extracted (and checked) into `<cache>/kvm-guest/<recipe>/` once. */
export function kvmKernelImage(): string | undefined {
  const manifest = readKvmManifest();
  if (manifest === undefined) return undefined;
  const dir = join(virtusCacheRoot(), "kvm-guest", manifest.recipe);
  if (!existsSync(join(dir, "DONE"))) extractPrebuiltGuest(manifest, dir, "DONE", KVM_PREBUILT_DIR);
  return join(dir, "Image");
}

/** Writes tests/kvm/prebuilt/ from build-kernel.sh's OUT_DIR. */
export function writeKvmPrebuilt(buildDir: string): void {
  writePrebuiltGuest(buildDir, kvmKernelRecipeHash(), KVM_PREBUILT_DIR, KVM_PREBUILT_FILES);
}

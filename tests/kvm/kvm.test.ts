/**
 * KVM inside Virtus: a Linux 6.1 kernel built with CONFIG_KVM=y (the
 * prebuilt fixture in tests/kvm/prebuilt/, from build-kernel.sh) boots with
 * `--cpu h=on`, KVM finds the H extension, and tests/kvm/kvm-probe.c, run
 * as init, creates a VM whose vCPU runs a few instructions in VS-mode:
 * MMIO exits through guest-page faults, an MMIO read answered by the VMM,
 * and an SBI shutdown. Then tests/kvm/mini-vmm.c boots the default guest's
 * kernel and initramfs as a nested guest (console through SBI, which KVM
 * forwards to the VMM) to its shell, runs `uname -m` and powers off.
 * Runs by default (slow: the nested Linux runs in the interpreter).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { findGuest } from "../../src/host/node/guest.ts";
import { haveCrossGcc } from "../support/cross.ts";
import { GuestSession } from "../support/guest-session.ts";
import { writeNestedInitrd, writeProbeInitrd } from "./nested-initrd.ts";
import { kvmKernelImage, kvmKernelRecipeHash, readKvmManifest } from "./prebuilt-kernel.ts";

const guest = findGuest();
const KVM_IMAGE = kvmKernelImage();
const skip =
  KVM_IMAGE === undefined
    ? "no prebuilt KVM kernel in tests/kvm/prebuilt/"
    : guest === undefined
      ? "no default guest"
      : !haveCrossGcc()
        ? "no riscv64 cross compiler"
        : false;

test("the prebuilt KVM kernel was built from build-kernel.sh and the guest recipe (else rebuild it: see prebuilt-kernel.ts)", () => {
  const manifest = readKvmManifest();
  assert.ok(manifest, "tests/kvm/prebuilt/manifest.json is missing");
  assert.equal(manifest.recipe, kvmKernelRecipeHash());
});

test("a KVM host kernel boots with --cpu h=on and runs a nested vCPU in VS-mode", {
  skip,
  timeout: 900_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "virtus-kvm-"));
  try {
    const initrd = writeProbeInitrd(dir, guest!);
    const s = new GuestSession([
      "--cpu",
      "h=on",
      "--kernel",
      KVM_IMAGE!,
      "--initrd",
      initrd,
      "--append",
      "console=ttyS0 rdinit=/kvm-probe panic=-1",
      "--deterministic",
    ]);
    const boot = await s.expect("KVM-PROBE");
    assert.match(boot, /kvm \[\d+\]: hypervisor extension available/);
    const line = await s.expect("\n");
    assert.match(`KVM-PROBE${line}`, /^KVM-PROBE OK/, s.output.slice(-3000));
    assert.equal(await s.exited, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a nested Linux boots to a shell under a small VMM on KVM inside Virtus", {
  skip,
  timeout: 1_800_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "virtus-kvm-"));
  try {
    const initrd = writeNestedInitrd(dir, guest!);
    const s = new GuestSession([
      "--cpu",
      "h=on",
      "--mem",
      "512M",
      "--kernel",
      KVM_IMAGE!,
      "--initrd",
      initrd,
      "--append",
      "console=ttyS0 rdinit=/mini-vmm panic=-1",
    ]);
    await s.expect("MINI-VMM: starting the nested guest");
    await s.expect("GUEST-READY", 1_500_000);
    await s.expect("riscv64");
    await s.expect("MINI-VMM: the nested guest powered off");
    assert.equal(await s.exited, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Exactness of snapshots (issue 10, item 7): in deterministic mode, boot
 * the default guest, type a command that brings up the network and uses
 * the disk, run to instruction N, snapshot to a file, and go on to N + M;
 * then restore the file into a freshly built VM and run it to N + M too.
 * The console bytes after N and a hash of the whole machine state (every
 * component's record and RAM) must be equal — with and without the JIT,
 * with 1 and 4 harts, with a disk and a network device present.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { decodeSnapshotFile, encodeSnapshotFile } from "../../src/formats/snapshot/file.ts";
import { encodeValue } from "../../src/formats/snapshot/value.ts";
import { findGuest, GUEST_KERNEL_CMDLINE } from "../../src/host/node/guest.ts";
import { nodeHostServices } from "../../src/host/node/services.ts";
import { nodeSnapshotCodec } from "../../src/host/node/snapshot-file.ts";
import { restoreVm, saveVm } from "../../src/machine/snapshot/machine-snapshot.ts";
import { buildVm, type Vm } from "../../src/vm/build.ts";
import { defaultVmConfig, type VmConfig } from "../../src/vm/config.ts";
import { TEST_JIT_HOT } from "../support/test-jit.ts";

const guest = findGuest();
const noGuest = guest === undefined && "the default guest is not built: run `npm run guest`";

/** Collects console bytes. */
class Console {
  bytes: number[] = [];
  write(d: Uint8Array): void {
    for (const b of d) this.bytes.push(b);
  }
  text(from = 0): string {
    return Buffer.from(this.bytes.slice(from)).toString("latin1");
  }
}

/** A hash of the whole machine: every component's record and RAM. */
function machineHash(vm: Vm): string {
  const s = saveVm(vm.board);
  return createHash("sha256")
    .update(encodeValue(s.components))
    .update(s.ram as Uint8Array)
    .digest("hex");
}

/** Runs `vm` until exactly `target` instructions have retired in all (run() stops inside a slice if it must). */
function runTo(vm: Vm, target: number): void {
  const m = vm.board.machine;
  while (m.retired() < target) {
    const r = m.run(Math.min(1_000_000, target - m.retired()));
    if (r === "stopped") throw new Error("the guest stopped");
  }
}

function config(dir: string, disk: string, harts: number, jit: boolean): VmConfig {
  if (guest === undefined) throw new Error("no guest");
  return {
    ...defaultVmConfig(guest.kernel),
    initrd: guest.initrd,
    append: GUEST_KERNEL_CMDLINE,
    memory: 128 << 20,
    harts,
    jit,
    ...(jit && TEST_JIT_HOT !== undefined ? { jitHot: TEST_JIT_HOT } : {}),
    deterministic: true,
    disks: [{ path: join(dir, disk), readOnly: false }],
  } as VmConfig;
}

const quiet = nodeHostServices(() => {});

for (const harts of [1, 4]) {
  for (const jit of [true, false]) {
    test(`snapshot, restore and run on equals running straight (${harts} hart(s), JIT ${jit ? "on" : "off"}, disk and network)`, {
      skip: noGuest,
    }, async () => {
      const dir = mkdtempSync(join(tmpdir(), "virtus-exact-"));
      try {
        writeFileSync(join(dir, "a.img"), Buffer.alloc(1 << 20, 0x5a));
        const outA = new Console();
        const a = await buildVm(config(dir, "a.img", harts, jit), quiet, { console: outA });
        try {
          // Boot to the prompt, in 1M-instruction steps (deterministic, so the same every time).
          while (!outA.text().includes("guest# ")) runTo(a, a.board.machine.retired() + 1_000_000);
          a.sendInput(
            new TextEncoder().encode(
              "ifconfig eth0 up; udhcpc -q -n -t 3 -s /bin/true -i eth0; ifconfig eth0 10.0.2.15 up; ping -c 2 10.0.2.2; head -c 64 /dev/vda | od -c | head -2; echo DONE\n",
            ),
          );
          const n = a.board.machine.retired() + 3_000_017;
          runTo(a, n);
          // Snapshot through the real file encoding; the disk is copied as it is now.
          const file = Buffer.concat(
            encodeSnapshotFile(saveVm(a.board), { config: a.config, disks: [] }, nodeSnapshotCodec),
          );
          copyFileSync(join(dir, "a.img"), join(dir, "b.img"));
          const outAt = outA.bytes.length;
          const end = n + 40_000_000;
          runTo(a, end);
          const straight = { console: outA.text(outAt), hash: machineHash(a) };
          assert.match(straight.console, /DONE/, `the command did not finish in the window:\n${outA.text()}`);

          const outB = new Console();
          const b = await buildVm(config(dir, "b.img", harts, jit), quiet, { console: outB });
          try {
            const outBoot = outB.bytes.length;
            restoreVm(b.board, decodeSnapshotFile(file, nodeSnapshotCodec).snapshot);
            runTo(b, end);
            const restored = { console: outB.text(outBoot), hash: machineHash(b) };
            assert.equal(restored.console, straight.console);
            assert.equal(restored.hash, straight.hash);
          } finally {
            b.close();
          }
        } finally {
          a.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

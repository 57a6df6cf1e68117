import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { decodeSnapshotFile, encodeSnapshotFile } from "../../src/formats/snapshot/file.ts";
import { writeFileAtomic } from "../../src/host/node/atomic-file.ts";
import {
  checkDisks,
  diskIdentity,
  nodeSnapshotCodec,
  prefetchSnapshotFile,
  readSnapshotFile,
  takeSnapshotFile,
  writeSnapshotFile,
} from "../../src/host/node/snapshot-file.ts";
import { VirtMachine } from "../../src/machine/board/virt.ts";
import { VirtusError } from "../../src/machine/errors.ts";
import { restoreVm, saveVm } from "../../src/machine/snapshot/machine-snapshot.ts";

const dir = mkdtempSync(join(tmpdir(), "virtus-snapfile-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function smallVm(): VirtMachine {
  const vm = new VirtMachine({ ramSize: 1 << 20 });
  vm.machine.mem.writePhys(0x8000_0000, new TextEncoder().encode("previous snapshot"));
  return vm;
}

test("a snapshot written to a file reads back and restores; errors name the file in one line", () => {
  const path = join(dir, "vm.snap");
  writeSnapshotFile(path, saveVm(smallVm()), { config: { memory: 1 << 20 }, disks: [] });
  const { meta, snapshot } = readSnapshotFile(path);
  assert.deepEqual(meta.config, { memory: 1 << 20 });
  const fresh = new VirtMachine({ ramSize: 1 << 20 });
  restoreVm(fresh, snapshot);
  assert.equal(new TextDecoder().decode(fresh.machine.mem.readPhys(0x8000_0000, 17)), "previous snapshot");
  assert.throws(() => readSnapshotFile(join(dir, "missing.snap")), /missing\.snap: no such file/);
  writeFileSync(join(dir, "text.snap"), "hello, this is not a snapshot at all, just some text to read....");
  assert.throws(
    () => readSnapshotFile(join(dir, "text.snap")),
    (e) => e instanceof VirtusError && /text\.snap: snapshot file: not a Virtus snapshot/.test(e.message),
  );
  const cut = join(dir, "cut.snap");
  const whole = readFileSync(path);
  writeFileSync(cut, whole.subarray(0, whole.length >> 1));
  assert.throws(() => readSnapshotFile(cut), /cut\.snap: snapshot file: truncated: \d+ of \d+ bytes/);
});

/** A machine whose RAM has a few pages of varied content, scattered (so chunks are not contiguous). */
function scatteredVm(): VirtMachine {
  const vm = new VirtMachine({ ramSize: 4 << 20 });
  for (let p = 0; p < 1024; p += 3)
    vm.machine.mem.writePhys(0x8000_0000 + p * 4096, new TextEncoder().encode(`page ${p} `.repeat(p % 50)));
  return vm;
}

const ramOf = (vm: VirtMachine) => vm.machine.mem.readPhys(0x8000_0000, 4 << 20);

test("RAM prefetched off the thread restores the same bytes; a chunk the prefetch could not decompress is decompressed at restore", async () => {
  const vm = scatteredVm();
  const bytes = Buffer.concat(encodeSnapshotFile(saveVm(vm), { config: {}, disks: [] }, nodeSnapshotCodec));
  let syncCalls = 0;
  const counting = {
    ...nodeSnapshotCodec,
    decompress: (d: Uint8Array, n: number) => (syncCalls++, nodeSnapshotCodec.decompress(d, n)),
  };
  const decoded = decodeSnapshotFile(bytes, counting);
  await decoded.prefetchRam();
  const fresh = new VirtMachine({ ramSize: 4 << 20 });
  restoreVm(fresh, decoded.snapshot);
  assert.equal(syncCalls, 0, "every chunk came from the prefetch");
  assert.deepEqual(ramOf(fresh), ramOf(vm));

  // The async path fails for every chunk: restore decompresses them itself, and a bad chunk is still an error.
  const failing = { ...counting, decompressAsync: () => Promise.reject(new Error("no")) };
  const again = decodeSnapshotFile(bytes, failing);
  await again.prefetchRam();
  const fresh2 = new VirtMachine({ ramSize: 4 << 20 });
  restoreVm(fresh2, again.snapshot);
  assert.ok(syncCalls > 0);
  assert.deepEqual(ramOf(fresh2), ramOf(vm));

  // Through the file: a prefetched file is taken once; a bad file's error waits for the take.
  const path = join(dir, "prefetch.snap");
  writeFileSync(path, bytes);
  prefetchSnapshotFile(path);
  writeFileSync(path, "changed after the prefetch: the prefetched copy is what restores");
  const taken = await takeSnapshotFile(path);
  const fresh3 = new VirtMachine({ ramSize: 4 << 20 });
  restoreVm(fresh3, taken.snapshot);
  assert.deepEqual(ramOf(fresh3), ramOf(vm));
  await assert.rejects(
    takeSnapshotFile(path),
    /prefetch\.snap: snapshot file: not a Virtus snapshot/,
    "taken once, then read anew",
  );
  prefetchSnapshotFile(join(dir, "nothing.snap"));
  await assert.rejects(takeSnapshotFile(join(dir, "nothing.snap")), /nothing\.snap: no such file/);
});

test("kill -9 in the middle of writing a snapshot leaves the previous file intact", async () => {
  const path = join(dir, "kill.snap");
  writeSnapshotFile(path, saveVm(smallVm()), { config: { generation: 1 }, disks: [] });
  const before = readFileSync(path);
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, "../support/snapshot-writer-child.ts"), path],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<string | null>((r) => child.on("exit", (_code, signal) => r(signal)));
  // Kill it as soon as its temporary file has data in it, but before the rename.
  let killedMidWrite = false;
  for (let i = 0; i < 60_000 && child.exitCode === null; i++) {
    const tmp = readdirSync(dir).find((n) => n.startsWith(".kill.snap.") && n.endsWith(".tmp"));
    if (tmp !== undefined && statSync(join(dir, tmp), { throwIfNoEntry: false })?.size) {
      child.kill("SIGKILL");
      killedMidWrite = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.equal(await exited, "SIGKILL");
  assert.ok(killedMidWrite && !out.includes("DONE"), "the child finished before it could be killed");
  assert.ok(readFileSync(path).equals(before), "the previous snapshot changed");
  assert.deepEqual(readSnapshotFile(path).meta.config, { generation: 1 });
  // The killed writer's partial temporary file goes away with the next write.
  writeSnapshotFile(path, saveVm(smallVm()), { config: { generation: 2 }, disks: [] });
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.startsWith(".kill.snap.")),
    [],
  );
  assert.deepEqual(readSnapshotFile(path).meta.config, { generation: 2 });
});

test("writeFileAtomic replaces a file whole and leaves no temporary file behind", () => {
  const path = join(dir, "atomic.txt");
  writeFileAtomic(path, [new TextEncoder().encode("one")]);
  writeFileAtomic(path, [new TextEncoder().encode("two "), new TextEncoder().encode("parts")]);
  assert.equal(readFileSync(path, "utf8"), "two parts");
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.startsWith(".atomic.txt")),
    [],
  );
  assert.throws(() => writeFileAtomic(join(dir, "no-such-dir", "x"), [new Uint8Array(1)]), /ENOENT/);
});

test("disk identity: a missing disk, another size, other content and a later write are reported", () => {
  const disk = join(dir, "disk.img");
  writeFileSync(disk, Buffer.alloc(1 << 20, 1));
  const id = diskIdentity(disk);
  assert.deepEqual(checkDisks([id]), []);
  const kinds = (d = id) => checkDisks([d]).map((p) => p.kind);
  utimesSync(disk, new Date(), new Date(Date.now() + 5000));
  assert.deepEqual(kinds(), ["modified"]);
  writeFileSync(disk, Buffer.alloc(1 << 20, 2));
  assert.deepEqual(kinds(), ["content"]);
  writeFileSync(disk, Buffer.alloc(2 << 20, 1));
  assert.deepEqual(kinds(), ["size"]);
  rmSync(disk);
  assert.deepEqual(kinds(), ["missing"]);
  assert.match(checkDisks([id])[0].message, /disk\.img: the disk is missing/);
});

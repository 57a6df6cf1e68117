/**
 * The browser's snapshot codecs (src/host/browser/snapshots.ts): a file
 * Node writes with zstd is read by the browser (fzstd) with the same
 * machine state, and a file the browser writes (codec none) is read by
 * Node; a codec neither side knows is a one-line error.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { plainCodec } from "../../../src/formats/snapshot/codec.ts";
import { decodeSnapshotFile, encodeSnapshotFile } from "../../../src/formats/snapshot/file.ts";
import { BROWSER_CODECS } from "../../../src/host/browser/snapshots.ts";
import { nodeSnapshotCodec } from "../../../src/host/node/snapshot-file.ts";
import { VirtusError } from "../../../src/machine/errors.ts";
import { restoreVm, saveVm } from "../../../src/machine/snapshot/machine-snapshot.ts";
import { equippedBoard } from "../../support/equipped-board.ts";

function board() {
  const vm = equippedBoard({ harts: 1, ramSize: 1 << 20 });
  const page = new Uint8Array(8192).map((_, i) => (i * 7) & 0xff);
  vm.machine.mem.writePhys(vm.machine.mem.ramBase + 4096, page);
  vm.machine.harts[0].setPc(vm.machine.mem.ramBase | 0, 0);
  vm.machine.run(500);
  return vm;
}

/** A decoded snapshot restored into a fresh board and saved again, as plain bytes. */
function canonical(d: ReturnType<typeof decodeSnapshotFile>): Buffer {
  const vm = equippedBoard({ harts: 1, ramSize: 1 << 20 });
  restoreVm(vm, d.snapshot);
  return Buffer.concat(encodeSnapshotFile(saveVm(vm), d.meta, plainCodec));
}

const file = (codec: typeof plainCodec) =>
  new Uint8Array(Buffer.concat(encodeSnapshotFile(saveVm(board()), { config: { c: 1 }, disks: [] }, codec)));

test("the browser reads Node's zstd snapshots with the same state", () => {
  const fromNode = decodeSnapshotFile(file(nodeSnapshotCodec), [nodeSnapshotCodec]);
  const inBrowser = decodeSnapshotFile(file(nodeSnapshotCodec), BROWSER_CODECS);
  assert.equal(inBrowser.info.codec, "zstd");
  assert.ok(canonical(inBrowser).equals(canonical(fromNode)));
  assert.deepEqual(inBrowser.meta, { config: { c: 1 }, disks: [] });
});

test("Node reads the browser's uncompressed snapshots", () => {
  const decoded = decodeSnapshotFile(file(plainCodec), [nodeSnapshotCodec, plainCodec]);
  assert.equal(decoded.info.codec, "none");
  assert.ok(
    canonical(decoded).equals(canonical(decodeSnapshotFile(file(nodeSnapshotCodec), nodeSnapshotCodec))),
  );
});

test("a codec the host does not read is a one-line error naming both", () => {
  assert.throws(
    () => decodeSnapshotFile(file(nodeSnapshotCodec), [plainCodec]),
    (e: unknown) =>
      e instanceof VirtusError && /compressed with zstd, but this host reads none/.test(e.message),
  );
});

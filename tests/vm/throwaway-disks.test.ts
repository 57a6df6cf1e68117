import assert from "node:assert/strict";
import { test } from "node:test";
import type { BlockBackend } from "../../src/machine/host.ts";
import type { DiskConfig } from "../../src/vm/disk-config.ts";
import type { VmHostServices } from "../../src/vm/host-services.ts";
import { keepThrowawayDisks } from "../../src/vm/throwaway-disks.ts";

/** A host whose disks are numbered tokens, recording which were closed. */
function fakeHost() {
  let opened = 0;
  const closed: number[] = [];
  const host = {
    openDisk(_disk: DiskConfig) {
      const n = ++opened;
      return { backend: { n } as unknown as BlockBackend, close: () => closed.push(n) };
    },
  } as unknown as VmHostServices;
  return { host, closed, opened: () => opened };
}
const id = (b: BlockBackend) => (b as unknown as { n: number }).n;
const snap: DiskConfig = { path: "a.raw", readOnly: false, snapshot: true };

test("a throwaway overlay closed by one machine is taken again by the next, and deleted at the end of the run", () => {
  const f = fakeHost();
  const d = keepThrowawayDisks(f.host);
  const first = d.host.openDisk(snap);
  first.close();
  first.close(); // twice: handed back once
  const second = d.host.openDisk(snap);
  assert.equal(id(second.backend), id(first.backend));
  assert.equal(f.opened(), 1);
  assert.deepEqual(f.closed, [], "nothing deleted while the run goes on");
  second.close();
  d.closeAll();
  assert.deepEqual(f.closed, [1]);
});

test("two throwaway disks of one image open at once get an overlay each; plain disks pass through", () => {
  const f = fakeHost();
  const d = keepThrowawayDisks(f.host);
  const a = d.host.openDisk(snap);
  const b = d.host.openDisk(snap);
  assert.notEqual(id(a.backend), id(b.backend));
  const other = d.host.openDisk({ ...snap, path: "b.raw" });
  assert.equal(id(other.backend), 3);
  const plain = d.host.openDisk({ path: "a.raw", readOnly: false });
  plain.close();
  assert.deepEqual(f.closed, [4], "a plain disk closes at once");
  d.closeAll();
  assert.deepEqual(f.closed.sort(), [1, 2, 3, 4]);
});

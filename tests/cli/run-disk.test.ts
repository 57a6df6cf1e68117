import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseDiskSpec } from "../../src/cli/disk.ts";
import { assertBadInput } from "../support/cli.ts";

const _bin = join(import.meta.dirname, "../../bin/virtus.js");
const dir = mkdtempSync(join(tmpdir(), "virtus-run-disk-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("--disk FILE[,readonly] parses; other options are refused", () => {
  assert.deepEqual(parseDiskSpec("a.img"), { path: "a.img", readOnly: false });
  assert.deepEqual(parseDiskSpec("/x/b.img,readonly"), { path: "/x/b.img", readOnly: true });
  assert.throws(() => parseDiskSpec("a.img,ro"), /unknown option "ro"/);
  assert.throws(() => parseDiskSpec(",readonly"), /give a file name/);
});

test("virtus run: a missing disk, a directory, a bad option or a tiny image is a one-line error, exit 2", () => {
  const k = join(dir, "k.bin");
  writeFileSync(k, new Uint8Array(4096));
  const tiny = join(dir, "tiny.img");
  writeFileSync(tiny, new Uint8Array(100));
  assertBadInput(["run", "--kernel", k, "--disk", join(dir, "nope.img")], /--disk .*nope\.img: no such file/);
  assertBadInput(["run", "--kernel", k, "--disk", dir], /--disk .*: is a directory/);
  assertBadInput(["run", "--kernel", k, "--disk", `${tiny},fast`], /unknown option "fast"/);
  assertBadInput(["run", "--kernel", k, "--disk", tiny], /smaller than one 512-byte sector/);
  const nine = Array.from({ length: 9 }, () => ["--disk", `${k},readonly`]).flat();
  assertBadInput(
    ["run", "--kernel", k, ...nine],
    /virtio devices .* but the virt board has 8 virtio-mmio slots/,
  );
});

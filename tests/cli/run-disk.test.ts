import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseDiskSpec } from "../../src/cli/run.ts";

const bin = join(import.meta.dirname, "../../bin/virtus.js");
const dir = mkdtempSync(join(tmpdir(), "virtus-run-disk-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function badInput(args: string[], message: RegExp) {
  const r = spawnSync(process.execPath, [bin, "run", ...args], {
    encoding: "utf8",
    timeout: 60_000,
    input: "",
  });
  assert.equal(r.status, 2, `${args.join(" ")} → ${r.status}: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+|Error:/);
}

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
  badInput(["--kernel", k, "--disk", join(dir, "nope.img")], /--disk .*nope\.img: no such file/);
  badInput(["--kernel", k, "--disk", dir], /--disk .*: is a directory/);
  badInput(["--kernel", k, "--disk", `${tiny},fast`], /unknown option "fast"/);
  badInput(["--kernel", k, "--disk", tiny], /smaller than one 512-byte sector/);
  const nine = Array.from({ length: 9 }, () => ["--disk", `${k},readonly`]).flat();
  badInput(["--kernel", k, ...nine], /virtio devices .* but the virt board has 8 virtio-mmio slots/);
});

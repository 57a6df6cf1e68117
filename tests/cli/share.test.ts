import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseShareSpec, parseShareSpecs, shareConfigs } from "../../src/cli/share.ts";
import { nodeHostServices } from "../../src/host/node/services.ts";
import { VirtusError } from "../../src/machine/errors.ts";
import { assertBadInput } from "../support/cli.ts";

const _bin = join(import.meta.dirname, "../../bin/virtus.js");
const dir = mkdtempSync(join(tmpdir(), "virtus-share-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("--share HOSTDIR:TAG[,readonly] parses; the last ':' starts the tag", () => {
  assert.deepEqual(parseShareSpec("/srv/data:data"), { hostDir: "/srv/data", tag: "data", readonly: false });
  assert.deepEqual(parseShareSpec("./a:b:tag,readonly"), { hostDir: "./a:b", tag: "tag", readonly: true });
  const bad = (spec: string, msg: RegExp) =>
    assert.throws(
      () => parseShareSpec(spec),
      (e) => e instanceof VirtusError && msg.test(e.message),
      spec,
    );
  bad("nodir", /use HOSTDIR:TAG\[,readonly\]/);
  bad(":tag", /no host directory/);
  bad("/srv:", /no mount tag/);
  bad("/srv:,readonly", /no mount tag/);
  bad("/srv:tag,rw", /unknown option "rw"/);
  bad("/srv:a b", /tag "a b" must be/);
  bad(`/srv:${"t".repeat(65)}`, /must be 1 to 64/);
  assert.throws(
    () => parseShareSpecs(["/a:x", "/b:x"]),
    (e) => e instanceof VirtusError && /tag "x" is already used/.test(e.message),
  );
});

test("shareConfigs keeps order and flags; Node's opener opens each directory or says why not", () => {
  assert.deepEqual(shareConfigs([`${dir}:one`, `${dir}:two,readonly`]), [
    { hostDir: dir, tag: "one", readOnly: false },
    { hostDir: dir, tag: "two", readOnly: true },
  ]);
  const host = nodeHostServices(() => {});
  const opened = host.openShare({ hostDir: dir, tag: "one", readOnly: true });
  try {
    assert.equal(opened.backend.readonly, true);
    assert.equal(opened.backend.stat([]).mode & 0o170000, 0o040000);
  } finally {
    opened.close();
  }
  assert.throws(
    () => host.openShare({ hostDir: join(dir, "missing"), tag: "x", readOnly: false }),
    (e) => e instanceof VirtusError && /--share .*missing:x: .*missing: no such directory/.test(e.message),
  );
});

/** `virtus run` with bad --share arguments: one line, exit 2, no stack trace. */
test("virtus run: a missing share directory or bad --share syntax is a one-line error, exit 2", () => {
  const k = join(dir, "k.bin");
  writeFileSync(k, new Uint8Array(4096));
  const plain = join(dir, "plain-file");
  writeFileSync(plain, "");
  const cases: [string[], RegExp][] = [
    [["--share", `${join(dir, "nope")}:data`], /--share .*nope:data: .*no such directory/],
    [["--share", `${plain}:data`], /not a directory/],
    [["--share", dir], /use HOSTDIR:TAG/],
    [["--share", `${dir}:data,rw`], /unknown option "rw"/],
    [["--share", `${dir}:data`, "--share", `${dir}:data`], /already used/],
  ];
  for (const [args, message] of cases) assertBadInput(["run", "--kernel", k, ...args], message);
});

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { appendExecArchive, ExecChannel, execArchive } from "../../src/vm/exec.ts";
import { PanicWatch } from "../../src/vm/panic-watch.ts";

const enc = (s: string) => new TextEncoder().encode(s);

test("the exec archive is a newc cpio that cpio(1) unpacks to /etc/virtus/{exec,stty}", {
  skip: spawnSync("cpio", ["--version"]).status !== 0 && "cpio not installed",
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "virtus-exec-cpio-"));
  try {
    writeFileSync(join(dir, "a.cpio"), execArchive("echo 'hi there'\nexit 3", "-echo -onlcr"));
    const r = spawnSync("cpio", ["-idm", "--quiet", "-F", "a.cpio"], { cwd: dir, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(dir, "etc/virtus/exec"), "utf8"), "echo 'hi there'\nexit 3\n");
    assert.equal(readFileSync(join(dir, "etc/virtus/stty"), "utf8"), "-echo -onlcr\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the exec archive goes after the initrd at a 4-byte boundary, zeros between", () => {
  const initrd = new Uint8Array([1, 2, 3, 4, 5]);
  const all = appendExecArchive(initrd, "true", "");
  assert.deepEqual([...all.subarray(0, 8)], [1, 2, 3, 4, 5, 0, 0, 0]);
  assert.equal(new TextDecoder().decode(all.subarray(8, 14)), "070701");
  assert.equal(all.length % 4, 0);
});

test("the exec channel takes exactly `ready` and `exit N` (0..255), in pieces, and nothing else", () => {
  const c = new ExecChannel();
  c.write(enc("rea"));
  assert.equal(c.ready, false);
  c.write(enc("dy\r\nexit 256\nexit -1\nexit 3x\n"));
  assert.equal(c.ready, true);
  assert.equal(c.status, undefined);
  c.write(enc(`${"x".repeat(100)}exit 9\nexit 42\nexit 7\n`));
  assert.equal(c.status, 42, "an overlong line is dropped whole; the first exit counts");
});

test("a kernel panic line is found across chunks, with its reason", () => {
  const w = new PanicWatch();
  w.write(enc("[    1.2] Run /init as init process\n[    1.3] Kernel panic - not sync"));
  assert.equal(w.reason, undefined);
  w.write(enc("ing: Attempted to kill init! exitcode=0x00000100\n[    1.4] CPU: 0 PID: 1\n"));
  assert.equal(w.reason, "Attempted to kill init! exitcode=0x00000100");
  const long = new PanicWatch();
  long.write(enc(`Kernel panic - not syncing: ${"y".repeat(5000)}\n`));
  assert.equal(long.reason?.length, 200);
});

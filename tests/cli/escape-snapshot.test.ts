/** The console escape Ctrl-A s on a small bare-metal guest (ECHO_SPIN, see tests/cli/restore.test.ts). */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { buildElf, haveCrossGcc } from "../support/cross.ts";
import { GuestSession } from "../support/guest-session.ts";
import { ECHO_SPIN } from "../support/vm-programs.ts";

const skip = !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed";
const dir = mkdtempSync(join(tmpdir(), "virtus-escape-snapshot-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const MACHINE = ["--bios", "none", "--mem", "16M", "--net", "none", "--no-rng", "--no-virtio-console"];

function kernel(): string {
  const k = join(dir, "echo.elf");
  if (!existsSync(k)) writeFileSync(k, buildElf(ECHO_SPIN));
  return k;
}

test("Ctrl-A s saves a snapshot next to the first disk and says where; it restores", { skip }, async () => {
  const sub = join(dir, "escape");
  rmSync(sub, { recursive: true, force: true });
  const { mkdirSync, readdirSync } = await import("node:fs");
  mkdirSync(sub);
  const disk = join(sub, "d.img");
  writeFileSync(disk, new Uint8Array(64 * 1024));
  // A plain run (no --control): every run has the worker runner behind it.
  const s = new GuestSession(["--kernel", kernel(), ...MACHINE, "--disk", disk]);
  let file: string;
  try {
    await s.expect("ready\n");
    s.send("k\x01s");
    await s.expect("snapshot saved: ", 60_000);
    const line = await s.expect(".snap");
    file = line.trim();
    assert.equal(join(file, ".."), sub);
    assert.deepEqual(
      readdirSync(sub).filter((f) => f.endsWith(".snap")),
      [file.slice(sub.length + 1)],
    );
    s.send("\x01x");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
  const r = new GuestSession(["--restore", file]);
  try {
    r.send("j");
    await r.expect("j");
    r.send("\x01x");
    assert.equal(await r.exited, 0);
  } finally {
    r.kill();
  }
});

/**
 * A rate-limited disk seen from a booted, deterministic guest: its reads
 * and writes take the time the token bucket says (in the guest's clock,
 * which --deterministic ties to the instruction count, so the test is not
 * timing-flaky), while an unlimited disk beside it is as fast as ever.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { findGuest } from "../../src/host/node/guest.ts";
import { GuestSession } from "../support/guest-session.ts";

const guest = findGuest();
const skip = guest === undefined && "the default guest is not built: run `npm run guest`";
const dir = mkdtempSync(join(tmpdir(), "virtus-boot-limits-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function image(name: string): string {
  const p = join(dir, name);
  writeFileSync(p, "");
  truncateSync(p, 16 << 20);
  return p;
}

const seconds = (out: string) => Number(/real ([\d.]+)/.exec(out)?.[1]);

test("--disk FILE,bw=2M holds 2 MiB/s in guest time after its 2 MiB bucket; an unlimited disk is unaffected", {
  skip,
}, async () => {
  // No NIC: while user-mode networking holds host work open (a UDP binding, a
  // connection), an idle deterministic guest lets time pass at the wall-clock
  // pace (Machine.idleHolds), and the host's load would show in `time`.
  const s = new GuestSession([
    "--deterministic",
    "--net",
    "none",
    "--disk",
    `${image("lim.img")},bw=2M`,
    "--disk",
    image("free.img"),
  ]);
  try {
    await s.expect("guest# ");
    // 8 MiB: the first 2 MiB come from the full bucket, the other 6 at 2 MiB/s → 3 s.
    const read = seconds(
      await s.run("time -p dd if=/dev/vda of=/dev/null bs=64k count=128 iflag=direct 2>&1"),
    );
    const write = seconds(
      await s.run("time -p dd if=/dev/zero of=/dev/vda bs=64k count=128 oflag=direct 2>&1"),
    );
    const free = seconds(
      await s.run("time -p dd if=/dev/vdb of=/dev/null bs=64k count=128 iflag=direct 2>&1"),
    );
    assert.ok(Math.abs(read - 3) < 0.3, `limited read took ${read} s, expected 3 s ± 10%`);
    // The bucket refilled while the guest typed the next command; the write starts from a full one too.
    assert.ok(Math.abs(write - 3) < 0.3, `limited write took ${write} s, expected 3 s ± 10%`);
    assert.ok(free < 0.3, `the unlimited disk took ${free} s for 8 MiB`);
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
});

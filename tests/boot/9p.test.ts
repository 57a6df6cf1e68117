/**
 * --share end to end: the default guest mounts a host directory over
 * virtio-9p, files cross both ways, directories list, and the guest's
 * attempts to escape the share (a symlink to /etc, absolute and relative
 * links out, "..") stay inside. A read-only share refuses writes.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { findGuest } from "../../src/host/node/guest.ts";
import { GuestSession } from "../support/guest-session.ts";

const guest = findGuest();
const noGuest = guest === undefined && "the default guest is not built: run `npm run guest`";
const SECRET = "HOST-SECRET-9c41d0";
const MARKER = "HOST-OUTSIDE-MARKER";

const tmp = mkdtempSync(join(tmpdir(), "virtus-9p-boot-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

test("a --share directory mounts in the guest: files both ways, listings, no escape, readonly enforced", {
  skip: noGuest,
}, async () => {
  // tmp/MARKER and tmp/secret/passwd are outside; tmp/share and tmp/ro are shared.
  const share = join(tmp, "share");
  const ro = join(tmp, "ro");
  mkdirSync(join(share, "dir"), { recursive: true });
  mkdirSync(join(tmp, "secret"));
  mkdirSync(ro);
  writeFileSync(join(tmp, MARKER), "");
  writeFileSync(join(tmp, "secret/passwd"), `${SECRET}\n`);
  writeFileSync(join(share, "host.txt"), "written on the host\n");
  writeFileSync(join(share, "dir/alpha"), "");
  writeFileSync(join(share, "dir/beta"), "");
  mkdirSync(join(share, "dir/gamma"));
  symlinkSync("/etc", join(share, "escape-link"));
  symlinkSync(join(tmp, "secret"), join(share, "abs-link"));
  symlinkSync("../secret", join(share, "rel-link"));
  writeFileSync(join(ro, "keep.txt"), "read-only data\n");

  const s = new GuestSession([
    "--deterministic",
    "--share",
    `${share}:hostshare`,
    "--share",
    `${ro}:roshare,readonly`,
  ]);
  try {
    await s.expect("guest# ");
    // The command's own output, between markers the echoed command line cannot contain (it has "$M", not "MARK").
    const sh = async (cmd: string) => {
      const out = await s.run(`M=MARK; echo "BEGIN-$M"; ${cmd}; echo "END-$M"`);
      const m = /BEGIN-MARK\n([\s\S]*)END-MARK\n/.exec(out);
      assert.ok(m, out);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: busybox ls colours its output
      return m[1].replace(/\x1b\[[0-9;]*m/g, "");
    };
    assert.equal(
      await sh("mkdir -p /mnt /ro && mount -t 9p -o trans=virtio hostshare /mnt && echo MOUNTED"),
      "MOUNTED\n",
    );
    assert.match(await sh("grep 9p /proc/mounts"), /^hostshare \/mnt 9p .*trans=virtio/m);

    // Host → guest, including a file made after the mount.
    assert.equal(await sh("cat /mnt/host.txt"), "written on the host\n");
    writeFileSync(join(share, "late.txt"), "made while mounted\n");
    assert.equal(await sh("cat /mnt/late.txt"), "made while mounted\n");

    // Guest → host.
    assert.equal(await sh("echo guest-wrote-this > /mnt/from-guest.txt && sync && echo ok"), "ok\n");
    assert.equal(readFileSync(join(share, "from-guest.txt"), "utf8"), "guest-wrote-this\n");
    assert.equal(await sh("mkdir /mnt/dir/made-in-guest && echo ok"), "ok\n");
    assert.ok(statSync(join(share, "dir/made-in-guest")).isDirectory());

    // Listings.
    assert.equal(await sh("ls -1 /mnt/dir"), "alpha\nbeta\ngamma\nmade-in-guest\n");
    assert.match(await sh("ls -la /mnt"), /escape-link -> \/etc/);

    // Escapes. The link to /etc resolves in the guest, to the guest's own /etc.
    assert.equal(await sh("readlink /mnt/escape-link"), "/etc\n");
    const guestPasswd = await sh("cat /etc/passwd");
    assert.equal(await sh("cat /mnt/escape-link/passwd"), guestPasswd);
    assert.notEqual(guestPasswd, readFileSync("/etc/passwd", "utf8"));
    const out = await sh("cat /mnt/abs-link/passwd; cat /mnt/rel-link/passwd; echo done");
    assert.doesNotMatch(out, new RegExp(SECRET));
    assert.match(out, /No such file or directory[\s\S]*No such file or directory[\s\S]*done/);
    const up = await sh("ls -a /mnt/.. /mnt/../.. /mnt/dir/../../..");
    assert.doesNotMatch(up, new RegExp(MARKER));
    assert.doesNotMatch(up, /\bsecret\b/);
    assert.match(up, /\binit\b/, "'..' from the mount point is the guest's root");
    assert.doesNotMatch(await sh("cd /mnt/dir && cd ../../.. && ls"), new RegExp(MARKER));

    // Read-only share: reads work, every change fails, the host files stay as they were.
    assert.equal(await sh("mount -t 9p -o trans=virtio roshare /ro && cat /ro/keep.txt"), "read-only data\n");
    const roOut = await sh(
      "echo x > /ro/new; echo x >> /ro/keep.txt; mkdir /ro/d; rm /ro/keep.txt; mv /ro/keep.txt /ro/k2; chmod 777 /ro/keep.txt; echo end",
    );
    assert.equal(roOut.match(/Read-only file system/g)?.length, 6, roOut);
    assert.equal(readFileSync(join(ro, "keep.txt"), "utf8"), "read-only data\n");
    assert.equal(statSync(join(ro, "keep.txt")).mode & 0o777, 0o644);

    assert.equal(await sh("umount /mnt && umount /ro && echo unmounted"), "unmounted\n");
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
});

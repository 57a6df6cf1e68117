/**
 * `virtus run` as a tool in scripts (issue 9, items 5 and 6): --exec, console input piped before
 * the prompt, end of piped input, kernel panics, reboots, and a silent --kernel.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { findGuest, GUEST_KERNEL_CMDLINE } from "../../src/host/node/guest.ts";
import { buildElf, haveCrossGcc } from "../support/cross.ts";
import { GuestSession } from "../support/guest-session.ts";

const noGuest = findGuest() === undefined && "the default guest is not built: run `npm run guest`";
const bin = join(import.meta.dirname, "../../bin/virtus.js");

/** `virtus run ARGS` to the end with `input` piped in; stdout and stderr apart. */
function run(args: string[], input = "") {
  const r = spawnSync(process.execPath, [bin, "run", ...args], { input, encoding: "utf8", timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("--exec runs one command in the default guest: its output only, its exit status", {
  skip: noGuest,
}, () => {
  const r = run(["--exec", "uname -m"]);
  assert.equal(r.out, "riscv64\n");
  assert.equal(r.code, 0, r.err);
  const failing = run(["--deterministic", "--exec", "echo to stderr >&2; exit 3"]);
  assert.equal(failing.out, "to stderr\n", "the guest has one console: stderr comes out on stdout");
  assert.equal(failing.code, 3);
});

test("--exec gives piped standard input to the command, end of input included", { skip: noGuest }, () => {
  const r = run(["--deterministic", "--exec", "wc -l; exit 7"], "one\ntwo\nthree\n");
  assert.equal(r.out, "3\n", "wc read all three lines and the end of input");
  assert.equal(r.code, 7, r.err);
  const unfinished = run(["--deterministic", "--exec", "cat; echo '|'"], "a\nb \x01 c");
  assert.equal(unfinished.out, "a\nb \x01 c|\n", "an unfinished last line and a Ctrl-A arrive as data");
});

test("lines piped before the prompt all reach the shell, and the end of input powers off", {
  skip: noGuest,
}, () => {
  const r = run(["--deterministic"], "echo one\nuname -m\necho three");
  assert.equal(r.code, 0, r.err);
  const afterReady = r.out.slice(r.out.indexOf("GUEST-READY"));
  assert.match(
    afterReady,
    /guest# echo one\r\none\r\nguest# uname -m\r\nriscv64\r\nguest# echo three\r\nthree\r\n/,
  );
  assert.match(afterReady, /reboot: Power down/);
});

test("a kernel panic ends the run with exit 125 and its reason in one line", { skip: noGuest }, () => {
  const r = run(["--deterministic", "--append", `${GUEST_KERNEL_CMDLINE} rdinit=/bin/false`]);
  assert.equal(r.code, 125);
  assert.equal(r.err, "virtus: the guest kernel panicked: Attempted to kill init! exitcode=0x00000100\n");
});

test("a guest reboot resets the machine and boots again; --no-reboot exits 0 instead", {
  skip: noGuest,
}, async () => {
  const s = new GuestSession(["--deterministic"]);
  try {
    await s.expect("GUEST-READY");
    await s.expect("guest# ");
    s.send("echo marker > /tmp/m; reboot -f\n");
    await s.expect("reboot: Restarting system");
    await s.expect("GUEST-READY");
    await s.expect("guest# ");
    assert.match(await s.run("cat /tmp/m"), /No such file/, "a fresh machine: tmpfs is empty again");
    s.send("poweroff -f\n");
    assert.equal(await s.exited, 0);
  } finally {
    s.kill();
  }
  const r = run(["--deterministic", "--no-reboot"], "reboot -f\n");
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /reboot: Restarting system/);
  assert.equal(r.out.match(/GUEST-READY/g)?.length, 1);
});

test("with --kernel, a guest that prints nothing for 10 s gets a hint on stderr and runs on", {
  skip: !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed",
}, async () => {
  const spin = join(mkdtempSync(join(tmpdir(), "virtus-silent-")), "spin.elf");
  writeFileSync(spin, buildElf(".text\n.globl _start\n_start:\n j _start\n"));
  const p = spawn(process.execPath, [bin, "run", "--kernel", spin, "--bios", "none", "--net", "none"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  try {
    let err = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no hint after 60 s: ${err}`)), 60_000);
      p.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        if (err.includes("\n")) {
          clearTimeout(timer);
          resolve();
        }
      });
      p.on("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    assert.match(
      err,
      /^virtus: the guest has printed nothing for 10 s \(still running\): is --kernel a RISC-V kernel/,
    );
    assert.equal(p.exitCode, null, "the run goes on");
  } finally {
    p.kill("SIGKILL");
  }
});

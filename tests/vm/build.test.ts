import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtusError } from "../../src/machine/errors.ts";
import type { BlockBackend } from "../../src/machine/host.ts";
import { JIT_HOT } from "../../src/machine/jit/jit.ts";
import { buildVm } from "../../src/vm/build.ts";
import { defaultVmConfig, type VmConfig } from "../../src/vm/config.ts";
import type { VmHostServices } from "../../src/vm/host-services.ts";
import { buildElf, haveCrossGcc } from "../support/cross.ts";

/** Prints on the UART in M-mode, then writes `finisher` to sifive_test. */
const program = (finisher: string) => `#include "test.h"
.text
.globl _start
_start:
  li t0, 0x10000000
  la t1, msg
1: lbu t2, 0(t1)
  beqz t2, 2f
  sb t2, 0(t0)
  addi t1, t1, 1
  j 1b
2: li t0, 0x100000
  li t1, ${finisher}
  sw t1, 0(t0)
3: wfi
  j 3b
.data
msg: .asciz "built by buildVm\\n"
TOHOST_SECTION
`;

/** Host services over an in-memory file table; records what was opened and closed. */
function fakeHost(files: Record<string, Uint8Array>) {
  const events: string[] = [];
  const host: VmHostServices = {
    readFile(path, what) {
      const f = files[path];
      if (f === undefined) throw new VirtusError("no-file", `${what} ${path}: no such file`);
      return f;
    },
    openDisk(disk) {
      const data = files[disk.path];
      if (data === undefined) throw new VirtusError("bad-disk", `--disk ${disk.path}: no such file`);
      events.push(`open ${disk.path}`);
      const backend: BlockBackend = {
        size: data.length,
        readOnly: disk.readOnly,
        read: (off, dst) => dst.set(data.subarray(off, off + dst.length)),
        write: (off, src) => data.set(src, off),
        flush() {},
      };
      return { backend, close: () => events.push(`close ${disk.path}`) };
    },
    openShare() {
      throw new Error("no shares here");
    },
    async openNetwork() {
      throw new Error("no network here");
    },
    monotonicMs: () => performance.now(),
    wallClockMs: () => 0,
    entropy: { fill: (d) => d.fill(4) },
    log: () => {},
  };
  return { host, events };
}

function config(over: Partial<VmConfig> = {}): VmConfig {
  return {
    ...defaultVmConfig("/kernel.elf"),
    memory: 16 << 20,
    bios: { kind: "none" },
    network: { mode: "none", forwards: [], mac: "52:54:00:12:34:56" },
    deterministic: true,
    ...over,
  };
}

test("buildVm boots a configuration in-process: console output and the guest's exit", {
  skip: !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed",
}, async () => {
  for (const [finisher, exit] of [
    ["0x5555", { kind: "poweroff" }],
    ["(7 << 16) | 0x3333", { kind: "fail", code: 7 }],
  ] as const) {
    const { host, events } = fakeHost({
      "/kernel.elf": buildElf(program(finisher)),
      "/d.img": new Uint8Array(4096),
    });
    let out = "";
    const vm = await buildVm(config({ disks: [{ path: "/d.img", readOnly: false }] }), host, {
      console: { write: (d) => (out += new TextDecoder().decode(d)) },
    });
    assert.equal(vm.clock, undefined, "deterministic: no real-time clock");
    vm.board.machine.run(1_000_000);
    assert.equal(out, "built by buildVm\n");
    assert.deepEqual(vm.guestExit(), exit);
    vm.close();
    assert.deepEqual(events, ["open /d.img", "close /d.img"]);
  }
});

test("jitHot reaches the machine's JIT; without it the JIT keeps its own threshold", {
  skip: !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed",
}, async () => {
  const { host } = fakeHost({ "/kernel.elf": buildElf(program("0x5555")) });
  const hot = await buildVm(config({ jitHot: 1 }), host, { console: { write: () => {} } });
  const plain = await buildVm(config(), host, { console: { write: () => {} } });
  assert.equal(hot.board.machine.jit?.hot, 1);
  assert.equal(plain.board.machine.jit?.hot, JIT_HOT);
  hot.board.machine.run(1_000_000);
  assert.ok((hot.board.machine.jit?.compiled ?? 0) > 0, "the JIT compiled nothing at jitHot 1");
  hot.close();
  plain.close();
});

test("a build that fails part-way closes what it opened and says why in one line", {
  skip: !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed",
}, async () => {
  const { host, events } = fakeHost({
    "/kernel.elf": buildElf(program("0x5555")),
    "/a.img": new Uint8Array(4096),
  });
  const disks = [
    { path: "/a.img", readOnly: false },
    { path: "/missing.img", readOnly: false },
  ];
  await assert.rejects(
    buildVm(config({ disks }), host, { console: { write() {} } }),
    (e) => e instanceof VirtusError && /--disk \/missing.img: no such file/.test(e.message),
  );
  assert.deepEqual(events, ["open /a.img", "close /a.img"]);
  await assert.rejects(
    buildVm(config({ kernel: "/nope" }), host, { console: { write() {} } }),
    /--kernel \/nope: no such file/,
  );
});

test("a booted VM hands its kernel and initrd back to the host once they are in RAM", {
  skip: !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed",
}, async () => {
  const kernel = buildElf(program("0x5555"));
  const initrd = new Uint8Array(8192).fill(0x5a);
  const { host } = fakeHost({ "/kernel.elf": kernel, "/initrd": initrd });
  const released: Uint8Array[] = [];
  host.release = (data) => {
    released.push(data);
    data.fill(0); // as if freed: the guest must have its own copy already
  };
  let out = "";
  const vm = await buildVm(config({ initrd: "/initrd", memory: 128 << 20 }), host, {
    console: { write: (d) => (out += new TextDecoder().decode(d)) },
  });
  assert.deepEqual(released, [kernel, initrd]);
  vm.board.machine.run(1_000_000);
  assert.equal(out, "built by buildVm\n", "the kernel runs from RAM after its file was released");
  vm.close();
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtusError } from "../../src/machine/errors.ts";
import { defaultVmConfig, validateSavedVmConfig, validateVmConfig } from "../../src/vm/config.ts";
import { parseMac, randomMac } from "../../src/vm/network-config.ts";

const rejects = (value: unknown, message: RegExp) =>
  assert.throws(
    () => validateVmConfig(value),
    (e) => e instanceof VirtusError && e.code === "bad-config" && message.test(e.message),
  );

test("a configuration survives JSON unchanged and validates to itself", () => {
  const c = defaultVmConfig("/k/Image");
  c.initrd = "/k/initrd";
  c.disks.push({ path: "/d.img", readOnly: true });
  c.shares.push({ hostDir: "/srv", tag: "data", readOnly: false });
  c.network.forwards.push({ proto: "tcp", hostPort: 8080, guestPort: 80 });
  c.bios = { kind: "file", path: "/fw.bin" };
  assert.deepEqual(validateVmConfig(JSON.parse(JSON.stringify(c))), c);
});

test("missing optional fields take their defaults", () => {
  const c = validateVmConfig({ kernel: "/k", memory: 64 << 20 });
  assert.deepEqual(c, { ...defaultVmConfig("/k"), memory: 64 << 20 });
});

test("H is on unless a configuration turns it off; a snapshot's config without cpu predates that and meant off", () => {
  assert.deepEqual(validateVmConfig({ kernel: "/k", memory: 64 << 20 }).cpu, { h: true });
  assert.deepEqual(validateVmConfig({ kernel: "/k", memory: 64 << 20, cpu: { h: false } }).cpu, { h: false });
  assert.deepEqual(validateSavedVmConfig({ kernel: "/k", memory: 64 << 20 }).cpu, { h: false });
  assert.deepEqual(validateSavedVmConfig({ kernel: "/k", memory: 64 << 20, cpu: { h: true } }).cpu, {
    h: true,
  });
  rejects({ ...defaultVmConfig("/k"), cpu: { h: "yes" } }, /^cpu.h: expected/);
});

test("every bad field is named in a one-line error", () => {
  const ok = defaultVmConfig("/k");
  rejects(null, /^config: expected an object/);
  rejects({ ...ok, kernel: 3 }, /^kernel: expected a string/);
  rejects({ ...ok, kernel: "" }, /^kernel: give a file name/);
  rejects({ ...ok, memory: 12345 }, /^memory: must be a multiple of 4096/);
  rejects({ ...ok, memory: 4 * 1024 ** 3 }, /^memory: expected a whole number/);
  rejects({ ...ok, harts: 9 }, /^harts: expected a whole number from 1 to 8/);
  rejects({ ...ok, bios: { kind: "uefi" } }, /^bios.kind/);
  rejects({ ...ok, disks: [{ path: "" }] }, /^disks\[0\].path: give a file name/);
  rejects({ ...ok, disks: "a.img" }, /^disks: expected a list/);
  rejects(
    {
      ...ok,
      shares: [
        { hostDir: "/a", tag: "x" },
        { hostDir: "/b", tag: "x" },
      ],
    },
    /^shares\[1\].tag: "x" is already used/,
  );
  rejects({ ...ok, shares: [{ hostDir: "/a", tag: "a b" }] }, /^shares\[0\].tag/);
  rejects({ ...ok, network: { mode: "tap" } }, /^network.mode/);
  rejects(
    { ...ok, network: { mode: "user", mac: "01:00:5e:00:00:01" } },
    /^network.mac: .* not a unicast MAC/,
  );
  rejects(
    { ...ok, network: { mode: "none", forwards: [{ proto: "tcp", hostPort: 1, guestPort: 2 }] } },
    /^network.forwards: there is no network/,
  );
  rejects(
    { ...ok, network: { mode: "user", forwards: [{ proto: "tcp", hostPort: 0, guestPort: 2 }] } },
    /^network.forwards\[0\].hostPort/,
  );
  rejects({ ...ok, jit: "yes" }, /^jit: expected true or false/);
  rejects({ ...ok, jitHot: 0 }, /^jitHot: /);
  rejects({ ...ok, jitHot: 2.5 }, /^jitHot: /);
});

test("MACs: unicast only, and a clone's random MAC is a different one in 52:54:00", () => {
  assert.deepEqual(parseMac("52:54:00:AB:cd:01"), Uint8Array.of(0x52, 0x54, 0, 0xab, 0xcd, 1));
  assert.equal(parseMac("52:54:00:ab:cd"), undefined);
  assert.equal(parseMac("03:54:00:ab:cd:01"), undefined);
  let n = 0;
  const fixed = { fill: (d: Uint8Array) => d.set(n++ === 0 ? [0x12, 0x34, 0x56] : [1, 2, 3]) };
  assert.equal(randomMac(fixed), "52:54:00:01:02:03");
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDiskSpec } from "../../src/cli/disk.ts";
import { networkConfig } from "../../src/cli/net.ts";
import { validateDiskConfig } from "../../src/vm/disk-config.ts";
import { validateNetworkConfig } from "../../src/vm/network-config.ts";
import { assertBadInput } from "../support/cli.ts";

test("--net user,bw=…,iops=… and --disk …,bw=… become token buckets in the VmConfig and survive validation", () => {
  const net = networkConfig("user,bw=512K,iops=2000,bw_burst=1M", []);
  assert.deepEqual(net.limits, {
    bandwidth: { size: 512 << 10, oneTimeBurst: 1 << 20, refillTimeMs: 1000 },
    ops: { size: 2000, oneTimeBurst: 0, refillTimeMs: 1000 },
  });
  assert.deepEqual(validateNetworkConfig(JSON.parse(JSON.stringify(net)), "network"), net);
  const disk = parseDiskSpec("d.qcow2,iops=100,format=qcow2,snapshot");
  assert.deepEqual(validateDiskConfig(JSON.parse(JSON.stringify(disk)), "disks[0]"), disk);
  assert.throws(
    () => validateDiskConfig({ path: "a", limits: { ops: { size: 0, refillTimeMs: 1000 } } }, "d"),
    /ops\.size/,
  );
  assert.throws(() => validateDiskConfig({ path: "a", format: "vmdk" }, "d"), /raw or qcow2/);
});

test("bad limits are one line, exit 2", () => {
  assertBadInput(
    ["run", "--kernel", "/nonexistent", "--net", "user,bw=lots"],
    /--net user,bw=lots: bw= lots: use a size/,
  );
  assertBadInput(
    ["run", "--kernel", "/nonexistent", "--disk", "a.img,iops=-3"],
    /iops=-3: give a whole number/,
  );
  assertBadInput(
    ["run", "--kernel", "/nonexistent", "--net", "user,iops_burst=5"],
    /iops_burst= needs iops=/,
  );
});

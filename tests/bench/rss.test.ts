import assert from "node:assert/strict";
import { test } from "node:test";
import { procStatusMb } from "../../bench/rss.ts";

test("procStatusMb reads a kB field of /proc/PID/status as decimal MB, and names a missing one", () => {
  const status = "Name:\tnode\nVmPeak:\t 9000 kB\nVmHWM:\t  241552 kB\nVmRSS:\t  200000 kB\n";
  assert.equal(procStatusMb(status, "VmHWM"), (241552 * 1024) / 1e6);
  assert.equal(procStatusMb(status, "VmRSS"), (200000 * 1024) / 1e6);
  assert.throws(() => procStatusMb(status, "RssAnon"), /no RssAnon/);
});

// npm run guest [-- --print-dir]: build (or find cached) the default guest image and print its paths.
// Progress goes to stderr; stdout holds only the result.

import { parseArgs } from "node:util";
import { ensureGuest, GUEST_KERNEL_CMDLINE } from "./guest.ts";

const USAGE = `usage: npm run guest [-- --print-dir]
Builds the default riscv64 guest from guest/ (cached by recipe hash) and prints its files.
  --print-dir   print only the cache directory
Env: VIRTUS_CACHE_DIR (cache root), SKIP_APT=1 (build without apt-get), JOBS=N`;

try {
  const { values } = parseArgs({
    options: { "print-dir": { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    console.log(USAGE);
  } else {
    const guest = await ensureGuest({ log: (line) => process.stderr.write(`${line}\n`) });
    if (values["print-dir"]) {
      console.log(guest.dir);
    } else {
      console.log(`dir:        ${guest.dir}`);
      console.log(`kernel:     ${guest.kernel}`);
      console.log(`initrd:     ${guest.initrd}`);
      console.log(`speedtest1: ${guest.speedtest1}`);
      console.log(`cmdline:    ${GUEST_KERNEL_CMDLINE}`);
    }
  }
} catch (e) {
  process.stderr.write(`virtus guest: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}

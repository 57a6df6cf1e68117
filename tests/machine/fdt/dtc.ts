import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Whether dtc (Debian package device-tree-compiler) is installed. */
export function haveDtc(): boolean {
  try {
    execFileSync("dtc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Decompiles a DTB with `dtc -I dtb -O dts -o -`; returns stdout only (dtc's warnings are not part of the tree). */
export function dtcDecompile(dtb: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), "virtus-fdt-"));
  try {
    const file = join(dir, "t.dtb");
    writeFileSync(file, dtb);
    return execFileSync("dtc", ["-I", "dtb", "-O", "dts", "-o", "-", file], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * Writes a file so that a crash or kill -9 at any moment leaves either the
 * old file or the complete new one (design 2.10): the parts go to a
 * temporary file in the same directory, which is fsynced and renamed over
 * `path`; then the directory is fsynced so the rename itself is durable.
 * On an error the temporary file is removed and the old file is untouched;
 * temporary files that a killed writer left behind are removed by the next
 * write of the same file.
 */
export function writeFileAtomic(path: string, parts: readonly Uint8Array[]): void {
  const dir = dirname(path);
  removeStaleTemporaries(dir, basename(path));
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx", 0o644);
  let done = false;
  try {
    for (const p of parts) {
      let at = 0;
      while (at < p.length) at += writeSync(fd, p, at, p.length - at);
    }
    fsyncSync(fd);
    closeSync(fd);
    done = true;
    renameSync(tmp, path);
  } catch (e) {
    if (!done) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // Already gone.
    }
    throw e;
  }
  syncDirectory(dir);
}

/** fsync on the directory, so a rename in it survives a power loss (Linux; elsewhere best effort). */
function syncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, "r");
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  } finally {
    closeSync(fd);
  }
}

/** Removes `.NAME.PID.RANDOM.tmp` files of writers that no longer run (killed mid-write). */
function removeStaleTemporaries(dir: string, name: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  const prefix = `.${name}.`;
  for (const e of entries) {
    if (!e.startsWith(prefix) || !e.endsWith(".tmp")) continue;
    const pid = Number(e.slice(prefix.length).split(".")[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    try {
      unlinkSync(join(dir, e));
    } catch {
      // Someone else removed it.
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

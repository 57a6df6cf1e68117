import { VirtusError } from "../machine/errors.ts";

/** Parses a memory size like `256M`, `1G`, `65536K` or a byte count; must be a multiple of 4 KiB. */
export function parseSize(text: string, what = "--mem"): number {
  const m = /^(\d+)([KMG]?)i?B?$/i.exec(text.trim());
  if (!m) throw new VirtusError("bad-size", `${what} ${text}: use a size like 256M or 1G`);
  const unit = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase() as "" | "K" | "M" | "G"];
  const bytes = Number(m[1]) * unit;
  if (bytes < 4096 || bytes % 4096 !== 0)
    throw new VirtusError("bad-size", `${what} ${text}: must be a multiple of 4K and at least 4K`);
  if (bytes > 3 * 1024 ** 3) throw new VirtusError("bad-size", `${what} ${text}: at most 3G is supported`);
  return bytes;
}

/**
 * Parses a byte count like `10G`, `512M`, `1.5T`, `4096` (binary units,
 * optional "iB"/"B"); for disk sizes and rates. `what` names the option
 * in the error.
 */
export function parseBytes(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGTP]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) throw new VirtusError("bad-size", `${what} ${text}: use a size like 10G, 512M or 4096`);
  const unit = 1024 ** " KMGTP".indexOf(m[2].toUpperCase() || " ");
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new VirtusError("bad-size", `${what} ${text}: too large`);
  return bytes;
}

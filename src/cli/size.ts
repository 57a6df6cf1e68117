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

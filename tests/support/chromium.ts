/**
 * Debian's headless Chromium (/usr/bin/chromium) driven by playwright-core,
 * shared by the browser tests (the daemon's web console, the page of
 * `virtus web`). Screenshots go to test-artifacts/NAME/ (or $VIRTUS_ARTIFACTS/NAME).
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** A skip reason for node:test when there is no Chromium, else false. */
export const chromiumMissing: string | false =
  !existsSync(CHROMIUM) && "Debian's chromium is not installed (apt-get install chromium)";

/** The directory screenshots of the test group `name` are kept in (created). */
export function artifactsDir(name: string): string {
  const base = process.env.VIRTUS_ARTIFACTS ?? join(import.meta.dirname, "../../test-artifacts");
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

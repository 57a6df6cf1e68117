/**
 * Disks of a browser VM (src/host/browser/block.ts) in headless Chromium:
 * a 64 MiB disk in memory is /dev/vda, one in the Origin Private File
 * System keeps what the guest wrote across a page reload, and a file the
 * user picks boots as /dev/vda with its content (writes stay in memory).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { startWebServer, type WebServer } from "../../src/host/node/web-server.ts";
import { artifactsDir, chromiumMissing, launchChromium } from "../support/chromium.ts";
import { typeLine, waitForScreen } from "./helpers.ts";

const skip = chromiumMissing;
let server: WebServer;
let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), "virtus-web-disk-"));
const ARTIFACTS = skip ? "" : artifactsDir("web-disk");

before(async () => {
  if (skip) return;
  server = await startWebServer({ port: 0 });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a disk in memory is /dev/vda of 64 MiB", { skip, timeout: 240_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}?memory=128&disk=memory`);
  await waitForScreen(page, "GUEST-READY", 200_000);
  await typeLine(page, "echo vda-$(cat /sys/block/vda/size)-sectors");
  await waitForScreen(page, "vda-131072-sectors", 60_000);
  await page.close();
});

test("an OPFS disk keeps the guest's writes across a page reload", { skip, timeout: 300_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const page = await context.newPage();
  const mark = `persisted-${Date.now() % 100000}`;
  await page.goto(`${server.url}?memory=128&disk=opfs`);
  await waitForScreen(page, "GUEST-READY", 200_000);
  await typeLine(
    page,
    `echo ${mark} | dd of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null; echo wrote-$((1+2))`,
  );
  await waitForScreen(page, "wrote-3", 60_000);
  await page.reload();
  await waitForScreen(page, "GUEST-READY", 200_000);
  await typeLine(page, "head -c 16 /dev/vda | tr -dc a-z0-9- ; echo ' <-read'");
  await waitForScreen(page, `${mark} <-read`, 60_000);
  await page.screenshot({ path: join(ARTIFACTS, "opfs-after-reload.png") });
  await context.close();
});

test("a disk file the user picks boots as /dev/vda with its content", {
  skip,
  timeout: 240_000,
}, async () => {
  const image = Buffer.alloc(1024 * 1024);
  image.write("picked-disk-content", 4096);
  const file = join(dir, "picked.img");
  writeFileSync(file, image);
  const page = await browser.newPage();
  await page.goto(`${server.url}?memory=128`);
  await page.setInputFiles("#disk-file", file);
  await waitForScreen(page, "GUEST-READY", 200_000);
  await typeLine(page, "dd if=/dev/vda bs=4096 skip=1 count=1 2>/dev/null | head -c 19; echo ' <-file'");
  await waitForScreen(page, "picked-disk-content <-file", 60_000);
  await page.close();
});

/**
 * Virtus in the browser (issue 14), end to end in Debian's headless
 * Chromium: `virtus web`'s page boots the default guest in a Web Worker
 * with the JIT to GUEST-READY, a command typed into the xterm.js terminal
 * prints its output, and a file dropped into the page's share is read in
 * the guest. Screenshots go to test-artifacts/web-page/.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { startWebServer, type WebServer } from "../../src/host/node/web-server.ts";
import { artifactsDir, chromiumMissing, launchChromium } from "../support/chromium.ts";
import { typeLine, waitForScreen } from "./helpers.ts";

const skip = chromiumMissing;
let server: WebServer;
let browser: Browser;
const ARTIFACTS = skip ? "" : artifactsDir("web-page");

before(async () => {
  if (skip) return;
  server = await startWebServer({ port: 0 });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test("the page boots the default guest, runs a typed command and reads a dropped file", {
  skip,
  timeout: 300_000,
}, async () => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(server.url);
  await waitForScreen(page, "GUEST-READY", 240_000);
  await page.screenshot({ path: join(ARTIFACTS, "1-ready.png") });
  assert.match((await page.textContent("#state")) ?? "", /JIT on/);
  assert.equal(
    await page.evaluate(() => crossOriginIsolated),
    true,
    "COOP/COEP: the worker may use Atomics.wait",
  );

  await typeLine(page, "echo browser-$((6*7))");
  await waitForScreen(page, "browser-42", 60_000);
  await page.screenshot({ path: join(ARTIFACTS, "2-command.png") });

  // Drop a file the way a user does: a drop event carrying a File.
  const content = `dropped-${Date.now()}`;
  await page.evaluate((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], "hello.txt"));
    document
      .getElementById("drop")!
      .dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true }));
  }, content);
  await page.waitForFunction(() => document.getElementById("dropped")?.textContent?.includes("hello.txt"));
  await typeLine(
    page,
    "mkdir -p /mnt/page && mount -t 9p -o trans=virtio page /mnt/page && cat /mnt/page/hello.txt",
  );
  await waitForScreen(page, content, 60_000);
  await page.screenshot({ path: join(ARTIFACTS, "3-dropped-file.png") });
  assert.deepEqual(errors, []);
  assert.ok(Number((await page.textContent("#stat-jit")) ?? "0") > 0, "the JIT translated blocks");
  await page.close();
});

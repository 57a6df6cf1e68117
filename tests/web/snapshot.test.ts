/**
 * Snapshots in the browser (issue 14): a snapshot saved (downloaded) from
 * one page restores (uploaded) in a fresh page, and the guest continues
 * with its state (a file in /tmp, the shell). Node reads the browser's
 * file too (codec "none", docs/SNAPSHOT.md). Screenshots go to
 * test-artifacts/web-snapshot/.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { readSnapshotFile } from "../../src/host/node/snapshot-file.ts";
import { startWebServer, type WebServer } from "../../src/host/node/web-server.ts";
import { artifactsDir, chromiumMissing, launchChromium } from "../support/chromium.ts";
import { screen, typeLine, waitForScreen } from "./helpers.ts";

const skip = chromiumMissing;
let server: WebServer;
let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), "virtus-web-snap-"));
const ARTIFACTS = skip ? "" : artifactsDir("web-snapshot");

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

test("a snapshot saved in one page restores in a fresh page and the guest continues", {
  skip,
  timeout: 300_000,
}, async () => {
  const first = await browser.newContext({ acceptDownloads: true, viewport: { width: 1000, height: 800 } });
  const page = await first.newPage();
  await page.goto(`${server.url}?memory=128`);
  await waitForScreen(page, "GUEST-READY", 240_000);
  const mark = `mark-${Date.now() % 100000}`;
  await typeLine(page, `echo ${mark}-$((40+2)) > /tmp/mark; echo saved-$((1+1))`);
  await waitForScreen(page, "saved-2", 60_000);
  const download = page.waitForEvent("download");
  await page.click("#snapshot");
  const file = join(dir, "page.vsnap");
  await (await download).saveAs(file);
  await page.screenshot({ path: join(ARTIFACTS, "1-saved.png") });
  await first.close();

  const saved = readSnapshotFile(file);
  assert.equal(saved.info.codec, "none", "the browser writes uncompressed snapshots Node reads");
  assert.equal((saved.meta.config as { memory: number }).memory, 128 * 1024 * 1024);

  const second = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const fresh = await second.newPage();
  await fresh.goto(server.url);
  await fresh.setInputFiles("#restore", file);
  await fresh
    .waitForFunction(() => document.getElementById("state")?.textContent?.startsWith("restored"), null, {
      timeout: 120_000,
    })
    .catch(async () => assert.fail(`not restored: ${await fresh.textContent("#state")}`));
  assert.match((await fresh.textContent("#state")) ?? "", /128 MiB/, "the snapshot's configuration is used");
  assert.doesNotMatch(await screen(fresh), /GUEST-READY/, "the restored guest does not boot again");
  await typeLine(fresh, "cat /tmp/mark");
  await waitForScreen(fresh, `${mark}-42`, 60_000);
  await fresh.screenshot({ path: join(ARTIFACTS, "2-restored.png") });
  await second.close();
});

/**
 * The web console end to end in Debian's headless Chromium (playwright-core,
 * /usr/bin/chromium): log in with a token, create a VM from the default
 * guest with the form, start it, wait for the prompt in the xterm.js
 * terminal, type a command and see its output, stop it. Screenshots go to
 * test-artifacts/web-console/ (or $VIRTUS_ARTIFACTS).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type Daemon, startDaemon } from "../../src/daemon/server.ts";
import { ensureGuest } from "../../src/host/node/guest.ts";
import { artifactsDir, chromiumMissing, launchChromium } from "../support/chromium.ts";

const skip = chromiumMissing;

test("web console: log in, create a VM from the default guest, start it, use its console in xterm.js, stop it", {
  skip,
  timeout: 240_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "virtus-web-"));
  const ARTIFACTS = artifactsDir("web-console");
  let d: Daemon | undefined;
  const browser = await launchChromium();
  try {
    d = await startDaemon({
      dataDir: dir,
      listen: "127.0.0.1:0",
      defaultGuest: async () => {
        const g = await ensureGuest({ log: () => {} });
        return { kernel: g.kernel, initrd: g.initrd };
      },
    });
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
    await page.goto(`${d.url}/ui`);
    await page.fill("#token", "vt_wrong");
    page.once("dialog", (dlg) => void dlg.dismiss());
    await page.click("#login-button");
    await page.waitForFunction(() => document.getElementById("error")?.textContent !== "");
    assert.equal(await page.isVisible("#main"), false, "a wrong token does not log in");
    await page.fill("#token", d.adminToken);
    await page.click("#login-button");
    await page.waitForSelector("#create-form", { state: "visible" });
    await shot("1-logged-in");

    await page.fill("#new-name", "webvm");
    await page.fill("#new-memory", "128M");
    await page.click("#create-button");
    const row = page.locator('tr[data-vm="webvm"]');
    await row.locator(".state", { hasText: "stopped" }).waitFor();
    await row.locator('button[data-action="start"]').click();
    await row.locator(".state", { hasText: "running" }).waitFor({ timeout: 60_000 });
    await row.locator('button[data-action="console"]').click();
    const terminal = page.locator("#terminal .xterm-rows");
    await terminal.waitFor();
    // Until the prompt, a newline now and then (the shell may have printed it before we attached).
    const deadline = Date.now() + 150_000;
    while (!(await terminal.innerText()).includes("guest#")) {
      if (Date.now() > deadline) throw new Error(`no prompt in the terminal: ${await terminal.innerText()}`);
      await page.waitForTimeout(2000);
      await page.click("#terminal");
      await page.keyboard.press("Enter");
    }
    await shot("2-prompt");
    await page.click("#terminal");
    await page.keyboard.type("echo web-$((6*7))\n");
    await page.waitForFunction(() =>
      document.querySelector("#terminal .xterm-rows")?.textContent?.includes("web-42"),
    );
    await shot("3-command");
    // The charts have data once /metrics was sampled twice.
    assert.ok((await row.locator("canvas").count()) >= 2);
    await page.locator('tr[data-vm="webvm"] button[data-action="stop"]').click();
    await page.locator('tr[data-vm="webvm"] .state', { hasText: "stopped" }).waitFor({ timeout: 30_000 });
    await shot("4-stopped");
    const info = await fetch(`${d.url}/v1/vms/webvm`, {
      headers: { authorization: `Bearer ${d.adminToken}` },
    });
    assert.equal(
      ((await info.json()) as { reason: string }).reason,
      "shut down",
      "the guest powered off when asked",
    );
  } finally {
    await browser.close();
    await d?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

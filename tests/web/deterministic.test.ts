/**
 * The same core in Node and in the browser (issue 14): the default guest
 * booted deterministically (time from the instruction count, seeded
 * entropy) prints the same bytes up to GUEST-READY in headless Chromium's
 * Web Worker as in Node, with the page's configuration and host services.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { setImmediate } from "node:timers/promises";
import type { Browser } from "playwright-core";
import { MemoryFs } from "../../src/host/browser/memory-fs.ts";
import { PAGE_INITRD, PAGE_KERNEL, pageVmConfig } from "../../src/host/browser/page-config.ts";
import { PAGE_SHARE_NAME } from "../../src/host/browser/protocol.ts";
import { browserHostServices, emptyResources } from "../../src/host/browser/services.ts";
import { ensureGuest, GUEST_KERNEL_CMDLINE, GUEST_READY_LINE } from "../../src/host/node/guest.ts";
import { startWebServer, type WebServer } from "../../src/host/node/web-server.ts";
import { buildVm } from "../../src/vm/build.ts";
import { BufferedOutput } from "../../src/vm/console-output.ts";
import { VmRunner } from "../../src/vm/runner.ts";
import { chromiumMissing, launchChromium } from "../support/chromium.ts";
import { waitForScreen } from "./helpers.ts";

const skip = chromiumMissing;
const choices = { append: GUEST_KERNEL_CMDLINE, memoryMiB: 128, harts: 1, deterministic: true };
let server: WebServer;
let browser: Browser;

before(async () => {
  if (skip) return;
  server = await startWebServer({ port: 0 });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** The console bytes up to and including the ready line. */
function untilReady(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString("latin1");
  const end = text.indexOf(GUEST_READY_LINE);
  assert.ok(end >= 0, `no ${GUEST_READY_LINE} in:\n${text}`);
  return text.slice(0, end + GUEST_READY_LINE.length);
}

/** Boots the page's configuration in Node, with the browser's host services, until the ready line. */
async function bootInNode(): Promise<string> {
  const guest = await ensureGuest({ log: () => {} });
  const res = emptyResources();
  res.files.set(PAGE_KERNEL, readFileSync(guest.kernel));
  res.files.set(PAGE_INITRD, readFileSync(guest.initrd));
  res.shares.set(PAGE_SHARE_NAME, new MemoryFs());
  const chunks: Uint8Array[] = [];
  let seen = "";
  let runner: VmRunner | undefined;
  const output = new BufferedOutput((b) => {
    chunks.push(b);
    seen += Buffer.from(b).toString("latin1");
    if (seen.includes(GUEST_READY_LINE)) void runner?.execute({ execute: "quit" });
  });
  const vm = await buildVm(
    pageVmConfig(choices),
    browserHostServices(res, () => {}),
    { console: output },
  );
  runner = new VmRunner(vm, {
    env: {
      yieldNow: () => setImmediate(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      monotonicMs: () => performance.now(),
    },
    output,
  });
  await runner.done;
  return untilReady(Buffer.concat(chunks));
}

test("a deterministic boot prints the same bytes in the browser as in Node", {
  skip,
  timeout: 300_000,
}, async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}?memory=${choices.memoryMiB}&harts=${choices.harts}&deterministic=1`);
  await waitForScreen(page, GUEST_READY_LINE, 240_000);
  const inBrowser = await page.evaluate(() => {
    const parts = (window as unknown as { virtusOutput: () => Uint8Array[] }).virtusOutput();
    return Array.from(parts, (p) => Array.from(p, (b) => String.fromCharCode(b)).join("")).join("");
  });
  await page.close();
  const inNode = await bootInNode();
  assert.ok(inNode.length > 1000, "the kernel printed its boot log");
  assert.equal(untilReady(Buffer.from(inBrowser, "latin1")), inNode);
});

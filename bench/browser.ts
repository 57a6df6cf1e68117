/**
 * `npm run bench:browser`: the default guest in headless Chromium (the page
 * of `virtus web`, the VM in a Web Worker with the JIT) and in Node (the
 * same configuration, host services and runner, in this process), side by
 * side and alternating: the time from boot to GUEST-READY, then a guest CPU
 * workload (a busybox shell loop) timed from the keystroke to its marker.
 * Prints the medians and the browser/Node ratios.
 *
 *   npm run bench:browser -- [--runs N] [--loop N]
 */
import { readFileSync } from "node:fs";
import { setImmediate } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { Page } from "playwright-core";
import { MemoryFs } from "../src/host/browser/memory-fs.ts";
import { PAGE_INITRD, PAGE_KERNEL, pageVmConfig } from "../src/host/browser/page-config.ts";
import { PAGE_SHARE_NAME } from "../src/host/browser/protocol.ts";
import { browserHostServices, emptyResources } from "../src/host/browser/services.ts";
import { ensureGuest, GUEST_KERNEL_CMDLINE, GUEST_READY_LINE } from "../src/host/node/guest.ts";
import { startWebServer } from "../src/host/node/web-server.ts";
import { buildVm } from "../src/vm/build.ts";
import { BufferedOutput } from "../src/vm/console-output.ts";
import { VmRunner } from "../src/vm/runner.ts";
import { launchChromium } from "../tests/support/chromium.ts";
import { median } from "./lib.ts";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "3" }, loop: { type: "string", default: "300000" } },
});
const runs = Number(values.runs);
const MEMORY_MIB = 128;
const workload = `i=0; while [ $i -lt ${Number(values.loop)} ]; do i=$((i+1)); done; echo cpu-$((1+1))-done\n`;
const MARK = "cpu-2-done";

interface Result {
  bootMs: number;
  cpuMs: number;
  /** Browser only: from page.goto (bundles, worker start, fetching the guest) to the ready line. */
  loadMs?: number;
}

async function inNode(): Promise<Result> {
  const g = await ensureGuest({ log: () => {} });
  const res = emptyResources();
  res.files.set(PAGE_KERNEL, readFileSync(g.kernel));
  res.files.set(PAGE_INITRD, readFileSync(g.initrd));
  res.shares.set(PAGE_SHARE_NAME, new MemoryFs());
  let seen = "";
  let waiter: { text: string; resolve: () => void } | undefined;
  const output = new BufferedOutput((b) => {
    seen += Buffer.from(b).toString("latin1");
    if (waiter && seen.includes(waiter.text)) waiter.resolve();
  });
  const waitFor = (text: string) =>
    new Promise<void>((resolve) => {
      waiter = { text, resolve };
      if (seen.includes(text)) resolve();
    });
  const config = pageVmConfig({
    append: GUEST_KERNEL_CMDLINE,
    memoryMiB: MEMORY_MIB,
    harts: 1,
    deterministic: false,
  });
  const t0 = performance.now();
  const vm = await buildVm(
    config,
    browserHostServices(res, () => {}),
    { console: output },
  );
  const runner = new VmRunner(vm, {
    env: {
      yieldNow: () => setImmediate(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      monotonicMs: () => performance.now(),
    },
    output,
  });
  await waitFor(GUEST_READY_LINE);
  const bootMs = performance.now() - t0;
  const t1 = performance.now();
  runner.input(new TextEncoder().encode(workload));
  await waitFor(MARK);
  const cpuMs = performance.now() - t1;
  await runner.execute({ execute: "quit" });
  await runner.done;
  return { bootMs, cpuMs };
}

async function waitInPage(page: Page, text: string): Promise<number> {
  await page.waitForFunction(
    (t) => (window as unknown as { virtusOutputText(): string }).virtusOutputText().includes(t),
    text,
    { timeout: 600_000, polling: 10 },
  );
  return performance.now();
}

async function inBrowser(page: Page, url: string): Promise<Result> {
  const t0 = performance.now();
  await page.goto(`${url}?memory=${MEMORY_MIB}`);
  const loadMs = (await waitInPage(page, GUEST_READY_LINE)) - t0;
  // As in Node: from handing the configuration and files to the VM's thread to the ready line.
  const times = await page.evaluate(
    () => (window as unknown as { virtusTimes: { bootSent: number; ready: number } }).virtusTimes,
  );
  const bootMs = times.ready - times.bootSent;
  await page.click("#terminal");
  const t1 = performance.now();
  await page.keyboard.type(workload.trimEnd());
  await page.keyboard.press("Enter");
  const cpuMs = (await waitInPage(page, MARK)) - t1;
  return { bootMs, cpuMs, loadMs };
}

const server = await startWebServer({ port: 0 });
const browser = await launchChromium();
const node: Result[] = [];
const web: Result[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const page = await browser.newPage();
    web.push(await inBrowser(page, server.url));
    await page.close();
    node.push(await inNode());
    console.error(`run ${i + 1}: browser ${JSON.stringify(web.at(-1))} node ${JSON.stringify(node.at(-1))}`);
  }
} finally {
  await browser.close();
  await server.close();
}
const row = (what: string, pick: (r: Result) => number) => {
  const b = median(web.map(pick));
  const n = median(node.map(pick));
  console.log(
    `${what.padEnd(28)} browser ${(b / 1000).toFixed(2)} s   node ${(n / 1000).toFixed(2)} s   ratio ${(b / n).toFixed(2)}x`,
  );
};
console.log(`medians of ${runs} alternating runs (${MEMORY_MIB} MiB, 1 hart, JIT on)`);
row("boot to GUEST-READY", (r) => r.bootMs);
console.log(
  `page load to GUEST-READY      browser ${(median(web.map((r) => r.loadMs ?? 0)) / 1000).toFixed(2)} s`,
);
row(`shell loop ${values.loop}`, (r) => r.cpuMs);

/**
 * `virtus relay` (src/host/node/relay.ts): a wrong or missing token is
 * refused; with the right one, the page's guest gets a NIC on the host's
 * user-mode network through the WebSocket: DHCP gives it an address and
 * it fetches a page from an HTTP server on the host's 127.0.0.1 (10.0.2.2
 * in the guest), in headless Chromium.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { WebSocket } from "ws";
import { networkConfig } from "../../src/cli/net.ts";
import { type Relay, startRelay } from "../../src/host/node/relay.ts";
import { SwitchPort } from "../../src/host/node/switch-port.ts";
import { startWebServer, type WebServer } from "../../src/host/node/web-server.ts";
import { DEFAULT_VLAN } from "../../src/vm/network-config.ts";
import { chromiumMissing, launchChromium } from "../support/chromium.ts";
import { typeLine, waitForScreen } from "./helpers.ts";

let relay: Relay;
let server: WebServer | undefined;
let browser: Browser | undefined;
let http: Server;
let httpPort = 0;
const body = `relay-ok-${Date.now() % 100000}`;

before(async () => {
  relay = await startRelay({ port: 0, token: "t0ken-for-tests" });
  http = createServer((_req, res) => res.end(body));
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  httpPort = (http.address() as { port: number }).port;
});
after(async () => {
  await browser?.close();
  await server?.close();
  await relay.close();
  http.close();
});

/** How a WebSocket connection to the relay ends: "open", or the HTTP status it was refused with. */
function connect(url: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on("open", () => {
      ws.close();
      resolve("open");
    });
    ws.on("unexpected-response", (_req, res) => resolve(String(res.statusCode)));
    ws.on("error", (e) => resolve(e.message));
  });
}

test("the relay refuses a missing or wrong token and takes the right one", async () => {
  assert.equal(await connect(relay.url), "401");
  assert.equal(await connect(`${relay.url}?token=t0ken-for-test`), "401");
  assert.equal(await connect(`${relay.url}?token=${relay.token}`), "open");
});

test("a browser guest reaches the host's HTTP server through the relay", {
  skip: chromiumMissing,
  timeout: 300_000,
}, async () => {
  server = await startWebServer({ port: 0 });
  browser = await launchChromium();
  const page = await browser.newPage();
  const ws = `${relay.url}?token=${relay.token}`;
  await page.goto(`${server.url}?memory=128&relay=${encodeURIComponent(ws)}`);
  await waitForScreen(page, "GUEST-READY", 200_000);
  await typeLine(page, `wget -qO- http://10.0.2.2:${httpPort}/; echo ' <-fetched'`);
  await waitForScreen(page, `${body} <-fetched`, 60_000);
  await page.close();
});

test("a relay onto a switch carries frames both ways between the page's socket and a VM's port", async () => {
  const name = `relay-test-${process.pid}`;
  const onSwitch = await startRelay({ port: 0, network: networkConfig(`switch:${name}`, []) });
  const port = new SwitchPort(name, DEFAULT_VLAN);
  try {
    const fromPage: Uint8Array[] = [];
    port.connect((f) => fromPage.push(f));
    await port.start();
    const ws = new WebSocket(`${onSwitch.url}?token=${onSwitch.token}`);
    const toPage: Buffer[] = [];
    ws.on("message", (d: Buffer) => toPage.push(d));
    await new Promise((r) => ws.once("open", r));
    // Broadcast frames (ff:…:ff), one from each side, with distinct sources.
    const frame = (src: number) =>
      new Uint8Array([
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
        0x52,
        0x54,
        0,
        0,
        0,
        src,
        0x88,
        0xb5,
        ...new Uint8Array(46),
      ]);
    const deadline = Date.now() + 10_000;
    while ((fromPage.length === 0 || toPage.length === 0) && Date.now() < deadline) {
      ws.send(frame(1));
      port.transmit(frame(2));
      port.flush();
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(fromPage[0]?.[11], 1, "the page's frame reached the switch port");
    assert.equal(
      toPage[0]?.[11],
      2,
      `the port's frame reached the page's socket (${toPage.length} frames: ${toPage[0]?.toString("hex")})`,
    );
    ws.close();
  } finally {
    port.close();
    await onSwitch.close();
  }
});

test("a relay refuses network none", async () => {
  await assert.rejects(startRelay({ port: 0, network: networkConfig("none", []) }), /not none/);
});

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
import { type Relay, startRelay } from "../../src/host/node/relay.ts";
import { startWebServer, type WebServer } from "../../src/host/node/web-server.ts";
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

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BACKLOG_BYTES,
  CLIENT_UNREAD_BYTES,
  ConsoleHub,
  clientSender,
  SLOW_CLIENT_CLOSE_CODE,
} from "../../src/daemon/console-hub.ts";

test("the console backlog keeps the last 64 KiB of output; total counts everything", () => {
  const hub = new ConsoleHub();
  for (let i = 0; i < 100; i++) hub.push(new Uint8Array(4096).fill(i));
  const b = hub.backlog();
  assert.equal(b.length, BACKLOG_BYTES);
  assert.equal(b[b.length - 1], 99);
  assert.equal(b[0], 100 - BACKLOG_BYTES / 4096);
  assert.equal(hub.total, 100 * 4096);
});

test("a console client that does not read is closed once 1 MiB of output waits for it, and sent nothing more", () => {
  const sent: number[] = [];
  const closes: [number, string][] = [];
  const socket = {
    bufferedAmount: 0,
    send(bytes: Uint8Array) {
      sent.push(bytes.length);
      this.bufferedAmount += bytes.length; // never drained: the client reads nothing
    },
    close(code: number, reason: string) {
      closes.push([code, reason]);
    },
  };
  const send = clientSender(socket);
  const chunk = new Uint8Array(64 * 1024);
  for (let i = 0; i < 40; i++) send(chunk);
  assert.equal(sent.length, CLIENT_UNREAD_BYTES / chunk.length, "sent up to the bound");
  assert.equal(closes.length, 1, "closed once");
  assert.equal(closes[0][0], SLOW_CLIENT_CLOSE_CODE);
  assert.match(closes[0][1], /fell 1 MiB behind.*attach again/);
  // A client that keeps up is never closed.
  const fast = { ...socket, bufferedAmount: 0, send: () => {}, close: () => assert.fail("closed") };
  const sendFast = clientSender(fast);
  for (let i = 0; i < 100; i++) sendFast(chunk);
});

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { CLIENT_UNREAD_BYTES, SLOW_CLIENT_CLOSE_CODE } from "../../src/daemon/console-hub.ts";
import { parseDefinition } from "../../src/daemon/definition.ts";
import { workerHeapMb } from "../../src/daemon/manager.ts";
import { vmConfigOf } from "../../src/daemon/vm-config.ts";
import { TCP_ACK, TCP_RST, TCP_SYN, tcpFrame } from "../../src/net/frames.ts";
import { DEFAULT_GUEST_MAC, GATEWAY_IP, GATEWAY_MAC, GUEST_IP } from "../../src/net/user-net.ts";
import { Harness } from "../support/net-fakes.ts";
import { programConfig } from "../support/vm-programs.ts";
import {
  echoSpinElf,
  http,
  skipNoGcc,
  spinDefinition,
  type TestDaemon,
  testDaemon,
  until,
} from "./support.ts";

let d: TestDaemon;

before(async () => {
  d = await testDaemon({
    commandTimeoutMs: 1000,
    consoleInputLimit: 4096,
    faults: (name) =>
      ({
        crasher: { crashAfterMs: 200 },
        hanger: { hangAfterMs: 100 },
        glutton: { exhaustHeapAfterMs: 200 },
      })[name],
  });
  if (skipNoGcc) return;
  await http(d.socket, d.adminToken, "PUT", "/v1/images/spin", echoSpinElf(), "application/octet-stream");
});
after(() => d.dispose());

const info = async (name: string) =>
  (await http(d.socket, d.adminToken, "GET", `/v1/vms/${name}`)).body as {
    state: string;
    reason: string;
    instructions: number | null;
  };

test("a VM whose worker crashes is reported failed with the reason; a hung one is killed on destroy; the neighbour runs on", {
  skip: skipNoGcc,
}, async () => {
  const post = (path: string, body?: unknown) => http(d.socket, d.adminToken, "POST", path, body);
  for (const name of ["steady", "crasher", "hanger"]) {
    assert.equal((await post("/v1/vms", spinDefinition(name))).status, 201);
    assert.equal((await post(`/v1/vms/${name}/start`)).status, 200);
  }
  await until(async () => (await info("crasher")).state === "failed", "the crashed VM to be failed");
  assert.match((await info("crasher")).reason, /crashed: injected fault/);
  await new Promise((r) => setTimeout(r, 300));
  const hung = await http(d.socket, d.adminToken, "POST", "/v1/vms/hanger/pause");
  assert.equal(hung.status, 500, "a hung VM's command fails after its timeout instead of hanging the API");
  assert.equal((await post("/v1/vms/hanger/destroy")).status, 200);
  assert.equal((await info("hanger")).state, "stopped");
  const a = (await info("steady")).instructions!;
  await new Promise((r) => setTimeout(r, 100));
  const b = await info("steady");
  assert.equal(b.state, "running");
  assert.ok(b.instructions! > a, "the neighbour keeps running");
  assert.equal((await post("/v1/vms/steady/destroy")).status, 200);
});

test("a VM whose worker exhausts its heap bound (derived from its memory) is failed as out of memory; the neighbour and the daemon go on", {
  skip: skipNoGcc,
}, async () => {
  const post = (path: string, body?: unknown) => http(d.socket, d.adminToken, "POST", path, body);
  for (const name of ["neighbour", "glutton"]) {
    assert.equal((await post("/v1/vms", spinDefinition(name))).status, 201);
    assert.equal((await post(`/v1/vms/${name}/start`)).status, 200);
  }
  await until(async () => (await info("glutton")).state === "failed", "the glutton VM to be failed");
  const bound = workerHeapMb({ memory: 16 << 20 });
  assert.equal(bound, 97, "96 MiB + 8 MiB per GiB of guest RAM, rounded up");
  assert.ok(workerHeapMb({ memory: 3 * 2 ** 30 }) > bound, "a bigger VM gets a bigger bound");
  assert.equal(
    (await info("glutton")).reason,
    `out of memory: the VM's worker passed its ${bound} MiB heap bound`,
  );
  assert.ok(!d.manager.running().some((v) => v.name === "glutton"), "its worker is gone");
  // The daemon (this process) answers, and the neighbour runs and obeys commands.
  const list = await http(d.socket, d.adminToken, "GET", "/v1/vms");
  assert.equal(list.status, 200);
  const a = (await info("neighbour")).instructions!;
  await new Promise((r) => setTimeout(r, 100));
  const b = await info("neighbour");
  assert.equal(b.state, "running");
  assert.ok(b.instructions! > a, "the neighbour keeps running");
  assert.equal((await post("/v1/vms/neighbour/pause")).status, 200);
  assert.equal((await info("neighbour")).state, "paused");
  assert.equal((await post("/v1/vms/neighbour/destroy")).status, 200);
});

/** Writes "x" to the UART without end: console output as fast as the VM runs. */
const SPEW = `#include "test.h"
.text
.globl _start
_start:
  li t0, 0x10000000
  li t1, 'x'
1: sb t1, 0(t0)
  j 1b
TOHOST_SECTION
`;

test("a console client that stops reading is closed after 1 MiB of unread output; the VM goes on", {
  skip: skipNoGcc,
  timeout: 120_000,
}, async () => {
  const post = (path: string, body?: unknown) => http(d.socket, d.adminToken, "POST", path, body);
  const elf = readFileSync(programConfig("daemon-spew", SPEW).kernel);
  assert.equal(
    (await http(d.socket, d.adminToken, "PUT", "/v1/images/spew", elf, "application/octet-stream")).status,
    201,
  );
  assert.equal((await post("/v1/vms", spinDefinition("chatty", { kernel: "spew" }))).status, 201);
  assert.equal((await post("/v1/vms/chatty/start")).status, 200);
  const ws = new WebSocket(`ws+unix:${d.socket}:/v1/vms/chatty/console`, {
    headers: { authorization: `Bearer ${d.adminToken}` },
  });
  const socket = () => (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  let received = 0;
  ws.on("message", (b: Buffer) => (received += b.length));
  const closed = new Promise<[number, string]>((r) =>
    ws.on("close", (c: number, why: Buffer) => r([c, why.toString()])),
  );
  await new Promise<void>((r, j) => {
    ws.on("open", () => r());
    ws.on("error", j);
  });
  socket().pause(); // the client reads nothing more
  const hub = () => d.manager.running().find((v) => v.name === "chatty")!.hub;
  await until(() => hub().total >= 4 * CLIENT_UNREAD_BYTES, "4 MiB of guest output", 120_000);
  socket().resume();
  const [code, reason] = await closed;
  assert.equal(code, SLOW_CLIENT_CLOSE_CODE, reason);
  // What the daemon had handed to the kernel's socket buffers still arrives; nothing past the bound.
  assert.ok(received < 2 * CLIENT_UNREAD_BYTES, `${received} bytes reached the client`);
  assert.equal((await info("chatty")).state, "running");
  assert.equal((await post("/v1/vms/chatty/destroy")).status, 200);
});

test("console input the guest does not read is held up to the daemon's bound, the rest dropped", {
  skip: skipNoGcc,
  timeout: 120_000,
}, async () => {
  const post = (path: string, body?: unknown) => http(d.socket, d.adminToken, "POST", path, body);
  assert.equal((await post("/v1/vms", spinDefinition("typist"))).status, 201);
  assert.equal((await post("/v1/vms/typist/start")).status, 200);
  const ws = new WebSocket(`ws+unix:${d.socket}:/v1/vms/typist/console`, {
    headers: { authorization: `Bearer ${d.adminToken}` },
  });
  let text = "";
  ws.on("message", (b: Buffer) => (text += b.toString("latin1")));
  await new Promise<void>((r, j) => {
    ws.on("open", () => r());
    ws.on("error", j);
  });
  await until(() => text === "ready\n", "the banner");
  assert.equal((await post("/v1/vms/typist/pause")).status, 200);
  ws.send(Buffer.alloc(10_000, "k"));
  // The pong comes after the daemon handled the frame before it, so the input is with the worker.
  await new Promise<void>((r) => {
    ws.once("pong", () => r());
    ws.ping();
  });
  assert.equal((await post("/v1/vms/typist/resume")).status, 200);
  await until(() => text.length >= 6 + 4096, "the echo of what was held");
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(text, `ready\n${"k".repeat(4096)}`, "4096 bytes were held; the other 5904 were dropped");
  ws.close();
  assert.equal((await post("/v1/vms/typist/destroy")).status, 200);
});

test("daemon VMs get user-mode networking with restrict on and no forwards: the host's loopback (the API, other tenants' forwards) is out of reach", async () => {
  const config = await vmConfigOf(parseDefinition({ name: "n", memory: "64M" }), {
    image: () => undefined,
    defaultGuest: async () => ({ kernel: "/k", initrd: "/i" }),
  });
  assert.equal(config.network.mode, "user");
  assert.equal(config.network.restrict, true);
  assert.deepEqual(config.network.forwards, []);
  // The user-mode network that config opens resets a guest connecting to the gateway (the host's 127.0.0.1).
  const h = new Harness({ restrict: config.network.restrict, forwards: config.network.forwards });
  await h.net.start();
  const port = 8406;
  h.send(
    tcpFrame(
      GATEWAY_MAC,
      DEFAULT_GUEST_MAC,
      GUEST_IP,
      GATEWAY_IP,
      {
        srcPort: 40000,
        dstPort: port,
        seq: 1,
        ack: 0,
        flags: TCP_SYN,
        window: 65535,
        mss: 1460,
      },
      0,
      1,
    ),
  );
  const [r] = h.tcpOut();
  assert.equal(r.tcp.flags, TCP_RST | TCP_ACK);
  assert.equal(h.host.connects.length, 0, "no host socket was opened");
});

/**
 * `virtus daemon`: the store, the VM manager and the REST API (api.ts) on
 * Fastify, listening on a Unix socket inside the data directory by default
 * or on HOST:PORT. Requests are checked against the route schemas before
 * a handler runs; every refusal is `{"error": {"code", "message"}}`.
 *
 *   const d = await startDaemon({ dataDir, listen: "unix:/tmp/v.sock" });
 *   …
 *   await d.close();
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import websocket from "@fastify/websocket";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import YAML from "yaml";
import { ensureGuest } from "../host/node/guest.ts";
import { VirtusError } from "../machine/errors.ts";
import { type ApiContext, ROUTES, type Route } from "./api.ts";
import { type Caller, callerOf, ensureAdmin } from "./auth.ts";
import { clientSender } from "./console-hub.ts";
import { statusOf } from "./errors.ts";
import { type ManagerOptions, VmManager } from "./manager.ts";
import { openApiDocument } from "./openapi.ts";
import { ADMIN_QUOTA } from "./quota.ts";
import { Store } from "./store.ts";
import { UI_ASSETS } from "./ui/assets.ts";

export const SOCKET_NAME = "virtus.sock";
const DETACH_CLOSE_CODE = 1000;

export interface DaemonOptions {
  dataDir: string;
  /** `unix:PATH` or `HOST:PORT`; default unix:DIR/virtus.sock. */
  listen?: string;
  /** The default guest's files (tests pass their own; default: ensureGuest). */
  defaultGuest?: () => Promise<{ kernel: string; initrd: string }>;
  log?: (line: string) => void;
  /** For tests only (ManagerOptions.faults). */
  faults?: ManagerOptions["faults"];
  commandTimeoutMs?: number;
  /** ManagerOptions.consoleInputLimit (tests lower it). */
  consoleInputLimit?: number;
}

export interface Daemon {
  app: FastifyInstance;
  store: Store;
  manager: VmManager;
  /** Where it listens: `unix:PATH` or `http://HOST:PORT` (the form VIRTUS_URL takes). */
  url: string;
  adminToken: string;
  /** Every route Fastify registered (method and URL, HEAD left out): the OpenAPI test compares them. */
  routes: { method: string; url: string }[];
  close(): Promise<void>;
}

export type Listen = { socket: string } | { host: string; port: number };

export function parseListen(text: string | undefined, dataDir: string): Listen {
  if (text === undefined) return { socket: join(dataDir, SOCKET_NAME) };
  if (text.startsWith("unix:") && text.length > 5) return { socket: resolve(text.slice(5)) };
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (m && Number(m[2]) <= 65535) return { host: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]) };
  throw new VirtusError("bad-listen", `--listen ${text}: use unix:PATH or HOST:PORT, e.g. 127.0.0.1:8406`);
}

declare module "fastify" {
  interface FastifyRequest {
    caller: Caller | undefined;
  }
  interface FastifyContextConfig {
    auth?: Route["auth"];
  }
}

/** One daemon per data directory: a second one (or a stale lock of a dead one) is told apart by its pid. */
function takeLock(dataDir: string): () => void {
  const file = join(dataDir, "daemon.pid");
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, "utf8").trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
      throw new VirtusError("busy", `another virtus daemon (pid ${pid}) uses ${dataDir}`, 1);
  }
  writeFileSync(file, `${process.pid}\n`);
  return () => rmSync(file, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A socket file left by a daemon that was killed is removed; one that answers is refused. */
async function clearStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const answers = await new Promise<boolean>((r) => {
    const s = connect(path, () => {
      s.destroy();
      r(true);
    });
    s.on("error", () => r(false));
  });
  if (answers) throw new VirtusError("busy", `${path}: another daemon listens there`, 1);
  rmSync(path, { force: true });
}

function buildApp(ctx: ApiContext): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 1 << 20,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  app.decorateRequest("caller", undefined);
  app.addContentTypeParser(["application/yaml", "text/yaml"], { parseAs: "string" }, (_req, body, done) => {
    try {
      done(null, YAML.parse(body as string));
    } catch (e) {
      done(
        new VirtusError("bad-request", `the YAML does not parse: ${(e as Error).message.split("\n")[0]}`),
        undefined,
      );
    }
  });
  app.addContentTypeParser("application/octet-stream", (_req, payload, done) => done(null, payload));

  app.addHook("onRequest", async (req) => {
    const auth = req.routeOptions.config.auth ?? "tenant";
    if (auth === "none") return;
    req.caller = callerOf(
      ctx.store,
      req.headers.authorization,
      (req.query as Record<string, unknown>)?.token,
    );
    if (req.caller === undefined)
      throw new VirtusError(
        "unauthorized",
        "give a token: Authorization: Bearer TOKEN (VIRTUS_TOKEN for the CLI)",
      );
    if (auth === "admin" && !req.caller.admin)
      throw new VirtusError("forbidden", "only the admin token may manage tenants");
  });

  app.setErrorHandler((e, _req, reply) => {
    if (e instanceof VirtusError)
      return reply.status(statusOf(e)).send({ error: { code: e.code, message: e.message } });
    const fe = e as { validation?: unknown; statusCode?: number; message: string; code?: string };
    if (fe.validation !== undefined || (fe.statusCode !== undefined && fe.statusCode < 500))
      return reply.status(fe.statusCode ?? 400).send({ error: { code: "bad-request", message: fe.message } });
    // The daemon stays up: an unexpected error fails this one request.
    return reply.status(500).send({ error: { code: "internal", message: fe.message } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .status(404)
      .send({ error: { code: "not-found", message: `no route ${req.method} ${req.url.split("?")[0]}` } }),
  );
  return app;
}

function registerRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const document = openApiDocument();
  for (const r of ROUTES) {
    const schema: Record<string, object> = {};
    if (r.params) schema.params = r.params;
    if (r.query)
      schema.querystring = {
        ...r.query,
        properties: { ...(r.query as { properties: object }).properties, token: { type: "string" } },
      };
    if (r.body) schema.body = r.body;
    if (r.url === "/openapi.json") {
      app.route({ method: r.method, url: r.url, config: { auth: "none" }, handler: async () => document });
      continue;
    }
    if (r.asset) {
      const a = UI_ASSETS[r.url];
      app.route({
        method: "GET",
        url: r.url,
        config: { auth: "none" },
        handler: async (_req, reply) => reply.type(a.type).send(a.body()),
      });
      continue;
    }
    if (r.websocket) {
      app.route({
        method: "GET",
        url: r.url,
        config: { auth: r.auth },
        schema,
        websocket: true,
        handler: (socket: WebSocket, req: FastifyRequest) => attachConsole(ctx, socket, req),
      } as never);
      continue;
    }
    app.route({
      method: r.method,
      url: r.url,
      config: { auth: r.auth },
      schema,
      handler: async (req, reply) => {
        const caller = req.caller!;
        const tenant = ctx.store.tenantById(caller.tenantId);
        if (tenant === undefined) throw new VirtusError("unauthorized", "the token's tenant is gone");
        const result = await r.handle!({
          ctx,
          caller,
          tenant,
          params: (req.params ?? {}) as Record<string, string>,
          query: (req.query ?? {}) as Record<string, unknown>,
          body: req.body,
          req,
        });
        reply.status(r.ok.status);
        if (r.ok.mediaType === "text/plain") reply.type("text/plain; version=0.0.4");
        return result;
      },
    });
  }
}

/** The console WebSocket: the backlog first, then guest output live; client frames are keyboard input. */
function attachConsole(ctx: ApiContext, socket: WebSocket, req: FastifyRequest): void {
  const name = (req.params as { name: string }).name;
  const row = ctx.store.vm(req.caller!.tenantId, name);
  const v = row && ctx.manager.get(row.id);
  if (row === undefined || v === undefined || v.worker === undefined) {
    socket.close(4004, row === undefined ? `VM ${name} does not exist` : `${name} is not running`);
    return;
  }
  const worker = v.worker;
  socket.send(v.hub.backlog());
  const stop = v.hub.listen(clientSender(socket));
  socket.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    worker.input(bytes);
  });
  socket.on("close", stop);
  void v.ended.then(() => socket.close(DETACH_CLOSE_CODE, `${name} has stopped`));
}

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const listen = parseListen(opts.listen, dataDir);
  const unlock = takeLock(dataDir);
  const store = new Store(join(dataDir, "virtus.db"));
  const orphans = store.stopOrphans("the daemon restarted");
  if (orphans > 0)
    opts.log?.(`virtus daemon: ${orphans} VM(s) that were running when the daemon ended are stopped`);
  const adminToken = ensureAdmin(store, dataDir, ADMIN_QUOTA);
  const defaultGuest =
    opts.defaultGuest ??
    (async () => {
      const g = await ensureGuest({ log: (l) => opts.log?.(l) });
      return { kernel: g.kernel, initrd: g.initrd };
    });
  const manager = new VmManager(store, {
    dataDir,
    defaultGuest,
    faults: opts.faults,
    commandTimeoutMs: opts.commandTimeoutMs,
    consoleInputLimit: opts.consoleInputLimit,
  });
  const ctx: ApiContext = { store, manager, dataDir };
  const app = buildApp(ctx);
  const routes: { method: string; url: string }[] = [];
  app.addHook("onRoute", (r) => {
    for (const m of [r.method].flat()) if (m !== "HEAD") routes.push({ method: m, url: r.url });
  });
  await app.register(websocket, { options: { maxPayload: 1 << 20 } });
  registerRoutes(app, ctx);
  let url: string;
  if ("socket" in listen) {
    await clearStaleSocket(listen.socket);
    await app.listen({ path: listen.socket });
    chmodSync(listen.socket, 0o600);
    url = `unix:${listen.socket}`;
  } else {
    await app.listen({ host: listen.host, port: listen.port });
    const a = app.server.address();
    const port = typeof a === "object" && a !== null ? a.port : listen.port;
    url = `http://${listen.host.includes(":") ? `[${listen.host}]` : listen.host}:${port}`;
  }
  return {
    app,
    store,
    manager,
    url,
    adminToken,
    routes,
    close: async () => {
      await manager.stopAll();
      await app.close();
      store.close();
      unlock();
    },
  };
}

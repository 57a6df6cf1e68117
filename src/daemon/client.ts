/**
 * The CLI's way to the daemon: VIRTUS_URL (`unix:PATH` or
 * `http://HOST:PORT`) and VIRTUS_TOKEN, JSON requests over node:http, and
 * the console WebSocket. A refusal becomes a VirtusError carrying the
 * daemon's one-line message (exit 1; exit 2 is the CLI's own bad input).
 */
import { request } from "node:http";
import { WebSocket } from "ws";
import { VirtusError } from "../machine/errors.ts";

export interface Endpoint {
  socketPath?: string;
  host?: string;
  port?: number;
  token: string;
}

export function endpointFromEnv(env: NodeJS.ProcessEnv = process.env): Endpoint {
  const url = env.VIRTUS_URL;
  const token = env.VIRTUS_TOKEN;
  if (url === undefined || url === "")
    throw new VirtusError("no-daemon", "set VIRTUS_URL to the daemon (unix:PATH or http://HOST:PORT)");
  if (token === undefined || token === "")
    throw new VirtusError("no-token", "set VIRTUS_TOKEN (the admin's is in DIR/admin.token)");
  if (url.startsWith("unix:") && url.length > 5) return { socketPath: url.slice(5), token };
  const m = /^http:\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d+)\/?$/.exec(url);
  if (m) return { host: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]), token };
  throw new VirtusError("bad-url", `VIRTUS_URL=${url}: use unix:PATH or http://HOST:PORT`);
}

export interface RequestOptions {
  body?: unknown;
  /** Raw bytes instead of JSON (image import). */
  stream?: NodeJS.ReadableStream;
  contentType?: string;
}

/** Sends one request; resolves with the parsed JSON (or text) answer, rejects with the daemon's message. */
export function call(
  ep: Endpoint,
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${ep.token}` };
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload =
        typeof opts.body === "string" ? Buffer.from(opts.body) : Buffer.from(JSON.stringify(opts.body));
      headers["content-type"] = opts.contentType ?? "application/json";
    } else if (opts.stream !== undefined)
      headers["content-type"] = opts.contentType ?? "application/octet-stream";
    const req = request(
      { socketPath: ep.socketPath, host: ep.host, port: ep.port, method, path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const json = (() => {
            try {
              return JSON.parse(text);
            } catch {
              return text;
            }
          })();
          if ((res.statusCode ?? 500) >= 400) {
            const msg =
              (json as { error?: { message?: string } })?.error?.message ?? `HTTP ${res.statusCode}`;
            // The daemon's "bad input" is the CLI's: exit 2, as for a bad flag.
            reject(new VirtusError("daemon", msg, res.statusCode === 400 ? 2 : 1));
          } else resolve(json);
        });
      },
    );
    req.on("error", (e) =>
      reject(
        new VirtusError(
          "no-daemon",
          `cannot reach the daemon (${(e as NodeJS.ErrnoException).code ?? e.message}): is virtus daemon running, and VIRTUS_URL right?`,
          1,
        ),
      ),
    );
    if (opts.stream !== undefined) opts.stream.pipe(req);
    else req.end(payload);
  });
}

/** Opens the console WebSocket of a VM. */
export function openConsole(ep: Endpoint, vm: string): WebSocket {
  const path = `/v1/vms/${encodeURIComponent(vm)}/console`;
  const url =
    ep.socketPath !== undefined
      ? `ws+unix:${ep.socketPath}:${path}`
      : `ws://${ep.host?.includes(":") ? `[${ep.host}]` : ep.host}:${ep.port}${path}`;
  return new WebSocket(url, { headers: { authorization: `Bearer ${ep.token}` } });
}

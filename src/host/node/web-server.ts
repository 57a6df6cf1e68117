/**
 * `virtus web`: serves the browser page (web/) and the default guest on
 * 127.0.0.1. The page and its worker are bundled with esbuild when the
 * server starts (a fraction of a second), so a fresh checkout needs no
 * separate build step; the bundles are kept in memory and served as
 * static files. Everything the page needs comes from here: it works
 * offline.
 *
 *   GET /                 web/index.html
 *   GET /main.js, /main.css, /worker.js   the bundles
 *   GET /guest/info.json  where the guest's files are and its command line
 *   GET /guest/Image, /guest/initramfs.cpio.gz   the default guest (extracted by ensureGuest)
 *
 * The npm package carries no TypeScript sources for the page: `npm run
 * build` writes the bundles to dist/web/ and the server serves those
 * (esbuild and fzstd are devDependencies: only a checkout bundles).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { VirtusError } from "../../machine/errors.ts";
import { ensureGuest, GUEST_KERNEL_CMDLINE } from "./guest.ts";
import { fromRoot } from "./project-root.ts";

const WEB_DIR = fromRoot("web/");
/** Where `npm run build` puts the bundles in the npm package (dist/web/), which has no sources to bundle. */
export const PREBUILT_WEB_DIR = fromRoot("dist/web/");
export const DEFAULT_WEB_PORT = 8080;

export interface Asset {
  type: string;
  body: Uint8Array | string;
}

/** Bundles web/main.ts (with its CSS) and the VM worker into memory. */
export async function buildWebAssets(): Promise<Map<string, Asset>> {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: {
      main: `${WEB_DIR}main.ts`,
      "main-css": `${WEB_DIR}main.css`,
      worker: fromRoot("src/host/browser/worker.ts"),
    },
    bundle: true,
    format: "iife",
    target: "chrome120",
    platform: "browser",
    write: false,
    outdir: "/out",
    sourcemap: false,
    logLevel: "silent",
  });
  const assets = new Map<string, Asset>();
  for (const f of result.outputFiles) {
    const name = basename(f.path).replace("main-css.css", "main.css");
    assets.set(`/${name}`, { type: typeOf(name), body: f.contents });
  }
  assets.set("/", { type: "text/html; charset=utf-8", body: readFileSync(`${WEB_DIR}index.html`, "utf8") });
  return assets;
}

const typeOf = (name: string) =>
  name.endsWith(".css")
    ? "text/css; charset=utf-8"
    : name.endsWith(".html")
      ? "text/html; charset=utf-8"
      : "text/javascript; charset=utf-8";

/** Writes the bundles as static files (the package's dist/web/). */
export function writeWebAssets(assets: Map<string, Asset>, dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const [path, a] of assets)
    writeFileSync(join(dir, path === "/" ? "index.html" : path.slice(1)), a.body);
}

/** Reads bundles written by writeWebAssets. */
export function readWebAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir))
    assets.set(name === "index.html" ? "/" : `/${name}`, {
      type: typeOf(name),
      body: readFileSync(join(dir, name)),
    });
  return assets;
}

/** The page's files: bundled from the sources in a checkout, else the package's prebuilt ones. */
async function loadWebAssets(): Promise<Map<string, Asset>> {
  if (existsSync(join(WEB_DIR, "main.ts"))) return buildWebAssets();
  if (existsSync(join(PREBUILT_WEB_DIR, "index.html"))) return readWebAssets(PREBUILT_WEB_DIR);
  throw new VirtusError("no-web", `the page's files are missing (${PREBUILT_WEB_DIR}); reinstall Virtus`);
}

export interface WebServer {
  url: string;
  close(): Promise<void>;
}

/** Starts the page's server on 127.0.0.1:`port` (0: any free port). */
export async function startWebServer(opts: {
  port: number;
  log?: (line: string) => void;
}): Promise<WebServer> {
  const [assets, guest] = await Promise.all([loadWebAssets(), ensureGuest({ log: opts.log ?? (() => {}) })]);
  const files: Record<string, string> = { Image: guest.kernel, "initramfs.cpio.gz": guest.initrd };
  assets.set("/guest/info.json", {
    type: "application/json",
    body: JSON.stringify({
      append: GUEST_KERNEL_CMDLINE,
      kernel: "guest/Image",
      initrd: "guest/initramfs.cpio.gz",
    }),
  });
  const app: FastifyInstance = Fastify({ logger: false });
  // Cross-origin isolation: the worker's idle sleep uses SharedArrayBuffer + Atomics.wait.
  app.addHook("onSend", async (_req, reply) => {
    reply.header("cross-origin-opener-policy", "same-origin");
    reply.header("cross-origin-embedder-policy", "require-corp");
  });
  app.get("/*", async (req, reply) => {
    const path = req.url.split("?")[0];
    const guestFile = path.startsWith("/guest/") ? files[path.slice("/guest/".length)] : undefined;
    if (guestFile !== undefined)
      return reply
        .type("application/octet-stream")
        .header("cache-control", "no-cache")
        .send(readFileSync(guestFile));
    const a = assets.get(path);
    if (a === undefined) return reply.code(404).type("text/plain").send("not found\n");
    return reply.type(a.type).header("cache-control", "no-cache").send(Buffer.from(a.body));
  });
  try {
    await app.listen({ host: "127.0.0.1", port: opts.port });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE")
      throw new VirtusError("web-port", `port ${opts.port} is in use; pick another with --port N`);
    throw e;
  }
  const addr = app.server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : opts.port;
  return { url: `http://127.0.0.1:${port}/`, close: () => app.close() };
}

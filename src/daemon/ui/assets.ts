/**
 * The web console's files: the page, its script (app.ts with its types
 * stripped by Node; the compiled app.js in the npm package) and xterm.js
 * from its npm package. Read once, on first use.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire, stripTypeScriptTypes } from "node:module";
import { UI_PAGE } from "./page.ts";

const require = createRequire(import.meta.url);
const cache = new Map<string, string>();

function once(key: string, load: () => string): string {
  let v = cache.get(key);
  if (v === undefined) cache.set(key, (v = load()));
  return v;
}

function appScript(): string {
  const ts = new URL("./app.ts", import.meta.url);
  if (existsSync(ts)) return stripTypeScriptTypes(readFileSync(ts, "utf8"));
  return readFileSync(new URL("./app.js", import.meta.url), "utf8");
}

export const UI_ASSETS: Record<string, { type: string; body: () => string }> = {
  "/ui": { type: "text/html; charset=utf-8", body: () => UI_PAGE },
  "/ui/app.js": { type: "text/javascript; charset=utf-8", body: () => once("app", appScript) },
  "/ui/xterm.js": {
    type: "text/javascript; charset=utf-8",
    body: () => once("xterm.js", () => readFileSync(require.resolve("@xterm/xterm/lib/xterm.js"), "utf8")),
  },
  "/ui/xterm.css": {
    type: "text/css; charset=utf-8",
    body: () => once("xterm.css", () => readFileSync(require.resolve("@xterm/xterm/css/xterm.css"), "utf8")),
  },
};

/**
 * The web console's files: the page, its script (app.ts with its types
 * stripped by Node; the compiled app.js in the npm package) and xterm.js
 * from its npm package. Read once, on first use.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire, stripTypeScriptTypes } from "node:module";
import { fromRoot } from "../../host/node/project-root.ts";
import { UI_PAGE } from "./page.ts";

// Not named `require`: the bundle (scripts/bundle.ts) defines that name at the top of each file.
const resolveModule = createRequire(import.meta.url).resolve;
const cache = new Map<string, string>();

function once(key: string, load: () => string): string {
  let v = cache.get(key);
  if (v === undefined) cache.set(key, (v = load()));
  return v;
}

function appScript(): string {
  const ts = fromRoot("src/daemon/ui/app.ts");
  if (existsSync(ts)) return stripTypeScriptTypes(readFileSync(ts, "utf8"));
  return readFileSync(fromRoot("dist/daemon/ui/app.js"), "utf8");
}

export const UI_ASSETS: Record<string, { type: string; body: () => string }> = {
  "/ui": { type: "text/html; charset=utf-8", body: () => UI_PAGE },
  "/ui/app.js": { type: "text/javascript; charset=utf-8", body: () => once("app", appScript) },
  "/ui/xterm.js": {
    type: "text/javascript; charset=utf-8",
    body: () => once("xterm.js", () => readFileSync(resolveModule("@xterm/xterm/lib/xterm.js"), "utf8")),
  },
  "/ui/xterm.css": {
    type: "text/css; charset=utf-8",
    body: () => once("xterm.css", () => readFileSync(resolveModule("@xterm/xterm/css/xterm.css"), "utf8")),
  },
};

/**
 * The OpenAPI 3.1 document of the daemon, written from the route table
 * (api.ts), so it names exactly the routes the server registers. It is
 * checked in as docs/openapi.json (a test compares the two; regenerate
 * with `node scripts/gen-openapi.ts`) and served at GET /openapi.json.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { fromRoot } from "../host/node/project-root.ts";
import { ROUTES, type Route } from "./api.ts";
import * as S from "./schemas.ts";

export const OPENAPI_FILE = pathToFileURL(fromRoot("docs/openapi.json"));

/** /v1/vms/:name → /v1/vms/{name} */
export const openApiPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, "{$1}");

function operation(r: Route): Record<string, unknown> {
  const op: Record<string, unknown> = { summary: r.summary, operationId: operationId(r) };
  if (r.auth !== "none") op.security = [{ bearer: [] }];
  const parameters: object[] = [];
  const props = (s: object | undefined) =>
    (s as { properties?: Record<string, object> } | undefined)?.properties ?? {};
  for (const [name, schema] of Object.entries(props(r.params)))
    parameters.push({ name, in: "path", required: true, schema });
  for (const [name, schema] of Object.entries(props(r.query))) parameters.push({ name, in: "query", schema });
  if (parameters.length > 0) op.parameters = parameters;
  const content: Record<string, object> = {};
  if (r.body !== undefined) content["application/json"] = { schema: r.body };
  for (const t of r.consumes ?? [])
    content[t] = {
      schema: t === "application/octet-stream" ? { type: "string", format: "binary" } : (r.body ?? {}),
    };
  if (Object.keys(content).length > 0) op.requestBody = { required: true, content };
  const answers: Record<string, object> = {
    [String(r.ok.status)]: {
      description: r.websocket ? "switching to the WebSocket protocol" : "done",
      ...(r.ok.status === 101
        ? {}
        : { content: { [r.ok.mediaType ?? "application/json"]: { schema: r.ok.schema } } }),
    },
  };
  const error = (description: string) => ({
    description,
    content: { "application/json": { schema: S.error } },
  });
  if (r.auth !== "none") answers["401"] = error("no token, or a token the daemon does not know");
  if (r.auth === "admin") answers["403"] = error("only the admin token may do this");
  if (r.params !== undefined) answers["404"] = error("no such name in the caller's tenant");
  if (r.body !== undefined || r.params !== undefined || r.query !== undefined)
    answers["400"] = error("bad input");
  if (r.method !== "GET") answers["409"] = error("the name exists already, or the VM is in the wrong state");
  op.responses = answers;
  return op;
}

function operationId(r: Route): string {
  const words = r.url
    .split("/")
    .filter((w) => w !== "" && w !== "v1")
    .map((w) => (w.startsWith(":") ? `by_${w.slice(1)}` : w.replace(/[^A-Za-z0-9]/g, "_")));
  return `${r.method.toLowerCase()}_${words.join("_")}`;
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const p = openApiPath(r.url);
    paths[p] ??= {};
    paths[p][r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Virtus daemon",
      version: "1",
      description:
        "The virtual machine manager of Virtus (virtus daemon): tenants, VMs, images and snapshots. " +
        "Every route but this document needs `Authorization: Bearer TOKEN`; a tenant sees only its own names.",
    },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    paths,
  };
}

/** The checked-in document, as served. */
export function checkedInDocument(): string {
  return readFileSync(OPENAPI_FILE, "utf8");
}

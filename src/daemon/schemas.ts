/**
 * JSON schemas of the API's requests and answers: Fastify validates
 * requests with them, and the OpenAPI document (openapi.ts) is made of
 * them, so the document and the server cannot disagree.
 */
import { NAME_PATTERN } from "./definition.ts";

export const name = { type: "string", pattern: NAME_PATTERN };

export const error = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" } },
    },
  },
};

export const empty = { type: "object" };

const size = { oneOf: [{ type: "integer" }, { type: "string" }] };

export const definition = {
  type: "object",
  required: ["name"],
  additionalProperties: false,
  properties: {
    name,
    memory: { ...size, description: "guest RAM: bytes or a size like 256M (default 256M)" },
    vcpus: { type: "integer", minimum: 1, maximum: 8, description: "harts (default 1)" },
    cpu_limit: {
      type: ["number", "null"],
      description: "share of one host core the VM may use, e.g. 0.25 (default: no cap)",
    },
    kernel: { ...name, description: "an image of the tenant; omitted: the default guest" },
    initrd: { ...name, description: "an image of the tenant (with kernel)" },
    append: { type: "string", maxLength: 4096, description: "kernel command line" },
    bios: { type: "string", enum: ["builtin", "none"] },
    disks: {
      type: "array",
      maxItems: 8,
      items: {
        type: "object",
        required: ["image"],
        additionalProperties: false,
        properties: { image: name, readOnly: { type: "boolean" } },
      },
    },
    deterministic: { type: "boolean" },
    jit: { type: "boolean" },
  },
};

export const vmSummary = {
  type: "object",
  properties: {
    name,
    state: { type: "string", enum: ["stopped", "starting", "running", "paused", "failed"] },
    reason: { type: "string" },
    vcpus: { type: "integer" },
    memory: { type: "integer" },
    cpu_limit: { type: ["number", "null"] },
  },
};

export const vmInfo = {
  type: "object",
  properties: {
    ...vmSummary.properties,
    created: { type: "string" },
    definition,
    instructions: { type: ["integer", "null"] },
    uptime_ms: { type: ["integer", "null"] },
    snapshots: { type: "array", items: { type: "string" } },
  },
};

export const quota = {
  type: "object",
  additionalProperties: false,
  properties: {
    vms: { type: "integer", minimum: 0 },
    vcpus: { type: "integer", minimum: 0 },
    memory: size,
    disk: size,
  },
};

export const tenant = {
  type: "object",
  properties: { name, quota, usage: quota },
};

export const image = {
  type: "object",
  properties: {
    name,
    format: { type: "string", enum: ["raw", "qcow2"] },
    size: { type: "integer" },
    created: { type: "string" },
  },
};

export const snapshot = {
  type: "object",
  properties: { name, size: { type: "integer" }, created: { type: "string" } },
};

export const nameParams = { type: "object", required: ["name"], properties: { name } };
export const snapParams = {
  type: "object",
  required: ["name", "snapshot"],
  properties: { name, snapshot: name },
};

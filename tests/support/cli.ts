import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const bin = join(import.meta.dirname, "../../bin/virtus.js");

/** Runs `virtus ARGS` to completion with empty input; returns the exit code and both streams. */
export function virtusSync(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 60_000, input: "" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The contract for bad user input: one line that matches `message`, exit 2, no stack trace. */
export function assertBadInput(args: string[], message: RegExp): void {
  const r = virtusSync(args);
  assert.equal(r.code, 2, `${args.join(" ")} → ${r.code}: ${r.err}`);
  assert.match(r.err, message);
  assert.equal(r.err.trim().split("\n").length, 1, r.err);
  assert.doesNotMatch(r.err, /\bat .*\.ts:\d+|Error:/);
}

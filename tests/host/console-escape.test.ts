import assert from "node:assert/strict";
import { test } from "node:test";
import { EscapeFilter } from "../../src/host/node/console-escape.ts";

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array) => String.fromCharCode(...b);

test("plain input passes through", () => {
  const f = new EscapeFilter();
  const r = f.feed(bytes("ls -l\n"));
  assert.equal(text(r.forward), "ls -l\n");
  assert.deepEqual(r.actions, []);
});

test("Ctrl-A x quits, Ctrl-A h asks for help, Ctrl-A s saves a snapshot, Ctrl-A Ctrl-A sends one Ctrl-A, other keys after Ctrl-A are dropped", () => {
  const f = new EscapeFilter();
  const r = f.feed(bytes("a\x01hb\x01\x01c\x01zd\x01se\x01x"));
  assert.equal(text(r.forward), "ab\x01cde");
  assert.deepEqual(r.actions, ["help", "snapshot", "quit"]);
});

test("an escape split across reads still works", () => {
  const f = new EscapeFilter();
  assert.deepEqual(f.feed(bytes("q\x01")).actions, []);
  const r = f.feed(bytes("x"));
  assert.deepEqual(r.actions, ["quit"]);
  assert.equal(r.forward.length, 0);
});

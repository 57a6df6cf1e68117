import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { nodeAdvice, nodeTooOld } from "../../bin/check-node.js";

const root = join(import.meta.dirname, "../..");
/** Debian 12's Node 20, too old for Virtus. */
const OLD_NODE = "/usr/bin/node";
const oldNode = existsSync(OLD_NODE)
  ? spawnSync(OLD_NODE, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.trim()
  : "";
const noOldNode = !(oldNode && nodeTooOld(oldNode)) && `no Node older than 22.18 at ${OLD_NODE}`;

test("Node 22.18 and newer are recent enough, older ones are not", () => {
  for (const v of ["22.18.0", "22.20.1", "23.0.0", "24.11.1"]) assert.equal(nodeTooOld(v), false, v);
  for (const v of ["20.19.2", "22.17.1", "18.0.0"]) assert.equal(nodeTooOld(v), true, v);
});

test("the advice is one line with the commands that get Node 24 and put it on PATH", () => {
  const line = nodeAdvice("virtus", "v20.19.2");
  assert.doesNotMatch(line, /\n/);
  assert.match(line, /^virtus: needs Node\.js 22\.18 or newer \(this is v20\.19\.2\)/);
  assert.match(
    line,
    /npm i -g --prefix ~\/\.cache\/virtus\/node24 node-\w+-\w+@24 && export PATH=~\/\.cache\/virtus\/node24\/bin:\$PATH$/,
  );
});

test("virtus on an old Node: that one line and exit 2", { skip: noOldNode }, () => {
  const r = spawnSync(OLD_NODE, [join(root, "bin/virtus.js"), "--version"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, `${nodeAdvice("virtus", `v${oldNode}`)}\n`);
});

test("npm test on an old Node: says so instead of a test-runner error", { skip: noOldNode }, () => {
  // npm runs the pretest script with the `node` first on PATH.
  const r = spawnSync("npm", ["test"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, PATH: `/usr/bin:${process.env.PATH}` },
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /npm test: needs Node\.js 22\.18 or newer \(this is v20\.\d+\.\d+\); get Node 24/);
  assert.doesNotMatch(r.stderr + r.stdout, /Could not find/);
});

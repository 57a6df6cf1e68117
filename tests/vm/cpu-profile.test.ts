/**
 * The categories of a VM thread's CPU profile (src/vm/cpu-profile.ts), on a
 * made-up V8 profile whose stacks are the shapes a real one has: compiled
 * blocks under the interpreter, a helper called from a block (through V8's
 * wrapper), the JIT compiling, a page walk, a device, GC and idle time.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type CpuProfile,
  categorize,
  summarizeCpuProfile,
  unbundleProfile,
} from "../../src/vm/cpu-profile.ts";

const SRC = "file:///work/src";
const f = (functionName: string, file = "") => ({ functionName, url: file === "" ? "" : `${SRC}/${file}` });
const wasm = { functionName: "wasm-function[0]", url: "wasm://wasm/1a2b3c" };

/** A profile from stacks (root first) and each one's sample times in microseconds. */
function profileOf(stacks: { frames: { functionName: string; url: string }[]; us: number[] }[]): CpuProfile {
  const nodes: CpuProfile["nodes"] = [{ id: 1, callFrame: f("(root)"), children: [] }];
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  for (const { frames, us } of stacks) {
    let parent = nodes[0];
    for (const frame of frames) {
      let child = (parent.children ?? [])
        .map((id) => nodes.find((n) => n.id === id)!)
        .find((n) => n.callFrame.functionName === frame.functionName && n.callFrame.url === frame.url);
      if (child === undefined) {
        child = { id: nodes.length + 1, callFrame: frame, children: [] };
        nodes.push(child);
        parent.children!.push(child.id);
      }
      parent = child;
    }
    for (const t of us) {
      samples.push(parent.id);
      timeDeltas.push(t);
    }
  }
  return { nodes, startTime: 0, endTime: 1, samples, timeDeltas };
}

const loop = [
  f("loop", "vm/runner.ts"),
  f("run", "machine/board/machine.ts"),
  f("runSlice", "machine/cpu/interpreter.ts"),
];
const execute = f("execute", "machine/cpu/interpreter.ts");

test("each sample's stack goes to the category of its innermost boundary", () => {
  const cat = (...rootFirst: { functionName: string; url: string }[]) => categorize([...rootFirst].reverse());
  assert.equal(cat(...loop, execute, wasm), "compiled");
  assert.equal(cat(...loop, execute, f("js-to-wasm:iiiiii:i")), "entry");
  assert.equal(
    cat(
      ...loop,
      execute,
      wasm,
      f("wasm-to-js:iiiiii:"),
      f("exec", "machine/jit/jit.ts"),
      f("execOp", "machine/cpu/exec/index.ts"),
    ),
    "helpers",
  );
  assert.equal(
    cat(...loop, execute, wasm, f("exec", "machine/jit/jit.ts"), f("execOp", "machine/cpu/exec/index.ts")),
    "helpers",
  );
  // With a profile, the helper import is a wrapper in jit.ts around the exec helper, also in jit.ts.
  const profiledExec = [wasm, f("profiledExec", "machine/jit/jit.ts"), f("exec", "machine/jit/jit.ts")];
  assert.equal(cat(...loop, execute, ...profiledExec, f("f64Add", "machine/cpu/fpu/f64.ts")), "helpers");
  assert.equal(cat(...loop, execute, f("compile", "machine/jit/jit.ts"), f("Module")), "compile");
  assert.equal(cat(...loop.slice(0, 1), { functionName: "post", url: "node:inspector" }), "profiler");
  assert.equal(cat(...loop, execute, f("classify", "machine/jit/profile.ts")), "profiler");
  assert.equal(
    cat(...loop, execute, f("load", "machine/cpu/hart.ts"), f("walk", "machine/mmu/walk.ts")),
    "mmu",
  );
  assert.equal(
    cat(...loop, execute, f("store", "machine/cpu/hart.ts"), f("write", "machine/devices/uart16550.ts")),
    "devices",
  );
  assert.equal(cat(...loop, execute, f("takeTrap", "machine/cpu/hart.ts")), "interpreter");
  assert.equal(cat(...loop, execute), "interpreter");
  assert.equal(cat(f("(garbage collector)")), "gc");
  assert.equal(cat(f("(idle)")), "idle");
  assert.equal(cat(f("poll", "machine/virtio/net.ts")), "devices");
  assert.equal(cat(...loop.slice(0, 2)), "other");
});

test("a profile's sample times add up by category, and its hottest functions come first", () => {
  const p = profileOf([
    { frames: [...loop, execute, wasm], us: [500, 500, 500] },
    { frames: [...loop, execute, { ...wasm, functionName: "wasm-function[7]" }], us: [500] },
    { frames: [...loop, execute], us: [500, 1000] },
    { frames: [...loop, execute, f("compile", "machine/jit/jit.ts")], us: [250] },
    { frames: [f("(garbage collector)")], us: [750] },
  ]);
  const s = summarizeCpuProfile(p);
  assert.equal(s.samples, 8);
  assert.equal(s.ms.compiled, 2);
  assert.equal(s.ms.interpreter, 1.5);
  assert.equal(s.ms.compile, 0.25);
  assert.equal(s.ms.gc, 0.75);
  assert.equal(s.ms.helpers, 0);
  assert.deepEqual(
    s.top.map((t) => [t.fn, t.category, t.ms]),
    [
      ["compiled blocks (wasm)", "compiled", 2],
      ["execute (machine/cpu/interpreter.ts)", "interpreter", 1.5],
      ["(garbage collector)", "gc", 0.75],
      ["compile (machine/jit/jit.ts)", "compile", 0.25],
    ],
  );
});

test("frames of a bundle are named after the module their line lies in (esbuild's // src/... lines)", () => {
  const bundle = [
    "// src/machine/cpu/interpreter.ts", // line 0
    "function execute(h) {", // 1
    "}",
    "// src/machine/jit/jit.ts", // 3
    "var Jit = class {", // 4
    "};",
  ].join("\n");
  const url = "file:///x/dist/node/abc/chunk-1.js";
  const at = (functionName: string, lineNumber: number) => ({ functionName, url, lineNumber });
  const p = profileOf([
    { frames: [at("execute", 1), wasm], us: [1000] },
    { frames: [at("execute", 1), at("compile", 4)], us: [500] },
    { frames: [at("execute", 1)], us: [250] },
  ]);
  const read = (u: string) => (u === url ? bundle : undefined);
  const s = summarizeCpuProfile(unbundleProfile(p, read));
  assert.equal(s.ms.compiled, 1);
  assert.equal(s.ms.compile, 0.5);
  assert.equal(s.ms.interpreter, 0.25);
  assert.ok(
    s.top.some((t) => t.fn === "compile (machine/jit/jit.ts)"),
    JSON.stringify(s.top),
  );
  // Unreadable: the frames stay as they were, and match no module.
  assert.equal(summarizeCpuProfile(unbundleProfile(p, () => undefined)).ms.other, 0.75);
});

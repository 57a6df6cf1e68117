/**
 * Where a VM thread's time went, from a V8 CPU profile of that thread
 * (the `Profiler` domain's profile: a call tree and the leaf node of each
 * sample). Each sample goes to one category, decided by the frames on its
 * stack (`virtus run --profile`, `npm run bench:profile`):
 *
 *   compiled     the leaf is WebAssembly: guest code the JIT compiled
 *   entry        V8's wrappers of calls from the interpreter into compiled code (js-to-wasm)
 *   helpers      JavaScript called from WebAssembly: the instructions blocks run through the host
 *   compile      under the JIT's own code (src/machine/jit/): planning, emitting, V8's compile, installing
 *   interpreter  under the interpreter (src/machine/cpu/interpreter.ts), minus:
 *   mmu          page walks and slow-path loads/stores/fetches under it (src/machine/mmu/, Hart's access paths)
 *   devices      device models (src/machine/devices/, virtio/, bus/), wherever called from
 *   gc           V8's garbage collector
 *   idle         the thread waited (a guest in wfi, the event loop)
 *   profiler     the profile's own counting (src/machine/jit/profile.ts, src/vm/profile.ts)
 *   other        the rest: the run loop, timers, console, messages
 *
 * The innermost of the compiled-code, JIT and interpreter frames decides,
 * so a helper (interpreter code called from a block) counts as a helper.
 */

/** A V8 call frame (the part this reads; lineNumber is 0-based). */
export interface Frame {
  functionName: string;
  url: string;
  lineNumber?: number;
}

/** The part of V8's Profiler.Profile this reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: Frame; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export const CPU_CATEGORIES = [
  "compiled",
  "entry",
  "helpers",
  "compile",
  "interpreter",
  "mmu",
  "devices",
  "gc",
  "idle",
  "profiler",
  "other",
] as const;
export type CpuCategory = (typeof CPU_CATEGORIES)[number];

/** A profile's time by category and its hottest functions (self time). */
export interface CpuSummary {
  /** Milliseconds of samples by category. */
  ms: Record<CpuCategory, number>;
  /** Samples taken. */
  samples: number;
  /** The functions with the most self time: "name (file)" and ms, highest first. */
  top: { fn: string; category: CpuCategory; ms: number }[];
}

// Modules are matched by path wherever the code runs from: the sources, tsc's dist/, or a
// bundle whose frames unbundleProfile renamed after their modules.
const isWasm = (f: Frame) => f.url.startsWith("wasm://") || f.functionName.startsWith("wasm-function");
const inDir = (f: Frame, dir: string) => f.url.includes(`/machine/${dir}/`);
const isModule = (f: Frame, path: string) => new RegExp(`/${path}\\.[jt]s$`).test(f.url);
const isJit = (f: Frame) => inDir(f, "jit");
/** The profile's own work: its counters, and the inspector session (starting the sampler logs all code). */
const isProfiler = (f: Frame) =>
  isModule(f, "machine/jit/profile") || isModule(f, "vm/profile") || f.url === "node:inspector";
const isEntry = (f: Frame) => f.functionName.startsWith("js-to-wasm");
const isImportWrapper = (f: Frame) => f.functionName.startsWith("wasm-to-js");
const isInterpreter = (f: Frame) => isModule(f, "machine/cpu/interpreter");
const HART_ACCESS = /^(load|store|resolve|fetch|walk|translate|mmio)/;
const isMmu = (f: Frame) =>
  inDir(f, "mmu") || (isModule(f, "machine/cpu/hart") && HART_ACCESS.test(f.functionName));
const isDevice = (f: Frame) => inDir(f, "devices") || inDir(f, "virtio") || inDir(f, "bus");

/** The category of one stack, leaf first. */
export function categorize(stack: readonly Frame[]): CpuCategory {
  const leaf = stack[0];
  if (leaf.functionName === "(garbage collector)") return "gc";
  if (leaf.functionName === "(idle)") return "idle";
  // Code under compiled code (nearer the leaf than any interpreter frame) is a host helper.
  const wasmAt = stack.findIndex((f) => isWasm(f) || isImportWrapper(f));
  const interpreterAt = stack.findIndex(isInterpreter);
  if (wasmAt >= 0 && (interpreterAt < 0 || wasmAt < interpreterAt))
    return wasmAt === 0 && isWasm(leaf) ? "compiled" : "helpers";
  for (let i = 0; i < stack.length; i++) {
    const f = stack[i];
    if (isEntry(f)) return "entry";
    if (isProfiler(f)) return "profiler";
    if (isJit(f)) return "compile";
    if (isInterpreter(f)) {
      const below = stack.slice(0, i);
      if (below.some(isDevice)) return "devices";
      return below.some(isMmu) ? "mmu" : "interpreter";
    }
  }
  return stack.some(isDevice) ? "devices" : "other";
}

/**
 * The modules of a bundle (scripts/bundle.ts: esbuild, not minified, puts
 * each module's code after a `// src/…/name.ts` line), by first line (0-based).
 */
export function bundleModules(text: string): { line: number; module: string }[] {
  const out: { line: number; module: string }[] = [];
  text.split("\n").forEach((l, line) => {
    const m = /^\/\/ ((?:src|node_modules)\/\S+\.[cm]?[jt]s)$/.exec(l);
    if (m) out.push({ line, module: m[1] });
  });
  return out;
}

/**
 * The profile with each frame of a bundled file renamed after the module
 * its line lies in (url `bundle:/src/…`), so categories and names read as
 * from the sources; `read` gives a script's text by URL (undefined: left).
 */
export function unbundleProfile(profile: CpuProfile, read: (url: string) => string | undefined): CpuProfile {
  const modules = new Map<string, { line: number; module: string }[]>();
  const moduleAt = (url: string, line: number): string | undefined => {
    let list = modules.get(url);
    if (list === undefined) {
      const text = read(url);
      list = text === undefined ? [] : bundleModules(text);
      modules.set(url, list);
    }
    let found: string | undefined;
    for (const m of list) {
      if (m.line > line) break;
      found = m.module;
    }
    return found;
  };
  const nodes = profile.nodes.map((n) => {
    const f = n.callFrame;
    if (!/^file:.*\.m?js$/.test(f.url) || f.lineNumber === undefined) return n;
    const module = moduleAt(f.url, f.lineNumber);
    return module === undefined ? n : { ...n, callFrame: { ...f, url: `bundle:/${module}` } };
  });
  return { ...profile, nodes };
}

const shortName = (f: Frame) => {
  const file = f.url
    .replace(/^.*\/(src|dist)\//, "")
    .replace(/^bundle:\//, "")
    .replace(/^wasm:\/\/.*/, "wasm");
  return `${f.functionName || "(anonymous)"}${file ? ` (${file})` : ""}`;
};

/**
 * Sums a profile's sample times by category (a sample's time is its delta
 * from the previous one), of the samples taken in `span` if given (times
 * on the profile's clock: startTime plus the deltas so far).
 */
export function summarizeCpuProfile(
  profile: CpuProfile,
  topN = 12,
  span?: { from: number; to: number },
): CpuSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const categoryOf = new Map<number, CpuCategory>();
  const nodeCategory = (id: number): CpuCategory => {
    let c = categoryOf.get(id);
    if (c === undefined) {
      const stack: Frame[] = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const node = byId.get(at);
        if (node !== undefined) stack.push(node.callFrame);
      }
      c = stack.length === 0 ? "other" : categorize(stack);
      categoryOf.set(id, c);
    }
    return c;
  };
  const ms = Object.fromEntries(CPU_CATEGORIES.map((c) => [c, 0])) as Record<CpuCategory, number>;
  const self = new Map<string, { category: CpuCategory; ms: number }>();
  let at = profile.startTime;
  let samples = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (span !== undefined && (at < span.from || at >= span.to)) return;
    samples++;
    const t = Math.max(0, delta) / 1000;
    const c = nodeCategory(id);
    ms[c] += t;
    const node = byId.get(id);
    if (node === undefined) return;
    // Compiled blocks are many small functions: one line for all of them.
    const fn = isWasm(node.callFrame) ? "compiled blocks (wasm)" : shortName(node.callFrame);
    const e = self.get(fn) ?? { category: c, ms: 0 };
    e.ms += t;
    self.set(fn, e);
  });
  const top = [...self]
    .map(([fn, e]) => ({ fn, category: e.category, ms: e.ms }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, topN);
  return { ms, samples, top };
}

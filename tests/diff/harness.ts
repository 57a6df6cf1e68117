/**
 * Runs generated cases (gen.ts) under qemu-riscv64 and Virtus and compares
 * the results. Compilation and qemu run as child processes, several at a
 * time; Virtus runs in-process.
 */
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { disassemble } from "../../src/isa/disasm.ts";
import { loadElf, runBareMetal } from "../../src/machine/board/bare-metal.ts";
import { type ElfImage, parseElf } from "../../src/machine/board/elf.ts";
import { Machine } from "../../src/machine/board/machine.ts";
import type { BlockFn } from "../../src/machine/cpu/tier.ts";
import { CROSS_GCC, haveCrossGcc } from "../support/cross.ts";
import { TEST_H_EXT } from "../support/test-cpu.ts";
import { testJitHot } from "../support/test-jit.ts";
import {
  BLOCK_S0,
  blockSize,
  type Case,
  FREG,
  type GenOptions,
  generateCase,
  L,
  programSource,
  XREG,
} from "./gen.ts";

export const QEMU = "qemu-riscv64";
export const DIFF_MARCH = "rv64gc_zba_zbb_zbs";
const LINK_SCRIPT = join(import.meta.dirname, "link.ld");
const CACHE = join(tmpdir(), "virtus-diff-elf");

export function haveQemu(): boolean {
  try {
    execFileSync(QEMU, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Why the differential tests cannot run here, or undefined when they can. */
export function missingTools(): string | undefined {
  const missing: string[] = [];
  if (!haveQemu()) missing.push(`${QEMU} (apt install qemu-user)`);
  if (!haveCrossGcc()) missing.push(`${CROSS_GCC} (apt install gcc-riscv64-linux-gnu)`);
  return missing.length ? `missing ${missing.join(" and ")}` : undefined;
}

function run(cmd: string, args: string[], opts: { timeout?: number } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { encoding: "buffer", maxBuffer: 1 << 28, timeout: opts.timeout ?? 60_000 },
      (err, stdout, stderr) => {
        if (err) {
          err.message = `${cmd} ${args.join(" ")}: ${err.message}\n${stderr.toString()}`;
          reject(err);
        } else resolve(stdout);
      },
    );
  });
}

/**
 * Assembles a program; returns the ELF's path. With `cache`, ELFs are kept
 * in the temp directory by content hash (the CI test's fixed seeds compile
 * once); without, the caller deletes the returned file.
 */
export async function buildProgram(source: string, cache = true): Promise<string> {
  const flags = [
    `-march=${DIFF_MARCH}`,
    "-mabi=lp64d",
    "-nostdlib",
    "-nostartfiles",
    "-static",
    "-Wl,--build-id=none",
    "-T",
    LINK_SCRIPT,
  ];
  const key = createHash("sha256")
    .update(source)
    .update(flags.join(" "))
    .update(readFileSync(LINK_SCRIPT))
    .digest("hex")
    .slice(0, 24);
  mkdirSync(CACHE, { recursive: true });
  const out = cache ? join(CACHE, `${key}.elf`) : join(CACHE, `${key}.${process.pid}.nocache.elf`);
  if (cache && existsSync(out)) return out;
  const src = join(CACHE, `${key}.${process.pid}.s`);
  writeFileSync(src, source);
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await run(CROSS_GCC, [...flags, "-o", tmp, src]);
  } finally {
    rmSync(src, { force: true });
  }
  renameSync(tmp, out);
  return out;
}

/** Runs under qemu-riscv64; returns the blocks it wrote to stdout (`passes` as the program was built). */
export async function runQemu(elfPath: string, nCases: number, passes = 1): Promise<Uint8Array> {
  const out = await run(QEMU, [elfPath], { timeout: 30_000 });
  const size = nCases * blockSize(passes);
  if (out.length !== size) throw new Error(`qemu wrote ${out.length} bytes, expected ${size}`);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

export interface VirtusOptions {
  /** Machine options: JIT on or off (Machine's default: on), and its threshold. */
  jit?: boolean;
  jitHot?: number;
  /** Passes the program was built with (programSource); default 1. */
  passes?: number;
  /** The H extension (needed for programs built with a guestMode). */
  hExt?: boolean;
}

/** What Virtus's JIT did in a run (all 0 without a JIT). */
export interface JitStats {
  /** Blocks compiled. */
  compiled: number;
  /**
   * Compiled blocks entered from the interpreter before `finish` (not the
   * final spin loop), and the instructions they retired.
   */
  runs: number;
  retired: number;
  /**
   * Instructions retired by compiled blocks that start in a case's own code
   * (case_<i> .. case_<i>_dump: the body and the few instructions around it,
   * not code shared by the cases).
   */
  caseRetired: number;
}

export const noJitStats = (): JitStats => ({ compiled: 0, runs: 0, retired: 0, caseRetired: 0 });

export function addJitStats(to: JitStats, s: JitStats): void {
  to.compiled += s.compiled;
  to.runs += s.runs;
  to.retired += s.retired;
  to.caseRetired += s.caseRetired;
}

export interface VirtusRun {
  blocks: Uint8Array;
  status: string;
  jit: JitStats;
}

/**
 * Counts what compiled blocks entered from the interpreter retire (with
 * whatever they go on to run without returning to it), by wrapping each
 * block as the Jit installs it (Jit.onInstall and Jit.fns are public), so a
 * test can tell the JIT ran the cases and was not silently bypassed.
 */
function countJit(m: Machine, elf: ElfImage, stats: JitStats): void {
  const jit = m.jit;
  const finish = elf.symbols.get("finish");
  if (jit === undefined || finish === undefined) return;
  const base = 0x8000_0000;
  const inCase = new Uint8Array(finish - base);
  for (let i = 0; ; i++) {
    const from = elf.symbols.get(`case_${i}`);
    const to = elf.symbols.get(`case_${i}_dump`);
    if (from === undefined || to === undefined) break;
    inCase.fill(1, from - base, to - base);
  }
  jit.onInstall = (id) => {
    const fn = jit.fns[id];
    jit.fns[id] = (...args: Parameters<BlockFn>) => {
      const n = fn(...args);
      const [, , , pcLo, pcHi] = args;
      const at = (pcLo >>> 0) - base;
      if (pcHi === 0 && at >= 0 && at < inCase.length) {
        stats.runs++;
        stats.retired += n;
        if (inCase[at]) stats.caseRetired += n;
      }
      return n;
    };
  };
}

/** Runs in Virtus (bare metal); returns the blocks from RAM and how the run ended. */
export function runVirtus(elfBytes: Uint8Array, nCases: number, opts: VirtusOptions = {}): VirtusRun {
  const elf = parseElf(elfBytes);
  const tohost = elf.symbols.get("tohost");
  const blocks = elf.symbols.get("blocks");
  if (tohost === undefined || blocks === undefined) throw new Error("program lacks tohost/blocks");
  const passes = opts.passes ?? 1;
  const m = new Machine({
    ramSize: 4 * 1024 * 1024,
    jit: opts.jit,
    jitHot: testJitHot(opts.jit, opts.jitHot),
    hExt: opts.hExt ?? TEST_H_EXT,
  });
  const jit = noJitStats();
  countJit(m, elf, jit);
  loadElf(m, elf, "diff");
  const res = runBareMetal(m, tohost, 2000 + nCases * passes * 20_000);
  const status = res.kind === "pass" ? "ok" : res.kind === "fail" ? `fail(${res.code})` : "did not finish";
  return {
    blocks: m.mem.readPhys(blocks, nCases * blockSize(passes)).slice(),
    status,
    jit: { ...jit, compiled: m.jit?.compiled ?? 0 },
  };
}

export interface Diff {
  what: string;
  qemu: string;
  virtus: string;
}

export interface Mismatch {
  c: Case;
  diffs: Diff[];
  /** A description of a trap Virtus took inside the case, if any. */
  trap?: string;
  /**
   * Set when the run used the JIT and the mismatch was rechecked with the
   * interpreter alone: whether the interpreter matched qemu on this case
   * (true points at the JIT).
   */
  interpreterMatches?: boolean;
}

const h64 = (v: bigint) => `0x${v.toString(16).padStart(16, "0")}`;

const CAUSES: Record<number, string> = {
  0: "instruction address misaligned",
  1: "instruction access fault",
  2: "illegal instruction",
  3: "breakpoint",
  4: "load address misaligned",
  5: "load access fault",
  6: "store/AMO address misaligned",
  7: "store/AMO access fault",
  11: "environment call from M-mode",
};

/**
 * Compares one case's scratch buffer and dump (block at byte `at` of both
 * arrays), and with `passes` > 1 its pass counter (a trap ends the case early).
 */
export function compareCase(
  c: Case,
  q: Uint8Array,
  v: Uint8Array,
  at: number,
  passes = 1,
): Mismatch | undefined {
  const len = passes > 1 ? L.END_PASSES : L.END;
  const dq = new DataView(q.buffer, q.byteOffset + at + BLOCK_S0, len);
  const dv = new DataView(v.buffer, v.byteOffset + at + BLOCK_S0, len);
  const diffs: Diff[] = [];
  const word = (off: number, what: string) => {
    const a = dq.getBigUint64(off, true);
    const b = dv.getBigUint64(off, true);
    if (a !== b) diffs.push({ what, qemu: h64(a), virtus: h64(b) });
  };
  for (let i = 1; i < 32; i++) word(L.DUMP_X + 8 * i, `x${i}/${XREG[i]}`);
  for (let i = 0; i < 32; i++) word(L.DUMP_F + 8 * i, `f${i}/${FREG[i]}`);
  word(L.DUMP_FCSR, "fcsr");
  for (let off = 0; off < L.SCRATCH_SIZE; off += 8) word(L.SCRATCH + off, `mem[s0+${off}]`);
  if (passes > 1) word(L.PASS, "passes run");
  let trap: string | undefined;
  const cause = dv.getBigUint64(L.TRAP_CAUSE, true);
  const epc = dv.getBigUint64(L.TRAP_EPC, true);
  if (cause !== 0n || epc !== 0n) {
    const tval = dv.getBigUint64(L.TRAP_TVAL, true);
    trap =
      `virtus trapped: mcause=${cause} (${CAUSES[Number(cause)] ?? "?"}) mepc=${h64(epc)} ` +
      `mtval=${h64(tval)}`;
    if (cause === 2n) trap += ` [${disasmWord(Number(tval))}]`;
  }
  return diffs.length || trap ? { c, diffs, trap } : undefined;
}

function disasmWord(w: number): string {
  try {
    return disassemble(w >>> 0);
  } catch {
    return `.word 0x${(w >>> 0).toString(16)}`;
  }
}

export interface DiffOptions extends GenOptions {
  seed: number;
  /** First case index and number of cases. */
  start?: number;
  count: number;
  /** Cases per program (per compiler and qemu invocation). */
  perProgram?: number;
  /** Concurrent compiler/qemu processes. */
  jobs?: number;
  /** Keep compiled programs in the temp directory for the next run (default true). */
  cache?: boolean;
  /** Runs of each case's sequence (programSource); > 1 makes the code hot for the JIT. */
  passes?: number;
  /** Virtus's JIT: on or off (Machine's default: on) and its threshold (jitHot 1: compile on the second visit). */
  jit?: boolean;
  jitHot?: number;
  /** Run the cases on Virtus in VS or VU mode under a tiny hypervisor (programSource's guestMode). */
  guestMode?: "vs" | "vu";
}

export interface DiffResult {
  ran: number;
  mismatches: Mismatch[];
  /** Whole-program failures (assembler errors, qemu crashes, Virtus not finishing). */
  errors: string[];
  /** What Virtus's JIT did, over all programs. */
  jit: JitStats;
}

/** Generates and runs `count` cases; collects every mismatch. */
export async function runDiff(
  opts: DiffOptions,
  onProgress?: (done: number, res: DiffResult) => void,
): Promise<DiffResult> {
  const start = opts.start ?? 0;
  const per = opts.perProgram ?? 100;
  const passes = opts.passes ?? 1;
  const vopts: VirtusOptions = {
    jit: opts.jit,
    jitHot: opts.jitHot,
    passes,
    hExt: opts.guestMode !== undefined || TEST_H_EXT,
  };
  const result: DiffResult = { ran: 0, mismatches: [], errors: [], jit: noJitStats() };
  let next = 0; // next case offset to hand out
  const worker = async () => {
    while (next < opts.count) {
      const from = next;
      next = Math.min(opts.count, next + per);
      const cases: Case[] = [];
      for (let j = from; j < next; j++) cases.push(generateCase(opts.seed, start + j, opts));
      const first = cases[0].index;
      const last = cases[cases.length - 1].index;
      let q: Uint8Array;
      let elf: Uint8Array;
      let elfPath: string | undefined;
      try {
        elfPath = await buildProgram(
          programSource(cases, { passes, guestMode: opts.guestMode }),
          opts.cache ?? true,
        );
        q = await runQemu(elfPath, cases.length, passes);
        elf = readFileSync(elfPath);
      } catch (e) {
        result.errors.push(`cases ${first}..${last} (seed ${opts.seed}): ${(e as Error).message}`);
        continue;
      } finally {
        if (opts.cache === false && elfPath) rmSync(elfPath, { force: true });
      }
      const v = runVirtus(elf, cases.length, vopts);
      addJitStats(result.jit, v.jit);
      if (v.status !== "ok")
        result.errors.push(`cases ${first}..${last} (seed ${opts.seed}): virtus run ended: ${v.status}`);
      const size = blockSize(passes);
      const found: Mismatch[] = [];
      cases.forEach((c, k) => {
        const mm = compareCase(c, q, v.blocks, k * size, passes);
        if (mm) found.push(mm);
      });
      if (found.length > 0 && opts.jit !== false) {
        // Tell JIT bugs from interpreter bugs: the same program with the interpreter alone.
        const vi = runVirtus(elf, cases.length, { ...vopts, jit: false });
        for (const mm of found) {
          const k = cases.indexOf(mm.c);
          mm.interpreterMatches = compareCase(mm.c, q, vi.blocks, k * size, passes) === undefined;
        }
      }
      result.mismatches.push(...found);
      result.ran += cases.length;
      onProgress?.(result.ran, result);
    }
  };
  const jobs = opts.jobs ?? Math.max(1, Math.min(4, availableParallelism()));
  await Promise.all(Array.from({ length: jobs }, worker));
  result.mismatches.sort((a, b) => a.c.index - b.c.index);
  return result;
}

import { S_FCSR, S_MSTATUS } from "../cpu/csr-slots.ts";
import { execOp } from "../cpu/exec/index.ts";
import type { Hart } from "../cpu/hart.ts";
import { type BlockFn, SLOT_NEVER, type Tier } from "../cpu/tier.ts";
import { JIT_WORD_MAX, jitWord, setJitWord } from "../memory/code-cache.ts";
import type { GuestMemory } from "../memory/guest-memory.ts";
import { MAX_HARTS } from "../memory/layout.ts";
import { batchBytes, JIT_BATCH, type Pending } from "./batch.ts";
import { BlockUse } from "./cold.ts";
import { csrWriteLeaves } from "./csr-leave.ts";
import { emitBlock } from "./emit.ts";
import { EMITTERS } from "./emitters.ts";
import { JumpCache } from "./jump-cache.ts";
import { MAX_BLOCK, planBlock } from "./plan.ts";
import type { JitProfile } from "./profile.ts";
import { emitRegion, MAX_REGION_INSNS, planRegion, REENTRY_REGION_INSNS } from "./region.ts";

/**
 * Executions of a slot before a block is compiled there (the slot word's
 * protocol is in cpu/tier.ts).
 *
 * JIT_HOT, measured on the default guest's boot (121M instructions to GUEST-READY,
 * wall time, 2026-11-21): at 3,000, 2,300 blocks cost 0.3 s to compile
 * (~150 us each: our emitter plus V8's compile) for 2.2-2.4 s; at 10,000,
 * 600 blocks run 55% of the boot in 1.9 s; at 30,000, 2.5-2.9 s; the
 * interpreter alone 2.9-3.3 s. CPU-bound loops compile within the first
 * milliseconds either way. Again with blocks batched into modules
 * (2026-12-04, deterministic boot, CPU time, medians of six alternating
 * runs): 10,000: 779 blocks, ~3.1 s, VmHWM ~193 MB; 5,000: 1,454 blocks,
 * ~3.3 s, ~205 MB; 3,000: 2,155 blocks, ~3.5 s, ~212 MB. In the boot V8
 * still takes 100-140 us a module and 30-50 us a function to validate
 * (docs/PERFORMANCE.md), so a lower threshold does not pay yet.
 */
export const JIT_HOT = 10000;
/**
 * Compiled blocks alive at once, at most: their code lives outside the
 * JavaScript heap, so the count is what bounds it. A busy default guest
 * has ~3,700 (boot plus ls -R, find, awk, sort); past the bound a hot slot
 * stays in the interpreter until blocks are released (a page dropped, or a
 * sweep of cold code: SWEEP_EVERY).
 */
export const MAX_LIVE_BLOCKS = 32768;
/**
 * While blocks compile in the background, Machine.run returns after this
 * many instructions, so that the host's event loop (which installs them)
 * runs within a millisecond or two rather than at the end of a long run.
 */
export const JIT_YIELD_INSNS = 100_000;
/** Modules compiling in the background at once, at most (async): more waits for the host's event loop. */
const MAX_IN_FLIGHT = 4;
/**
 * Blocks installed between two sweeps for cold code (cold.ts), at least: a
 * block that did not run meanwhile is released. Measured on the default
 * guest, deterministic, boot then find, ls -lR, awk, sort and md5sum at the
 * prompt (1.4G instructions, 2026-12-04): with SWEEP_INSNS below, 3,556
 * blocks compiled, 2,014 live at the end; no sweeps, 3,468 compiled, 3,455
 * live (RSS after GC the same, 247-248 MB: V8 keeps the freed code's
 * pages). The boot alone (779 blocks) releases 22.
 */
export const SWEEP_EVERY = 256;
/**
 * Instructions (the most any hart retired) between two sweeps, at least:
 * a released block did not run for this long. With threshold 1 (the forced
 * JIT of the tests) and no such bound, a boot compiled 1.26M blocks
 * instead of 23,000, releasing code that was still running.
 */
export const SWEEP_INSNS = 32_000_000;

export interface JitOptions {
  /** Executions of a slot before a block is compiled there (JIT_HOT). */
  hot?: number;
  /** Live blocks at most (MAX_LIVE_BLOCKS). */
  maxBlocks?: number;
  /** Counters of `virtus run --profile`. */
  profile?: JitProfile;
  /** Compile in the background and install from the event loop (MachineOptions.jitAsync). */
  async?: boolean;
  /** Installations and retired instructions between sweeps for cold code (SWEEP_EVERY, SWEEP_INSNS). */
  sweepEvery?: number;
  sweepInsns?: number;
  /** Compile a hot block with the same page's blocks it jumps to, as one function (region.ts; JIT_REGIONS). */
  regions?: boolean;
}

/**
 * Whether the JIT compiles regions (region.ts) rather than single blocks,
 * unless told. Measured on gzip, sha256 and fft (2026-12-04,
 * docs/PERFORMANCE.md "Regions"): 3-5x the instructions per block run,
 * 6-24% fewer returns to JavaScript, 1.15-1.6x faster side by side at
 * load 2 (at load 5, noise).
 */
export const JIT_REGIONS = true;

/**
 * The translation cache (design 2.4): hot guest code -> WebAssembly, several
 * blocks to a module (batch.ts), cached by physical address in the
 * decoded-instruction pages, so a write that drops a decoded page (a store
 * into code, DMA, fence.i) drops its blocks with it. One per machine: harts
 * share the code. The interpreter reaches it through cpu/tier.ts.
 */
export class Jit implements Tier<Hart> {
  readonly fns: BlockFn[] = [];
  /** Guest memory: planBlock reads compressed instructions' raw bits from its RAM. */
  private readonly mem: GuestMemory;
  readonly maxBlock = MAX_BLOCK;
  private readonly free: number[] = [];
  /** The same functions by id, for chained calls from generated code. */
  private readonly table = new WebAssembly.Table({ element: "anyfunc", initial: 256 });
  /** Each hart's jump cache (jump-cache.ts). */
  private readonly jumpCaches: JumpCache[] = [];
  private readonly imports: WebAssembly.Imports;
  /** Blocks compiled so far, and instructions blocks handed to the exec helper (statistics and tests). */
  compiled = 0;
  helperCalls = 0;
  /** Conditional branches compiled as jumps inside their block (statistics and tests). */
  forwardEdges = 0;
  /** Regions compiled (blocks of more than one block: region.ts), and the blocks in them (statistics and tests). */
  regionsCompiled = 0;
  regionBlocks = 0;
  // What the exec helper needs about the block running now (set by enter()).
  private hart: Hart | undefined;
  private icount0 = 0;
  /** The most instructions a hart had retired when it entered a block: the sweeps' clock. */
  private retiredSeen = 0;

  /** Per decoded page, its slots already compiled into some block or region (1), which later regions start at. */
  private readonly covered = new WeakMap<Int32Array, Uint8Array>();

  /** Blocks released because they went cold (statistics and tests). */
  released = 0;
  private readonly use: BlockUse;

  /** Called with each block's id as it is installed (tests wrap fns[id] to watch it run). */
  onInstall: ((id: number) => void) | undefined;

  /** Executions of a slot before a block is compiled there. */
  readonly hot: number;

  /** Live blocks at most (MAX_LIVE_BLOCKS unless a test lowers it). */
  readonly maxBlocks: number;
  /** Compile modules on V8's background threads, installing them from the host's event loop (jitAsync). */
  readonly async: boolean;
  /** Compile regions (region.ts), not single blocks. */
  readonly regions: boolean;
  /** Blocks emitted and waiting for their module; batches being compiled (async); blocks in those. */
  private batch: Pending[] = [];
  private readonly inFlight: Pending[][] = [];
  private sending = 0;

  /** Counters of `virtus run --profile` (profile.ts); undefined, and no cost, otherwise. */
  readonly profile: JitProfile | undefined;

  constructor(mem: GuestMemory, opts: JitOptions = {}) {
    const hot = opts.hot ?? JIT_HOT;
    this.hot = hot;
    this.maxBlocks = opts.maxBlocks ?? MAX_LIVE_BLOCKS;
    // A slot's word (memory/code-cache.ts) holds counts up to hot and block ids above it.
    if (hot < 1 || hot + 1 + this.maxBlocks > JIT_WORD_MAX)
      throw new RangeError(`the JIT's threshold is 1 to ${JIT_WORD_MAX - 1 - this.maxBlocks}`);
    this.mem = mem;
    this.async = opts.async ?? false;
    this.regions = opts.regions ?? JIT_REGIONS;
    this.use = new BlockUse(opts.sweepEvery ?? SWEEP_EVERY, opts.sweepInsns ?? SWEEP_INSNS);
    const profile = opts.profile;
    this.profile = profile;
    profile?.attach(hot, mem.i32);
    const exec = profile === undefined ? this.exec : this.profiledExec;
    const csr = this.csrWrite(exec);
    this.imports = { env: { memory: mem.memory, table: this.table, exec, csr } };
    mem.code.onDrop = (page) => this.release(page);
    for (let i = 0; i < MAX_HARTS; i++) {
      this.jumpCaches.push(new JumpCache(mem.buffer, i));
    }
  }

  /** Lets generated code chain to block `id` when it reaches (pcLo, pcHi) under TLB set `tlbSet` (JumpCache.link). */
  link(hartId: number, pcLo: number, pcHi: number, tlbSet: number, id: number): void {
    this.use.entered(id);
    this.jumpCaches[hartId].link(pcLo, pcHi, tlbSet, id);
  }

  /** Forgets hart `hartId`'s chained jumps (its translations changed). */
  flushJumpCache(hartId: number): void {
    this.jumpCaches[hartId].flush();
    if (this.profile !== undefined) this.profile.jcFlushes++;
  }

  /** Forgets hart `hartId`'s chained jumps to pcs in the 2^shift-byte region around (vaLo, vaHi) (a page flush). */
  flushJumpCacheRegion(hartId: number, vaLo: number, vaHi: number, shift: number): void {
    this.jumpCaches[hartId].flushRegion(vaLo, vaHi, shift);
    if (this.profile !== undefined) this.profile.jcPageFlushes++;
  }

  /**
   * The interpreter found the slot at byte offset `off` of decoded page `dec`
   * hot: plans and emits a block starting there and queues it for the next
   * module. Returns the slot's new JIT word: a compiled block's (above hot)
   * when its module is ready now, SLOT_NEVER when no block can start there
   * (or none may be added), else a count up to hot, so that the slot asks
   * again after `hot >> 3` more executions if the block is still waiting:
   * then its batch is compiled at once (sync) or sent off (async).
   */
  compile(dec: Int32Array, off: number): number {
    // A slot inside a waiting block (its start, or one it covers) asks again while the block waits.
    const waiting = this.pendingAt(dec, off);
    if (waiting !== undefined) {
      if (this.batch.includes(waiting)) this.flush();
      return this.slotWord(dec, off);
    }
    if (this.liveBlocks() + this.batch.length + this.sending >= this.maxBlocks) return SLOT_NEVER;
    if (this.batch.length >= JIT_BATCH) return this.slotWord(dec, off); // async, MAX_IN_FLIGHT sent: later
    const t0 = this.profile?.now() ?? 0;
    // A slot already compiled into another function (entered here after a return to JavaScript)
    // gets a small region: a large one would mostly be a copy (REENTRY_REGION_INSNS).
    const covered = this.covered.get(dec)?.[off >> 1] === 1;
    const limit = covered ? REENTRY_REGION_INSNS : MAX_REGION_INSNS;
    const region = this.regions ? planRegion(dec, off, this.mem, limit) : [];
    const insns = region.length > 0 ? region[0].insns : planBlock(dec, off, this.mem);
    if (insns.length === 0) return SLOT_NEVER;
    const profiled = this.profile !== undefined;
    const code =
      region.length > 1 ? emitRegion(region, EMITTERS, profiled) : emitBlock(insns, off, EMITTERS, profiled);
    if (region.length > 1) {
      this.regionsCompiled++;
      this.regionBlocks += region.length;
    }
    this.forwardEdges += code.forwardEdges;
    this.cover(dec, region.length > 0 ? region : [{ start: off, insns }]);
    const last = insns[insns.length - 1];
    const ms = this.profile === undefined ? 0 : this.profile.now() - t0;
    this.batch.push({ dec, off, end: last.off + last.len, len: insns.length, ms, code, cancelled: false });
    // The block's other slots run as often as its first: they would turn hot too while it waits.
    // One count behind it, the first asks again before they do.
    const behind = this.waitWord() - 1;
    for (let i = 1; i < insns.length; i++) {
      const w = jitWord(dec, insns[i].off);
      if (w > behind && w <= this.hot) setJitWord(dec, insns[i].off, behind);
    }
    if (this.batch.length >= JIT_BATCH || (this.async && this.inFlight.length === 0)) this.flush();
    return this.slotWord(dec, off);
  }

  /** Marks the slots of `blocks` (of decoded page `dec`) as compiled into some function. */
  private cover(dec: Int32Array, blocks: readonly { insns: readonly { off: number }[] }[]): void {
    let marks = this.covered.get(dec);
    if (marks === undefined) {
      marks = new Uint8Array(2048);
      this.covered.set(dec, marks);
    }
    for (const b of blocks) for (const ins of b.insns) marks[ins.off >> 1] = 1;
  }

  /** The word for a slot whose block was queued: its block's if installed, else a wait below hot. */
  private slotWord(dec: Int32Array, off: number): number {
    const j = jitWord(dec, off);
    return j > this.hot ? j : this.waitWord();
  }

  /**
   * A queued block's first slot counts again from here, an eighth of hot
   * below it (with a threshold below 8, it asks again at its next execution:
   * code that runs three times runs compiled the third time).
   */
  private waitWord(): number {
    return this.hot - (this.hot >>> 3);
  }

  /** The queued or compiling block that holds slot `off` of `dec`, if any. */
  private pendingAt(dec: Int32Array, off: number): Pending | undefined {
    const holds = (p: Pending) => p.dec === dec && off >= p.off && off < p.end;
    for (const p of this.batch) if (holds(p)) return p;
    for (const b of this.inFlight) for (const p of b) if (holds(p)) return p;
    return undefined;
  }

  /** Whether blocks are compiling in the background (async), to be installed from the event loop. */
  compiling(): boolean {
    return this.inFlight.length > 0;
  }

  /** Compiled blocks alive now. */
  liveBlocks(): number {
    return this.fns.length - this.free.length;
  }

  /**
   * Compiles the queued blocks into one module: at once (sync), or on V8's
   * background threads (async), installed when the host's event loop next
   * runs. The interpreter runs their code meanwhile, so a block is used
   * only from its installation on; with exact retired counts either tier
   * gives the same result.
   */
  flush(): void {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    if (!this.async) {
      const t0 = this.profile?.now() ?? 0;
      const mod = new WebAssembly.Module(batchBytes(batch));
      this.install(batch, mod, this.profile === undefined ? 0 : this.profile.now() - t0);
      return;
    }
    if (this.inFlight.length >= MAX_IN_FLIGHT) {
      this.batch = batch; // the host has not run its event loop for a while: wait for it
      return;
    }
    this.inFlight.push(batch);
    this.sending += batch.length;
    // A rejection is a translator bug: left unhandled, it stops the host loudly.
    void WebAssembly.compile(batchBytes(batch)).then((mod) => {
      this.inFlight.splice(this.inFlight.indexOf(batch), 1);
      this.sending -= batch.length;
      this.install(batch, mod, 0);
      // What queued while this batch compiled goes next, as one module.
      if (this.inFlight.length === 0) this.flush();
    });
  }

  /**
   * Gives the blocks of a compiled batch ids and makes their slots call them
   * (those whose page is still held). `ms`: the module's compile time on
   * this thread, shared among its blocks in the profile.
   */
  private install(batch: readonly Pending[], mod: WebAssembly.Module, ms: number): void {
    const t0 = this.profile?.now() ?? 0;
    const exports = new WebAssembly.Instance(mod, this.imports).exports;
    const share = this.profile === undefined ? 0 : (ms + this.profile.now() - t0) / batch.length;
    let sweep = false;
    batch.forEach((p, i) => {
      if (p.cancelled) return;
      const fn = exports[`f${i}`] as BlockFn;
      const id = this.free.length > 0 ? (this.free.pop() as number) : this.fns.length;
      this.fns[id] = fn;
      if (id >= this.table.length) this.table.grow(Math.max(id + 1 - this.table.length, this.table.length));
      this.table.set(id, fn);
      setJitWord(p.dec, p.off, this.hot + 1 + id);
      this.compiled++;
      this.profile?.blockCompiled(id, p.len, p.ms + share);
      this.onInstall?.(id);
      sweep = this.use.installed(id, p.dec, p.off, this.retiredSeen) || sweep;
    });
    if (sweep) this.sweep();
  }

  /**
   * Releases the blocks that did not run since the last sweep (cold.ts):
   * their slots count again from 0, as if never hot.
   */
  private sweep(): void {
    for (const { id, dec, off } of this.use.unused()) {
      setJitWord(dec, off, 0);
      this.drop(id);
      this.released++;
    }
    for (const jc of this.jumpCaches) jc.flush();
    if (this.profile !== undefined) this.profile.jcDrops++;
  }

  /** Frees block `id`: its function goes from the table, so its module can be collected once its other blocks go. */
  private drop(id: number): void {
    this.fns[id] = UNUSED;
    this.table.set(id, null);
    this.free.push(id);
    this.use.forget(id);
  }

  /** Records, for the exec helper, the hart and retired count as blocks start running from the interpreter. */
  enter(h: Hart, icount: number): void {
    this.hart = h;
    this.icount0 = icount;
    if (icount > this.retiredSeen) this.retiredSeen = icount;
  }

  /** The blocks of a dropped decoded page are unreachable now: reuse their ids (after forgetting every chain). */
  private release(page: Int32Array): void {
    for (const p of this.batch) if (p.dec === page) p.cancelled = true;
    for (const b of this.inFlight) for (const p of b) if (p.dec === page) p.cancelled = true;
    this.batch = this.batch.filter((p) => !p.cancelled);
    let any = false;
    for (let off = 0; off < 4096; off += 2) {
      const j = jitWord(page, off);
      if (j > this.hot) {
        this.drop(j - this.hot - 1);
        any = true;
      }
    }
    if (any) for (const jc of this.jumpCaches) jc.flush();
    if (any && this.profile !== undefined) this.profile.jcDrops++;
  }

  /** The `exec` import: one instruction through the interpreter's exec functions, state synced as it expects. */
  private readonly exec = (
    op: number,
    insn: number,
    raw: number,
    pcLo: number,
    pcHi: number,
    retired: number,
  ): void => {
    const h = this.hart as Hart;
    this.helperCalls++;
    h.pcLo = pcLo;
    h.pcHi = pcHi;
    const nLo = (pcLo + ((raw & 3) === 3 ? 4 : 2)) | 0;
    h.npcLo = nLo;
    h.npcHi = nLo >>> 0 < pcLo >>> 0 ? (pcHi + 1) | 0 : pcHi;
    h.icount = this.icount0 + retired;
    h.insnBits = raw;
    execOp(h, op, insn);
  };

  /**
   * The `csr` import: a CSR write through `exec`, then 1 when the block must
   * leave right after it (csr-leave.ts), else 0. A trap unwinds as exec's.
   */
  private csrWrite(exec: typeof this.exec) {
    return (op: number, insn: number, raw: number, pcLo: number, pcHi: number, retired: number): number => {
      const c = (this.hart as Hart).c;
      const statusLo = c[S_MSTATUS * 2];
      const statusHi = c[S_MSTATUS * 2 + 1];
      const fcsr = c[S_FCSR * 2];
      exec(op, insn, raw, pcLo, pcHi, retired);
      return csrWriteLeaves(this.hart as Hart, insn >>> 20, statusLo, statusHi, fcsr) ? 1 : 0;
    };
  }

  /** The `exec` import with a profile: counts the op, and what the block retired before a trap in it. */
  private readonly profiledExec = (
    op: number,
    insn: number,
    raw: number,
    pcLo: number,
    pcHi: number,
    retired: number,
  ): void => {
    const p = this.profile as JitProfile;
    p.helper(op);
    try {
      this.exec(op, insn, raw, pcLo, pcHi, retired);
    } catch (e) {
      p.blockInsns += retired;
      p.count("helper-trap");
      throw e;
    }
  };
}

const UNUSED: BlockFn = () => 0;

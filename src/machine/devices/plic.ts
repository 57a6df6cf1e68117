import type { MmioDevice, MmioResult } from "../bus/mmio.ts";
import { IRQ_M_EXT, IRQ_S_EXT, MIP_MEIP, MIP_SEIP } from "../cpu/constants.ts";
import { type FdtContext, type FdtDevice, unitName } from "../fdt/device.ts";
import type { FdtNode } from "../fdt/node.ts";
import { expectInt32Array, expectNumber, expectVersion, StateError } from "../snapshot/state.ts";
import type { IrqLine } from "./backends.ts";

export const PLIC_SIZE = 0x60_0000;
/** Interrupt sources 1..PLIC_NDEV (source 0 means "none"), as QEMU virt's `riscv,ndev`. */
export const PLIC_NDEV = 96;
/** Priorities and thresholds are 3 bits wide (QEMU virt: 7 priority levels). */
const PRIO_MASK = 7;

/*
 * Register map (SiFive PLIC / RISC-V PLIC spec 1.0.0, chapter 3), device-relative, 32-bit registers:
 *   0x00_0000 + 4*id          priority of source id (id 0 reserved, reads 0)
 *   0x00_1000 + 4*w           pending bits of sources 32w..32w+31 (read-only)
 *   0x00_2000 + 0x80*ctx + 4*w  enable bits of sources 32w.. for context ctx
 *   0x20_0000 + 0x1000*ctx    priority threshold of context ctx
 *   0x20_0004 + 0x1000*ctx    claim (read) / complete (write)
 */
const PENDING = 0x1000;
const ENABLE = 0x2000;
const ENABLE_STRIDE = 0x80;
const CONTEXT = 0x20_0000;
const CONTEXT_STRIDE = 0x1000;
/** Bitmap words for sources 0..127 (covers PLIC_NDEV + 1 ids). */
const WORDS = 4;
/** Per bitmap word, the bits that name real sources 1..PLIC_NDEV. */
const VALID = new Int32Array(WORDS);
for (let id = 1; id <= PLIC_NDEV; id++) VALID[id >> 5] |= 1 << (id & 31);

/** What a context's output drives: a hart's mip line (Hart satisfies this). */
export interface PlicTarget {
  setIrqLine(mask: number, level: boolean): void;
}

/** The PLIC as plain data (design 2.8). Bitmaps are WORDS int32 words per set, bit id%32 of word id>>5. */
export interface PlicState {
  version: 1;
  contexts: number;
  /** Priority per source id, 0..PLIC_NDEV. */
  priority: Int32Array;
  /** Current level of each source's input line. */
  level: Int32Array;
  pending: Int32Array;
  /** Sources claimed and not yet completed (the gateway holds them). */
  claimed: Int32Array;
  /** contexts * WORDS words. */
  enable: Int32Array;
  threshold: Int32Array;
}

/**
 * SiFive PLIC as on QEMU virt. Context 2i is hart i's M-mode (drives MEIP),
 * context 2i+1 its S-mode (drives SEIP). Sources are level-triggered: the
 * pending bit follows the line while the source is not claimed; a claim
 * clears it and holds the source until complete, which re-samples the line.
 */
export class Plic implements MmioDevice, FdtDevice {
  readonly name = "plic";
  readonly base: number;
  readonly size = PLIC_SIZE;
  readonly contexts: number;
  private readonly targets: readonly PlicTarget[];
  private readonly priority = new Int32Array(PLIC_NDEV + 1);
  private readonly level = new Int32Array(WORDS);
  private readonly pending = new Int32Array(WORDS);
  private readonly claimed = new Int32Array(WORDS);
  private readonly enable: Int32Array;
  private readonly threshold: Int32Array;
  /** The level each context currently drives (1/0), to touch a hart only on change. */
  private readonly out: Int32Array;
  private readonly lines: IrqLine[] = [];

  /** `targets[i]` is hart i; it gets contexts 2i (M) and 2i+1 (S). */
  constructor(targets: readonly PlicTarget[], base: number) {
    this.targets = targets;
    this.base = base;
    this.contexts = targets.length * 2;
    this.enable = new Int32Array(this.contexts * WORDS);
    this.threshold = new Int32Array(this.contexts);
    this.out = new Int32Array(this.contexts);
    for (let id = 0; id <= PLIC_NDEV; id++) {
      const n = id;
      this.lines.push({ set: (level: boolean) => this.setLevel(n, level) });
    }
  }

  /** The input line of source `id` (1..PLIC_NDEV), for a device to drive. */
  line(id: number): IrqLine {
    if (!Number.isInteger(id) || id < 1 || id > PLIC_NDEV)
      throw new RangeError(`PLIC source ${id} out of 1..${PLIC_NDEV}`);
    return this.lines[id];
  }

  /** Drives source `id`'s input line (level-triggered). */
  setLevel(id: number, high: boolean): void {
    const w = id >> 5;
    const bit = 1 << (id & 31);
    const was = (this.level[w] & bit) !== 0;
    if (was === high || id === 0) return;
    if (high) this.level[w] |= bit;
    else this.level[w] &= ~bit;
    // The gateway forwards the level only while the source is not claimed.
    if ((this.claimed[w] & bit) === 0) {
      if (high) this.pending[w] |= bit;
      else this.pending[w] &= ~bit;
      this.update();
    }
  }

  /**
   * The highest-priority source pending and enabled for `ctx` whose priority
   * exceeds the threshold; ties go to the lowest id (PLIC spec 1.0.0 ch. 4).
   * 0 if none.
   */
  private best(ctx: number): number {
    let bestId = 0;
    let bestPrio = this.threshold[ctx];
    const eb = ctx * WORDS;
    for (let w = 0; w < WORDS; w++) {
      let bits = this.pending[w] & ~this.claimed[w] & this.enable[eb + w];
      while (bits !== 0) {
        const low = bits & -bits;
        bits ^= low;
        const id = (w << 5) | (31 - Math.clz32(low));
        const p = this.priority[id];
        if (p > bestPrio) {
          bestPrio = p;
          bestId = id;
        }
      }
    }
    return bestId;
  }

  /** Recomputes every context's output and drives the harts' MEIP/SEIP on change. */
  update(): void {
    for (let ctx = 0; ctx < this.contexts; ctx++) {
      const lvl = this.best(ctx) !== 0 ? 1 : 0;
      if (lvl !== this.out[ctx]) {
        this.out[ctx] = lvl;
        this.targets[ctx >> 1].setIrqLine((ctx & 1) === 0 ? MIP_MEIP : MIP_SEIP, lvl === 1);
      }
    }
  }

  /** Claims for context `ctx`: returns the source id (0 if none) and holds it until complete. */
  claim(ctx: number): number {
    const id = this.best(ctx);
    if (id !== 0) {
      const w = id >> 5;
      const bit = 1 << (id & 31);
      this.pending[w] &= ~bit;
      this.claimed[w] |= bit;
      this.update();
    }
    return id;
  }

  /**
   * Completes source `id` for context `ctx`. Ignored unless the source is
   * enabled for the context (PLIC spec 1.0.0 ch. 9) and claimed. A line still
   * high makes it pending again.
   */
  complete(ctx: number, id: number): void {
    if (id <= 0 || id > PLIC_NDEV) return;
    const w = id >> 5;
    const bit = 1 << (id & 31);
    if ((this.enable[ctx * WORDS + w] & bit) === 0 || (this.claimed[w] & bit) === 0) return;
    this.claimed[w] &= ~bit;
    if ((this.level[w] & bit) !== 0) this.pending[w] |= bit;
    this.update();
  }

  private read32(off: number): number {
    if (off < PENDING) {
      const id = off >> 2;
      return id <= PLIC_NDEV ? this.priority[id] : 0;
    }
    if (off < ENABLE) {
      const w = (off - PENDING) >> 2;
      return w < WORDS ? this.pending[w] : 0;
    }
    if (off < CONTEXT) {
      const ctx = ((off - ENABLE) / ENABLE_STRIDE) | 0;
      const w = ((off - ENABLE) % ENABLE_STRIDE) >> 2;
      return ctx < this.contexts && w < WORDS ? this.enable[ctx * WORDS + w] : 0;
    }
    const ctx = ((off - CONTEXT) / CONTEXT_STRIDE) | 0;
    if (ctx >= this.contexts) return 0;
    const reg = (off - CONTEXT) % CONTEXT_STRIDE;
    if (reg === 0) return this.threshold[ctx];
    if (reg === 4) return this.claim(ctx);
    return 0;
  }

  private write32(off: number, v: number): void {
    if (off < PENDING) {
      const id = off >> 2;
      if (id >= 1 && id <= PLIC_NDEV) {
        this.priority[id] = v & PRIO_MASK;
        this.update();
      }
      return;
    }
    if (off < ENABLE) return; // pending bits are read-only
    if (off < CONTEXT) {
      const ctx = ((off - ENABLE) / ENABLE_STRIDE) | 0;
      const w = ((off - ENABLE) % ENABLE_STRIDE) >> 2;
      if (ctx < this.contexts && w < WORDS) {
        this.enable[ctx * WORDS + w] = v & VALID[w];
        this.update();
      }
      return;
    }
    const ctx = ((off - CONTEXT) / CONTEXT_STRIDE) | 0;
    if (ctx >= this.contexts) return;
    const reg = (off - CONTEXT) % CONTEXT_STRIDE;
    if (reg === 0) {
      this.threshold[ctx] = v & PRIO_MASK;
      this.update();
    } else if (reg === 4) this.complete(ctx, v >>> 0);
  }

  /** 32-bit registers; an 8-byte access is two 32-bit ones (low word first); narrower ones read 0 and are ignored. */
  read(off: number, size: number, res: MmioResult): number {
    if ((off & 3) !== 0) return 0;
    if (size === 4) return this.read32(off);
    if (size === 8) {
      const lo = this.read32(off);
      res.hi = this.read32(off + 4);
      return lo;
    }
    return 0;
  }

  write(off: number, size: number, lo: number, hi: number): void {
    if ((off & 3) !== 0) return;
    if (size === 4) this.write32(off, lo);
    else if (size === 8) {
      this.write32(off, lo);
      this.write32(off + 4, hi);
    }
  }

  /** `plic@c000000` as QEMU virt writes it; sets ctx.plic. */
  fdt(ctx: FdtContext): FdtNode {
    const ext: (number | FdtNode)[] = [];
    for (let h = 0; h < this.targets.length; h++)
      ext.push(ctx.cpuIntc[h], IRQ_M_EXT, ctx.cpuIntc[h], IRQ_S_EXT);
    const n = ctx.soc
      .addNode(unitName("plic", this.base))
      .u32("#address-cells", 0)
      .u32("#interrupt-cells", 1)
      .strings("compatible", "sifive,plic-1.0.0", "riscv,plic0")
      .empty("interrupt-controller")
      .cells("interrupts-extended", ...ext)
      .u64("reg", this.base, this.size)
      .u32("riscv,ndev", PLIC_NDEV);
    ctx.plic = n;
    return n;
  }

  saveState(): PlicState {
    return {
      version: 1,
      contexts: this.contexts,
      priority: this.priority.slice(),
      level: this.level.slice(),
      pending: this.pending.slice(),
      claimed: this.claimed.slice(),
      enable: this.enable.slice(),
      threshold: this.threshold.slice(),
    };
  }

  /** Validates everything first; then loads and re-drives every context's output. */
  restoreState(s: PlicState): void {
    const who = "plic";
    expectVersion(who, s, 1);
    if (s.contexts !== this.contexts)
      throw new StateError(who, `${String(s.contexts)} contexts, this machine has ${this.contexts}`);
    const priority = expectInt32Array(who, "priority", s.priority, PLIC_NDEV + 1);
    const bitmaps = {
      level: expectInt32Array(who, "level", s.level, WORDS),
      pending: expectInt32Array(who, "pending", s.pending, WORDS),
      claimed: expectInt32Array(who, "claimed", s.claimed, WORDS),
      enable: expectInt32Array(who, "enable", s.enable, this.contexts * WORDS),
    };
    const threshold = expectInt32Array(who, "threshold", s.threshold, this.contexts);
    if (priority[0] !== 0) throw new StateError(who, "source 0 has no priority");
    for (const p of priority) expectNumber(who, "priority", p, 0, PRIO_MASK);
    for (const t of threshold) expectNumber(who, "threshold", t, 0, PRIO_MASK);
    for (const [k, words] of Object.entries(bitmaps)) {
      for (let i = 0; i < words.length; i++) {
        if ((words[i] & ~VALID[i % WORDS]) !== 0)
          throw new StateError(who, `${k} has bits for sources that do not exist`);
      }
    }
    for (let w = 0; w < WORDS; w++) {
      if ((bitmaps.pending[w] & bitmaps.claimed[w]) !== 0)
        throw new StateError(who, "a source is both pending and claimed");
    }
    this.priority.set(priority);
    this.level.set(bitmaps.level);
    this.pending.set(bitmaps.pending);
    this.claimed.set(bitmaps.claimed);
    this.enable.set(bitmaps.enable);
    this.threshold.set(threshold);
    // Drive every output, whatever the harts held before.
    for (let ctx = 0; ctx < this.contexts; ctx++) {
      const lvl = this.best(ctx) !== 0 ? 1 : 0;
      this.out[ctx] = lvl;
      this.targets[ctx >> 1].setIrqLine((ctx & 1) === 0 ? MIP_MEIP : MIP_SEIP, lvl === 1);
    }
  }
}

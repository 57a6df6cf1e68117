import { TLB_LOAD, TLB_STORE } from "../mmu/tlb.ts";
import { type BlockEmitter, forOps, type OpEmitters } from "./emit.ts";
import { address, probe } from "./emit-mem.ts";
import { Op } from "./wasm.ts";

/**
 * A: the AMOs inline, LR and SC through the exec helper behind the probe
 * (lrsc). Harts run one at a time, so an AMO is a plain
 * read-modify-write (cpu/exec/rva.ts), here at the host address of the
 * store TLB probe: a miss, a misaligned address (which must raise
 * address-misaligned), MMIO or a page holding code leaves the block before
 * it, as for a store. rd gets the old value, sign-extended for the .w
 * forms; the .w forms compute in 32 bits.
 */

/** By funct5 (insn >>> 27): the operation on (old, rs2), both of the AMO's width, leaving the new value. */
function combine(e: BlockEmitter, f5: number, dbl: boolean, old: () => void, src: () => void): void {
  const c = e.c;
  const pick = (cmp64: number, cmp32: number) => {
    // select(old, src, old cmp src)
    old();
    src();
    old();
    src();
    c.op(dbl ? cmp64 : cmp32, Op.select);
  };
  switch (f5) {
    case 0x01: // amoswap
      src();
      return;
    case 0x00: // amoadd
      old();
      src();
      c.op(dbl ? Op.i64Add : Op.i32Add);
      return;
    case 0x04: // amoxor
      old();
      src();
      c.op(dbl ? Op.i64Xor : Op.i32Xor);
      return;
    case 0x0c: // amoand
      old();
      src();
      c.op(dbl ? Op.i64And : Op.i32And);
      return;
    case 0x08: // amoor
      old();
      src();
      c.op(dbl ? Op.i64Or : Op.i32Or);
      return;
    case 0x10: // amomin
      return pick(Op.i64LtS, Op.i32LtS);
    case 0x14: // amomax
      return pick(Op.i64GtS, Op.i32GtS);
    case 0x18: // amominu
      return pick(Op.i64LtU, Op.i32LtU);
    default: // 0x1c amomaxu (the planner admits only the nine AMOs)
      return pick(Op.i64GtU, Op.i32GtU);
  }
}

const amo = (e: BlockEmitter) => {
  const c = e.c;
  const insn = e.ins.insn;
  const dbl = ((insn >>> 12) & 7) === 3;
  const s = e.i64Scratch();
  const at = e.ent; // i32: the host address (free once the probe is done)
  address(e, 0);
  probe(e, TLB_STORE, dbl ? 8 : 4);
  c.set(at);
  const src = () => {
    e.val(e.rs2);
    if (!dbl) c.op(Op.i32WrapI64);
  };
  if (dbl) c.get(at).mem(Op.i64Load, 3, 0).set(s);
  else c.get(at).mem(Op.i64Load32S, 2, 0).set(s); // old, sign-extended: rd's value
  const old = () => {
    c.get(s);
    if (!dbl) c.op(Op.i32WrapI64);
  };
  c.get(at);
  combine(e, insn >>> 27, dbl, old, src);
  c.mem(dbl ? Op.i64Store : Op.i32Store, dbl ? 3 : 2, 0);
  c.get(s);
  e.setRd(e.rd);
};

/**
 * LR and SC in blocks: the reservation (address and the value LR read:
 * cpu/exec/rva.ts) lives in the interpreter's hart, so the exec helper runs
 * them, but only after the TLB probe LR's load or SC's store would make
 * (the banks the interpreter refills for a block's first access) hit: a
 * miss, a misaligned address, MMIO or, for SC, a page holding code leaves
 * the block before the instruction as for any access, so the helper never
 * faults on translation or writes into decoded code.
 */
const lrsc = (e: BlockEmitter) => {
  const { op, insn } = e.ins;
  const isLr = op === 77 /* lr.w */ || op === 88 /* lr.d */;
  address(e, 0);
  probe(e, isLr ? TLB_LOAD : TLB_STORE, ((insn >>> 12) & 7) === 3 ? 8 : 4);
  e.c.op(Op.drop);
  e.helper();
};

export const LRSC_EMITTERS: OpEmitters = forOps(
  [77 /* lr.w */, 78 /* sc.w */, 88 /* lr.d */, 89 /* sc.d */],
  lrsc,
);

export const AMO_EMITTERS: OpEmitters = forOps(
  [
    79 /* amoswap.w */, 80 /* amoadd.w */, 81 /* amoxor.w */, 82 /* amoand.w */, 83 /* amoor.w */,
    84 /* amomin.w */, 85 /* amomax.w */, 86 /* amominu.w */, 87 /* amomaxu.w */, 90 /* amoswap.d */,
    91 /* amoadd.d */, 92 /* amoxor.d */, 93 /* amoand.d */, 94 /* amoor.d */, 95 /* amomin.d */,
    96 /* amomax.d */, 97 /* amominu.d */, 98 /* amomaxu.d */,
  ],
  amo,
);

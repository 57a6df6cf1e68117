import { HART_F } from "../memory/layout.ts";
import { TLB_LOAD, TLB_STORE } from "../mmu/tlb.ts";
import { type BlockEmitter, forOps, type OpEmitters, P_HART } from "./emit.ts";
import { Op } from "./wasm.ts";

/**
 * Integer and FP loads and stores: the address, the inline TLB probe
 * (emit.ts BlockEmitter.probe: a miss, a misaligned access, MMIO or a store
 * to a page with code leaves the block before the instruction), then one
 * wasm access to the host address. FP data goes through the f registers in
 * memory.
 */

/** wasm loads by funct3: lb, lh, lw, ld, lbu, lhu, lwu. */
const LOADS = [
  Op.i64Load8S,
  Op.i64Load16S,
  Op.i64Load32S,
  Op.i64Load,
  Op.i64Load8U,
  Op.i64Load16U,
  Op.i64Load32U,
];
/** wasm stores by funct3: sb, sh, sw, sd. */
const STORES = [Op.i64Store8, Op.i64Store16, Op.i64Store32, Op.i64Store];

const load = (e: BlockEmitter) => {
  const f3 = (e.ins.insn >>> 12) & 7;
  e.address(e.immI);
  e.probe(TLB_LOAD, 1 << (f3 & 3));
  e.c.mem(LOADS[f3], 0, 0);
  e.setRd(e.rd);
};

const store = (e: BlockEmitter) => {
  const f3 = (e.ins.insn >>> 12) & 7;
  e.address(e.immS);
  e.probe(TLB_STORE, 1 << f3);
  e.val(e.rs2);
  e.c.mem(STORES[f3], 0, 0);
};

/** flw/fld: the value NaN-boxed (flw) into f[rd], FS dirty. */
const fpLoad = (e: BlockEmitter) => {
  const double = e.ins.op === 169 /* fld */;
  e.c.get(P_HART);
  e.address(e.immI);
  e.probe(TLB_LOAD, double ? 8 : 4);
  if (double) e.c.mem(Op.i64Load, 0, 0);
  else e.c.mem(Op.i64Load32U, 0, 0).i64Const(-0x100000000n).op(Op.i64Or); // NaN-boxed
  e.c.mem(Op.i64Store, 3, HART_F + 8 * e.rd);
  e.fpDirty();
};

const fpStore = (e: BlockEmitter) => {
  const double = e.ins.op === 170 /* fsd */;
  e.address(e.immS);
  e.probe(TLB_STORE, double ? 8 : 4);
  e.c.get(P_HART).mem(Op.i64Load, 3, HART_F + 8 * e.rs2);
  e.c.mem(double ? Op.i64Store : Op.i64Store32, 0, 0);
};

export const MEM_EMITTERS: OpEmitters = {
  ...forOps(
    [11 /* lb */, 12 /* lh */, 13 /* lw */, 14 /* ld */, 15 /* lbu */, 16 /* lhu */, 17 /* lwu */],
    load,
  ),
  ...forOps([18 /* sb */, 19 /* sh */, 20 /* sw */, 21 /* sd */], store),
  ...forOps([139 /* flw */, 169 /* fld */], fpLoad),
  ...forOps([140 /* fsw */, 170 /* fsd */], fpStore),
};

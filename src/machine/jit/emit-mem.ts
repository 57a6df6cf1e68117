import { HART_F } from "../memory/layout.ts";
import { TLB_FOLD, TLB_LOAD, TLB_MASK, TLB_STORE, TLB_WAY } from "../mmu/tlb.ts";
import { type BlockEmitter, forOps, type OpEmitters, P_HART, P_TLB } from "./emit.ts";
import { EXIT_KIND_MEMORY } from "./profile.ts";
import { I32, Op } from "./wasm.ts";

/**
 * Integer and FP loads and stores: the address, the inline TLB probe (a
 * miss, a misaligned access, MMIO or a store to a page with code leaves the
 * block before the instruction: none is in the TLB bank), then one wasm
 * access to the host address. FP data goes through the f registers in
 * memory.
 */

/** Sets `va` to rs1 + imm. */
export function address(e: BlockEmitter, imm: number): void {
  e.val(e.rs1).i64Const(imm).op(Op.i64Add).set(e.va);
}

/**
 * Pushes the tag an entry must hold for a `size`-byte access at `va`: its
 * page (a misaligned address keeps its low bits and so matches no tag).
 */
function tagOf(e: BlockEmitter, size: number): void {
  e.c
    .get(e.va)
    .i64Const(~0xfff | (size - 1))
    .op(Op.i64And);
}

/**
 * The inline TLB probe of a `size`-byte access at the address in `va` by
 * the current instruction: leaves the host address on the stack, or leaves
 * the block before the instruction on a miss (mmu/tlb.ts: 16-byte entries,
 * tag i64 then `add`, which the address's low word completes to the linear
 * address; two ways). Way 1 is read only when way 0 misses.
 */
export function probe(e: BlockEmitter, bank: number, size: number): void {
  const c = e.c;
  const bankOff = bank * 16;
  // The entry's byte offset: tlbIndex(va) << 4 (16-byte entries) = (va >>> 8 ^ va >>> (TLB_FOLD - 4)) &
  // (TLB_MASK << 4), from the address's low word (the index uses its bits 12-31 only).
  c.get(e.va)
    .op(Op.i32WrapI64)
    .tee(e.ent)
    .i32Const(12 - 4)
    .op(Op.i32ShrU)
    .get(e.ent)
    .i32Const(TLB_FOLD - 4)
    .op(Op.i32ShrU, Op.i32Xor)
    .i32Const(TLB_MASK << 4)
    .op(Op.i32And);
  c.get(P_TLB).op(Op.i32Add).tee(e.ent).mem(Op.i64Load, 3, bankOff);
  tagOf(e, size);
  c.op(Op.i64Ne);
  // The page's linear offset from way 1 if way 0 missed (else leave), else from way 0.
  e.ifOpen(I32);
  c.get(e.ent).mem(Op.i64Load, 3, bankOff + TLB_WAY * 16);
  tagOf(e, size);
  c.op(Op.i64Ne);
  e.ifOpen();
  e.pcConst(e.ins.off);
  e.exitWith(e.k, EXIT_KIND_MEMORY);
  e.ifClose();
  c.get(e.ent).mem(Op.i32Load, 2, bankOff + TLB_WAY * 16 + 8);
  c.op(Op.else);
  c.get(e.ent).mem(Op.i32Load, 2, bankOff + 8);
  e.ifClose();
  c.get(e.va).op(Op.i32WrapI64, Op.i32Add); // + the address's low word (the entry's `add`)
}

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
  address(e, e.imm);
  probe(e, TLB_LOAD, 1 << (f3 & 3));
  e.c.mem(LOADS[f3], 0, 0);
  e.setRd(e.rd);
};

const store = (e: BlockEmitter) => {
  const f3 = (e.ins.insn >>> 12) & 7;
  address(e, e.imm);
  probe(e, TLB_STORE, 1 << f3);
  e.val(e.rs2);
  e.c.mem(STORES[f3], 0, 0);
};

/** flw/fld: the value NaN-boxed (flw) into f[rd], FS dirty. */
const fpLoad = (e: BlockEmitter) => {
  const double = e.ins.op === 169 /* fld */;
  e.c.get(P_HART);
  address(e, e.imm);
  probe(e, TLB_LOAD, double ? 8 : 4);
  if (double) e.c.mem(Op.i64Load, 0, 0);
  else e.c.mem(Op.i64Load32U, 0, 0).i64Const(-0x100000000n).op(Op.i64Or); // NaN-boxed
  e.c.mem(Op.i64Store, 3, HART_F + 8 * e.rd);
  e.fpDirty();
};

const fpStore = (e: BlockEmitter) => {
  const double = e.ins.op === 170 /* fsd */;
  address(e, e.imm);
  probe(e, TLB_STORE, double ? 8 : 4);
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

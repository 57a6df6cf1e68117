import { OP_NOP } from "../memory/code-cache.ts";
import { type BlockCode, BlockEmitter, type OpEmit, type RegionBlock } from "./emit.ts";
import { type Insn, Kind, kindOf, planBlock, targetOf } from "./plan.ts";

/**
 * Regions (issue 15, item 3): a hot block together with the blocks of the
 * same page its direct jumps, taken branches and fall-throughs reach,
 * transitively, as far as they are decoded, in one wasm function. Control
 * moves between them inside the function (a loop around a br_table on the
 * block to run next, with a budget check at each move), with the guest
 * registers in locals all the while, instead of through the jump cache,
 * a tail call and a reload of the registers (emit.ts chain()). Every other
 * way out (another page, an indirect jump, a memory miss, the budget) is
 * the block's. A block may appear in several regions, and as a block of
 * its own: regions are entered at their first block only.
 *
 * The blocks are laid out in reverse postorder from the first, so that
 * every move that is not a loop's back edge goes to a later block: those
 * are forward branches in the wasm, and only back edges pass through the
 * dispatch loop (emit.ts).
 */

/** Blocks in a region, at most. */
export const MAX_REGION_BLOCKS = 8;
/** Instructions in a region, at most (the bound on its code size and compile time). */
export const MAX_REGION_INSNS = 256;
/**
 * Instructions in a region, at most, when its first instruction is already
 * compiled into another block or region (the interpreter reached it after a
 * return from compiled code: a memory exit, a jump-cache miss): such a
 * region would mostly copy code compiled already. bzip2 (boot, data, run;
 * 2026-12-04, scratch counters) compiled 284k instructions for 27.6k
 * distinct ones with every region up to 256; with these up to 64, 133k,
 * and V8's background TurboFan time fell from 2.8 to 1.4 s (sha256, whose
 * loops are compiled whole at their first compile, unchanged).
 */
export const REENTRY_REGION_INSNS = 64;

/** Byte offsets in the page that block `insns` may continue at without leaving compiled code. */
export function successors(insns: readonly Insn[]): number[] {
  const out: number[] = [];
  for (const ins of insns) {
    const t = targetOf(ins);
    if (t >= 0 && t < 4096) out.push(t);
  }
  const last = insns[insns.length - 1];
  if (kindOf(last.op) !== Kind.end && last.off + last.len < 4096) out.push(last.off + last.len);
  return out;
}

/**
 * The blocks of the region starting at byte offset `start` of decoded page
 * `dec`, the first starting there, breadth first along successors(); empty
 * when no block can start there. One block means no region (the plain
 * block is the same code).
 */
export function planRegion(
  dec: Int32Array,
  start: number,
  mem: { u16: Uint16Array; ramLinear: number },
  maxInsns = MAX_REGION_INSNS,
): RegionBlock[] {
  const first = planBlock(dec, start, mem);
  if (first.length === 0) return [];
  const blocks: RegionBlock[] = [{ start, insns: first }];
  const seen = new Set([start]);
  let total = first.length;
  for (let i = 0; i < blocks.length && blocks.length < MAX_REGION_BLOCKS; i++) {
    for (const t of successors(blocks[i].insns)) {
      if (seen.has(t) || blocks.length >= MAX_REGION_BLOCKS) continue;
      seen.add(t);
      const insns = planBlock(dec, t, mem);
      if (insns.length === 0 || total + insns.length > maxInsns) continue;
      blocks.push({ start: t, insns });
      total += insns.length;
    }
  }
  return inReversePostorder(blocks);
}

/** The region's blocks in reverse postorder of a depth-first walk from the first (successors taken last to first). */
function inReversePostorder(blocks: RegionBlock[]): RegionBlock[] {
  const at = new Map(blocks.map((b, i) => [b.start, i]));
  const seen = new Set<number>();
  const post: RegionBlock[] = [];
  const visit = (i: number) => {
    seen.add(i);
    const next = successors(blocks[i].insns)
      .map((t) => at.get(t))
      .filter((j) => j !== undefined);
    for (const j of next.reverse()) if (!seen.has(j)) visit(j);
    post.push(blocks[i]);
  };
  visit(0);
  return post.reverse();
}

const helperOp: OpEmit = (e) => e.helper();

/** Emits one function for the region `blocks` (planRegion, two or more), entered at its first block. */
export function emitRegion(
  blocks: readonly RegionBlock[],
  emitters: readonly (OpEmit | undefined)[],
  profile = false,
): BlockCode {
  const all = blocks.flatMap((b) => b.insns);
  const e = new BlockEmitter(all, blocks[0].start, profile, blocks);
  e.prologue();
  blocks.forEach((b, i) => {
    e.beginBlock(i);
    b.insns.forEach((ins, k) => {
      e.at(ins, k);
      if (ins.op !== OP_NOP) (emitters[ins.op] ?? helperOp)(e);
    });
    e.endBlock();
  });
  e.epilogue();
  return { locals: e.locals.declared, body: e.c.result(), forwardEdges: e.forwardEdges };
}

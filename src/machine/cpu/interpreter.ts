import { decode } from "../../isa/decoder.generated.ts";
import {
  FP_STATE,
  Imm,
  JIT_INLINE,
  MEM,
  NOP,
  OP_FLAGS,
  OP_IMM,
  OP_JIT,
  OP_REGS,
  PURE,
  READS_RS2,
} from "../../isa/facts.ts";
import { RVC_EXPANSION } from "../../isa/rvc.ts";

import {
  JIT_SHIFT,
  OP_MASK,
  OP_NOP,
  OPW_COMPRESSED,
  OPW_DECODED,
  OPW_VALID,
  rawBits,
  SLOT_WORDS,
  STRADDLE_PAGE,
} from "../memory/code-cache.ts";
import { TLB_FOLD, TLB_LOAD, TLB_MASK, TLB_STORE } from "../mmu/tlb.ts";
import { CAUSE_BREAKPOINT, CAUSE_USER_ECALL, MSTATUS_FS } from "./constants.ts";
import { S_MSTATUS, S_VIRT } from "./csr-slots.ts";
import { execOp } from "./exec/index.ts";
import { type Hart, TRAP } from "./hart.ts";
import { lt, ltu, sll, sra, srl } from "./int64.ts";
import type { BlockFn, TierProfile } from "./tier.ts";
import { checkExecTriggers, execTriggerSet } from "./triggers.ts";

/**
 * Slots where a block returned to the interpreter compile at
 * hot >> EXIT_HOT_SHIFT executions (1,250 of 10,000). Measured on
 * speedtest1 (in-process): shift 0 (no special case) 6.1 s, 7,420 blocks;
 * 3: 4.3 s, 3,126 blocks (95% of instructions in blocks); 4: 4.2 s; 6: 4.4 s;
 * 8: 4.8 s, 5,793 blocks. The boot is unchanged at 3 and slower from 6 on.
 */
const EXIT_HOT_SHIFT = 3;

/**
 * The interpreter, and the semantics of RV64I (unpriv spec chapters 2 and
 * 5). For at most `budget` instructions, or until something ends the slice
 * early (a trap, a CSR write, wfi, a device interrupt line, a TLB flush, a
 * store into a page holding decoded code), it looks up the decoded
 * instruction at pc and executes it. Pending interrupts are taken at the
 * start of a slice, never mid-instruction (design 2.6).
 *
 * Why RV64I lives here and not in exec/: a call per instruction into an
 * extension function and its second switch cost about 20% of the time
 * (measured with the int benchmark), so the base ISA, which is most of
 * what runs, executes inline with pc and the retired count in locals. Loads
 * and stores take the TLB fast path inline. Everything else goes through
 * one exec function per extension, with the hart's fields synced first.
 *
 * Decoding happens once per physical instruction slot (memory/code-cache.ts);
 * the current virtual code page's translation is cached in locals (a TLB
 * flush ends the slice). Op numbers are literals tagged with their
 * instruction's name, kept current by `npm run gen:isa`.
 *
 * The second tier (reached through tier.ts; the JIT in jit/ implements it): each slot's fourth word counts its executions;
 * at the JIT's threshold a block is compiled there and run at once, and
 * from then on the interpreter calls the block, which may chain through
 * other blocks, and takes back the count retired and the next pc. Blocks
 * stop before anything irregular, so every trap, MMIO access and code
 * invalidation still happens here.
 */
export function runSlice(h: Hart, budget: number): void {
  if (h.checkInterrupts() || h.waiting) return;
  if (execTriggerSet(h)) runWithExecTriggers(h, budget);
  else execute(h, budget);
}

/**
 * Sdtrig (triggers.ts): while an execute trigger is set, instructions run
 * one at a time with a pc check before each (no blocks: a block's budget
 * is never the longest block's). The slice ends as it would otherwise: on a
 * trap, or when something sets sliceEnd to 0.
 */
function runWithExecTriggers(h: Hart, budget: number): void {
  const end = h.icount + budget;
  try {
    while (h.icount < end) {
      checkExecTriggers(h);
      const before = h.icount;
      execute(h, 1);
      if (h.sliceEnd === 0 || h.icount !== before + 1) return;
    }
  } catch (e) {
    if (e !== TRAP) throw e;
    h.takeTrap();
  }
}

function execute(h: Hart, budget: number): void {
  // Imported constants are live bindings: optimized code loads each one from its module's cell
  // with a hole check at every use (several per instruction). Local copies are plain values, and
  // `| 0` makes them int32s to V8, so no use checks for a small integer and untags it.
  const jitShift = JIT_SHIFT | 0;
  const opMask = OP_MASK | 0;
  const opNop = OP_NOP | 0;
  const opwCompressed = OPW_COMPRESSED | 0;
  const opwDecoded = OPW_DECODED | 0;
  const opwValid = OPW_VALID | 0;
  const tlbFold = TLB_FOLD | 0;
  const tlbLoad = TLB_LOAD | 0;
  const tlbMask = TLB_MASK | 0;
  const tlbStore = TLB_STORE | 0;
  const mstatusFs = MSTATUS_FS | 0;
  const firstAccess = FIRST_ACCESS;
  const x = h.x;
  const f = h.f;
  const c = h.c;
  const code = h.mem.code;
  const ramLinear = h.mem.ramLinear;
  const tw = h.tlb.w; // entry n: tag lo at tw[n << 2], tag hi at tw[(n << 2) + 1]
  const tu = h.tlb.u; // entry n: linear page offset - page (mod 2^32) at tu[(n << 2) + 2]
  const tb = h.tlb.base; // the current privilege's TLB set (a privilege change ends the slice)
  const u8 = h.u8;
  const i8 = h.i8;
  const u16 = h.u16;
  const i16 = h.i16;
  const i32 = h.i32;
  // V=1 code stays in the interpreter (the JIT knows one translation regime per TLB set and no
  // two-stage faults); a change of V ends the slice.
  const jit = c[S_VIRT * 2] !== 0 ? undefined : h.jit;
  const blocks = jit?.fns;
  const hot = jit === undefined ? 0 : jit.hot;
  const maxBlock = jit === undefined ? 0 : jit.maxBlock;
  const exitHot = hot >>> EXIT_HOT_SHIFT;
  let afterBlock = false; // pc is where a block just returned
  // With a profile (cpu/tier.ts TierProfile): where the interpreter's current stretch of
  // instructions began, whether a block is running (a trap then comes from its helper), whether a
  // block's return waits to be classified until its pc's page is fetched.
  const prof = h.jit?.profile; // also with V=1, when no block runs: all is interpreted
  let since = h.icount;
  let inBlock = false;
  let exitPending = false;
  const hartLinear = h.linear;
  const tlbSet = h.tlb.linear + tb * 16; // linear address of the current TLB set (16-byte entries)
  const pcw = h.pcWords;
  let dec: Int32Array = EMPTY;
  let decLinear = 0; // linear address of `dec`'s RAM page
  let pageLo = 1; // virtual page of `dec` (1 = none: page bases have 12 zero bits)
  let pageHi = 0;
  let pcLo = h.pcLo;
  let pcHi = h.pcHi;
  let icount = h.icount;
  h.sliceEnd = icount + budget;
  let limit = h.sliceEnd;
  try {
    while (icount < limit) {
      if ((pcLo & ~0xfff) !== pageLo || pcHi !== pageHi) {
        h.pcLo = pcLo;
        h.pcHi = pcHi;
        h.icount = icount;
        const at = h.fetchLinear(pcLo, pcHi);
        dec = code.page((at - ramLinear) >>> 12);
        decLinear = at & ~0xfff;
        pageLo = pcLo & ~0xfff;
        pageHi = pcHi;
        if (exitPending) {
          exitPending = false;
          (prof as TierProfile).exitAt(hartLinear, tlbSet, dec, pcLo, limit - icount);
        }
      }
      const s = pcLo & 0xffe; // slot (pc/2) * SLOT_WORDS (2)
      let opw = dec[s + 1];
      if (jit !== undefined) {
        let j = opw >> jitShift;
        // Where a block left off is where the next block should start: such a slot compiles at
        // a fraction of the threshold (exitHot), so the code between blocks gets its own sooner.
        if (j < hot && !(afterBlock && j >= exitHot && canStart(dec, s, opw)))
          dec[s + 1] = opw + (1 << jitShift);
        else {
          if (j < hot) j = hot;
          if (j === hot && canStart(dec, s, opw)) {
            // Hot: compile, and run the block at once, so the slots after this one (just as hot
            // in straight-line code) are not reached by the interpreter and compiled one by one.
            // (With batched or background compiling, the block may come later: j is then a count.)
            j = jit.compile(dec, pcLo & 0xfff);
            dec[s + 1] = (dec[s + 1] & opwDecoded) | (j << jitShift);
          }
          if (j > hot && limit - icount >= maxBlock) {
            // A compiled block starts here. It retires nothing when it cannot make progress. (With
            // less budget than the longest block it would often refuse: step the slice's tail.)
            const id = j - hot - 1;
            if (prof !== undefined) {
              prof.interpInsns += icount - since;
              since = icount;
            }
            const first = firstAccess[dec[s + 1] & opMask];
            if (first !== 0 && refillFirstAccess(h, dec[s], first, prof)) {
              limit = 0; // the refill dropped decoded code (a store into its page): end the slice
              continue;
            }
            jit.enter(h, icount);
            jit.link(h.id, pcLo, pcHi, tlbSet, id);
            if (prof !== undefined) inBlock = true;
            const n = (blocks as readonly BlockFn[])[id](hartLinear, tlbSet, limit - icount, pcLo, pcHi, 0);
            if (prof !== undefined) {
              inBlock = false;
              since = icount + n;
              exitPending = prof.returned(
                n,
                hartLinear,
                tlbSet,
                dec,
                pageLo,
                pageHi,
                pcw[0],
                pcw[1],
                limit - since,
              );
            }
            if (n !== 0) {
              icount += n;
              pcLo = pcw[0];
              pcHi = pcw[1];
              afterBlock = true;
              limit = h.sliceEnd; // a CSR write in the block may have ended the slice (jit/csr-leave.ts)
              continue;
            }
          }
        }
      }
      afterBlock = false;
      let insn = dec[s];
      let raw = 0;
      if ((opw & opwValid) === 0) {
        h.pcLo = pcLo;
        h.pcHi = pcHi;
        h.icount = icount;
        opw = decodeSlot(h, dec, s, pcLo);
        insn = lastInsn;
        raw = lastRaw;
      }
      let nLo = (pcLo + (opw & opwCompressed ? 2 : 4)) | 0;
      let nHi = nLo >>> 0 < pcLo >>> 0 ? (pcHi + 1) | 0 : pcHi;
      switch (opw & opMask) {
        case opNop:
          break;
        case 1 /* lui */:
          {
            const rd = (insn >>> 6) & 62;
            x[rd] = insn & 0xfffff000;
            x[rd + 1] = insn >> 31;
            break;
          }
        case 2 /* auipc */:
          {
            const rd = (insn >>> 6) & 62;
            const imm = insn & 0xfffff000;
            const lo = (pcLo + imm) | 0;
            x[rd + 1] = (pcHi + (imm >> 31) + (lo >>> 0 < pcLo >>> 0 ? 1 : 0)) | 0;
            x[rd] = lo;
            break;
          }
        case 3 /* jal */:
          {
            const rd = (insn >>> 6) & 62;
            const imm =
              ((insn >> 31) << 20) |
              (insn & 0xff000) |
              (((insn >>> 20) & 1) << 11) |
              (((insn >>> 21) & 0x3ff) << 1);
            if (rd !== 0) {
              x[rd] = nLo;
              x[rd + 1] = nHi;
            }
            nLo = (pcLo + imm) | 0;
            nHi = (pcHi + (imm >> 31) + (nLo >>> 0 < pcLo >>> 0 ? 1 : 0)) | 0;
            break;
          }
        case 4 /* jalr */:
          {
            const rd = (insn >>> 6) & 62;
            const rs1 = (insn >>> 14) & 62;
            const imm = insn >> 20;
            const a = x[rs1];
            const lo = (a + imm) | 0;
            const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
            if (rd !== 0) {
              x[rd] = nLo;
              x[rd + 1] = nHi;
            }
            nLo = lo & ~1;
            nHi = hi;
            break;
          }
        case 5 /* beq */:
        case 6 /* bne */:
        case 7 /* blt */:
        case 8 /* bge */:
        case 9 /* bltu */:
        case 10 /* bgeu */:
          {
            const rs1 = (insn >>> 14) & 62;
            const rs2 = (insn >>> 19) & 62;
            const aLo = x[rs1];
            const aHi = x[rs1 + 1];
            const bLo = x[rs2];
            const bHi = x[rs2 + 1];
            // funct3: 0 beq, 1 bne, 4 blt, 5 bge, 6 bltu, 7 bgeu; odd ones negate the even test.
            const f3 = (insn >>> 12) & 7;
            const test =
              f3 < 2
                ? aLo === bLo && aHi === bHi
                : f3 < 6
                  ? aHi < bHi || (aHi === bHi && aLo >>> 0 < bLo >>> 0)
                  : aHi >>> 0 < bHi >>> 0 || (aHi === bHi && aLo >>> 0 < bLo >>> 0);
            if (test !== ((f3 & 1) === 1)) {
              const imm =
                ((insn >> 31) << 12) |
                (((insn >>> 7) & 1) << 11) |
                (((insn >>> 25) & 0x3f) << 5) |
                (((insn >>> 8) & 0xf) << 1);
              nLo = (pcLo + imm) | 0;
              nHi = (pcHi + (imm >> 31) + (nLo >>> 0 < pcLo >>> 0 ? 1 : 0)) | 0;
            }
            break;
          }
        case 14 /* ld */:
          {
            // The most frequent load, without the width switch.
            const rs1 = (insn >>> 14) & 62;
            const imm = insn >> 20;
            const a = x[rs1];
            const lo = (a + imm) | 0;
            const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
            const rd = (insn >>> 6) & 62;
            const t = (tb + tlbLoad + (((lo >>> 12) ^ (lo >>> tlbFold)) & tlbMask)) << 2;
            let vLo: number;
            let vHi: number;
            if (tw[t] === (lo & ~0xfff) && tw[t + 1] === hi && (lo & 7) === 0) {
              const w = (tu[t + 2] + lo) >>> 2;
              vLo = i32[w];
              vHi = i32[w + 1];
            } else {
              h.pcLo = pcLo;
              h.pcHi = pcHi;
              h.icount = icount;
              vLo = h.load(lo, hi, 8, false);
              vHi = h.ldHi;
              limit = h.sliceEnd;
            }
            if (rd !== 0) {
              x[rd] = vLo;
              x[rd + 1] = vHi;
            }
            break;
          }
        case 11 /* lb */:
        case 12 /* lh */:
        case 13 /* lw */:
        case 15 /* lbu */:
        case 16 /* lhu */:
        case 17 /* lwu */:
          {
            const rs1 = (insn >>> 14) & 62;
            const imm = insn >> 20;
            const a = x[rs1];
            const lo = (a + imm) | 0;
            const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
            const f3 = (insn >>> 12) & 7;
            const size = 1 << (f3 & 3);
            const rd = (insn >>> 6) & 62;
            const t = (tb + tlbLoad + (((lo >>> 12) ^ (lo >>> tlbFold)) & tlbMask)) << 2;
            let vLo: number;
            let vHi: number;
            if (tw[t] === (lo & ~0xfff) && tw[t + 1] === hi && (lo & (size - 1)) === 0) {
              const at = (tu[t + 2] + lo) >>> 0;
              switch (f3) {
                case 0:
                  vLo = i8[at];
                  vHi = vLo >> 31;
                  break;
                case 1:
                  vLo = i16[at >>> 1];
                  vHi = vLo >> 31;
                  break;
                case 2:
                  vLo = i32[at >>> 2];
                  vHi = vLo >> 31;
                  break;
                case 3:
                  vLo = i32[at >>> 2];
                  vHi = i32[(at >>> 2) + 1];
                  break;
                case 4:
                  vLo = u8[at];
                  vHi = 0;
                  break;
                case 5:
                  vLo = u16[at >>> 1];
                  vHi = 0;
                  break;
                default:
                  vLo = i32[at >>> 2];
                  vHi = 0;
              }
            } else {
              h.pcLo = pcLo;
              h.pcHi = pcHi;
              h.icount = icount;
              vLo = h.load(lo, hi, size, f3 < 4);
              vHi = f3 === 3 ? h.ldHi : f3 < 4 ? vLo >> 31 : 0;
              limit = h.sliceEnd; // an MMIO read may raise an interrupt line
            }
            if (rd !== 0) {
              x[rd] = vLo;
              x[rd + 1] = vHi;
            }
            break;
          }
        case 18 /* sb */:
        case 19 /* sh */:
        case 20 /* sw */:
        case 21 /* sd */:
          {
            const rs1 = (insn >>> 14) & 62;
            const rs2 = (insn >>> 19) & 62;
            const imm = ((insn >> 25) << 5) | ((insn >>> 7) & 31);
            const a = x[rs1];
            const lo = (a + imm) | 0;
            const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
            const f3 = (insn >>> 12) & 3;
            const size = 1 << f3;
            const t = (tb + tlbStore + (((lo >>> 12) ^ (lo >>> tlbFold)) & tlbMask)) << 2;
            // The store TLB never maps code pages or MMIO, so a hit is a plain RAM write.
            if (tw[t] === (lo & ~0xfff) && tw[t + 1] === hi && (lo & (size - 1)) === 0) {
              const at = (tu[t + 2] + lo) >>> 0;
              switch (f3) {
                case 0:
                  u8[at] = x[rs2];
                  break;
                case 1:
                  u16[at >>> 1] = x[rs2];
                  break;
                case 2:
                  i32[at >>> 2] = x[rs2];
                  break;
                default:
                  i32[at >>> 2] = x[rs2];
                  i32[(at >>> 2) + 1] = x[rs2 + 1];
              }
            } else {
              h.pcLo = pcLo;
              h.pcHi = pcHi;
              h.icount = icount;
              h.store(lo, hi, size, x[rs2], x[rs2 + 1]);
              limit = h.sliceEnd; // MMIO side effects, or a store into decoded code
            }
            break;
          }
        case 22 /* addi */:
          {
            const rd = (insn >>> 6) & 62;
            const rs1 = (insn >>> 14) & 62;
            const imm = insn >> 20;
            const a = x[rs1];
            const lo = (a + imm) | 0;
            x[rd + 1] = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
            x[rd] = lo;
            break;
          }
        case 23 /* slti */:
          {
            const rd = (insn >>> 6) & 62;
            const rs1 = (insn >>> 14) & 62;
            const imm = insn >> 20;
            x[rd] = lt(x[rs1], x[rs1 + 1], imm, imm >> 31) ? 1 : 0;
            x[rd + 1] = 0;
            break;
          }
        case 24 /* sltiu */:
          {
            const rd = (insn >>> 6) & 62;
            const rs1 = (insn >>> 14) & 62;
            const imm = insn >> 20;
            x[rd] = ltu(x[rs1], x[rs1 + 1], imm, imm >> 31) ? 1 : 0;
            x[rd + 1] = 0;
            break;
          }
        case 25 /* xori */:
          {
            const rd = (insn >>> 6) & 62;
            const rs1 = (insn >>> 14) & 62;
            const imm = insn >> 20;
            x[rd] = x[rs1] ^ imm;
            x[rd + 1] = x[rs1 + 1] ^ (imm >> 31);
            break;
          }
        case 26 /* ori */:
          {
            const rd = (insn >>> 6) & 62;
            const rs1 = (insn >>> 14) & 62;
            const imm = insn >> 20;
            x[rd] = x[rs1] | imm;
            x[rd + 1] = x[rs1 + 1] | (imm >> 31);
            break;
          }
        case 27 /* andi */:
          {
            const rd = (insn >>> 6) & 62;
            const rs1 = (insn >>> 14) & 62;
            const imm = insn >> 20;
            x[rd] = x[rs1] & imm;
            x[rd + 1] = x[rs1 + 1] & (imm >> 31);
            break;
          }
        case 28 /* slli */:
          sll(x, (insn >>> 6) & 62, x[(insn >>> 14) & 62], x[((insn >>> 14) & 62) + 1], (insn >>> 20) & 63);
          break;
        case 29 /* srli */:
          srl(x, (insn >>> 6) & 62, x[(insn >>> 14) & 62], x[((insn >>> 14) & 62) + 1], (insn >>> 20) & 63);
          break;
        case 30 /* srai */:
          sra(x, (insn >>> 6) & 62, x[(insn >>> 14) & 62], x[((insn >>> 14) & 62) + 1], (insn >>> 20) & 63);
          break;
        case 31 /* add */:
          {
            const rd = (insn >>> 6) & 62;
            const rs1 = (insn >>> 14) & 62;
            const rs2 = (insn >>> 19) & 62;
            const a = x[rs1];
            const lo = (a + x[rs2]) | 0;
            x[rd + 1] = (x[rs1 + 1] + x[rs2 + 1] + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
            x[rd] = lo;
            break;
          }
        case 32 /* sub */:
          {
            const rd = (insn >>> 6) & 62;
            const rs1 = (insn >>> 14) & 62;
            const rs2 = (insn >>> 19) & 62;
            const a = x[rs1];
            const b = x[rs2];
            x[rd + 1] = (x[rs1 + 1] - x[rs2 + 1] - (a >>> 0 < b >>> 0 ? 1 : 0)) | 0;
            x[rd] = (a - b) | 0;
            break;
          }
        case 33 /* sll */:
          {
            const rs1 = (insn >>> 14) & 62;
            sll(x, (insn >>> 6) & 62, x[rs1], x[rs1 + 1], x[(insn >>> 19) & 62] & 63);
            break;
          }
        case 34 /* slt */:
          {
            const rd = (insn >>> 6) & 62;
            const rs1 = (insn >>> 14) & 62;
            const rs2 = (insn >>> 19) & 62;
            x[rd] = lt(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]) ? 1 : 0;
            x[rd + 1] = 0;
            break;
          }
        case 35 /* sltu */:
          {
            const rd = (insn >>> 6) & 62;
            const rs1 = (insn >>> 14) & 62;
            const rs2 = (insn >>> 19) & 62;
            x[rd] = ltu(x[rs1], x[rs1 + 1], x[rs2], x[rs2 + 1]) ? 1 : 0;
            x[rd + 1] = 0;
            break;
          }
        case 36 /* xor */:
          {
            const rd = (insn >>> 6) & 62;
            const rs1 = (insn >>> 14) & 62;
            const rs2 = (insn >>> 19) & 62;
            x[rd] = x[rs1] ^ x[rs2];
            x[rd + 1] = x[rs1 + 1] ^ x[rs2 + 1];
            break;
          }
        case 37 /* srl */:
          {
            const rs1 = (insn >>> 14) & 62;
            srl(x, (insn >>> 6) & 62, x[rs1], x[rs1 + 1], x[(insn >>> 19) & 62] & 63);
            break;
          }
        case 38 /* sra */:
          {
            const rs1 = (insn >>> 14) & 62;
            sra(x, (insn >>> 6) & 62, x[rs1], x[rs1 + 1], x[(insn >>> 19) & 62] & 63);
            break;
          }
        case 39 /* or */:
          {
            const rd = (insn >>> 6) & 62;
            const rs1 = (insn >>> 14) & 62;
            const rs2 = (insn >>> 19) & 62;
            x[rd] = x[rs1] | x[rs2];
            x[rd + 1] = x[rs1 + 1] | x[rs2 + 1];
            break;
          }
        case 40 /* and */:
          {
            const rd = (insn >>> 6) & 62;
            const rs1 = (insn >>> 14) & 62;
            const rs2 = (insn >>> 19) & 62;
            x[rd] = x[rs1] & x[rs2];
            x[rd + 1] = x[rs1 + 1] & x[rs2 + 1];
            break;
          }
        case 41 /* addiw */:
          {
            const rd = (insn >>> 6) & 62;
            const v = (x[(insn >>> 14) & 62] + (insn >> 20)) | 0;
            x[rd] = v;
            x[rd + 1] = v >> 31;
            break;
          }
        case 42 /* slliw */:
          {
            const rd = (insn >>> 6) & 62;
            const v = x[(insn >>> 14) & 62] << ((insn >>> 20) & 31);
            x[rd] = v;
            x[rd + 1] = v >> 31;
            break;
          }
        case 43 /* srliw */:
          {
            const rd = (insn >>> 6) & 62;
            const v = (x[(insn >>> 14) & 62] >>> ((insn >>> 20) & 31)) | 0;
            x[rd] = v;
            x[rd + 1] = v >> 31;
            break;
          }
        case 44 /* sraiw */:
          {
            const rd = (insn >>> 6) & 62;
            const v = x[(insn >>> 14) & 62] >> ((insn >>> 20) & 31);
            x[rd] = v;
            x[rd + 1] = v >> 31;
            break;
          }
        case 45 /* addw */:
          {
            const rd = (insn >>> 6) & 62;
            const v = (x[(insn >>> 14) & 62] + x[(insn >>> 19) & 62]) | 0;
            x[rd] = v;
            x[rd + 1] = v >> 31;
            break;
          }
        case 46 /* subw */:
          {
            const rd = (insn >>> 6) & 62;
            const v = (x[(insn >>> 14) & 62] - x[(insn >>> 19) & 62]) | 0;
            x[rd] = v;
            x[rd + 1] = v >> 31;
            break;
          }
        case 47 /* sllw */:
          {
            const rd = (insn >>> 6) & 62;
            const v = x[(insn >>> 14) & 62] << (x[(insn >>> 19) & 62] & 31);
            x[rd] = v;
            x[rd + 1] = v >> 31;
            break;
          }
        case 48 /* srlw */:
          {
            const rd = (insn >>> 6) & 62;
            const v = (x[(insn >>> 14) & 62] >>> (x[(insn >>> 19) & 62] & 31)) | 0;
            x[rd] = v;
            x[rd + 1] = v >> 31;
            break;
          }
        case 49 /* sraw */:
          {
            const rd = (insn >>> 6) & 62;
            const v = x[(insn >>> 14) & 62] >> (x[(insn >>> 19) & 62] & 31);
            x[rd] = v;
            x[rd + 1] = v >> 31;
            break;
          }
        case 139 /* flw */:
        case 169 /* fld */:
          {
            // FP loads take the same inline TLB path; with FP off (mstatus.FS = 0) execFp raises illegal.
            const st = c[S_MSTATUS * 2];
            const dbl = (insn & 0x1000) !== 0;
            const rs1 = (insn >>> 14) & 62;
            const imm = insn >> 20;
            const a = x[rs1];
            const lo = (a + imm) | 0;
            const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
            const t = (tb + tlbLoad + (((lo >>> 12) ^ (lo >>> tlbFold)) & tlbMask)) << 2;
            if (
              (st & mstatusFs) === 0 ||
              tw[t] !== (lo & ~0xfff) ||
              tw[t + 1] !== hi ||
              (lo & (dbl ? 7 : 3)) !== 0
            ) {
              outOfLine(h, pcLo, pcHi, nLo, nHi, icount, raw, opw, insn, decLinear);
              limit = h.sliceEnd;
              break;
            }
            const w = (tu[t + 2] + lo) >>> 2;
            const rd = (insn >>> 6) & 62;
            f[rd] = i32[w];
            f[rd + 1] = dbl ? i32[w + 1] : -1; // singles are NaN-boxed
            if ((st & mstatusFs) !== mstatusFs) h.fpDirty();
            break;
          }
        case 140 /* fsw */:
        case 170 /* fsd */:
          {
            const dbl = (insn & 0x1000) !== 0;
            const rs1 = (insn >>> 14) & 62;
            const rs2 = (insn >>> 19) & 62;
            const imm = ((insn >> 25) << 5) | ((insn >>> 7) & 31);
            const a = x[rs1];
            const lo = (a + imm) | 0;
            const hi = (x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
            const t = (tb + tlbStore + (((lo >>> 12) ^ (lo >>> tlbFold)) & tlbMask)) << 2;
            if (
              (c[S_MSTATUS * 2] & mstatusFs) === 0 ||
              tw[t] !== (lo & ~0xfff) ||
              tw[t + 1] !== hi ||
              (lo & (dbl ? 7 : 3)) !== 0
            ) {
              outOfLine(h, pcLo, pcHi, nLo, nHi, icount, raw, opw, insn, decLinear);
              limit = h.sliceEnd;
              break;
            }
            const w = (tu[t + 2] + lo) >>> 2;
            i32[w] = f[rs2];
            if (dbl) i32[w + 1] = f[rs2 + 1];
            break;
          }
        case 51 /* ecall */:
          h.pcLo = pcLo;
          h.pcHi = pcHi;
          h.icount = icount;
          // ecall from U 8, S 9, M 11; with V=1 from VU 8, VS 10 (H extension).
          h.raise(CAUSE_USER_ECALL + h.priv + (c[S_VIRT * 2] !== 0 ? h.priv : 0), 0, 0);
          break;
        case 52 /* ebreak */:
          h.pcLo = pcLo;
          h.pcHi = pcHi;
          h.icount = icount;
          h.raise(CAUSE_BREAKPOINT, pcLo, pcHi);
          break;
        default:
          outOfLine(h, pcLo, pcHi, nLo, nHi, icount, raw, opw, insn, decLinear);
          nLo = h.npcLo;
          nHi = h.npcHi;
          limit = h.sliceEnd;
      }
      pcLo = nLo;
      pcHi = nHi;
      icount++;
    }
    h.pcLo = pcLo;
    h.pcHi = pcHi;
    h.icount = icount;
    if (prof !== undefined) prof.interpInsns += icount - since;
  } catch (e) {
    if (e !== TRAP) throw e;
    x[0] = 0;
    x[1] = 0;
    if (prof !== undefined) {
      // A trap in a block's helper (the block counted what it retired), or in fetching the pc a block returned at.
      if (inBlock) since = h.icount;
      if (exitPending) prof.fetchFaulted();
    }
    h.takeTrap();
    if (prof !== undefined) prof.interpInsns += h.icount - since;
  }
}

const EMPTY = new Int32Array(2048 * SLOT_WORDS);

/**
 * Whether a block may start at slot `s` (op word `opw`) of `dec`: it is
 * decoded, or holds the recorded instruction straddling the page's end
 * (never valid, yet a block may start there: a return address after a
 * call at 0xffa).
 */
function canStart(dec: Int32Array, s: number, opw: number): boolean {
  return (opw & OPW_VALID) !== 0 || (s === 0xffe && dec[STRADDLE_PAGE] !== 0);
}

/**
 * FIRST_ACCESS values: a load (I-type immediate), a store (S-type), an AMO
 * or SC (no immediate, the store bank), LR (no immediate, reads no rs2: the
 * load bank).
 */
const FIRST_LOAD = 1;
const FIRST_STORE = 2;
const FIRST_AMO = 3;
const FIRST_LR = 4;
/** Or-ed in for FP loads and stores: with mstatus.FS off the block does not run them (it returns at once). */
const FIRST_FP = 8;
/**
 * By op word & OP_MASK: how an inline load or store (isa/facts.ts: mem, jit:inline) addresses
 * memory; 0 for other ops, OP_NOP included (so every masked op word indexes it).
 */
const FIRST_ACCESS = new Uint8Array(OP_MASK + 1);
for (let op = 0; op < OP_FLAGS.length; op++) {
  if (!(OP_FLAGS[op] & MEM) || OP_JIT[op] !== JIT_INLINE) continue;
  const imm = OP_IMM[op];
  FIRST_ACCESS[op] =
    (imm === Imm.i
      ? FIRST_LOAD
      : imm === Imm.s
        ? FIRST_STORE
        : OP_REGS[op] & READS_RS2
          ? FIRST_AMO
          : FIRST_LR) | (OP_FLAGS[op] & FP_STATE ? FIRST_FP : 0);
}

/**
 * A block whose first instruction is a load or store returns at once,
 * retiring nothing, when its TLB probe misses; right after a block left on
 * that very access (its probe missed) the block called next starts there.
 * So before the call, the interpreter enters the access's page in the TLB
 * (translation only: a fault, MMIO or a misaligned address is left to the
 * access). True when that ended the slice (a store into a page holding code).
 */
function refillFirstAccess(h: Hart, insn: number, kind: number, prof: TierProfile | undefined): boolean {
  // The walk sets A and D as the access would: only for an access that is then done (an FP one
  // with FP off raises illegal-instruction instead).
  if (kind & FIRST_FP && (h.c[S_MSTATUS * 2] & MSTATUS_FS) === 0) return false;
  const first = kind & ~FIRST_FP;
  const rs1 = (insn >>> 14) & 62;
  const imm =
    first === FIRST_LOAD ? insn >> 20 : first === FIRST_STORE ? ((insn >> 25) << 5) | ((insn >>> 7) & 31) : 0;
  const a = h.x[rs1];
  const lo = (a + imm) | 0;
  const hi = (h.x[rs1 + 1] + (imm >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
  const store = first === FIRST_STORE || first === FIRST_AMO;
  if (h.tlb.lookup(store ? TLB_STORE : TLB_LOAD, lo, hi) >= 0) return false;
  h.prefill(lo, hi, store);
  prof?.prefilled();
  return h.sliceEnd === 0;
}

/**
 * Runs one instruction through its extension's exec function: the hart's
 * pc, next pc, retired count and instruction bits are synced first, since
 * exec code (and trap entry) reads them; x0 is re-zeroed after. `raw`: the
 * bits decodeSlot just fetched, or 0 to take them from the decoded slot
 * (`opw`, `insn`) and RAM at `pageLinear`, the linear address of pc's page.
 */
function outOfLine(
  h: Hart,
  pcLo: number,
  pcHi: number,
  nLo: number,
  nHi: number,
  icount: number,
  raw: number,
  opw: number,
  insn: number,
  pageLinear: number,
): void {
  h.pcLo = pcLo;
  h.pcHi = pcHi;
  h.npcLo = nLo;
  h.npcHi = nHi;
  h.icount = icount;
  h.insnBits = raw !== 0 ? raw : rawBits(insn, opw, h.u16, pageLinear | (pcLo & 0xfff));
  execOp(h, opw & OP_MASK, insn);
}
let lastInsn = 0;
let lastRaw = 0;

/**
 * First execution of a slot: fetch (may fault; a 32-bit instruction may
 * straddle into the next page), expand RVC, decode, and cache the result
 * unless it straddles a page (its upper half lives elsewhere: it is fetched
 * again at every execution, and recorded for the JIT, noteStraddle). Pure ops
 * (isa/table.ts facts) that write x0, and fence, become OP_NOP. Leaves the words in lastInsn/lastRaw.
 */
function decodeSlot(h: Hart, dec: Int32Array, s: number, pcLo: number): number {
  const raw = h.fetch();
  const compressed = (raw & 3) !== 3;
  const insn = compressed ? RVC_EXPANSION[raw] : raw;
  let op = insn === 0 ? 0 : decode(insn);
  const facts = OP_FLAGS[op];
  if ((facts & PURE && ((insn >>> 7) & 31) === 0) || facts & NOP) op = OP_NOP;
  const opw = op | OPW_VALID | (compressed ? OPW_COMPRESSED : 0);
  if (op !== 0 && (compressed || (pcLo & 0xfff) !== 0xffe)) {
    dec[s] = insn;
    dec[s + 1] = opw | (dec[s + 1] & ~OPW_DECODED); // the JIT's count may have started
  } else if (op !== 0 && dec[STRADDLE_PAGE] === 0) noteStraddle(h, dec, insn, opw, pcLo);
  h.insnBits = raw;
  lastInsn = insn;
  lastRaw = raw;
  return opw;
}

/** Records the straddling instruction at pc (fetched just now) in `dec` for the JIT, with the RAM page of its upper half. */
function noteStraddle(h: Hart, dec: Int32Array, insn: number, opw: number, pcLo: number): void {
  const lo = (pcLo + 2) | 0;
  const upper = h.fetchLinear(lo, lo === 0 ? (h.pcHi + 1) | 0 : h.pcHi); // a TLB hit: fetch() just read it
  h.mem.code.noteStraddle(dec, insn, opw, (upper - h.mem.ramLinear) >>> 12);
}

/**
 * The decoder (src/isa/decoder.generated.ts) and the RVC expander
 * (src/isa/rvc.ts) against the GNU toolchain:
 * - every table entry, assembled with sample operands, decodes to its name;
 * - random encodings of every entry (free bits random) and one-bit
 *   near misses decode to what objdump calls them (or both reject them);
 * - a list of c.* instructions expands to the expected base instruction;
 * - every one of the 48 Ki 16-bit encodings expands to exactly the word
 *   the assembler produces for objdump's reading of it (operands included),
 *   and to 0 where the spec reserves it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { decode, OP_NAMES } from "../../src/isa/decoder.generated.ts";
import { RVC_EXPANSION } from "../../src/isa/rvc.ts";
import { INSTRUCTIONS } from "../../src/isa/table.ts";

const AS = "riscv64-linux-gnu-as";
const OBJCOPY = "riscv64-linux-gnu-objcopy";
const OBJDUMP = "riscv64-linux-gnu-objdump";
const MARCH = "rv64gch_zba_zbb_zbs_zicsr_zifencei";

function haveTools(): boolean {
  try {
    for (const t of [AS, OBJCOPY, OBJDUMP]) execFileSync(t, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const skip = haveTools()
  ? false
  : `needs ${AS}, ${OBJCOPY} and ${OBJDUMP} (apt install binutils-riscv64-linux-gnu)`;

const dir = mkdtempSync(join(tmpdir(), "virtus-decoder-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;

/** Assembles `lines`; returns the .text bytes and the object's path. */
function assemble(lines: string[]): { text: Uint8Array; obj: string } {
  const n = seq++;
  const src = join(dir, `t${n}.s`);
  const obj = join(dir, `t${n}.o`);
  const bin = join(dir, `t${n}.bin`);
  writeFileSync(src, `${lines.join("\n")}\n`);
  execFileSync(AS, [`-march=${MARCH}`, "-mno-relax", "-o", obj, src], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  execFileSync(OBJCOPY, ["-O", "binary", "--only-section=.text", obj, bin]);
  return { text: new Uint8Array(readFileSync(bin)), obj };
}

/** objdump -d -M no-aliases of an object: [address, mnemonic, operands] per instruction. */
function objdump(obj: string): [number, string, string][] {
  const out = execFileSync(OBJDUMP, ["-d", "-M", "no-aliases", obj], { maxBuffer: 1 << 28 }).toString();
  const rows: [number, string, string][] = [];
  for (const line of out.split("\n")) {
    const m = /^\s*([0-9a-f]+):\t[0-9a-f ]+\t(\S+)\s*(.*)$/.exec(line);
    if (m) rows.push([Number.parseInt(m[1], 16), m[2], m[3].trim()]);
  }
  return rows;
}

const words = (b: Uint8Array) => {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.length >> 2 }, (_, i) => dv.getUint32(4 * i, true));
};
const hex = (w: number) => `0x${(w >>> 0).toString(16).padStart(8, "0")}`;

// ------------------------------------------------- sample operands per table entry

const XS = ["a0", "s1", "t6", "ra", "zero", "sp"];
const FS = ["fa0", "ft11", "fs3", "ft0"];
const RMS = ["rne", "rtz", "rdn", "rup", "rmm", "dyn"];
/** Entries whose rounding-mode field gas fixes (exact conversions): written without rm. */
const NO_RM = new Set(["fcvt.d.s", "fcvt.d.w", "fcvt.d.wu"]);

function sample(name: string, operands: string, v: number): string {
  const x = (k: number) => XS[(v + k) % XS.length];
  const f = (k: number) => FS[(v + k) % FS.length];
  const imms = [-2048, 2047, 0, -1, 5, 1000];
  const ops = operands
    ? operands.split(",").flatMap((o) => {
        switch (o) {
          case "rd":
            return [x(0)];
          case "rs1":
            return [x(1)];
          case "rs2":
            return [x(2)];
          case "fd":
            return [f(0)];
          case "fs1":
            return [f(1)];
          case "fs2":
            return [f(2)];
          case "fs3":
            return [f(3)];
          case "imm":
            return [String(imms[v % imms.length])];
          case "uimm":
            return [["0x0", "0xfffff", "0x12345", "0x80000"][v % 4]];
          case "shamt":
            return [String([0, 63, 32, 17][v % 4])];
          case "shamtw":
            return [String([0, 31, 16, 7][v % 4])];
          case "csr":
            return [["mstatus", "0xfff", "fcsr", "satp"][v % 4]];
          case "zimm":
            return [String([0, 31, 5, 16][v % 4])];
          case "rm":
            return NO_RM.has(name) ? [] : [RMS[v % RMS.length]];
          case "imm(rs1)":
          case "simm(rs1)":
            return [`${imms[v % imms.length]}(${x(1)})`];
          case "(rs1)":
            return [`(${x(1)})`];
          case "bimm":
            return [[".+8", ".-4096", ".+4094", ".-2"][v % 4]];
          case "jimm":
            return [[".+8", ".-1048576", ".+1048574", ".-2"][v % 4]];
          default:
            throw new Error(`unknown operand kind ${o} in ${name}`);
        }
      })
    : [];
  return `${name} ${ops.join(", ")}`;
}

test("every table entry assembles to a word that decodes to its name", { skip }, () => {
  const lines = [".option norvc"];
  const expect: string[] = [];
  for (const [name, , , , operands] of INSTRUCTIONS) {
    for (let v = 0; v < 4; v++) {
      lines.push(sample(name, operands, v));
      expect.push(name);
    }
  }
  const ws = words(assemble(lines).text);
  assert.equal(ws.length, expect.length);
  const bad: string[] = [];
  ws.forEach((w, i) => {
    const got = OP_NAMES[decode(w | 0)];
    if (got !== expect[i]) bad.push(`${lines[i + 1]} = ${hex(w)}: decoded as ${got}`);
  });
  assert.deepEqual(bad, []);
});

/** objdump's name for a 32-bit word, normalized to the table's spelling. */
function normalize(mn: string): string {
  if (/^(lr|sc|amo[a-z]+)\.[wd]/.test(mn)) return mn.replace(/\.(aq|rl|aqrl)$/, "");
  if (mn === "fence.tso") return "fence";
  return mn;
}

/**
 * Encodings binutils 2.40 rejects but the spec makes legal: FENCE and
 * FENCE.I ignore their reserved fields (unpriv spec 2.7, 3.1), and the exact
 * conversions fcvt.d.s / fcvt.d.w / fcvt.d.wu take any rm (gas fixes it to 0;
 * newer binutils accept it).
 */
function specIgnoredFields(w: number, name: string): boolean {
  if (name === "fence" || name === "fence.i") return true;
  return (name === "fcvt.d.s" || name === "fcvt.d.w" || name === "fcvt.d.wu") && ((w >>> 12) & 7) !== 0;
}

test("random and near-miss encodings decode like objdump reads them", { skip }, () => {
  const names = new Set(INSTRUCTIONS.map((d) => d[0]));
  let s = 0x12345678;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  const cand: number[] = [];
  for (const [, , match, mask] of INSTRUCTIONS) {
    for (let k = 0; k < 8; k++) cand.push((match | (rnd() & ~mask)) >>> 0);
    // near misses: one fixed bit (outside the major opcode) flipped
    for (let k = 0; k < 8; k++) {
      const fixed: number[] = [];
      for (let b = 7; b < 32; b++) if ((mask >>> b) & 1) fixed.push(b);
      if (fixed.length === 0) break;
      const b = fixed[rnd() % fixed.length];
      cand.push(((match | (rnd() & ~mask)) ^ (1 << b)) >>> 0);
    }
  }
  const { obj } = assemble([".option norvc", ...cand.map((w) => `.insn 4, ${hex(w)}`)]);
  const rows = objdump(obj);
  assert.equal(rows.length, cand.length);
  const bad: string[] = [];
  cand.forEach((w, i) => {
    const ours = OP_NAMES[decode(w | 0)];
    const theirs = normalize(rows[i][1]);
    const theirsKnown = names.has(theirs);
    if (ours !== "illegal" && rows[i][1] === ".4byte" && specIgnoredFields(w, ours)) return;
    if (ours === "illegal" ? theirsKnown : ours !== theirs)
      bad.push(`${hex(w)}: virtus ${ours}, objdump ${rows[i][1]} ${rows[i][2]}`);
  });
  assert.deepEqual(bad, []);
});

// ------------------------------------------------------------------- RVC

/** Compressed instruction → the base instruction it must expand to. */
const C_LIST: [string, string][] = [
  ["c.addi4spn a0, sp, 1020", "addi a0, sp, 1020"],
  ["c.addi4spn s0, sp, 4", "addi s0, sp, 4"],
  ["c.fld fa5, 248(s1)", "fld fa5, 248(s1)"],
  ["c.lw a5, 124(a0)", "lw a5, 124(a0)"],
  ["c.ld s1, 8(a5)", "ld s1, 8(a5)"],
  ["c.fsd fs0, 0(a2)", "fsd fs0, 0(a2)"],
  ["c.sw a3, 64(s0)", "sw a3, 64(s0)"],
  ["c.sd a4, 248(a1)", "sd a4, 248(a1)"],
  ["c.nop", "addi zero, zero, 0"],
  ["c.addi t6, -32", "addi t6, t6, -32"],
  ["c.addi sp, 31", "addi sp, sp, 31"],
  ["c.addiw a0, -1", "addiw a0, a0, -1"],
  ["c.addiw s11, 0", "addiw s11, s11, 0"],
  ["c.li ra, -32", "addi ra, zero, -32"],
  ["c.li t3, 31", "addi t3, zero, 31"],
  ["c.addi16sp sp, -512", "addi sp, sp, -512"],
  ["c.addi16sp sp, 496", "addi sp, sp, 496"],
  ["c.lui a0, 1", "lui a0, 1"],
  ["c.lui t6, 0xfffe0", "lui t6, 0xfffe0"],
  ["c.lui gp, 0x1f", "lui gp, 0x1f"],
  ["c.srli a0, 63", "srli a0, a0, 63"],
  ["c.srai s1, 1", "srai s1, s1, 1"],
  ["c.srai a5, 32", "srai a5, a5, 32"],
  ["c.andi a2, -32", "andi a2, a2, -32"],
  ["c.andi a3, 0", "andi a3, a3, 0"],
  ["c.sub s0, a5", "sub s0, s0, a5"],
  ["c.xor a1, a2", "xor a1, a1, a2"],
  ["c.or a3, s1", "or a3, a3, s1"],
  ["c.and a4, a4", "and a4, a4, a4"],
  ["c.subw a5, s0", "subw a5, a5, s0"],
  ["c.addw s1, a0", "addw s1, s1, a0"],
  ["c.j .+2046", "jal zero, .+2046"],
  ["c.j .-2048", "jal zero, .-2048"],
  ["c.beqz a0, .+254", "beq a0, zero, .+254"],
  ["c.bnez s1, .-256", "bne s1, zero, .-256"],
  ["c.slli t0, 63", "slli t0, t0, 63"],
  ["c.slli ra, 1", "slli ra, ra, 1"],
  ["c.fldsp ft11, 504(sp)", "fld ft11, 504(sp)"],
  ["c.lwsp t6, 252(sp)", "lw t6, 252(sp)"],
  ["c.ldsp ra, 0(sp)", "ld ra, 0(sp)"],
  ["c.jr ra", "jalr zero, 0(ra)"],
  ["c.jr t6", "jalr zero, 0(t6)"],
  ["c.mv a0, t6", "add a0, zero, t6"],
  ["c.ebreak", "ebreak"],
  ["c.jalr a1", "jalr ra, 0(a1)"],
  ["c.jalr ra", "jalr ra, 0(ra)"],
  ["c.add sp, gp", "add sp, sp, gp"],
  ["c.fsdsp fs11, 504(sp)", "fsd fs11, 504(sp)"],
  ["c.swsp zero, 0(sp)", "sw zero, 0(sp)"],
  ["c.sdsp t6, 8(sp)", "sd t6, 8(sp)"],
];

test("c.* instructions expand to the base instruction gas assembles", { skip }, () => {
  const c = assemble([".option rvc", ...C_LIST.map(([ci]) => ci)]).text;
  const base = words(assemble([".option norvc", ...C_LIST.map(([, b]) => b)]).text);
  assert.equal(c.length, 2 * C_LIST.length, "every c.* line assembles to 2 bytes");
  const bad: string[] = [];
  C_LIST.forEach(([ci, b], i) => {
    const parcel = c[2 * i] | (c[2 * i + 1] << 8);
    const got = RVC_EXPANSION[parcel] >>> 0;
    const name = OP_NAMES[decode(got | 0)];
    const want = b.split(" ")[0];
    if (name !== want || got !== base[i])
      bad.push(
        `${ci} (0x${parcel.toString(16)}): expanded ${hex(got)} (${name}), want ${hex(base[i])} (${b})`,
      );
  });
  assert.deepEqual(bad, []);
});

/** Encodings the spec reserves that objdump still prints as an instruction. */
function reservedBySpec(c: number): boolean {
  const f3 = c >>> 13;
  const rd = (c >>> 7) & 31;
  const q = c & 3;
  if (c === 0) return true; // defined illegal
  if (q === 0 && f3 === 0) return ((c >>> 5) & 0xff) === 0; // c.addi4spn, nzuimm = 0
  if (q === 1 && f3 === 3) {
    const nz = ((c >>> 12) & 1) !== 0 || ((c >>> 2) & 31) !== 0;
    return !nz; // c.addi16sp / c.lui with a zero immediate
  }
  if (q === 2 && (f3 === 2 || f3 === 3)) return rd === 0; // c.lwsp / c.ldsp rd = 0
  if (q === 2 && f3 === 4 && ((c >>> 12) & 1) === 0 && ((c >>> 2) & 31) === 0) return rd === 0; // c.jr x0
  return false;
}

/** objdump's text for a c.* instruction → the 32-bit instruction it stands for. */
function baseText(pc: number, mn: string, ops: string): string | undefined {
  const o = ops === "" ? [] : ops.split(",");
  const target = () => {
    const off = Number.parseInt(o[o.length - 1].split(" ")[0], 16) - pc;
    return off < 0 ? `.-${-off}` : `.+${off}`;
  };
  switch (mn) {
    case "c.addi4spn":
      return `addi ${o[0]},${o[1]},${o[2]}`;
    case "c.fld":
    case "c.lw":
    case "c.ld":
    case "c.fsd":
    case "c.sw":
    case "c.sd":
      return `${mn.slice(2)} ${ops}`;
    case "c.fldsp":
    case "c.lwsp":
    case "c.ldsp":
    case "c.fsdsp":
    case "c.swsp":
    case "c.sdsp":
      return `${mn.slice(2, -2)} ${ops}`;
    case "c.nop":
      return `addi zero,zero,${o[0] ?? 0}`;
    case "c.addi":
    case "c.addiw":
    case "c.andi":
    case "c.srli":
    case "c.srai":
    case "c.slli":
      return `${mn.slice(2)} ${o[0]},${o[0]},${o[1]}`;
    case "c.slli64": // RV64: a zero shift amount is a HINT, i.e. a shift by 0
    case "c.srli64":
    case "c.srai64":
      return `${mn.slice(2, -2)} ${o[0]},${o[0]},0`;
    case "c.addi16sp":
      return `addi sp,sp,${o[1]}`;
    case "c.li":
      return `addi ${o[0]},zero,${o[1]}`;
    case "c.lui":
      return `lui ${o[0]},${o[1]}`;
    case "c.sub":
    case "c.xor":
    case "c.or":
    case "c.and":
    case "c.subw":
    case "c.addw":
    case "c.add":
      return `${mn.slice(2)} ${o[0]},${o[0]},${o[1]}`;
    case "c.mv":
      return `add ${o[0]},zero,${o[1]}`;
    case "c.j":
      return `jal zero,${target()}`;
    case "c.beqz":
      return `beq ${o[0]},zero,${target()}`;
    case "c.bnez":
      return `bne ${o[0]},zero,${target()}`;
    case "c.jr":
      return `jalr zero,0(${o[0]})`;
    case "c.jalr":
      return `jalr ra,0(${o[0]})`;
    case "c.ebreak":
      return "ebreak";
    default:
      return undefined;
  }
}

test("all 16-bit encodings expand as objdump reads them (exhaustive)", { skip }, () => {
  const parcels: number[] = [];
  for (let c = 0; c < 65536; c++) if ((c & 3) !== 3) parcels.push(c);
  const { obj } = assemble([".option rvc", ...parcels.map((c) => `.insn 2, 0x${c.toString(16)}`)]);
  const rows = objdump(obj);
  assert.equal(rows.length, parcels.length);
  const bad: string[] = [];
  const lines: string[] = [".option norvc"];
  const check: number[] = [];
  rows.forEach(([pc, mn, ops], i) => {
    const c = parcels[i];
    const got = RVC_EXPANSION[c] >>> 0;
    const text = mn.startsWith("c.") && !reservedBySpec(c) ? baseText(pc, mn, ops) : undefined;
    if (text === undefined) {
      if (got !== 0) bad.push(`0x${c.toString(16)} (objdump: ${mn} ${ops}): expanded to ${hex(got)}, want 0`);
      return;
    }
    if (got === 0) {
      bad.push(`0x${c.toString(16)} (${mn} ${ops}): expanded to 0 (illegal)`);
      return;
    }
    lines.push(text); // branch targets are written relative (.+off), so placement does not matter
    check.push(i);
  });
  assert.deepEqual(bad.slice(0, 30), [], `${bad.length} bad expansions`);
  const ws = words(assemble(lines).text);
  check.forEach((i, k) => {
    const c = parcels[i];
    const got = RVC_EXPANSION[c] >>> 0;
    if (got !== ws[k]) {
      const [, mn, ops] = rows[i];
      bad.push(`0x${c.toString(16)} ${mn} ${ops}: expanded ${hex(got)}, gas ${hex(ws[k])} (${lines[k + 1]})`);
    }
  });
  assert.deepEqual(bad.slice(0, 30), [], `${bad.length} bad expansions`);
});

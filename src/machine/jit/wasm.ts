/**
 * A minimal WebAssembly binary writer: just what the JIT emits (wasm core
 * spec 1.0, section 5 "Binary Format"). Function bodies are written with
 * `Code`, a byte buffer with LEB128 helpers; `moduleBytes` wraps bodies
 * that share one signature into a module importing the machine's memory
 * and the JIT's host helpers.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const VOID = 0x40;

/** Opcodes used by the JIT (spec 5.4). */
export const Op = {
  unreachable: 0x00,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  brTable: 0x0e,
  return: 0x0f,
  call: 0x10,
  /** Tail call through a table (wasm 3.0 tail calls; V8 has them since 11.2). */
  returnCallIndirect: 0x13,
  drop: 0x1a,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i64Load: 0x29,
  i64Load8S: 0x30,
  i64Load8U: 0x31,
  i64Load16S: 0x32,
  i64Load16U: 0x33,
  i64Load32S: 0x34,
  i64Load32U: 0x35,
  f32Load: 0x2a,
  f64Load: 0x2b,
  i32Store: 0x36,
  f32Store: 0x38,
  f64Store: 0x39,
  i64Store: 0x37,
  i64Store8: 0x3c,
  i64Store16: 0x3d,
  i64Store32: 0x3e,
  i32Const: 0x41,
  i64Const: 0x42,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32Ne: 0x47,
  i32LtS: 0x48,
  i32LtU: 0x49,
  i32GtS: 0x4a,
  i32GtU: 0x4b,
  i32LeS: 0x4c,
  i32LeU: 0x4d,
  i32GeS: 0x4e,
  i32GeU: 0x4f,
  i64Eqz: 0x50,
  i64Eq: 0x51,
  i64Ne: 0x52,
  i64LtS: 0x53,
  i64LtU: 0x54,
  i64GtS: 0x55,
  i64GtU: 0x56,
  i64LeS: 0x57,
  i64LeU: 0x58,
  i64GeS: 0x59,
  i64GeU: 0x5a,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32DivS: 0x6d,
  i32DivU: 0x6e,
  i32RemS: 0x6f,
  i32RemU: 0x70,
  i32And: 0x71,
  i32Or: 0x72,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i32ShrS: 0x75,
  i32ShrU: 0x76,
  i32Rotl: 0x77,
  i32Rotr: 0x78,
  i32Clz: 0x67,
  i32Ctz: 0x68,
  i32Popcnt: 0x69,
  i64Clz: 0x79,
  i64Ctz: 0x7a,
  i64Popcnt: 0x7b,
  i64Add: 0x7c,
  i64Sub: 0x7d,
  i64Mul: 0x7e,
  i64DivS: 0x7f,
  i64DivU: 0x80,
  i64RemS: 0x81,
  i64RemU: 0x82,
  i64And: 0x83,
  i64Or: 0x84,
  i64Xor: 0x85,
  i64Shl: 0x86,
  i64ShrS: 0x87,
  i64ShrU: 0x88,
  i64Rotl: 0x89,
  i64Rotr: 0x8a,
  i32WrapI64: 0xa7,
  i64ExtendI32S: 0xac,
  i64ExtendI32U: 0xad,
  f64Const: 0x44,
  f64Eq: 0x61,
  f64Ne: 0x62,
  f64Lt: 0x63,
  f64Gt: 0x64,
  f64Le: 0x65,
  f64Ge: 0x66,
  f64Abs: 0x99,
  f64Neg: 0x9a,
  f64Ceil: 0x9b,
  f64Floor: 0x9c,
  f64Trunc: 0x9d,
  f64Nearest: 0x9e,
  f64Sqrt: 0x9f,
  f64Add: 0xa0,
  f64Sub: 0xa1,
  f64Mul: 0xa2,
  f64Div: 0xa3,
  f64Min: 0xa4,
  f64Max: 0xa5,
  f32ConvertI64S: 0xb4,
  f32ConvertI64U: 0xb5,
  f64ConvertI64S: 0xb9,
  f64ConvertI64U: 0xba,
  f32DemoteF64: 0xb6,
  f64PromoteF32: 0xbb,
  i32ReinterpretF32: 0xbc,
  i64ReinterpretF64: 0xbd,
  f32ReinterpretI32: 0xbe,
  f64ReinterpretI64: 0xbf,
} as const;

/** Saturating float-to-int truncations: the 0xfc prefix, then this index (Code.truncSat). */
export const TruncSat = { i32F64S: 2, i32F64U: 3, i64F64S: 6, i64F64U: 7 } as const;

/** A growable byte buffer with the encodings function bodies need. */
export class Code {
  private buf: Uint8Array;
  length = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): this {
    if (this.length === this.buf.length) this.reserve(1);
    this.buf[this.length++] = b;
    return this;
  }

  /** One to four opcode bytes (fixed parameters: a rest array would allocate per call). */
  op(a: number, b = -1, c = -1, d = -1): this {
    this.byte(a);
    if (b >= 0) this.byte(b);
    if (c >= 0) this.byte(c);
    if (d >= 0) this.byte(d);
    return this;
  }

  bytes(b: Uint8Array | readonly number[]): this {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  /** Unsigned LEB128 of a non-negative integer below 2^32. */
  u32(v: number): this {
    let n = v >>> 0;
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n !== 0) b |= 0x80;
      this.byte(b);
    } while (n !== 0);
    return this;
  }

  /** Signed LEB128 of a 32-bit integer. */
  s32(v: number): this {
    let n = v | 0;
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return this.byte(b);
      this.byte(b | 0x80);
    }
  }

  /** Signed LEB128 of a 64-bit integer given as a BigInt (rare constants beyond 2^53). */
  s64(v: bigint): this {
    let n = BigInt.asIntN(64, v);
    for (;;) {
      const b = Number(n & 0x7fn);
      n >>= 7n;
      if ((n === 0n && (b & 0x40) === 0) || (n === -1n && (b & 0x40) !== 0)) return this.byte(b);
      this.byte(b | 0x80);
    }
  }

  /** Signed LEB128 of a safe integer (|v| < 2^53), without BigInt: most constants are small. */
  sNum(v: number): this {
    if ((v | 0) === v) return this.s32(v);
    let n = v;
    for (;;) {
      const b = ((n % 128) + 128) % 128;
      n = (n - b) / 128;
      if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return this.byte(b);
      this.byte(b | 0x80);
    }
  }

  i32Const(v: number): this {
    return this.byte(Op.i32Const).s32(v);
  }

  f64Const(v: number): this {
    const b = new Uint8Array(new Float64Array([v]).buffer);
    return this.byte(Op.f64Const).bytes(b);
  }

  /** i64.const of a number (a safe integer) or a BigInt (any 64-bit pattern). */
  i64Const(v: bigint | number): this {
    this.byte(Op.i64Const);
    return typeof v === "number" ? this.sNum(v) : this.s64(v);
  }

  /** A saturating truncation (TruncSat): NaN gives 0, out-of-range values the nearest bound. */
  truncSat(index: number): this {
    return this.byte(0xfc).u32(index);
  }

  get(local: number): this {
    return this.byte(Op.localGet).u32(local);
  }

  set(local: number): this {
    return this.byte(Op.localSet).u32(local);
  }

  tee(local: number): this {
    return this.byte(Op.localTee).u32(local);
  }

  /** A load or store with its memarg (alignment log2, then the constant offset). */
  mem(opcode: number, align: number, offset: number): this {
    return this.byte(opcode).u32(align).u32(offset);
  }

  /** The bytes written so far (a view: copy before writing more). */
  result(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** Inserts `b` at byte `pos` (no greater than length), moving what follows. */
  insert(pos: number, b: Uint8Array): this {
    if (pos < 0 || pos > this.length) throw new RangeError(`Code.insert at ${pos} of ${this.length} bytes`);
    this.reserve(b.length);
    this.buf.copyWithin(pos + b.length, pos, this.length);
    this.buf.set(b, pos);
    this.length += b.length;
    return this;
  }
}

/** The function bodies of one module and the shape they share. */
export interface ModuleSpec {
  params: number[];
  results: number[];
  /** Host functions imported as env.<name>, of type (i32 x params) -> void, or -> i32 with `results: 1`. */
  imports: { name: string; params: number; results?: number }[];
  /** Import env.table, a funcref table of functions of this signature (type 0), as table 0. */
  table?: boolean;
  /** Each function: its extra locals as [count, type] runs, and its body (without the final `end`). */
  functions: { locals: [number, number][]; body: Uint8Array }[];
}

/** Everything before the code section, which depends only on the module's shape: built once per shape. */
const prefixes = new Map<string, Uint8Array>();
function modulePrefix(spec: ModuleSpec): Uint8Array {
  const key = JSON.stringify([spec.params, spec.results, spec.imports, spec.table, spec.functions.length]);
  let bytes = prefixes.get(key);
  if (bytes === undefined) {
    const out = new Code().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const types = new Code().u32(1 + spec.imports.length);
    types.byte(0x60).u32(spec.params.length).bytes(spec.params).u32(spec.results.length).bytes(spec.results);
    for (const imp of spec.imports) {
      types.byte(0x60).u32(imp.params);
      for (let i = 0; i < imp.params; i++) types.byte(I32);
      const results = imp.results ?? 0;
      types.u32(results);
      for (let i = 0; i < results; i++) types.byte(I32);
    }
    section(out, 1, types);
    const imports = new Code().u32(1 + spec.imports.length + (spec.table ? 1 : 0));
    name(imports, "env");
    name(imports, "memory");
    imports.byte(0x02).byte(0x00).u32(0); // memory, limits: min 0, no max
    if (spec.table) {
      name(imports, "env");
      name(imports, "table");
      imports.byte(0x01).byte(0x70).byte(0x00).u32(0); // table of funcref, limits: min 0, no max
    }
    spec.imports.forEach((imp, i) => {
      name(imports, "env");
      name(imports, imp.name);
      imports.byte(0x00).u32(1 + i);
    });
    section(out, 2, imports);
    const funcs = new Code().u32(spec.functions.length);
    for (let i = 0; i < spec.functions.length; i++) funcs.u32(0);
    section(out, 3, funcs);
    const exports = new Code().u32(spec.functions.length);
    spec.functions.forEach((_, i) => {
      name(exports, `f${i}`);
      exports.byte(0x00).u32(spec.imports.length + i);
    });
    section(out, 7, exports);
    bytes = out.result().slice();
    prefixes.set(key, bytes);
  }
  return bytes;
}

function section(out: Code, id: number, content: Code): void {
  out.byte(id).u32(content.length).bytes(content.result());
}

function name(c: Code, s: string): void {
  c.u32(s.length);
  for (let i = 0; i < s.length; i++) c.byte(s.charCodeAt(i));
}

/**
 * A module importing env.memory, the helpers (and env.table), defining the functions
 * (exported as "f0", "f1", ...). Type 0 is the functions' signature, types
 * 1.. are the helpers'.
 */
export function moduleBytes(spec: ModuleSpec): Uint8Array {
  const out = new Code(512 + spec.functions.reduce((n, f) => n + f.body.length + 16, 0));
  out.bytes(modulePrefix(spec));
  const code = new Code().u32(spec.functions.length);
  for (const fn of spec.functions) {
    const body = new Code().u32(fn.locals.length);
    for (const [count, type] of fn.locals) body.u32(count).byte(type);
    body.bytes(fn.body).byte(Op.end);
    code.u32(body.length).bytes(body.result());
  }
  section(out, 10, code);
  return out.result();
}

/**
 * A tagged binary encoding of state records (design 2.8: records are
 * numbers, strings, booleans, null, plain objects, arrays and typed arrays)
 * for the snapshot file. JSON cannot hold typed arrays or tell -0 from 0;
 * this keeps every record exactly as structuredClone would.
 *
 *   value  = tag:u8 payload
 *   0 null | 1 false | 2 true | 3 undefined
 *   4 number   f64
 *   5 string   len:u32 utf8[len]
 *   6 array    count:u32 value[count]
 *   7 object   count:u32 (key:string-payload value)[count]
 *   8 Uint8Array   len:u32 bytes[len]
 *   9 Int32Array   len:u32 i32[len]
 *  10 Float64Array len:u32 f64[len]
 *
 * All integers little-endian. The decoder treats its input as hostile:
 * every length is checked against the bytes left before anything is
 * allocated, nesting is bounded, and "__proto__" is refused as a key.
 */
import { VirtusError } from "../../machine/errors.ts";

const NULL = 0;
const FALSE = 1;
const TRUE = 2;
const UNDEFINED = 3;
const NUMBER = 4;
const STRING = 5;
const ARRAY = 6;
const OBJECT = 7;
const U8 = 8;
const I32 = 9;
const F64 = 10;

/** Records nest a few levels (machine → virtio slot → queues → queue); more means a hostile file. */
const MAX_DEPTH = 32;

/** What the value decoder throws: a VirtusError with code "bad-snapshot". */
export function snapshotError(why: string): VirtusError {
  return new VirtusError("bad-snapshot", `snapshot file: ${why}`);
}

class Writer {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Encodes a state record. Throws a TypeError for what a record may not hold (functions, Maps, cycles). */
export function encodeValue(v: unknown): Uint8Array {
  const w = new Writer();
  write(w, v, 0);
  return w.result();
}

function writeString(w: Writer, s: string): void {
  const b = utf8.encode(s);
  w.u32(b.length);
  w.bytes(b);
}

function write(w: Writer, v: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new TypeError("state record nested too deeply (or cyclic)");
  if (v === null) return w.u8(NULL);
  if (v === undefined) return w.u8(UNDEFINED);
  if (v === false) return w.u8(FALSE);
  if (v === true) return w.u8(TRUE);
  if (typeof v === "number") {
    w.u8(NUMBER);
    return w.f64(v);
  }
  if (typeof v === "string") {
    w.u8(STRING);
    return writeString(w, v);
  }
  if (v instanceof Uint8Array) {
    w.u8(U8);
    w.u32(v.length);
    return w.bytes(v);
  }
  if (v instanceof Int32Array || v instanceof Float64Array) {
    w.u8(v instanceof Int32Array ? I32 : F64);
    w.u32(v.length);
    // Copy through a fresh aligned array: the view may sit at any offset of a shared buffer.
    const copy = v instanceof Int32Array ? Int32Array.from(v) : Float64Array.from(v);
    return w.bytes(new Uint8Array(copy.buffer));
  }
  if (Array.isArray(v)) {
    w.u8(ARRAY);
    w.u32(v.length);
    for (const e of v) write(w, e, depth + 1);
    return;
  }
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    const keys = Object.keys(v);
    w.u8(OBJECT);
    w.u32(keys.length);
    for (const k of keys) {
      writeString(w, k);
      write(w, (v as Record<string, unknown>)[k], depth + 1);
    }
    return;
  }
  throw new TypeError(`a state record cannot hold ${Object.prototype.toString.call(v)}`);
}

class Reader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos = 0;
  constructor(bytes: Uint8Array) {
    // A plain Uint8Array view: a Node Buffer's slice() would share memory instead of copying.
    this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number, what: string): void {
    if (n > this.bytes.length - this.pos)
      throw snapshotError(
        `${what} needs ${n} bytes at offset ${this.pos} of a ${this.bytes.length}-byte record`,
      );
  }
  u8(): number {
    this.need(1, "a tag");
    return this.bytes[this.pos++];
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8, "a number");
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const b = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  string(): string {
    const n = this.u32("a string length");
    try {
      return fromUtf8.decode(this.take(n, "a string"));
    } catch (e) {
      if (e instanceof VirtusError) throw e;
      throw snapshotError("a string is not valid UTF-8");
    }
  }
}

/** Decodes one value that must fill `bytes` exactly; throws a "bad-snapshot" VirtusError for anything malformed. */
export function decodeValue(bytes: Uint8Array): unknown {
  const r = new Reader(bytes);
  const v = read(r, 0);
  if (r.pos !== bytes.length) throw snapshotError(`${bytes.length - r.pos} stray bytes after a record`);
  return v;
}

function read(r: Reader, depth: number): unknown {
  if (depth > MAX_DEPTH) throw snapshotError("records nested too deeply");
  const tag = r.u8();
  switch (tag) {
    case NULL:
      return null;
    case FALSE:
      return false;
    case TRUE:
      return true;
    case UNDEFINED:
      return undefined;
    case NUMBER:
      return r.f64();
    case STRING:
      return r.string();
    case ARRAY: {
      const n = r.u32("an array length");
      // Every element takes at least one byte: a count beyond the bytes left is a lie.
      r.need(n, "an array");
      const a: unknown[] = [];
      for (let i = 0; i < n; i++) a.push(read(r, depth + 1));
      return a;
    }
    case OBJECT: {
      const n = r.u32("a field count");
      r.need(n * 5, "a record");
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const k = r.string();
        if (k === "__proto__") throw snapshotError('a record has a "__proto__" field');
        if (Object.hasOwn(o, k)) throw snapshotError(`a record has field "${k}" twice`);
        o[k] = read(r, depth + 1);
      }
      return o;
    }
    case U8:
      return r.take(r.u32("a byte-array length"), "a byte array").slice();
    case I32: {
      const n = r.u32("an int32-array length");
      const b = r.take(n * 4, "an int32 array").slice();
      return new Int32Array(b.buffer);
    }
    case F64: {
      const n = r.u32("a float64-array length");
      const b = r.take(n * 8, "a float64 array").slice();
      return new Float64Array(b.buffer);
    }
    default:
      throw snapshotError(`unknown value tag ${tag} at offset ${r.pos - 1}`);
  }
}

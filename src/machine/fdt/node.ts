/**
 * The device tree as a tree (devicetree spec v0.4, chapter 2): nodes with
 * named properties. builder.ts assembles a tree and serialize.ts flattens
 * it into a DTB; both import this file and serialize.ts never imports the
 * builder, so the two do not depend on each other in a cycle.
 * Platform-neutral: only Uint8Array and DataView.
 *
 * Property values are recorded as typed parts (cells, strings, bytes) and
 * encoded at serialization time, so a cell can be a reference to another
 * node (`<&label>` in DTS): the serializer gives every referenced node a
 * `phandle` property and writes its number in place of the reference.
 */
/** One 32-bit cell: a number (0..2^32-1, or a negative int32) or a reference to a node's phandle. */
export type FdtCell = number | FdtNode;

/** A 64-bit value written as two cells (high word first): a number below 2^53 or a bigint. */
export type FdtU64 = number | bigint;

/** How a property's value is encoded (spec 2.2.4, table 2.3). */
export type FdtValue =
  | { kind: "empty" }
  | { kind: "cells"; cells: FdtCell[] }
  | { kind: "strings"; strings: string[] }
  | { kind: "bytes"; bytes: Uint8Array };

export interface FdtProperty {
  readonly name: string;
  readonly value: FdtValue;
}

/** Node names: spec 2.2.1 (node-name[@unit-address]), 1..31 characters for the name part. */
const NODE_NAME = /^[A-Za-z0-9,._+-]{1,31}(@[A-Za-z0-9,._+-]+)?$/;
/** Property names: spec 2.2.4.1, 1..31 characters. */
const PROP_NAME = /^[A-Za-z0-9,._+?#-]{1,31}$/;

function checkCell(v: number, what: string): number {
  if (!Number.isInteger(v) || v < -(2 ** 31) || v > 2 ** 32 - 1)
    throw new RangeError(`${what}: ${v} is not a 32-bit cell`);
  return v >>> 0;
}

/** Splits a 64-bit value into [high, low] cells. */
export function u64Cells(v: FdtU64, what = "u64"): [number, number] {
  if (typeof v === "bigint") {
    if (v < 0n || v >= 1n << 64n) throw new RangeError(`${what}: ${v} is not a 64-bit value`);
    return [Number(v >> 32n), Number(v & 0xffff_ffffn)];
  }
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what}: ${v} is not a safe 64-bit integer`);
  return [Math.floor(v / 2 ** 32), v % 2 ** 32];
}

/** A device-tree node. Setters return `this` so a node reads like its DTS. */
export class FdtNode {
  readonly name: string;
  readonly props: FdtProperty[] = [];
  readonly children: FdtNode[] = [];
  /** The phandle, or 0 while none is assigned (the serializer assigns one to every referenced node). */
  phandle = 0;

  constructor(name: string) {
    if (name !== "" && !NODE_NAME.test(name)) throw new Error(`bad device-tree node name "${name}"`);
    this.name = name;
  }

  /** Adds a child node; names must be unique among siblings (spec 2.2.1). */
  addNode(name: string): FdtNode {
    if (this.children.some((c) => c.name === name))
      throw new Error(`duplicate node "${name}" under "${this.name || "/"}"`);
    const n = new FdtNode(name);
    this.children.push(n);
    return n;
  }

  /** The child with this name, if any. */
  child(name: string): FdtNode | undefined {
    return this.children.find((c) => c.name === name);
  }

  /** The property with this name, if any. */
  prop(name: string): FdtProperty | undefined {
    return this.props.find((p) => p.name === name);
  }

  private set(name: string, value: FdtValue): this {
    if (!PROP_NAME.test(name)) throw new Error(`bad device-tree property name "${name}"`);
    if (name === "phandle")
      throw new Error(`set a node's phandle through FdtNode.phandle, not as a property`);
    if (this.prop(name) !== undefined)
      throw new Error(`duplicate property "${name}" in node "${this.name || "/"}"`);
    this.props.push({ name, value });
    return this;
  }

  /** A property with no value (a boolean flag, e.g. `interrupt-controller;`). */
  empty(name: string): this {
    return this.set(name, { kind: "empty" });
  }

  /** A list of 32-bit cells; a node in the list stands for its phandle. */
  cells(name: string, ...cells: FdtCell[]): this {
    for (const c of cells) if (typeof c === "number") checkCell(c, `${this.name}/${name}`);
    return this.set(name, { kind: "cells", cells });
  }

  /** One 32-bit cell. */
  u32(name: string, v: number): this {
    return this.cells(name, v);
  }

  /** 64-bit values, each as two cells, high word first (e.g. `reg` with #address-cells = #size-cells = 2). */
  u64(name: string, ...values: FdtU64[]): this {
    const cells: number[] = [];
    for (const v of values) cells.push(...u64Cells(v, `${this.name}/${name}`));
    return this.set(name, { kind: "cells", cells });
  }

  /** A NUL-terminated string. */
  string(name: string, s: string): this {
    return this.strings(name, s);
  }

  /** A string list (each NUL-terminated), e.g. `compatible = "a", "b"`. */
  strings(name: string, ...list: string[]): this {
    if (list.length === 0) throw new Error(`${name}: empty string list`);
    for (const s of list) if (s.includes("\0")) throw new Error(`${name}: string contains NUL`);
    return this.set(name, { kind: "strings", strings: list });
  }

  /** Raw bytes. */
  bytes(name: string, data: Uint8Array): this {
    return this.set(name, { kind: "bytes", bytes: data.slice() });
  }
}

/** An entry of the memory reservation block (spec 5.3). */
export interface FdtReservation {
  address: FdtU64;
  size: FdtU64;
}

/**
 * Flattened device tree (DTB) serializer, devicetree spec v0.4 chapter 5.
 *
 * Layout, as dtc and QEMU write it, every field big-endian:
 *
 *   0x00  header (5.2), 40 bytes: magic, totalsize, off_dt_struct,
 *         off_dt_strings, off_mem_rsvmap, version 17, last_comp_version 16,
 *         boot_cpuid_phys, size_dt_strings, size_dt_struct
 *   0x28  memory reservation block (5.3): {u64 address, u64 size}... then {0, 0}; 8-byte aligned
 *   ...   structure block (5.4): FDT_BEGIN_NODE name\0 (padded to 4), FDT_PROP len nameoff value (padded),
 *         FDT_END_NODE, ..., FDT_END; 4-byte aligned
 *   ...   strings block (5.5): property names, NUL-terminated, each stored once
 */
import type { FdtNode, FdtProperty, FdtReservation, FdtU64 } from "./node.ts";

export const FDT_MAGIC = 0xd00dfeed;
export const FDT_VERSION = 17;
export const FDT_LAST_COMP_VERSION = 16;
export const FDT_BEGIN_NODE = 0x1;
export const FDT_END_NODE = 0x2;
export const FDT_PROP = 0x3;
export const FDT_NOP = 0x4;
export const FDT_END = 0x9;
const HEADER_SIZE = 40;

const utf8 = new TextEncoder();

/** [high, low] words of a 64-bit value (validated by the builder). */
function split64(v: FdtU64): [number, number] {
  if (typeof v === "bigint") return [Number((v >> 32n) & 0xffff_ffffn), Number(v & 0xffff_ffffn)];
  return [Math.floor(v / 2 ** 32), v % 2 ** 32];
}

/** A growable big-endian byte buffer. */
class Out {
  buf = new Uint8Array(1024);
  view = new DataView(this.buf.buffer);
  len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
    this.view = new DataView(b.buffer);
  }

  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.len, v >>> 0);
    this.len += 4;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Zero bytes up to a multiple of `n`. */
  align(n: number): void {
    const pad = (n - (this.len % n)) % n;
    this.room(pad);
    this.buf.fill(0, this.len, this.len + pad);
    this.len += pad;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** NUL-terminated UTF-8 of each string, concatenated. */
function stringList(list: string[]): Uint8Array {
  const parts = list.map((s) => utf8.encode(s));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length + 1;
  }
  return out;
}

function encodeValue(p: FdtProperty): Uint8Array {
  const v = p.value;
  switch (v.kind) {
    case "empty":
      return new Uint8Array(0);
    case "bytes":
      return v.bytes;
    case "strings":
      return stringList(v.strings);
    case "cells": {
      const out = new Uint8Array(v.cells.length * 4);
      const dv = new DataView(out.buffer);
      for (let i = 0; i < v.cells.length; i++) {
        const c = v.cells[i];
        dv.setUint32(i * 4, typeof c === "number" ? c >>> 0 : c.phandle);
      }
      return out;
    }
  }
}

/**
 * Gives each node that some property references a phandle, in tree order,
 * after the highest one already set; checks phandles are unique and every
 * reference points into this tree.
 */
function assignPhandles(root: FdtNode): void {
  const all: FdtNode[] = [];
  const walk = (n: FdtNode) => {
    all.push(n);
    for (const c of n.children) walk(c);
  };
  walk(root);
  const inTree = new Set(all);
  const referenced = new Set<FdtNode>();
  for (const n of all) {
    for (const p of n.props) {
      if (p.value.kind !== "cells") continue;
      for (const c of p.value.cells) {
        if (typeof c === "number") continue;
        if (!inTree.has(c))
          throw new Error(
            `property "${p.name}" of "${n.name || "/"}" references node "${c.name}" outside the tree`,
          );
        referenced.add(c);
      }
    }
  }
  const used = new Set<number>();
  let next = 1;
  for (const n of all) {
    if (n.phandle === 0) continue;
    if (!Number.isInteger(n.phandle) || n.phandle < 1 || n.phandle > 0xffff_fffe)
      throw new Error(`bad phandle ${n.phandle} on "${n.name}"`);
    if (used.has(n.phandle)) throw new Error(`phandle ${n.phandle} used twice`);
    used.add(n.phandle);
    next = Math.max(next, n.phandle + 1);
  }
  for (const n of all) if (referenced.has(n) && n.phandle === 0) n.phandle = next++;
}

/** Flattens a tree into DTB bytes (spec chapter 5). Assigns phandles to referenced nodes that have none. */
export function serializeFdt(
  root: FdtNode,
  reservations: readonly FdtReservation[],
  bootCpuidPhys = 0,
): Uint8Array {
  if (root.name !== "") throw new Error("the root node's name must be empty");
  assignPhandles(root);

  // Strings block: each property name once, in first-use order.
  const strings = new Out();
  const nameOff = new Map<string, number>();
  const nameOffset = (name: string): number => {
    let off = nameOff.get(name);
    if (off === undefined) {
      off = strings.len;
      nameOff.set(name, off);
      strings.bytes(stringList([name]));
    }
    return off;
  };

  const struct = new Out();
  const phandleValue = new Uint8Array(4);
  const prop = (name: string, value: Uint8Array) => {
    struct.u32(FDT_PROP);
    struct.u32(value.length);
    struct.u32(nameOffset(name));
    struct.bytes(value);
    struct.align(4);
  };
  const emit = (n: FdtNode) => {
    struct.u32(FDT_BEGIN_NODE);
    struct.bytes(stringList([n.name]));
    struct.align(4);
    for (const p of n.props) prop(p.name, encodeValue(p));
    if (n.phandle !== 0) {
      new DataView(phandleValue.buffer).setUint32(0, n.phandle);
      prop("phandle", phandleValue);
    }
    for (const c of n.children) emit(c);
    struct.u32(FDT_END_NODE);
  };
  emit(root);
  struct.u32(FDT_END);

  const rsv = new Out();
  for (const r of reservations) {
    const [ah, al] = split64(r.address);
    const [sh, sl] = split64(r.size);
    rsv.u32(ah);
    rsv.u32(al);
    rsv.u32(sh);
    rsv.u32(sl);
  }
  for (let i = 0; i < 4; i++) rsv.u32(0);

  const offRsv = HEADER_SIZE; // 40 is a multiple of 8
  const offStruct = offRsv + rsv.len;
  const offStrings = offStruct + struct.len;
  const total = offStrings + strings.len;

  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const header = [
    FDT_MAGIC,
    total,
    offStruct,
    offStrings,
    offRsv,
    FDT_VERSION,
    FDT_LAST_COMP_VERSION,
    bootCpuidPhys,
    strings.len,
    struct.len,
  ];
  for (let i = 0; i < header.length; i++) dv.setUint32(i * 4, header[i] >>> 0);
  out.set(rsv.result(), offRsv);
  out.set(struct.result(), offStruct);
  out.set(strings.result(), offStrings);
  return out;
}

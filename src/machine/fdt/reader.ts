/**
 * A small flattened-device-tree reader (devicetree spec v0.4 chapter 5):
 * enough to check our own DTBs and to read a user-supplied one. Input is
 * untrusted: every offset and length is bounds-checked.
 */
import { FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_MAGIC, FDT_NOP, FDT_PROP } from "./serialize.ts";

export interface FdtHeader {
  magic: number;
  totalSize: number;
  offDtStruct: number;
  offDtStrings: number;
  offMemRsvmap: number;
  version: number;
  lastCompVersion: number;
  bootCpuidPhys: number;
  sizeDtStrings: number;
  sizeDtStruct: number;
}

export interface ParsedFdtNode {
  name: string;
  /** Property values in file order. */
  props: Map<string, Uint8Array>;
  children: ParsedFdtNode[];
}

export interface ParsedFdt {
  header: FdtHeader;
  /** Memory reservations as [address, size] bigints. */
  reservations: [bigint, bigint][];
  root: ParsedFdtNode;
  /** Property names in the strings block, in order (to check de-duplication). */
  stringsBlock: string[];
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function fail(why: string): never {
  throw new Error(`bad DTB: ${why}`);
}

/** Parses a DTB; throws on anything malformed. */
export function parseFdt(bytes: Uint8Array): ParsedFdt {
  if (bytes.length < 40) fail("shorter than the header");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const w = (o: number) => dv.getUint32(o);
  const header: FdtHeader = {
    magic: w(0),
    totalSize: w(4),
    offDtStruct: w(8),
    offDtStrings: w(12),
    offMemRsvmap: w(16),
    version: w(20),
    lastCompVersion: w(24),
    bootCpuidPhys: w(28),
    sizeDtStrings: w(32),
    sizeDtStruct: w(36),
  };
  if (header.magic !== FDT_MAGIC) fail(`magic 0x${header.magic.toString(16)}`);
  if (header.totalSize > bytes.length) fail("totalsize beyond the buffer");
  if (header.lastCompVersion > 17) fail(`last_comp_version ${header.lastCompVersion}`);
  const end = header.totalSize;
  const inside = (off: number, len: number) => off >= 0 && len >= 0 && off + len <= end;
  if (!inside(header.offDtStruct, header.sizeDtStruct)) fail("structure block out of bounds");
  if (!inside(header.offDtStrings, header.sizeDtStrings)) fail("strings block out of bounds");
  if (header.offMemRsvmap % 8 !== 0) fail("reservation block not 8-byte aligned");

  const reservations: [bigint, bigint][] = [];
  for (let o = header.offMemRsvmap; ; o += 16) {
    if (!inside(o, 16)) fail("reservation block runs off the end");
    const addr = dv.getBigUint64(o);
    const size = dv.getBigUint64(o + 8);
    if (addr === 0n && size === 0n) break;
    reservations.push([addr, size]);
  }

  const strBase = header.offDtStrings;
  const strEnd = strBase + header.sizeDtStrings;
  const cString = (o: number, limit: number): [string, number] => {
    let z = o;
    while (z < limit && bytes[z] !== 0) z++;
    if (z >= limit) fail("unterminated string");
    return [utf8.decode(bytes.subarray(o, z)), z + 1];
  };
  const stringsBlock: string[] = [];
  for (let o = strBase; o < strEnd; ) {
    const [s, next] = cString(o, strEnd);
    stringsBlock.push(s);
    o = next;
  }

  let p = header.offDtStruct;
  const sEnd = header.offDtStruct + header.sizeDtStruct;
  const token = (): number => {
    if (p + 4 > sEnd) fail("structure block runs off the end");
    const t = w(p);
    p += 4;
    return t;
  };
  const align = () => {
    p = (p + 3) & ~3;
  };

  const parseNode = (): ParsedFdtNode => {
    const [name, next] = cString(p, sEnd);
    p = next;
    align();
    const node: ParsedFdtNode = { name, props: new Map(), children: [] };
    for (;;) {
      const t = token();
      if (t === FDT_NOP) continue;
      if (t === FDT_PROP) {
        const len = token();
        const nameoff = token();
        if (nameoff >= header.sizeDtStrings) fail("property name offset out of bounds");
        if (p + len > sEnd) fail("property value runs off the end");
        const [pname] = cString(strBase + nameoff, strEnd);
        if (node.children.length > 0) fail(`property "${pname}" after a child node`);
        if (node.props.has(pname)) fail(`duplicate property "${pname}" in "${name}"`);
        node.props.set(pname, bytes.slice(p, p + len));
        p += len;
        align();
      } else if (t === FDT_BEGIN_NODE) {
        node.children.push(parseNode());
      } else if (t === FDT_END_NODE) {
        return node;
      } else fail(`unexpected token 0x${t.toString(16)}`);
    }
  };

  let t = token();
  while (t === FDT_NOP) t = token();
  if (t !== FDT_BEGIN_NODE) fail("structure block does not start with a node");
  const root = parseNode();
  t = token();
  while (t === FDT_NOP) t = token();
  if (t !== FDT_END) fail("no FDT_END after the root node");
  return { header, reservations, root, stringsBlock };
}

/** The node at a path like "/soc/serial@10000000", or undefined. */
export function findNode(root: ParsedFdtNode, path: string): ParsedFdtNode | undefined {
  let n: ParsedFdtNode | undefined = root;
  for (const part of path.split("/").filter((s) => s !== "")) {
    n = n.children.find((c: ParsedFdtNode) => c.name === part);
    if (n === undefined) return undefined;
  }
  return n;
}

/** A property value as big-endian 32-bit cells. */
export function propCells(v: Uint8Array): number[] {
  if (v.length % 4 !== 0) fail("cell property length not a multiple of 4");
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const out: number[] = [];
  for (let i = 0; i < v.length; i += 4) out.push(dv.getUint32(i));
  return out;
}

/** A property value as a list of NUL-terminated strings. */
export function propStrings(v: Uint8Array): string[] {
  if (v.length === 0 || v[v.length - 1] !== 0) fail("string property not NUL-terminated");
  return utf8.decode(v.subarray(0, v.length - 1)).split("\0");
}

import assert from "node:assert/strict";
import { test } from "node:test";
import { FdtBuilder, FdtNode } from "../../../src/machine/fdt/builder.ts";
import { findNode, parseFdt, propCells, propStrings } from "../../../src/machine/fdt/reader.ts";
import { dtcDecompile, haveDtc } from "./dtc.ts";

function sample(): FdtBuilder {
  const b = new FdtBuilder();
  b.root.u32("#address-cells", 2).u32("#size-cells", 2).string("model", "test");
  const intc = b.root.addNode("intc").empty("interrupt-controller").u32("#interrupt-cells", 1);
  const dev = b.root.addNode("dev@10000000");
  dev
    .strings("compatible", "vendor,dev1", "vendor,dev0")
    .u64("reg", 0x1000_0000, 0x100)
    .cells("interrupts-extended", intc, 11, intc, 9)
    .bytes("blob", new Uint8Array([1, 2, 3]))
    .u32("negative", -1);
  dev.addNode("child").string("model", "x"); // "model" again: one copy in the strings block
  b.reserve(0x8000_0000, 0x1000);
  b.reserve(2n ** 40n, 2n ** 33n);
  return b;
}

test("the DTB header, blocks and alignment follow devicetree spec v0.4 chapter 5", () => {
  const dtb = sample().build();
  const { header: h } = parseFdt(dtb);
  assert.equal(h.magic, 0xd00dfeed);
  assert.equal(h.version, 17);
  assert.equal(h.lastCompVersion, 16);
  assert.equal(h.totalSize, dtb.length);
  assert.equal(h.offMemRsvmap, 40);
  assert.equal(h.offMemRsvmap % 8, 0);
  assert.equal(h.offDtStruct % 4, 0);
  assert.equal(h.offDtStruct, h.offMemRsvmap + 3 * 16, "two reservations plus the terminating entry");
  assert.equal(h.offDtStrings, h.offDtStruct + h.sizeDtStruct);
  assert.equal(h.totalSize, h.offDtStrings + h.sizeDtStrings);
  assert.equal(h.sizeDtStruct % 4, 0);
  // First token: FDT_BEGIN_NODE with the empty root name, padded to 4 bytes; last: FDT_END.
  const dv = new DataView(dtb.buffer);
  assert.equal(dv.getUint32(h.offDtStruct), 1);
  assert.equal(dv.getUint32(h.offDtStruct + 4), 0);
  assert.equal(dv.getUint32(h.offDtStruct + h.sizeDtStruct - 4), 9);
});

test("the reader gets back every property, node, reservation and phandle reference", () => {
  const b = sample();
  const fdt = parseFdt(b.build());
  assert.deepEqual(fdt.reservations, [
    [0x8000_0000n, 0x1000n],
    [2n ** 40n, 2n ** 33n],
  ]);
  const root = fdt.root;
  assert.equal(root.name, "");
  assert.deepEqual(
    root.children.map((c) => c.name),
    ["intc", "dev@10000000"],
  );
  const intc = findNode(root, "/intc")!;
  const dev = findNode(root, "/dev@10000000")!;
  assert.equal(intc.props.get("interrupt-controller")!.length, 0);
  const ph = propCells(intc.props.get("phandle")!)[0];
  assert.equal(ph, 1);
  assert.equal(b.root.children[0].phandle, 1, "the builder records the phandle it assigned");
  assert.deepEqual(propCells(dev.props.get("interrupts-extended")!), [ph, 11, ph, 9]);
  assert.deepEqual(propCells(dev.props.get("reg")!), [0, 0x1000_0000, 0, 0x100]);
  assert.deepEqual(propStrings(dev.props.get("compatible")!), ["vendor,dev1", "vendor,dev0"]);
  assert.deepEqual([...dev.props.get("blob")!], [1, 2, 3]);
  assert.deepEqual(propCells(dev.props.get("negative")!), [0xffff_ffff]);
  assert.equal(dev.props.has("phandle"), false, "an unreferenced node gets no phandle");
  assert.equal(propStrings(findNode(root, "/dev@10000000/child")!.props.get("model")!)[0], "x");
});

test("the strings block holds each property name once", () => {
  const fdt = parseFdt(sample().build());
  const names = fdt.stringsBlock;
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.includes("model"));
  assert.ok(names.includes("phandle"));
  assert.equal(names.filter((n) => n === "model").length, 1);
});

test("building twice gives the same bytes; explicit phandles are kept and new ones go above them", () => {
  const b = sample();
  assert.deepEqual(b.build(), b.build());
  const c = new FdtBuilder();
  const a = c.root.addNode("a");
  a.phandle = 7;
  const x = c.root.addNode("x");
  c.root.addNode("user").cells("refs", a, x);
  const root = parseFdt(c.build()).root;
  assert.deepEqual(propCells(findNode(root, "/user")!.props.get("refs")!), [7, 8]);
});

test("the builder rejects what the spec forbids", () => {
  const n = new FdtNode("");
  assert.throws(() => n.addNode("bad name"), /node name/);
  assert.throws(() => n.addNode("x".repeat(32)), /node name/);
  n.addNode("ok@1");
  assert.throws(() => n.addNode("ok@1"), /duplicate node/);
  n.u32("p", 1);
  assert.throws(() => n.u32("p", 2), /duplicate property/);
  assert.throws(() => n.u32("q", 2 ** 32), /32-bit cell/);
  assert.throws(() => n.u32("q", 1.5), /32-bit cell/);
  assert.throws(() => n.u64("r", 2 ** 53), /safe 64-bit/);
  assert.throws(() => n.string("s", "a\0b"), /NUL/);
  assert.throws(() => n.u32("phandle", 3), /phandle/);
  assert.throws(() => n.u32("bad prop", 3), /property name/);
  const b = new FdtBuilder();
  b.root.cells("ref", new FdtNode("orphan"));
  assert.throws(() => b.build(), /outside the tree/);
});

test("the reader rejects a corrupt DTB", () => {
  const dtb = sample().build();
  const bad = dtb.slice();
  bad[0] = 0;
  assert.throws(() => parseFdt(bad), /magic/);
  assert.throws(() => parseFdt(dtb.subarray(0, dtb.length - 8)), /totalsize/);
  const badTok = dtb.slice();
  const off = parseFdt(dtb).header.offDtStruct;
  new DataView(badTok.buffer).setUint32(off, 7);
  assert.throws(() => parseFdt(badTok), /does not start with a node/);
});

test("dtc reads our DTB and decompiles it to the expected source", {
  skip: !haveDtc() && "dtc not installed",
}, () => {
  const dts = dtcDecompile(sample().build());
  assert.match(dts, /^\/dts-v1\/;/);
  assert.match(dts, /\/memreserve\/\s+0x0*80000000 0x0*1000;/);
  assert.match(dts, /interrupts-extended = <0x01 0x0b 0x01 0x09>;/);
  assert.match(dts, /compatible = "vendor,dev1\\0vendor,dev0";/);
  assert.match(dts, /reg = <0x00 0x10000000 0x00 0x100>;/);
  assert.match(dts, /blob = \[01 02 03\];/);
  assert.match(dts, /interrupt-controller;/);
});

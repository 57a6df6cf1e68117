/**
 * The snapshot parser against hostile files: truncation at every section
 * boundary and at random points, bit flips, absurd lengths with valid
 * checksums, and hostile records inside a well-formed file. Every failure
 * must be a one-line VirtusError ("bad-snapshot"), never another exception,
 * a hang or a huge allocation; and a restore that fails does so before the
 * caller gets a running machine.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32, plainCodec, type SnapshotCodec } from "../../src/formats/snapshot/codec.ts";
import { decodeSnapshotFile, encodeSnapshotFile } from "../../src/formats/snapshot/file.ts";
import { decodeValue, encodeValue } from "../../src/formats/snapshot/value.ts";
import { nodeSnapshotCodec } from "../../src/host/node/snapshot-file.ts";
import { VirtusError } from "../../src/machine/errors.ts";
import { restoreVm, saveVm } from "../../src/machine/snapshot/machine-snapshot.ts";
import { equippedBoard } from "../support/equipped-board.ts";
import { Sfc32 } from "../support/prng.ts";

const board = () => equippedBoard({ harts: 1, ramSize: 1 << 20 });

function sample(codec: SnapshotCodec): Uint8Array {
  const vm = board();
  useBoardSmall(vm);
  return new Uint8Array(
    Buffer.concat(encodeSnapshotFile(saveVm(vm), { config: { x: 1 }, disks: [] }, codec)),
  );
}

/** useBoard puts queues at 2 MiB; a 1 MiB board gets a program and device state only. */
function useBoardSmall(vm: ReturnType<typeof board>): void {
  vm.machine.mem.writePhys(vm.machine.mem.ramBase + 4096, new Uint8Array([1, 2, 3, 4]));
  vm.receive(new TextEncoder().encode("abc"));
  vm.machine.harts[0].setPc(vm.machine.mem.ramBase | 0, 0);
  vm.machine.run(1000);
}

function isBadSnapshot(e: unknown): boolean {
  return e instanceof VirtusError && e.code === "bad-snapshot" && !e.message.includes("\n");
}

/** Decodes and restores into a fresh board; returns "ok" or throws what the parser or restore threw. */
function tryRestore(bytes: Uint8Array, codec: SnapshotCodec): "ok" {
  const { snapshot } = decodeSnapshotFile(bytes, codec);
  restoreVm(board(), snapshot);
  return "ok";
}

function expectRejected(bytes: Uint8Array, codec: SnapshotCodec, what: string): void {
  assert.throws(() => tryRestore(bytes, codec), isBadSnapshot, what);
}

interface Entry {
  name: string;
  offset: number;
  length: number;
}

function table(bytes: Uint8Array): Entry[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(20, true);
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const e = 64 + 32 * i;
    const name = String.fromCharCode(...bytes.subarray(e, e + 8)).replace(/\0+$/, "");
    out.push({ name, offset: dv.getUint32(e + 16, true), length: dv.getUint32(e + 24, true) });
  }
  return out;
}

/** Recomputes every checksum, so a change gets past them to the parser proper. */
function reseal(bytes: Uint8Array): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Math.min(dv.getUint32(20, true), 16);
  for (let i = 0; i < n && 64 + 32 * (i + 1) <= bytes.length; i++) {
    const e = 64 + 32 * i;
    const off = dv.getUint32(e + 16, true);
    const len = dv.getUint32(e + 24, true);
    if (off + len <= bytes.length) dv.setUint32(e + 12, crc32(bytes.subarray(off, off + len)), true);
  }
  if (64 + 32 * n <= bytes.length) dv.setUint32(32, crc32(bytes.subarray(64, 64 + 32 * n)), true);
  dv.setUint32(60, crc32(bytes.subarray(0, 60)), true);
  return bytes;
}

/** Replaces a section's payload (resizing the file), fixing the table and checksums. */
function replaceSection(bytes: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  const entries = table(bytes);
  const idx = entries.findIndex((e) => e.name === name);
  const e = entries[idx];
  const delta = payload.length - e.length;
  const out = new Uint8Array(bytes.length + delta);
  out.set(bytes.subarray(0, e.offset));
  out.set(payload, e.offset);
  out.set(bytes.subarray(e.offset + e.length), e.offset + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(64 + 32 * idx + 24, payload.length, true);
  for (let i = idx + 1; i < entries.length; i++)
    dv.setUint32(64 + 32 * i + 16, entries[i].offset + delta, true);
  dv.setUint32(24, out.length, true);
  return reseal(out);
}

for (const codec of [plainCodec, nodeSnapshotCodec]) {
  const good = sample(codec);

  test(`${codec.name}: the sample file restores (the fuzz starts from a valid file)`, () => {
    assert.equal(tryRestore(good, codec), "ok");
  });

  test(`${codec.name}: truncation at every section boundary and at random points is refused`, () => {
    const cuts = new Set<number>([0, 1, 7, 8, 63, 64]);
    for (const e of table(good))
      for (const d of [-1, 0, 1]) cuts.add(e.offset + d).add(e.offset + e.length + d);
    const rng = new Sfc32(0x5eed, 1, 2, 3, 12);
    for (let i = 0; i < 200; i++) cuts.add(rng.int(good.length));
    for (const cut of cuts) {
      if (cut < 0 || cut >= good.length) continue;
      expectRejected(good.subarray(0, cut), codec, `truncated to ${cut} bytes`);
      // The same bytes with the header's length patched to match, resealed: the table and sections still catch it.
      const end = Math.max(...table(good).map((e) => e.offset + e.length));
      if (cut >= 64 && cut < end) {
        const patched = good.slice(0, cut);
        new DataView(patched.buffer).setUint32(24, cut, true);
        expectRejected(reseal(patched), codec, `truncated to ${cut} bytes and resealed`);
      }
    }
  });

  test(`${codec.name}: single bit flips anywhere are refused (checksums)`, () => {
    const rng = new Sfc32(0xb17f, 4, 5, 6, 12);
    for (let i = 0; i < 300; i++) {
      const bad = good.slice();
      const at = rng.int(bad.length);
      bad[at] ^= 1 << rng.int(8);
      // Padding between sections is not covered by a checksum and is ignored: that flip may pass.
      const inPadding =
        table(good).every((e) => at < e.offset || at >= e.offset + e.length) && at >= 64 + 32 * 3;
      if (inPadding) continue;
      expectRejected(bad, codec, `bit flip at ${at}`);
    }
  });

  test(`${codec.name}: absurd lengths and counts with valid checksums are refused without huge allocations`, () => {
    const patch = (at: number, v: number) => {
      const b = good.slice();
      new DataView(b.buffer).setUint32(at, v, true);
      return reseal(b);
    };
    const entries = table(good);
    expectRejected(patch(20, 0), codec, "no sections");
    expectRejected(patch(20, 0xffff_ffff), codec, "4 billion sections");
    expectRejected(patch(24, 0xffff_ffff), codec, "file length");
    expectRejected(patch(28, 0xffff_ffff), codec, "file length high word");
    expectRejected(patch(8, 2), codec, "format version 2");
    expectRejected(patch(12, 99), codec, "machine model 99");
    expectRejected(patch(16, 7), codec, "unknown codec");
    for (let i = 0; i < entries.length; i++) {
      const e = 64 + 32 * i;
      expectRejected(patch(e + 16, 0xffff_fff0), codec, `section ${i} offset`);
      expectRejected(patch(e + 20, 1), codec, `section ${i} offset high word`);
      expectRejected(patch(e + 24, 0xffff_fff0), codec, `section ${i} length`);
      expectRejected(patch(e + 28, 0x7fff), codec, `section ${i} length high word`);
      expectRejected(patch(e + 8, 2), codec, `section ${i} version 2`);
      expectRejected(patch(e, 0x41414141), codec, `section ${i} renamed`);
    }
    const ram = entries.find((e) => e.name === "ram") as Entry;
    for (const [field, v] of [
      [0, 8192],
      [4, 0xffff_ffff],
      [4, 1],
      [8, 0],
      [8, 0xffff_ffff],
      [12, 0xffff_ffff],
      [12, 0],
    ] as const) {
      expectRejected(patch(ram.offset + field, v), codec, `RAM header field ${field} = ${v}`);
    }
    // A chunk length that lies (the total no longer matches) and a bitmap bit past the end of RAM.
    const pages = (1 << 20) / 4096;
    const tableAt = ram.offset + 16 + pages / 8;
    expectRejected(patch(tableAt, 0xffff_ffff), codec, "chunk length");
    const machine = entries.find((e) => e.name === "machine") as Entry;
    const rec = decodeValue(good.subarray(machine.offset, machine.offset + machine.length)) as Record<
      string,
      unknown
    >;
    for (const ramSize of [0, -1, 2 ** 40, 1.5, "1M", 8 << 20]) {
      expectRejected(
        replaceSection(good.slice(), "machine", encodeValue({ ...rec, ramSize })),
        codec,
        `ramSize ${ramSize}`,
      );
    }
  });

  test(`${codec.name}: absurd lengths inside the record encoding are refused`, () => {
    const huge = new Uint8Array(9);
    const dv = new DataView(huge.buffer);
    for (const tag of [5, 6, 7, 8, 9, 10]) {
      huge[0] = tag;
      dv.setUint32(1, 0xffff_fff0, true);
      expectRejected(
        replaceSection(good.slice(), "machine", huge.subarray(0, 5)),
        codec,
        `tag ${tag} length`,
      );
    }
    // Nesting bombs and unknown tags.
    expectRejected(replaceSection(good.slice(), "machine", nestedArrays(2000)), codec, "deep nesting");
    expectRejected(replaceSection(good.slice(), "machine", new Uint8Array([42])), codec, "unknown tag");
    // A "__proto__" key (a record must not reach Object.prototype): encode "__proto_x", then patch the x.
    const proto = encodeValue({ __proto_x: { polluted: true } });
    proto[proto.indexOf(0x78)] = 0x5f;
    expectRejected(replaceSection(good.slice(), "machine", proto), codec, "__proto__ key");
    expectRejected(
      replaceSection(good.slice(), "meta", new TextEncoder().encode("[1,2")),
      codec,
      "meta not JSON",
    );
    expectRejected(
      replaceSection(good.slice(), "meta", new TextEncoder().encode('{"disks":{}}')),
      codec,
      "disks not a list",
    );
  });

  test(`${codec.name}: hostile records in a well-formed file are refused by restore, never a crash`, () => {
    const entries = table(good);
    const machine = entries.find((e) => e.name === "machine") as Entry;
    const rec = decodeValue(good.subarray(machine.offset, machine.offset + machine.length)) as {
      components: { name: string; state: unknown }[];
    };
    const rng = new Sfc32(0xbad, 7, 8, 9, 12);
    const nasty: unknown[] = [
      undefined,
      null,
      -1,
      2 ** 53,
      Number.NaN,
      Infinity,
      1.5,
      "x",
      true,
      [],
      {},
      new Uint8Array(3),
      new Int32Array(1e5),
      new Float64Array(2),
    ];
    let rejected = 0;
    for (let i = 0; i < 400; i++) {
      const copy = structuredClone(rec);
      const target = rng.pick(copy.components);
      mutate(target, "state", rng, nasty, 0);
      const bytes = replaceSection(good.slice(), "machine", encodeValue(copy));
      try {
        tryRestore(bytes, codec);
      } catch (e) {
        assert.ok(isBadSnapshot(e), `${target.name}: ${(e as Error).stack}`);
        rejected++;
      }
    }
    assert.ok(rejected > 300, `only ${rejected} of 400 hostile records were refused`);
    // Components missing, reordered or renamed.
    const names = structuredClone(rec);
    names.components.reverse();
    expectRejected(replaceSection(good.slice(), "machine", encodeValue(names)), codec, "reordered");
    const fewer = structuredClone(rec);
    fewer.components.pop();
    expectRejected(replaceSection(good.slice(), "machine", encodeValue(fewer)), codec, "missing component");
  });
}

/** Replaces one field somewhere inside `holder[key]` (or the value itself) with a hostile one. */
function mutate(
  holder: Record<string, unknown>,
  key: string,
  rng: Sfc32,
  nasty: unknown[],
  depth: number,
): void {
  const v = holder[key];
  if (depth < 4 && typeof v === "object" && v !== null && !ArrayBuffer.isView(v) && rng.chance(0.8)) {
    const keys = Object.keys(v);
    if (keys.length > 0) return mutate(v as Record<string, unknown>, rng.pick(keys), rng, nasty, depth + 1);
  }
  holder[key] = rng.pick(nasty);
}

/** `depth` arrays, each holding the next: [[[...]]] (tag 6, count 1). */
function nestedArrays(depth: number): Uint8Array {
  const out = new Uint8Array(depth * 5 + 1);
  for (let i = 0; i < depth; i++) out.set([6, 1, 0, 0, 0], i * 5);
  return out; // the innermost element is tag 0 (null)
}

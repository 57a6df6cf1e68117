/**
 * Differential test harness: runs library operations against the BigInt reference on generated
 * operands and collects mismatches (operands, mode, expected and actual bits/flags).
 */

import assert from "node:assert/strict";
import { hex, hi32, lo32, Rng, result32, result64 } from "./gen.ts";
import { F64, type Fmt, type Res } from "./ref.ts";

export const MODES = [0, 1, 2, 3, 4] as const;
const MODE_NAMES = ["RNE", "RTZ", "RDN", "RUP", "RMM"];

/** Samples per operation and rounding mode (override with FPU_N). */
export const N = Number(process.env.FPU_N ?? 10000);

export interface Case {
  ops: bigint[];
  rm: number;
  expected: Res;
  got: Res;
  label?: string;
}

export class Checker {
  readonly failures: string[] = [];
  count = 0;
  private readonly name: string;
  private readonly outWidth: number;
  private readonly inWidth: number;

  constructor(name: string, inWidth: number, outWidth: number) {
    this.name = name;
    this.inWidth = inWidth;
    this.outWidth = outWidth;
  }

  check(
    ops: readonly bigint[],
    rm: number,
    expected: Res,
    gotBits: bigint,
    gotFlags: number,
    label = "",
  ): void {
    this.count++;
    if (gotBits === expected.bits && gotFlags === expected.flags) return;
    if (this.failures.length >= 12) return;
    const opsS = ops.map((o) => hex(o, this.inWidth)).join(", ");
    this.failures.push(
      `${this.name}${label}(${opsS}) ${MODE_NAMES[rm] ?? rm}: expected ${hex(expected.bits, this.outWidth)} ` +
        `flags ${expected.flags}, got ${hex(gotBits, this.outWidth)} flags ${gotFlags}`,
    );
  }

  done(minCount: number): void {
    assert.equal(this.failures.length, 0, `\n${this.failures.join("\n")}`);
    assert.ok(this.count >= minCount, `only ${this.count} cases checked`);
  }
}

/** Calls a library function taking operands in the library's convention for format f. */
export function argsOf(ops: readonly bigint[], f: Fmt): number[] {
  const out: number[] = [];
  for (const o of ops) {
    if (f === F64) out.push(lo32(o), hi32(o));
    else out.push(Number(o) | 0);
  }
  return out;
}

export function resultOf(f: Fmt | number): bigint {
  const w = typeof f === "number" ? f : f.width;
  return w === 64 ? result64() : result32();
}

export { Rng };

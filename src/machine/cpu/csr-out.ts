import type { Hart } from "./hart.ts";

/**
 * The CSR table (priv spec 1.12, chapter 2): access rules are data. Each
 * entry has a predicate (may this hart access it now?), a read returning
 * the low word with the high word in `csrOut.hi`, and a write taking both
 * words. The CSR address's own bits give the minimum privilege (9:8) and
 * read-only-ness (11:10 = 3); predicates add the extension-specific rules.
 */
export interface CsrDef {
  readonly name: string;
  readonly addr: number;
  /** Extra access rule beyond the address bits; false → illegal instruction. */
  readonly allowed?: (h: Hart, write: boolean) => boolean;
  /** With V=1, after `allowed`: true → virtual-instruction exception (H extension). */
  readonly virtual?: (h: Hart, write: boolean) => boolean;
  readonly read: (h: Hart) => number;
  readonly write?: (h: Hart, lo: number, hi: number) => void;
  /** The value csrrs/csrrc modify, when it differs from what a read returns (mip.SEIP). */
  readonly rmwRead?: (h: Hart) => number;
}

/** High word of the last CSR read. */
export const csrOut = { hi: 0 };

export function slot(h: Hart, s: number): number {
  csrOut.hi = h.c[s * 2 + 1];
  return h.c[s * 2];
}

export function setSlot(h: Hart, s: number, lo: number, hi: number): void {
  h.c[s * 2] = lo;
  h.c[s * 2 + 1] = hi;
}

export function zeroCsr(): number {
  csrOut.hi = 0;
  return 0;
}

/** A plain read/write slot with a write mask. */
export function plain(name: string, addr: number, s: number, maskLo: number, maskHi = 0): CsrDef {
  return {
    name,
    addr,
    read: (h) => slot(h, s),
    write: (h, lo, hi) =>
      setSlot(h, s, (h.c[s * 2] & ~maskLo) | (lo & maskLo), (h.c[s * 2 + 1] & ~maskHi) | (hi & maskHi)),
  };
}

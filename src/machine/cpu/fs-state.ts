import { MSTATUS_FS } from "./constants.ts";

/**
 * mstatus.FS while V=1: Off if either level's FS is Off, Dirty if both are
 * Dirty, else Clean. (Its own file: hart.ts and hext.ts both use it, and
 * hext.ts depends on the hart.)
 */
export function combinedFs(mFs: number, vsFs: number): number {
  if (mFs === 0 || vsFs === 0) return 0;
  return mFs === MSTATUS_FS && vsFs === MSTATUS_FS ? MSTATUS_FS : 2 << 13;
}

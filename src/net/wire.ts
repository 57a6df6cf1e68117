/**
 * Byte-level helpers for the user-mode network stack: big-endian fields,
 * the Internet checksum (RFC 1071), and IPv4 / MAC address conversions.
 * Platform-neutral: no `node:` imports (design 2.2).
 */

/** An IPv4 address as an unsigned 32-bit number (10.0.2.15 = 0x0a00020f). */
export type Ip4 = number;

export function u16(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

export function u32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

export function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 8;
  b[off + 1] = v;
}

export function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = v >>> 16;
  b[off + 2] = v >>> 8;
  b[off + 3] = v;
}

/**
 * One's-complement sum of `len` bytes as 16-bit big-endian words, added to
 * `acc` without folding (RFC 1071 4.1). An odd last byte is padded with zero.
 * Accumulating in a double is exact for any frame size we handle.
 */
export function sumWords(b: Uint8Array, off: number, len: number, acc = 0): number {
  const end = off + (len & ~1);
  let i = off;
  for (; i < end; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (len & 1) acc += b[i] << 8;
  return acc;
}

/** Folds a sum from sumWords to 16 bits and complements it: the checksum field's value. */
export function finishChecksum(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

/** The Internet checksum of a byte range (0 when verifying a range that contains a correct checksum). */
export function checksum(b: Uint8Array, off: number, len: number): number {
  return finishChecksum(sumWords(b, off, len));
}

/** Sum of the TCP/UDP pseudo-header (RFC 793 3.1, RFC 768): source, destination, protocol, length. */
export function pseudoHeaderSum(src: Ip4, dst: Ip4, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}

export function ip4(text: string): Ip4 {
  const parts = text.split(".");
  if (parts.length !== 4) throw new RangeError(`not an IPv4 address: ${text}`);
  let v = 0;
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) throw new RangeError(`not an IPv4 address: ${text}`);
    v = v * 256 + n;
  }
  return v;
}

export function ip4String(v: Ip4): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** An IPv6 address text ("::1", "fe80::1%eth0" without the zone) as 16 bytes, or undefined. */
export function ip6Bytes(text: string): Uint8Array | undefined {
  const t = text.split("%")[0];
  const halves = t.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === "") return [];
    const out: number[] = [];
    const parts = h.split(":");
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (i === parts.length - 1 && part.includes(".")) {
        try {
          const v4 = ip4(part);
          out.push(v4 >>> 16, v4 & 0xffff);
        } catch {
          return undefined;
        }
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) out.push(Number.parseInt(part, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === undefined || tail === undefined) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) put16(out, i * 2, all[i]);
  return out;
}

/** A MAC address as 6 bytes. */
export type Mac = Uint8Array;

export function mac(text: string): Mac {
  const parts = text.split(":");
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p)))
    throw new RangeError(`not a MAC address: ${text}`);
  return Uint8Array.from(parts.map((p) => Number.parseInt(p, 16)));
}

export function macString(m: Uint8Array, off = 0): string {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(m[off + i].toString(16).padStart(2, "0"));
  return out.join(":");
}

export function macEquals(a: Uint8Array, aOff: number, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[aOff + i] !== b[i]) return false;
  return true;
}

export const BROADCAST_MAC: Mac = new Uint8Array([255, 255, 255, 255, 255, 255]);

/**
 * TCP sequence-number comparisons modulo 2^32 (RFC 793 3.3): a < b when
 * b is ahead of a by less than 2^31.
 */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}
/** (a - b) mod 2^32 as a signed 32-bit distance. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

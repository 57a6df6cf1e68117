/**
 * A memory-mapped device: offsets are relative to the device's base, sizes
 * are 1, 2, 4 or 8 bytes. 64-bit values travel as two 32-bit halves so the
 * hot path never needs BigInt. Reads return the low half and leave the high
 * half in `hi` of the shared result (see MmioResult).
 */
export interface MmioDevice {
  readonly name: string;
  /** Reads `size` bytes at `offset`; for size 8 the high word goes to `res.hi`. Returns the low 32 bits. */
  read(offset: number, size: number, res: MmioResult): number;
  /** Writes `size` bytes at `offset`; for size 8, `hi` carries bits 63..32. */
  write(offset: number, size: number, lo: number, hi: number): void;
}

export interface MmioResult {
  hi: number;
}

/** A device placed at a guest-physical range. */
export interface Mapping {
  base: number;
  size: number;
  device: MmioDevice;
}

/**
 * The physical bus for everything that is not RAM: a sorted range map.
 * Accesses that hit no device read 0 and ignore writes? No: they return
 * `false` so the hart raises an access fault (priv spec 3.6).
 */
export class Bus {
  private maps: Mapping[] = [];
  readonly res: MmioResult = { hi: 0 };

  map(base: number, size: number, device: MmioDevice): void {
    for (const m of this.maps) {
      if (base < m.base + m.size && m.base < base + size) {
        throw new Error(`${device.name} at 0x${base.toString(16)} overlaps ${m.device.name}`);
      }
    }
    this.maps.push({ base, size, device });
    this.maps.sort((a, b) => a.base - b.base);
  }

  get mappings(): readonly Mapping[] {
    return this.maps;
  }

  find(paddr: number, size: number): Mapping | undefined {
    for (const m of this.maps) {
      if (paddr >= m.base && paddr + size <= m.base + m.size) return m;
    }
    return undefined;
  }
}

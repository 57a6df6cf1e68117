/**
 * A device-tree builder (devicetree spec v0.4, chapter 2): the root node
 * (node.ts), memory reservations and the boot CPU, serialized into a DTB by
 * serialize.ts.
 */
import { FdtNode, type FdtReservation, type FdtU64, u64Cells } from "./node.ts";
import { serializeFdt } from "./serialize.ts";

export {
  type FdtCell,
  FdtNode,
  type FdtProperty,
  type FdtReservation,
  type FdtU64,
  type FdtValue,
  u64Cells,
} from "./node.ts";

/** A whole device tree: the root node, memory reservations and the boot CPU. */
export class FdtBuilder {
  readonly root = new FdtNode("");
  readonly reservations: FdtReservation[] = [];
  /** Header field boot_cpuid_phys (spec 5.2). */
  bootCpuidPhys = 0;

  /** Adds a memory reservation block entry. */
  reserve(address: FdtU64, size: FdtU64): this {
    u64Cells(address, "reservation address");
    u64Cells(size, "reservation size");
    this.reservations.push({ address, size });
    return this;
  }

  /** Serializes to a flattened DTB (version 17). Assigns phandles to referenced nodes that have none. */
  build(): Uint8Array {
    return serializeFdt(this.root, this.reservations, this.bootCpuidPhys);
  }
}

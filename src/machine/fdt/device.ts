/**
 * How a device adds itself to the board's device tree (design 2.1: the tree
 * is generated from the device list, each device emits its own node).
 */
import type { FdtNode } from "./node.ts";

/** Where a device's node goes and what it may refer to. */
export interface FdtContext {
  /** The root node (for nodes outside /soc, e.g. `poweroff`). */
  readonly root: FdtNode;
  /** The `/soc` simple-bus node, #address-cells = #size-cells = 2. */
  readonly soc: FdtNode;
  /** Per hart, its `riscv,cpu-intc` interrupt-controller node (for interrupts-extended). */
  readonly cpuIntc: readonly FdtNode[];
  /** The external interrupt controller: interrupt-parent of devices with `interrupts`. Set once the PLIC has emitted its node. */
  plic?: FdtNode;
}

/** A device that can describe itself in the device tree. */
export interface FdtDevice {
  /** Adds the device's node(s) and returns the main one. */
  fdt(ctx: FdtContext): FdtNode;
}

/** `name@base` with the base in lower-case hex, no leading zeros (spec 2.2.1.1). */
export function unitName(name: string, base: number): string {
  return `${name}@${base.toString(16)}`;
}

/** The interrupt parent for a device node; throws if the PLIC has not been emitted yet. */
export function interruptParent(ctx: FdtContext, who: string): FdtNode {
  if (ctx.plic === undefined)
    throw new Error(`${who}: the interrupt controller must be added to the device tree first`);
  return ctx.plic;
}

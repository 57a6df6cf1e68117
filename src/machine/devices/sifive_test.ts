import type { MmioDevice, MmioResult } from "../bus/mmio.ts";
import { type FdtContext, type FdtDevice, unitName } from "../fdt/device.ts";
import type { FdtNode } from "../fdt/node.ts";
import { expectVersion } from "../snapshot/state.ts";

export const TEST_SIZE = 0x1000;
/** Values of the finisher register (QEMU hw/misc/sifive_test.c): low 16 bits = status, high 16 bits = code. */
export const FINISHER_FAIL = 0x3333;
export const FINISHER_PASS = 0x5555;
export const FINISHER_RESET = 0x7777;

/** How the guest asked to stop: poweroff (code 0), reboot (code 0), or fail with a code. */
export interface TestExit {
  kind: "poweroff" | "reboot" | "fail";
  code: number;
}

/** The device as plain data: it has no state, the record exists so every device snapshots alike. */
export interface SifiveTestState {
  version: 1;
}

/**
 * SiFive test finisher: a write of 0x5555 powers off, 0x7777 reboots,
 * (code << 16) | 0x3333 fails with `code`. Linux reaches it through the
 * syscon-poweroff / syscon-reboot nodes; OpenSBI and bare-metal tests
 * write it directly. Reads return 0.
 */
export class SifiveTest implements MmioDevice, FdtDevice {
  readonly name = "sifive-test";
  readonly base: number;
  readonly size = TEST_SIZE;
  private readonly onExit: (e: TestExit) => void;

  constructor(onExit: (e: TestExit) => void, base: number) {
    this.onExit = onExit;
    this.base = base;
  }

  read(_off: number, _size: number, _res: MmioResult): number {
    return 0;
  }

  /** The finisher register at offset 0 takes 2-, 4- and 8-byte writes; other writes are ignored. */
  write(off: number, size: number, lo: number, _hi: number): void {
    if (off !== 0 || size === 1) return;
    const v = size === 2 ? lo & 0xffff : lo >>> 0;
    const status = v & 0xffff;
    const code = v >>> 16;
    if (status === FINISHER_PASS) this.onExit({ kind: "poweroff", code: 0 });
    else if (status === FINISHER_RESET) this.onExit({ kind: "reboot", code: 0 });
    else if (status === FINISHER_FAIL) this.onExit({ kind: "fail", code });
  }

  /** `test@100000` (a syscon) in /soc, plus the root `poweroff` and `reboot` nodes that point into it, as QEMU virt. */
  fdt(ctx: FdtContext): FdtNode {
    const n = ctx.soc
      .addNode(unitName("test", this.base))
      .u64("reg", this.base, this.size)
      .strings("compatible", "sifive,test1", "sifive,test0", "syscon");
    ctx.root
      .addNode("poweroff")
      .u32("value", FINISHER_PASS)
      .u32("offset", 0)
      .cells("regmap", n)
      .string("compatible", "syscon-poweroff");
    ctx.root
      .addNode("reboot")
      .u32("value", FINISHER_RESET)
      .u32("offset", 0)
      .cells("regmap", n)
      .string("compatible", "syscon-reboot");
    return n;
  }

  saveState(): SifiveTestState {
    return { version: 1 };
  }

  restoreState(s: SifiveTestState): void {
    expectVersion("sifive-test", s, 1);
  }
}

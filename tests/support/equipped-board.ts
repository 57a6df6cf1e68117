/**
 * A fully equipped virt board for snapshot tests: 2 (or n) harts, the
 * built-in SBI, and every kind of virtio device (blk, net, 9p, console,
 * rng), each driven into a used state through its registers, with a small
 * guest program running on the harts.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeFsBackend } from "../../src/host/node/p9-fs.ts";
import { VirtMachine } from "../../src/machine/board/virt.ts";
import { MemoryBlockBackend, VirtioBlk } from "../../src/machine/virtio/blk.ts";
import { VirtioConsole } from "../../src/machine/virtio/console.ts";
import { type VirtioMmio, virtioMmio } from "../../src/machine/virtio/mmio.ts";
import type { NetBackend } from "../../src/machine/virtio/net.ts";
import { VirtioNet } from "../../src/machine/virtio/net.ts";
import { VirtioP9 } from "../../src/machine/virtio/p9.ts";
import { RateLimiter } from "../../src/machine/virtio/rate-limiter.ts";
import { SeededEntropy, VirtioRng } from "../../src/machine/virtio/rng.ts";
import { MockMmioDriver } from "./mock-driver.ts";
import { TEST_H_EXT } from "./test-cpu.ts";
import { TEST_JIT_HOT } from "./test-jit.ts";

/** A network backend that drops everything (the device's own state is what is tested). */
export class NullNet implements NetBackend {
  sent = 0;
  connect(): void {}
  transmit(): void {
    this.sent++;
  }
}

export interface EquippedOptions {
  harts?: number;
  ramSize?: number;
  /** The 9p share's root (one is made in the temp directory when omitted). */
  shareRoot?: string;
}

let shared: string | undefined;

function shareRoot(): string {
  if (shared === undefined) {
    shared = mkdtempSync(join(tmpdir(), "virtus-snap-"));
    writeFileSync(join(shared, "hello.txt"), "hello\n");
  }
  return shared;
}

/** Builds the board; every call with the same options builds the same machine (a "fresh" one for restores). */
export function equippedBoard(opts: EquippedOptions = {}): VirtMachine {
  const disk = new MemoryBlockBackend(new Uint8Array(64 * 1024));
  const root = opts.shareRoot ?? shareRoot();
  return new VirtMachine({
    ramSize: opts.ramSize ?? 4 << 20,
    harts: opts.harts ?? 2,
    hExt: TEST_H_EXT,
    jitHot: TEST_JIT_HOT,
    wallClock: { nowMs: () => 1.7e12 },
    sbi: { console: { write: () => {} } },
    virtio: [
      // Rate limits on the disk and the NIC: their token buckets are state too.
      virtioMmio(
        (slot) =>
          new VirtioBlk(disk, {
            id: "snap0",
            limiter: new RateLimiter(
              { bandwidth: { size: 4096, refillTimeMs: 10 }, ops: { size: 2, refillTimeMs: 5 } },
              slot.nowMs,
            ),
          }),
      ),
      virtioMmio(
        (slot) =>
          new VirtioNet(new NullNet(), {
            rxLimiter: new RateLimiter(
              { bandwidth: { size: 1500, refillTimeMs: 1, oneTimeBurst: 100 } },
              slot.nowMs,
            ),
            txLimiter: new RateLimiter({ ops: { size: 3, refillTimeMs: 7 } }, slot.nowMs),
          }),
      ),
      virtioMmio(() => new VirtioP9({ tag: "share", backend: new NodeFsBackend(root) })),
      virtioMmio(() => new VirtioConsole({ output: { write: () => {} } })),
      virtioMmio(() => new VirtioRng(new SeededEntropy())),
    ],
  });
}

/**
 * Puts every device in a used state: drivers initialized (queues in RAM
 * above 2 MiB), an entropy request served, console input pending, UART
 * and PLIC programmed, a timer set, and the harts running a loop.
 */
export function useBoard(vm: VirtMachine): void {
  const m = vm.machine;
  const mem = m.mem;
  let heap = mem.ramBase + (2 << 20);
  for (let n = 0; n < 5; n++) {
    const drv = new MockMmioDriver(vm.virtio[n], mem, heap);
    const queues = drv.init();
    if (n === 4) {
      queues[0].addChain([{ len: 64, write: true }]);
      drv.write(0x050, 0);
    }
    if (n === 0) {
      // Three 512-byte reads: the ops bucket (2) lets two through and throttles the third.
      for (let r = 0; r < 3; r++) {
        const header = new Uint8Array(16); // type 0 = read, sector 0
        queues[0].addChain([{ data: header }, { len: 512, write: true }, { len: 1, write: true }]);
      }
      drv.write(0x050, 0);
    }
    heap += 128 * 1024;
  }
  (vm.virtio[3] as VirtioMmio as unknown as { device: VirtioConsole }).device.receive(
    new TextEncoder().encode("typed ahead"),
  );
  const bus = m.bus;
  const w = (pa: number, v: number, size = 4) => {
    const map = bus.find(pa, size);
    if (map === undefined) throw new Error(`nothing at ${pa.toString(16)}`);
    map.device.write(pa - map.base, size, v, 0);
  };
  w(0x0c00_0000 + 4 * 10, 3);
  w(0x0c00_2080, 1 << 10);
  w(0x1000_0002, 0x07, 1);
  w(0x1000_0001, 0x01, 1);
  vm.receive(new TextEncoder().encode("uart input"));
  w(0x0010_1010, 1);
  w(0x0200_4000, 123_456); // mtimecmp[0]
  // A loop on every hart: addi a0, a0, 1; j .-4
  const loop = new Uint8Array(new Int32Array([0x00150513, 0xffdff06f]).buffer);
  mem.writePhys(mem.ramBase + (1 << 20), loop);
  for (const h of m.harts) {
    h.setPc((mem.ramBase + (1 << 20)) | 0, 0);
    h.waiting = false;
  }
  m.run(50_000);
}

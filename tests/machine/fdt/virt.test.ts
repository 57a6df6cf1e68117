import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { VIRT_ISA, VIRT_MMU_TYPE, VirtMachine } from "../../../src/machine/board/virt.ts";
import {
  findNode,
  type ParsedFdtNode,
  parseFdt,
  propCells,
  propStrings,
} from "../../../src/machine/fdt/reader.ts";
import { dtcDecompile, haveDtc } from "./dtc.ts";

const GOLDEN = join(import.meta.dirname, "virt-2hart.dts");
const BOOTARGS = "console=ttyS0 earlycon=sbi rdinit=/init";

const str = (n: ParsedFdtNode, p: string) => propStrings(n.props.get(p)!);
const cells = (n: ParsedFdtNode, p: string) => propCells(n.props.get(p)!);
const phandleOf = (n: ParsedFdtNode) => cells(n, "phandle")[0];

/**
 * The golden was written from our output after comparing it by eye with
 * QEMU 7.2's (`qemu-system-riscv64 -M virt,dumpdtb=q.dtb -smp 2 -m 256M`,
 * then `dtc -I dtb -O dts q.dtb`). Differences on purpose: node order and
 * phandle numbers, no pmu / fw-cfg / flash / pci / platform-bus nodes (we
 * have none of those devices), our riscv,isa and mmu-type (what our hart
 * implements). To regenerate after a deliberate change, write the DTB of
 * this machine and run `dtc -I dtb -O dts -o - <file>`; check the diff.
 */
test("golden: the 2-hart, 256 MiB virt device tree decompiles to the checked-in DTS", {
  skip: !haveDtc() && "dtc not installed",
}, () => {
  const vm = new VirtMachine({ ramSize: 256 << 20, harts: 2, bootargs: BOOTARGS });
  assert.equal(dtcDecompile(vm.dtb()), readFileSync(GOLDEN, "utf8"));
});

test("the virt device tree wires every interrupt to the right controller and context", () => {
  const vm = new VirtMachine({ ramSize: 256 << 20, harts: 2, bootargs: BOOTARGS });
  const root = parseFdt(vm.dtb()).root;
  assert.deepEqual(str(root, "compatible"), ["riscv-virtio"]);
  assert.deepEqual(str(root, "model"), ["riscv-virtio,qemu"]);
  assert.deepEqual(cells(root, "#address-cells"), [2]);
  assert.deepEqual(str(findNode(root, "/chosen")!, "bootargs"), [BOOTARGS]);
  assert.deepEqual(str(findNode(root, "/chosen")!, "stdout-path"), ["/soc/serial@10000000"]);
  assert.ok(findNode(root, "/soc/serial@10000000"), "stdout-path names a node that exists");
  assert.deepEqual(cells(findNode(root, "/memory@80000000")!, "reg"), [0, 0x8000_0000, 0, 256 << 20]);
  assert.deepEqual(cells(findNode(root, "/cpus")!, "timebase-frequency"), [10_000_000]);

  const intc: number[] = [];
  for (const i of [0, 1]) {
    const cpu = findNode(root, `/cpus/cpu@${i}`)!;
    assert.deepEqual(str(cpu, "riscv,isa"), [VIRT_ISA]);
    assert.deepEqual(str(cpu, "mmu-type"), [VIRT_MMU_TYPE]);
    assert.deepEqual(cells(cpu, "reg"), [i]);
    const ic = findNode(cpu, "interrupt-controller")!;
    assert.deepEqual(str(ic, "compatible"), ["riscv,cpu-intc"]);
    intc.push(phandleOf(ic));
    assert.equal(cells(findNode(root, `/cpus/cpu-map/cluster0/core${i}`)!, "cpu")[0], phandleOf(cpu));
  }
  const plic = findNode(root, "/soc/plic@c000000")!;
  assert.deepEqual(cells(plic, "interrupts-extended"), [intc[0], 11, intc[0], 9, intc[1], 11, intc[1], 9]);
  assert.deepEqual(cells(plic, "riscv,ndev"), [96]);
  assert.deepEqual(cells(plic, "reg"), [0, 0x0c00_0000, 0, 0x60_0000]);
  const clint = findNode(root, "/soc/clint@2000000")!;
  assert.deepEqual(cells(clint, "interrupts-extended"), [intc[0], 3, intc[0], 7, intc[1], 3, intc[1], 7]);

  const p = phandleOf(plic);
  const irqOf = (path: string) => {
    const n = findNode(root, path)!;
    assert.equal(cells(n, "interrupt-parent")[0], p, `${path} interrupt-parent`);
    return cells(n, "interrupts")[0];
  };
  assert.equal(irqOf("/soc/serial@10000000"), 10);
  assert.deepEqual(cells(findNode(root, "/soc/serial@10000000")!, "clock-frequency"), [0x384000]);
  assert.equal(irqOf("/soc/rtc@101000"), 11);
  for (let n = 0; n < 8; n++)
    assert.equal(irqOf(`/soc/virtio_mmio@${(0x1000_1000 + n * 0x1000).toString(16)}`), 1 + n);

  const testNode = findNode(root, "/soc/test@100000")!;
  assert.deepEqual(str(testNode, "compatible"), ["sifive,test1", "sifive,test0", "syscon"]);
  for (const [name, value] of [
    ["poweroff", 0x5555],
    ["reboot", 0x7777],
  ] as const) {
    const n = findNode(root, `/${name}`)!;
    assert.deepEqual(str(n, "compatible"), [`syscon-${name}`]);
    assert.deepEqual(cells(n, "regmap"), [phandleOf(testNode)]);
    assert.deepEqual(cells(n, "value"), [value]);
  }
});

test("/chosen carries the initrd range as 64-bit values, and the tree follows the hart count", () => {
  const vm = new VirtMachine({
    ramSize: 64 << 20,
    harts: 3,
    initrd: { start: 0x8400_0000, end: 0x8420_0000 },
  });
  const root = parseFdt(vm.dtb()).root;
  const chosen = findNode(root, "/chosen")!;
  assert.deepEqual(cells(chosen, "linux,initrd-start"), [0, 0x8400_0000]);
  assert.deepEqual(cells(chosen, "linux,initrd-end"), [0, 0x8420_0000]);
  assert.equal(chosen.props.has("bootargs"), false);
  assert.ok(findNode(root, "/cpus/cpu@2"));
  assert.equal(findNode(root, "/cpus/cpu@3"), undefined);
  assert.equal(cells(findNode(root, "/soc/plic@c000000")!, "interrupts-extended").length, 3 * 4);
  // Fields the loader may set after construction show up in the next tree.
  vm.bootargs = "quiet";
  assert.deepEqual(str(findNode(parseFdt(vm.dtb()).root, "/chosen")!, "bootargs"), ["quiet"]);
});

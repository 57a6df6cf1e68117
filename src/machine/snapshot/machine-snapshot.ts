/**
 * A whole virt machine as data (design 2.8): every component's record
 * (harts, time base, CLINT, PLIC, UART, RTC, test finisher, the virtio
 * slots with their queues and devices, the built-in SBI) plus guest RAM.
 * Derived data is never saved: decoded instructions, compiled blocks, TLBs
 * and jump caches are rebuilt as the restored machine runs.
 *
 *   const snap = saveVm(vm);                  // between vm.machine.run() calls
 *   const copy = new VirtMachine(sameOptions); // built from the same configuration, not booted
 *   restoreVm(copy, snap);                     // throws StateError; then discard `copy`
 *
 * The file format around it is src/formats/snapshot/ (docs/SNAPSHOT.md).
 */
import type { ComponentRecord, VirtMachine } from "../board/virt.ts";
import * as csrSlots from "../cpu/csr-slots.ts";
import { expectNumber, expectVersion, StateError } from "./state.ts";

/**
 * Version of the machine model: the set of components and the shape of
 * their records. Bump it whenever a record changes (a new field, a new
 * CSR slot, a new device on the board); a snapshot from another model is
 * refused with a clear error rather than misread.
 */
export const MACHINE_MODEL_VERSION = 1;

/**
 * What hart records depend on besides their version: every CSR slot's name
 * and index ("S_MSTATUS=0,…,CSR_SLOTS=34"). A slot added, moved or
 * removed (a new extension's CSRs) changes it, so a snapshot of another
 * register-file layout is refused even if nobody bumped the model version.
 */
export const MACHINE_LAYOUT: string = (Object.entries(csrSlots) as [string, unknown][])
  .filter((e): e is [string, number] => typeof e[1] === "number")
  .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
  .map(([name, index]) => `${name}=${index}`)
  .join(",");

/**
 * Guest RAM as a snapshot file holds it (zero pages elided, the rest
 * compressed): written into the machine's RAM only at restore, chunk by
 * chunk, with no full-size copy in between.
 */
export interface RamImage {
  /** Bytes of RAM the image covers (the machine's RAM size). */
  readonly size: number;
  /**
   * Writes the image into `dest` (guest RAM, exactly `size` bytes). With
   * `destIsZero`, dest holds only zeros and zero pages are not written.
   * Throws a StateError (or VirtusError) when the image turns out corrupt.
   */
  restoreInto(dest: Uint8Array, destIsZero: boolean): void;
}

export interface MachineSnapshot {
  version: 1;
  /** MACHINE_MODEL_VERSION of the Virtus that saved it. */
  model: number;
  /** MACHINE_LAYOUT of the Virtus that saved it. */
  layout: string;
  ramSize: number;
  harts: number;
  /** The board's components in save order (VirtMachine.saveComponents). */
  components: ComponentRecord[];
  /**
   * Guest RAM: from saveVm, a view of the live RAM (valid until the
   * machine runs again; pass `{ copyRam: true }` to get a copy that may
   * outlive that or cross a worker boundary); from a file, a RamImage.
   */
  ram: Uint8Array | RamImage;
}

/** The guest RAM of a machine, as a view into its linear memory. */
export function ramView(vm: VirtMachine): Uint8Array {
  const mem = vm.machine.mem;
  return mem.u8.subarray(mem.ramLinear, mem.ramLinear + mem.ramSize);
}

/**
 * Saves the whole machine. Call it between run() calls (the machine's
 * scheduler position is part of the record, so any such point will do).
 */
export function saveVm(vm: VirtMachine, opts: { copyRam?: boolean } = {}): MachineSnapshot {
  const ram = ramView(vm);
  return {
    version: 1,
    model: MACHINE_MODEL_VERSION,
    layout: MACHINE_LAYOUT,
    ramSize: vm.machine.mem.ramSize,
    harts: vm.machine.harts.length,
    components: vm.saveComponents(),
    ram: opts.copyRam ? ram.slice() : ram,
  };
}

/**
 * Restores a snapshot into `vm`, which must be built from the same
 * configuration (RAM size, harts, devices in the same slots, the built-in
 * SBI if the snapshot has one) and should be fresh: built, not booted, not
 * run (its RAM is then known to be zero, so zero pages cost nothing).
 * Records are validated as untrusted input; on a StateError the machine
 * is left partly restored and must be discarded (build a new one).
 */
export function restoreVm(vm: VirtMachine, snap: MachineSnapshot): void {
  const m = vm.machine;
  const who = "machine";
  expectVersion(who, snap, 1);
  if (snap.model !== MACHINE_MODEL_VERSION) {
    throw new StateError(
      who,
      `the snapshot is of machine model ${String(snap.model)}; this Virtus restores model ${MACHINE_MODEL_VERSION}`,
    );
  }
  if (snap.layout !== MACHINE_LAYOUT) {
    throw new StateError(
      who,
      "the snapshot was saved by a Virtus whose harts have other CSRs (another version); this one cannot restore it",
    );
  }
  const ramSize = expectNumber(who, "ramSize", snap.ramSize, 0, Number.MAX_SAFE_INTEGER);
  if (ramSize !== m.mem.ramSize)
    throw new StateError(
      who,
      `the snapshot has ${mib(ramSize)} of RAM; this machine has ${mib(m.mem.ramSize)}`,
    );
  const harts = expectNumber(who, "harts", snap.harts, 1, 64);
  if (harts !== m.harts.length)
    throw new StateError(who, `the snapshot has ${harts} harts; this machine has ${m.harts.length}`);
  const ram = snap.ram;
  if (ram instanceof Uint8Array) {
    if (ram.length !== ramSize) throw new StateError(who, `RAM must be ${ramSize} bytes`);
  } else if (
    typeof ram !== "object" ||
    ram === null ||
    ram.size !== ramSize ||
    typeof ram.restoreInto !== "function"
  ) {
    throw new StateError(who, `RAM must be an image of ${ramSize} bytes`);
  }

  // Decoded code and compiled blocks describe the old RAM: drop them all (a fresh machine has none).
  m.mem.code.invalidateRange(0, ramSize);
  const dest = ramView(vm);
  const zero = m.mem.untouched && m.retired() === 0;
  if (ram instanceof Uint8Array) dest.set(ram);
  else ram.restoreInto(dest, zero);
  m.mem.untouched = false;

  vm.restoreComponents(snap.components);
  // A finished run's stop request and exit are not part of the machine: a restored one runs.
  vm.exit = undefined;
  m.stopRequested = false;
}

function mib(bytes: number): string {
  return bytes % (1 << 20) === 0 ? `${bytes / (1 << 20)} MiB` : `${bytes} bytes`;
}

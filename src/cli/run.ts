/**
 * `virtus run`: boots a Linux guest. The virt board (CLINT, PLIC, UART,
 * device tree, SBI) is not assembled yet, so this says so plainly and exits
 * non-zero rather than pretending.
 */
export function runCommand(): number {
  process.stderr.write(
    "virtus: booting Linux is not implemented yet: the RV64GC hart runs bare-metal programs (`virtus run-elf FILE`); the virt board comes next\n",
  );
  return 3;
}

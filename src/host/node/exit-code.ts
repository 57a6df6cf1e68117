/**
 * How a `virtus run` ended, as a process exit status: the one place outcomes become exit codes
 * (the table is in `virtus run --help`, src/cli/run.ts).
 */
import type { WorkerOutcome } from "./vm-worker.ts";

/** Exit status when the guest's kernel panicked. */
export const EXIT_PANIC = 125;

/** Exit status when the VM's worker crashed or had to be killed (EX_SOFTWARE). */
export const EXIT_VM_CRASHED = 70;

/**
 * 0 on power-off, reboot (with --no-reboot), stop or quit; an --exec command's status;
 * EXIT_PANIC with the reason on a kernel panic; the guest's fail code (1..255);
 * EXIT_VM_CRASHED with a line when the worker died or was killed.
 */
export function exitCodeOf(outcome: WorkerOutcome, writeHost: (text: string) => void): number {
  switch (outcome.kind) {
    case "fail":
      return Math.min(255, Math.max(1, outcome.code));
    case "exec":
      return outcome.status;
    case "panic":
      writeHost(`virtus: the guest kernel panicked: ${outcome.reason}\n`);
      return EXIT_PANIC;
    case "crashed":
      writeHost(`virtus: the VM crashed: ${outcome.message}\n`);
      return EXIT_VM_CRASHED;
    case "killed":
      writeHost("virtus: the VM did not stop when asked and was killed\n");
      return EXIT_VM_CRASHED;
    default:
      return 0;
  }
}

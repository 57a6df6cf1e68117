import { Command, CommanderError, InvalidArgumentError } from "commander";
import { PACKAGE_VERSION } from "../host/node/project-root.ts";
import { traceStartup, traceThreadStart } from "../host/node/startup-trace.ts";
import { VirtusError } from "../machine/errors.ts";
import { CPU_OPTION_HELP } from "./cpu.ts";

traceThreadStart();
traceStartup("cli modules loaded");

/** Parses a positive integer option, e.g. --max-insns. */
export function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v.replace(/_/g, ""));
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new InvalidArgumentError(`${name} takes a positive whole number`);
    return n;
  };
}

const program = new Command()
  .name("virtus")
  .description("Virtus: a RISC-V (RV64GC) virtualization platform")
  .version(PACKAGE_VERSION, "-V, --version")
  .showSuggestionAfterError()
  .configureOutput({ outputError: (s, write) => write(`virtus: ${s.replace(/^error: /, "")}`) })
  .exitOverride();

function addRunElfCommand(program: Command): void {
  program
    .command("run-elf")
    .description(
      "run a bare-metal RV64 ELF in M-mode until it writes its tohost symbol (riscv-tests HTIF convention)",
    )
    .argument("<file>", "ELF64 RISC-V executable linked at 0x80000000 with a tohost symbol")
    .option(
      "--max-insns <n>",
      "instruction budget; exit 124 when exhausted",
      positiveInt("--max-insns"),
      5_000_000_000,
    )
    .option("--trace", "print every retired instruction with the registers it wrote")
    .option("--no-jit", "interpret only: do not translate hot code to WebAssembly")
    .option("--cpu <h=on|off>", CPU_OPTION_HELP)
    .option("--mem <size>", "RAM size, e.g. 64M", "128M")
    .action(async (file: string, opts: { maxInsns: number; trace?: boolean; mem: string; jit: boolean }) => {
      const { runElfCommand } = await import("./run-elf.ts");
      process.exitCode = runElfCommand(file, opts);
    });
}

/**
 * Each command's module, in help order. Only the one named on the command line is loaded (a
 * `virtus run` then loads about a fifth of the modules: no HTTP server, YAML or WebSocket
 * libraries); help, --version and unknown words load them all.
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  "run-elf": async () => addRunElfCommand,
  run: async () => (await import("./run.ts")).addRunCommand,
  image: async () => (await import("./image.ts")).addImageCommand,
  ctl: async () => (await import("./ctl.ts")).addCtlCommand,
  daemon: async () => (await import("./daemon.ts")).addDaemonCommand,
  vm: async () => (await import("./vm.ts")).addVmCommand,
  tenant: async () => (await import("./tenant.ts")).addTenantCommand,
  web: async () => (await import("./web.ts")).addWebCommand,
  relay: async () => (await import("./relay.ts")).addRelayCommand,
};

const named = process.argv[2];
const wanted = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
for (const add of await Promise.all(wanted.map((name) => COMMANDS[name]()))) add(program);

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof VirtusError) {
    process.stderr.write(`virtus: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else {
    throw e;
  }
}

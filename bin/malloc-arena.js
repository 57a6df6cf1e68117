// One malloc arena for `virtus run` (Linux, glibc). glibc gives each thread that allocates its own
// arena (up to 8 per core) and frees into it: V8's compiler threads, the VM's worker and Node's
// own each keep freed memory the others cannot reuse. Measured on the default guest booted and idle
// (docs/PERFORMANCE.md): ~27 MiB less peak RSS with one arena, boot CPU time unchanged. glibc reads
// GLIBC_TUNABLES only as a process starts, so `virtus run` re-executes itself once with it set
// (process.execve keeps the pid and the open files; the cost is a second start of Node, ~20 ms on
// a quiet machine, ~300 ms at load 8). Not for `run --restore`: a restore is the path that should
// start fastest (issue 10), and skipping the re-execution there leaves a restored guest ~15 MiB
// more. A GLIBC_TUNABLES that already names an arena count is left alone.

const TUNABLE = "glibc.malloc.arena_max";
/**
 * V8 flags the re-execution adds for the main thread, which runs the VM (host/node/vm-in-thread.ts):
 * a 1 MiB semi-space instead of V8's up to 8 MiB, as a daemon's VM worker has by its resourceLimits
 * (vm-worker.ts). Measured on the default guest booted and idle (docs/PERFORMANCE.md, 2026-12-04
 * 12:25, when the VM still had a worker): ~7 MB less peak RSS, the boot's CPU time unchanged.
 */
const MAIN_THREAD_V8_FLAGS = ["--max-semi-space-size=1"];

/**
 * The environment to re-execute with, or undefined to go on as is.
 * @param {readonly string[]} args the command line after the script's name
 * @param {NodeJS.ProcessEnv} env
 * @param {string} platform
 * @returns {NodeJS.ProcessEnv | undefined}
 */
export function oneArenaEnv(args, env, platform = process.platform) {
  if (platform !== "linux" || args[0] !== "run") return undefined;
  if (args.some((a) => a === "--restore" || a.startsWith("--restore="))) return undefined;
  const tunables = env.GLIBC_TUNABLES;
  if (tunables?.includes(TUNABLE)) return undefined;
  return { ...env, GLIBC_TUNABLES: tunables ? `${tunables}:${TUNABLE}=1` : `${TUNABLE}=1` };
}

/**
 * Node's own options for the re-executed process: MAIN_THREAD_V8_FLAGS, less those the user set,
 * then the user's.
 * @param {readonly string[]} execArgv
 * @returns {string[]}
 */
export function reexecArgv(execArgv) {
  const named = (/** @type {string} */ flag) => flag.split("=")[0];
  const given = new Set(execArgv.map(named));
  return [...MAIN_THREAD_V8_FLAGS.filter((f) => !given.has(named(f))), ...execArgv];
}

/** Re-executes this process with one malloc arena when oneArenaEnv says so; returns if it does not. */
export function reexecWithOneArena() {
  const env = oneArenaEnv(process.argv.slice(2), process.env);
  if (env === undefined || typeof process.execve !== "function") return;
  try {
    const argv = [process.execPath, ...reexecArgv(process.execArgv), ...process.argv.slice(1)];
    process.execve(process.execPath, argv, env);
  } catch {
    // Could not: run with the default arenas.
  }
}

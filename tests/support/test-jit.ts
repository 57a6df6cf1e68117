/**
 * VIRTUS_TEST_JIT=force runs the ISA, privileged, differential and boot tests
 * with the JIT's threshold at 1 (issue 15): a block is compiled where code
 * runs a second time, so everything that loops or repeats runs translated,
 * not only what crosses the default 10,000 executions. (Code that runs once
 * stays interpreted whatever the threshold: blocks are planned from decoded
 * slots, and the first execution decodes.) The test helpers (runElf, the
 * diff harness, equippedBoard, GuestSession) take their default from here;
 * a test that chooses the JIT or its threshold itself keeps its choice.
 */
const value = process.env.VIRTUS_TEST_JIT ?? "";
if (value !== "" && value !== "force")
  throw new Error(`VIRTUS_TEST_JIT=${value}: give force (or leave it unset)`);

/** The JIT threshold for tests that do not choose: 1 when forced, else the machine's default. */
export const TEST_JIT_HOT: number | undefined = value === "force" ? 1 : undefined;

/** Machine options' jitHot for a test that asked for `jit` and `jitHot` (either may be unset). */
export function testJitHot(jit: boolean | undefined, jitHot: number | undefined): number | undefined {
  return jitHot ?? (jit === false ? undefined : TEST_JIT_HOT);
}

/** `virtus run` arguments with `--jit-hot 1` added when VIRTUS_TEST_JIT=force and ARGS do not choose. */
export function withTestJit(args: readonly string[]): string[] {
  const chosen = ["--no-jit", "--jit-hot", "--restore"].some((f) => args.includes(f));
  if (TEST_JIT_HOT === undefined || chosen) return [...args];
  return ["--jit-hot", String(TEST_JIT_HOT), ...args];
}

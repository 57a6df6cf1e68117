/**
 * VIRTUS_TEST_CPU=h=off runs the ISA, differential and boot tests without the
 * H extension (on by default since issue 12; nothing may depend on it that
 * should not). The test helpers (runElf, the diff harness, equippedBoard,
 * GuestSession) take their default from here; a test that names H itself
 * keeps its own choice.
 */
const value = process.env.VIRTUS_TEST_CPU ?? "";
if (value !== "" && value !== "h=on" && value !== "h=off")
  throw new Error(`VIRTUS_TEST_CPU=${value}: give h=on or h=off`);

/** Whether tests that do not choose run with the H extension. */
export const TEST_H_EXT: boolean = value !== "h=off";

/** `virtus run` arguments with `--cpu h=off` added when VIRTUS_TEST_CPU asks for it and ARGS do not choose. */
export function withTestCpu(args: readonly string[]): string[] {
  if (TEST_H_EXT || args.includes("--cpu") || args.includes("--restore")) return [...args];
  return ["--cpu", "h=off", ...args];
}

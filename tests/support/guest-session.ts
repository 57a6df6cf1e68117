import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

import { withTestCpu } from "./test-cpu.ts";
import { withTestJit } from "./test-jit.ts";

const bin = join(import.meta.dirname, "../../bin/virtus.js");

/**
 * Drives a console program (`virtus run`, or QEMU for benchmarks) like a person at the console: waits for text, types
 * lines, collects every byte, and reports the exit code. Timeouts are for
 * hangs only; speed is measured by benchmarks, never by tests.
 */
export class GuestSession {
  readonly proc: ChildProcess;
  /** Everything the process printed (stdout and stderr, interleaved). */
  output = "";
  private cursor = 0;
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;

  /** `virtus run ARGS`, or with `command` given, that program with ARGS. */
  constructor(args: string[], command?: string) {
    const argv = command === undefined ? [bin, "run", ...withTestJit(withTestCpu(args))] : args;
    this.proc = spawn(command ?? process.execPath, argv, { stdio: ["pipe", "pipe", "pipe"] });
    const onData = (d: Buffer) => {
      this.output += d.toString("latin1");
      for (const w of this.waiters.splice(0)) w();
    };
    this.proc.stdout!.on("data", onData);
    this.proc.stderr!.on("data", onData);
    this.exited = new Promise((resolve) =>
      this.proc.on("exit", (code) => {
        for (const w of this.waiters.splice(0)) w();
        resolve(code);
      }),
    );
  }

  /** Resolves with the output up to and including `text` once it appears after the last match. */
  async expect(text: string, timeoutMs = 300_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.output.indexOf(text, this.cursor);
      if (i >= 0) {
        const seen = this.output.slice(this.cursor, i + text.length);
        this.cursor = i + text.length;
        return seen;
      }
      if (this.proc.exitCode !== null)
        throw new Error(
          `virtus exited (${this.proc.exitCode}) before "${text}":\n${this.output.slice(-2000)}`,
        );
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for "${text}":\n${this.output.slice(-2000)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 1000);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  send(text: string): void {
    this.proc.stdin!.write(text);
  }

  /** Types a shell command and returns what it printed before the next prompt. */
  async run(cmd: string, prompt = "guest# "): Promise<string> {
    this.send(`${cmd}\n`);
    const out = await this.expect(prompt);
    return out.slice(0, -prompt.length).replace(/\r/g, "");
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }
}

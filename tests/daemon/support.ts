/** Helpers for daemon tests: a daemon on a temporary Unix socket and raw HTTP calls that keep the status. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Daemon, type DaemonOptions, startDaemon } from "../../src/daemon/server.ts";
import { haveCrossGcc } from "../support/cross.ts";
import { ECHO_SPIN, programConfig } from "../support/vm-programs.ts";

export interface TestDaemon extends Daemon {
  dir: string;
  socket: string;
  /** Stops the daemon and removes its directory. */
  dispose(): Promise<void>;
}

export async function testDaemon(opts: Partial<DaemonOptions> = {}): Promise<TestDaemon> {
  const dir = mkdtempSync(join(tmpdir(), "virtus-daemon-"));
  const d = await startDaemon({
    ...opts,
    dataDir: dir,
    defaultGuest: async () => {
      throw new Error("daemon tests use their own kernels");
    },
  });
  return {
    ...d,
    dir,
    socket: d.url.slice("unix:".length),
    dispose: async () => {
      await d.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  body: unknown;
  text: string;
}

/** One request to the daemon's socket; never throws on an HTTP error status. */
export function http(
  socket: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  contentType?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    let payload: Buffer | undefined;
    if (body !== undefined) {
      payload = Buffer.isBuffer(body)
        ? body
        : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
      headers["content-type"] = contentType ?? "application/json";
    }
    const req = request({ socketPath: socket, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.on("error", reject);
    req.end(payload);
  });
}

export const skipNoGcc = !haveCrossGcc() && "riscv64-linux-gnu-gcc not installed";

/** The ECHO_SPIN guest (bare metal, prints "ready", echoes the UART, spins) as an ELF file's bytes. */
export function echoSpinElf(): Buffer {
  return readFileSync(programConfig("daemon-echo", ECHO_SPIN).kernel);
}

/** A definition of an ECHO_SPIN VM whose kernel is the tenant's image `kernel`. */
export function spinDefinition(name: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, kernel: "spin", bios: "none", memory: "16M", ...over };
}

export async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  ms = 30_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

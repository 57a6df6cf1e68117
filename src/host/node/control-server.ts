/**
 * `virtus run --control PATH`: a Unix socket speaking the VM's command
 * vocabulary as JSON, one object per line, shaped like QMP
 * (docs/CONTROL.md). Any number of clients; each gets the greeting, the
 * replies to its own commands (with its `id` echoed) and every event.
 *
 *   → {"QMP":{"version":{"virtus":"0.1.0"},"capabilities":[]}}
 *   ← {"execute":"status"}
 *   → {"return":{"state":"running",…}}
 *   → {"event":"STATE","data":{"state":"paused","reason":"pause"},"timestamp":{…}}
 */
import { existsSync, lstatSync, unlinkSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { VirtusError } from "../../machine/errors.ts";
import { errorReply, parseVmCommand, type VmCommand, type VmEvent, type VmReply } from "../../vm/commands.ts";
import { PACKAGE_VERSION } from "./project-root.ts";
import type { SessionAttachment } from "./vm-session.ts";

/** A line longer than this is refused and the client dropped (a command is a few hundred bytes). */
const MAX_LINE = 64 * 1024;

export const CONTROL_GREETING = {
  QMP: { version: { virtus: PACKAGE_VERSION }, capabilities: [] as string[] },
};

type Executor = { execute(cmd: VmCommand): Promise<VmReply> };

function timestamp(): { seconds: number; microseconds: number } {
  const ms = Date.now();
  return { seconds: Math.floor(ms / 1000), microseconds: (ms % 1000) * 1000 };
}

/** True when something accepts connections at `path` (a live VM's socket). */
function socketAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** One client: lines in, replies and events out. */
class ControlClient {
  private buffer = "";
  readonly socket: Socket;
  private readonly vm: Promise<Executor>;

  constructor(socket: Socket, vm: Promise<Executor>) {
    this.socket = socket;
    this.vm = vm;
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => this.data(d));
    socket.on("error", () => socket.destroy());
    this.send(CONTROL_GREETING);
  }

  send(message: unknown): void {
    if (!this.socket.destroyed) this.socket.write(`${JSON.stringify(message)}\n`);
  }

  private data(d: string): void {
    this.buffer += d;
    for (let nl = this.buffer.indexOf("\n"); nl >= 0; nl = this.buffer.indexOf("\n")) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line !== "") void this.line(line);
    }
    if (this.buffer.length > MAX_LINE) {
      this.send({ error: { class: "GenericError", desc: `a command line longer than ${MAX_LINE} bytes` } });
      this.socket.end();
      this.buffer = "";
    }
  }

  private async line(line: string): Promise<void> {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      this.send({ error: { class: "GenericError", desc: `JSON parse error: ${(e as Error).message}` } });
      return;
    }
    const id = typeof value === "object" && value !== null ? (value as { id?: unknown }).id : undefined;
    const withId = (reply: object) => (id === undefined ? reply : { ...reply, id });
    // QMP clients negotiate first; there is nothing to negotiate, so it is accepted and ignored.
    if ((value as { execute?: unknown })?.execute === "qmp_capabilities") {
      this.send(withId({ return: {} }));
      return;
    }
    let cmd: VmCommand;
    try {
      cmd = parseVmCommand(value);
    } catch (e) {
      this.send(withId(errorReply(e)));
      return;
    }
    const reply = await (await this.vm).execute(cmd);
    this.send(withId(reply));
  }
}

/**
 * The control socket of one `virtus run`. `open` binds it before the VM
 * boots (a bad path is a one-line error, exit 2); commands that arrive
 * while the VM boots wait for it.
 */
export class ControlServer implements SessionAttachment {
  private readonly server: Server;
  private readonly path: string;
  private readonly clients = new Set<ControlClient>();
  private ready!: (vm: Executor) => void;
  private readonly vm: Promise<Executor>;

  private constructor(path: string) {
    this.path = path;
    this.vm = new Promise((r) => (this.ready = r));
    this.server = createServer((socket) => {
      const client = new ControlClient(socket, this.vm);
      this.clients.add(client);
      socket.on("close", () => this.clients.delete(client));
    });
  }

  static async open(path: string): Promise<ControlServer> {
    if (existsSync(path)) {
      if (!lstatSync(path).isSocket())
        throw new VirtusError("bad-control", `--control ${path}: the file exists and is not a socket`);
      if (await socketAlive(path))
        throw new VirtusError("bad-control", `--control ${path}: another VM is listening there`);
      unlinkSync(path); // left by a run that did not end cleanly
    }
    const s = new ControlServer(path);
    await new Promise<void>((resolve, reject) => {
      s.server.once("error", (e: NodeJS.ErrnoException) =>
        reject(
          new VirtusError("bad-control", `--control ${path}: cannot listen there (${e.code ?? e.message})`),
        ),
      );
      s.server.listen(path, () => resolve());
    });
    return s;
  }

  attach(vm: Executor): { onEvent(e: VmEvent): void; close(): void } {
    this.ready(vm);
    return { onEvent: (e) => this.broadcast(e), close: () => this.close() };
  }

  private broadcast(e: VmEvent): void {
    for (const c of this.clients) c.send({ ...e, timestamp: timestamp() });
  }

  private closed = false;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    for (const c of this.clients) c.socket.end();
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

/**
 * The switch service behind `--net switch:NAME`: one small Node process per
 * switch name and user, listening on a Unix socket in Linux's abstract
 * namespace (`\0virtus-switch-<uid>-<NAME>`), running an EthernetSwitch
 * (src/net/switch.ts) between the VMs connected to it.
 *
 * The first VM that finds no service starts one (detached, so the VM's
 * end does not end the switch) and every VM connects to it. Binding an
 * abstract name is atomic and the name vanishes with the process, so two
 * VMs starting at once cannot start two switches, and a crashed service
 * leaves no stale file: the next VM just starts a new one. The service
 * ends itself once no VM has been connected for LINGER_MS.
 *
 * A VM that stops reading (hung, stopped, crashed) cannot stall the
 * others: frames for it are dropped while more than PEER_BUFFER_MAX bytes
 * wait in its socket, and a closed connection is a removed port.
 *
 * switch-service-main.ts is the process's entry.
 */
import { createServer, type Server, type Socket } from "node:net";
import { EthernetSwitch, frameMessage, MessageReader, parseHello } from "../../net/switch.ts";

/** Bytes that may wait in a VM's socket before its frames are dropped. */
export const PEER_BUFFER_MAX = 4 << 20;
/** How long a service with no VM connected stays up (ms). */
export const LINGER_MS = 10_000;

/** The abstract socket name of switch `name` for this user. */
export function switchSocketName(name: string): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  return `\0virtus-switch-${uid}-${name}`;
}

export interface SwitchService {
  readonly server: Server;
  readonly sw: EthernetSwitch;
  close(): void;
}

/**
 * Listens for switch `name`. Rejects with the listen error (EADDRINUSE:
 * another service has the name). `lingerMs` 0 keeps it up until close().
 */
export function startSwitchService(name: string, opts: { lingerMs?: number } = {}): Promise<SwitchService> {
  const sw = new EthernetSwitch(() => performance.now());
  const sockets = new Set<Socket>();
  const lingerMs = opts.lingerMs ?? LINGER_MS;
  let idle: NodeJS.Timeout | undefined;
  const server = createServer((s) => {
    sockets.add(s);
    if (idle !== undefined) clearTimeout(idle);
    idle = undefined;
    attach(sw, s);
    s.on("close", () => {
      sockets.delete(s);
      if (sockets.size === 0 && lingerMs > 0) idle = setTimeout(() => server.close(), lingerMs);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ path: switchSocketName(name), exclusive: true }, () => {
      server.removeListener("error", reject);
      server.on("error", () => {});
      if (lingerMs > 0) idle = setTimeout(() => server.close(), lingerMs);
      resolve({
        server,
        sw,
        close: () => {
          if (idle !== undefined) clearTimeout(idle);
          server.close();
          for (const s of sockets) s.destroy();
        },
      });
    });
  });
}

/** One VM's connection: the hello says its VLAN, then every message is a frame. */
function attach(sw: EthernetSwitch, s: Socket): void {
  let port: number | undefined;
  s.setNoDelay(true);
  const reader = new MessageReader((m) => {
    if (port !== undefined) {
      sw.input(port, m);
      return;
    }
    const vlan = parseHello(m);
    if (typeof vlan === "string") {
      s.destroy();
      return;
    }
    port = sw.addPort(vlan, {
      send: (frame) => {
        if (s.destroyed || s.writableLength > PEER_BUFFER_MAX) return false;
        s.write(frameMessage(frame));
        return true;
      },
    });
  });
  s.on("data", (b: Buffer) => {
    if (reader.push(new Uint8Array(b.buffer, b.byteOffset, b.length)) !== undefined) s.destroy();
  });
  s.on("error", () => {});
  s.on("close", () => {
    if (port !== undefined) sw.removePort(port);
  });
}

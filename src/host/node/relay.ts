/**
 * `virtus relay`: a WebSocket that carries a browser VM's Ethernet frames
 * (one binary message per frame, both ways) into a user-mode network on
 * this host (src/net/, the same NAT as `--net user`; each connection gets
 * its own) or onto a virtual switch (`--net switch:NAME`, a port per
 * connection, on the LAN of the VMs started with the same switch). Guarded by a token: ws://127.0.0.1:PORT/?token=TOKEN;
 * a wrong or missing token is refused before any network is opened.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { WebSocketServer } from "ws";
import { VirtusError } from "../../machine/errors.ts";
import { DEFAULT_NETWORK, type NetworkConfig } from "../../vm/network-config.ts";
import { openNetwork } from "./net-open.ts";

/** The largest frame a guest sends (virtio-net without offload: 1514 bytes; room for VLAN tags). */
const MAX_FRAME = 65_550;

export interface Relay {
  url: string;
  token: string;
  close(): Promise<void>;
}

function tokenMatches(given: string | null, token: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Starts the relay on 127.0.0.1:`port` (0: any free port); without `token`, a random one. */
export async function startRelay(opts: {
  port: number;
  token?: string;
  /** user (the default) or switch; `none` makes no sense here. */
  network?: NetworkConfig;
  log?: (line: string) => void;
}): Promise<Relay> {
  const network = opts.network ?? { ...DEFAULT_NETWORK, forwards: [] };
  if (network.mode === "none")
    throw new VirtusError("bad-net", "a relay forwards into user or switch:NAME, not none");
  const log = opts.log ?? (() => {});
  const token = opts.token ?? randomBytes(18).toString("base64url");
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: opts.port,
    maxPayload: MAX_FRAME,
    verifyClient: (info: { req: { url?: string } }) =>
      tokenMatches(new URL(info.req.url ?? "/", "http://relay").searchParams.get("token"), token),
  });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        e.code === "EADDRINUSE"
          ? new VirtusError("relay-port", `port ${opts.port} is in use; pick another with --port N`)
          : e,
      ),
    );
  });
  wss.on("connection", (ws) => {
    ws.binaryType = "nodebuffer";
    const early: Uint8Array[] = [];
    let transmit: ((frame: Uint8Array) => void) | undefined;
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      const frame = new Uint8Array(data);
      if (transmit) transmit(frame);
      else early.push(frame);
    });
    openNetwork(network, log).then(
      (net) => {
        if (ws.readyState !== ws.OPEN) return net.close();
        net.backend.connect((frame) => ws.send(frame));
        transmit = (frame) => {
          net.backend.transmit(frame, { checksumOffloaded: false });
          net.backend.flush?.();
        };
        for (const f of early.splice(0)) transmit(f);
        ws.on("close", () => net.close());
        log("virtus relay: a browser VM connected");
      },
      (e: Error) => {
        log(`virtus relay: ${e.message}`);
        ws.close(1011, "cannot open the network");
      },
    );
  });
  const addr = wss.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : opts.port;
  return {
    url: `ws://127.0.0.1:${port}/`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

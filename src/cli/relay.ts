/** `virtus relay [--port N] [--token T]`: browser VMs' frames into a user-mode network (src/host/node/relay.ts). */
import { type Command, InvalidArgumentError } from "commander";
import { startRelay } from "../host/node/relay.ts";
import { networkConfig } from "./net.ts";

export const DEFAULT_RELAY_PORT = 8081;

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("--port takes 0..65535");
  return n;
}

export function addRelayCommand(program: Command): void {
  program
    .command("relay")
    .description(
      "forward Ethernet frames from browser VMs (WebSocket, token-guarded) into a user-mode network",
    )
    .option("--port <n>", "TCP port on 127.0.0.1", port, DEFAULT_RELAY_PORT)
    .option("--token <token>", "the token a page must give (default: a random one, printed)")
    .option(
      "--net <user|switch:NAME[,vlan=N]>",
      "where the frames go: a user-mode network per page, or a switch",
      "user",
    )
    .action(async (opts: { port: number; token?: string; net: string }) => {
      const log = (l: string) => process.stderr.write(`${l}\n`);
      const network = networkConfig(opts.net, []);
      const r = await startRelay({ port: opts.port, token: opts.token, network, log });
      log(`virtus relay: listening on ${r.url}`);
      log(`virtus relay: open the page with ?relay=${encodeURIComponent(`${r.url}?token=${r.token}`)}`);
      await new Promise<void>((resolve) => {
        const stop = () => void r.close().then(resolve);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}

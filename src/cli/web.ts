/** `virtus web [--port N]`: the browser page with the default guest (src/host/node/web-server.ts). */
import { type Command, InvalidArgumentError } from "commander";
import { DEFAULT_WEB_PORT, startWebServer } from "../host/node/web-server.ts";

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("--port takes 0..65535");
  return n;
}

export function addWebCommand(program: Command): void {
  program
    .command("web")
    .description("serve Virtus in the browser on 127.0.0.1: the page boots the default guest in a Web Worker")
    .option("--port <n>", "TCP port", port, DEFAULT_WEB_PORT)
    .action(async (opts: { port: number }) => {
      const log = (l: string) => process.stderr.write(`${l}\n`);
      const s = await startWebServer({ port: opts.port, log });
      log(`virtus web: open ${s.url}`);
      await new Promise<void>((resolve) => {
        const stop = () => void s.close().then(resolve);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}

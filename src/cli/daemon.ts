/** `virtus daemon --data DIR [--listen unix:PATH|HOST:PORT]`: the VM manager (src/daemon/). */
import type { Command } from "commander";
import { ADMIN_TOKEN_FILE } from "../daemon/auth.ts";
import { startDaemon } from "../daemon/server.ts";

export function addDaemonCommand(program: Command): void {
  program
    .command("daemon")
    .description("run the VM manager: a REST API (GET /openapi.json) for tenants, VMs, images and snapshots")
    .requiredOption(
      "--data <dir>",
      `its store, images and snapshots; the admin token is written to DIR/${ADMIN_TOKEN_FILE}`,
    )
    .option("--listen <where>", "unix:PATH or HOST:PORT (default: unix:DIR/virtus.sock)")
    .action(async (opts: { data: string; listen?: string }) => {
      const log = (l: string) => process.stderr.write(`${l}\n`);
      const d = await startDaemon({ dataDir: opts.data, listen: opts.listen, log });
      log(`virtus daemon: listening on ${d.url}`);
      log(`virtus daemon: VIRTUS_URL=${d.url} VIRTUS_TOKEN=$(cat ${opts.data}/${ADMIN_TOKEN_FILE})`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          log("virtus daemon: stopping (running VMs are destroyed)");
          void d.close().then(resolve);
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}

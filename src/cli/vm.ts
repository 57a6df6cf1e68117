/**
 * `virtus vm …`: virsh's verbs against the daemon (VIRTUS_URL,
 * VIRTUS_TOKEN). Thin: flags become a request (src/daemon/client.ts),
 * answers become a table or `--json`.
 */
import { createReadStream, readFileSync, statSync } from "node:fs";
import type { Command } from "commander";
import { call, type Endpoint, endpointFromEnv, openConsole } from "../daemon/client.ts";
import { VirtusError } from "../machine/errors.ts";
import { parseSize } from "./size.ts";
import { printTable } from "./table.ts";

interface CreateFlags {
  mem?: string;
  smp?: string;
  cpuLimit?: string;
  kernel?: string;
  initrd?: string;
  append?: string;
  bios?: string;
  disk: string[];
  deterministic?: boolean;
  jit: boolean;
}

interface VmSummary {
  name: string;
  state: string;
  reason: string;
  vcpus: number;
  memory: number;
  cpu_limit: number | null;
}

const bad = (message: string) => new VirtusError("bad-input", message);
const vmPath = (name: string, rest = "") => `/v1/vms/${encodeURIComponent(name)}${rest}`;
const mib = (b: number) => `${Math.round(b / 1024 ** 2)}M`;

/** The definition `virtus vm create NAME [flags]` describes. */
export function definitionFromFlags(name: string, o: CreateFlags): Record<string, unknown> {
  const def: Record<string, unknown> = { name };
  if (o.mem !== undefined) def.memory = parseSize(o.mem);
  if (o.smp !== undefined) {
    const n = Number(o.smp);
    if (!Number.isInteger(n) || n < 1 || n > 8)
      throw bad(`--smp ${o.smp}: give a number of vCPUs from 1 to 8`);
    def.vcpus = n;
  }
  if (o.cpuLimit !== undefined) {
    const f = Number(o.cpuLimit);
    if (!Number.isFinite(f) || f <= 0)
      throw bad(`--cpu-limit ${o.cpuLimit}: give a share of one core, e.g. 0.25`);
    def.cpu_limit = f;
  }
  if (o.kernel !== undefined) def.kernel = o.kernel;
  if (o.initrd !== undefined) def.initrd = o.initrd;
  if (o.append !== undefined) def.append = o.append;
  if (o.bios !== undefined) def.bios = o.bios;
  if (o.disk.length > 0)
    def.disks = o.disk.map((d) => {
      const [image, ...opts] = d.split(",");
      for (const x of opts) if (x !== "readonly") throw bad(`--disk ${d}: the only option is readonly`);
      return { image, readOnly: opts.includes("readonly") };
    });
  if (o.deterministic) def.deterministic = true;
  if (!o.jit) def.jit = false;
  return def;
}

function printJsonOr(json: boolean | undefined, value: unknown, table: () => void): void {
  if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else table();
}

function printVms(rows: VmSummary[]): void {
  printTable(
    ["NAME", "STATE", "VCPUS", "MEMORY", "CPU-LIMIT", "REASON"],
    rows.map((r) => [
      r.name,
      r.state,
      String(r.vcpus),
      mib(r.memory),
      r.cpu_limit === null ? "-" : String(r.cpu_limit),
      r.reason,
    ]),
  );
}

/** `virtus vm console NAME`: raw terminal on the VM's serial console until Ctrl-] or the VM stops. */
export function attachConsole(ep: Endpoint, name: string): Promise<number> {
  const ws = openConsole(ep, name);
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  return new Promise((resolve) => {
    let code = 0;
    const onData = (chunk: Buffer) => {
      const at = chunk.indexOf(0x1d);
      if (at >= 0) {
        if (at > 0) ws.send(chunk.subarray(0, at));
        ws.close(1000, "detached");
        return;
      }
      ws.send(chunk);
    };
    const done = () => {
      stdin.off("data", onData);
      if (tty) stdin.setRawMode(false);
      stdin.pause();
      resolve(code);
    };
    ws.on("open", () => {
      if (tty) {
        stdin.setRawMode(true);
        process.stderr.write(`virtus: connected to ${name}'s console (Ctrl-] detaches)\r\n`);
      }
      stdin.on("data", onData);
      stdin.resume();
    });
    ws.on("message", (data: Buffer) => process.stdout.write(data));
    ws.on("close", (c: number, reason: Buffer) => {
      if (c === 4004) {
        process.stderr.write(`virtus: ${reason.toString()}\n`);
        code = 1;
      } else if (c !== 1000 || reason.toString() !== "detached") {
        if (reason.length > 0) process.stderr.write(`\r\nvirtus: ${reason.toString()}\r\n`);
      }
      done();
    });
    ws.on("error", (e: Error) => {
      process.stderr.write(`virtus: console: ${e.message}\n`);
      code = 1;
      done();
    });
  });
}

function addImageCommands(vm: Command): void {
  const image = vm
    .command("image")
    .description("the tenant's images in the daemon: kernels, initramfs, raw and qcow2 disks");
  image
    .command("import")
    .argument("<name>")
    .argument("<file>")
    .description("upload FILE as image NAME")
    .action(async (name: string, file: string) => {
      try {
        if (!statSync(file).isFile()) throw new Error();
      } catch {
        throw bad(`${file}: no such file`);
      }
      const r = (await call(endpointFromEnv(), "PUT", `/v1/images/${encodeURIComponent(name)}`, {
        stream: createReadStream(file),
      })) as { name: string; format: string; size: number };
      process.stdout.write(`${r.name}: ${r.format}, ${r.size} bytes\n`);
    });
  image
    .command("list")
    .option("--json", "JSON instead of a table")
    .action(async (o: { json?: boolean }) => {
      const rows = (await call(endpointFromEnv(), "GET", "/v1/images")) as {
        name: string;
        format: string;
        size: number;
        created: string;
      }[];
      printJsonOr(o.json, rows, () =>
        printTable(
          ["NAME", "FORMAT", "SIZE", "CREATED"],
          rows.map((r) => [r.name, r.format, String(r.size), r.created]),
        ),
      );
    });
  image
    .command("delete")
    .argument("<name>")
    .action(async (name: string) => {
      await call(endpointFromEnv(), "DELETE", `/v1/images/${encodeURIComponent(name)}`);
    });
}

const repeatable = (v: string, all: string[]) => [...all, v];

export function addVmCommand(program: Command): void {
  const vm = program
    .command("vm")
    .description("manage VMs in the daemon (VIRTUS_URL=unix:PATH|http://HOST:PORT, VIRTUS_TOKEN=TOKEN)");
  vm.command("create")
    .argument("<name>")
    .description("define a VM (the default guest unless --kernel names an image); start it with vm start")
    .option("--mem <size>", "guest RAM, e.g. 256M (default 256M)")
    .option("--smp <n>", "vCPUs (harts), 1..8 (default 1)")
    .option("--cpu-limit <f>", "share of one host core, e.g. 0.25 (default: no cap)")
    .option("--kernel <image>", "a kernel image imported with vm image import")
    .option("--initrd <image>", "an initramfs image (with --kernel)")
    .option("--append <cmdline>", "kernel command line")
    .option("--bios <builtin|none>", "the built-in SBI (default) or none (kernel in M-mode)")
    .option(
      "--disk <image[,readonly]>",
      "an image as virtio-blk disk (repeatable)",
      repeatable,
      [] as string[],
    )
    .option("--deterministic", "time follows the instruction count")
    .option("--no-jit", "interpret only")
    .option("--json", "print the VM as JSON")
    .action(async (name: string, o: CreateFlags & { json?: boolean }) => {
      const r = await call(endpointFromEnv(), "POST", "/v1/vms", { body: definitionFromFlags(name, o) });
      printJsonOr(o.json, r, () => process.stdout.write(`${name} defined\n`));
    });
  vm.command("define")
    .argument("<file>", "a definition in JSON or YAML (docs/API.md)")
    .description("define a VM from a file")
    .action(async (file: string) => {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch {
        throw bad(`${file}: cannot read it`);
      }
      const yaml = /\.ya?ml$/i.test(file);
      const r = (await call(endpointFromEnv(), "POST", "/v1/vms", {
        body: text,
        contentType: yaml ? "application/yaml" : "application/json",
      })) as { name: string };
      process.stdout.write(`${r.name} defined\n`);
    });
  vm.command("list")
    .description("the tenant's VMs")
    .option("--json", "JSON instead of a table")
    .action(async (o: { json?: boolean }) => {
      const rows = (await call(endpointFromEnv(), "GET", "/v1/vms")) as VmSummary[];
      printJsonOr(o.json, rows, () => printVms(rows));
    });
  vm.command("info")
    .argument("<name>")
    .option("--json", "JSON instead of lines")
    .action(async (name: string, o: { json?: boolean }) => {
      const r = (await call(endpointFromEnv(), "GET", vmPath(name))) as VmSummary & Record<string, unknown>;
      printJsonOr(o.json, r, () => {
        const lines: [string, string][] = [
          ["Name", r.name],
          ["State", r.state + (r.reason ? ` (${r.reason})` : "")],
          ["vCPUs", String(r.vcpus)],
          ["Memory", mib(r.memory)],
          ["CPU limit", r.cpu_limit === null ? "none" : String(r.cpu_limit)],
          ["Instructions", r.instructions === null ? "-" : String(r.instructions)],
          ["Snapshots", (r.snapshots as string[]).join(", ") || "-"],
        ];
        for (const [k, v] of lines) process.stdout.write(`${`${k}:`.padEnd(14)}${v}\n`);
      });
    });
  for (const [verb, what] of [
    ["start", "boot the VM"],
    ["destroy", "cut the VM's power at once"],
    ["reboot", "reset the VM"],
    ["pause", "stop the VM's harts"],
    ["resume", "run a paused VM again"],
  ] as const)
    vm.command(verb)
      .argument("<name>")
      .description(what)
      .action(async (name: string) => {
        const r = (await call(endpointFromEnv(), "POST", vmPath(name, `/${verb}`))) as VmSummary;
        process.stdout.write(`${r.name}: ${r.state}\n`);
      });
  vm.command("shutdown")
    .argument("<name>")
    .description("ask the guest to power off; destroy it after --timeout seconds")
    .option("--timeout <s>", "seconds to wait before destroying it", "30")
    .action(async (name: string, o: { timeout: string }) => {
      const s = Number(o.timeout);
      if (!Number.isFinite(s) || s < 0 || s > 600)
        throw bad(`--timeout ${o.timeout}: give seconds from 0 to 600`);
      const r = (await call(
        endpointFromEnv(),
        "POST",
        vmPath(name, `/shutdown?timeout_ms=${Math.round(s * 1000)}`),
      )) as VmSummary;
      process.stdout.write(`${r.name}: ${r.state}${r.reason ? ` (${r.reason})` : ""}\n`);
    });
  vm.command("delete")
    .argument("<name>")
    .description("delete a stopped VM and its snapshots")
    .action(async (name: string) => {
      await call(endpointFromEnv(), "DELETE", vmPath(name));
    });
  vm.command("console")
    .argument("<name>")
    .description("attach to the VM's serial console (Ctrl-] detaches)")
    .action(async (name: string) => {
      process.exitCode = await attachConsole(endpointFromEnv(), name);
    });
  vm.command("snapshot")
    .argument("<name>")
    .argument("<snapshot>")
    .description("save the running VM as SNAPSHOT")
    .action(async (name: string, snapshot: string) => {
      const r = (await call(endpointFromEnv(), "POST", vmPath(name, "/snapshots"), {
        body: { name: snapshot },
      })) as { size: number };
      process.stdout.write(`${name}: snapshot ${snapshot} saved (${r.size} bytes)\n`);
    });
  vm.command("snapshots")
    .argument("<name>")
    .option("--json", "JSON instead of a table")
    .action(async (name: string, o: { json?: boolean }) => {
      const rows = (await call(endpointFromEnv(), "GET", vmPath(name, "/snapshots"))) as {
        name: string;
        size: number;
        created: string;
      }[];
      printJsonOr(o.json, rows, () =>
        printTable(
          ["NAME", "SIZE", "CREATED"],
          rows.map((r) => [r.name, String(r.size), r.created]),
        ),
      );
    });
  vm.command("restore")
    .argument("<name>")
    .argument("<snapshot>")
    .description("run the VM from SNAPSHOT")
    .action(async (name: string, snapshot: string) => {
      const r = (await call(
        endpointFromEnv(),
        "POST",
        vmPath(name, `/snapshots/${encodeURIComponent(snapshot)}/restore`),
      )) as VmSummary;
      process.stdout.write(`${r.name}: ${r.state}\n`);
    });
  vm.command("clone")
    .argument("<name>")
    .argument("<new-name>")
    .requiredOption("--snapshot <snapshot>", "the snapshot of NAME the clone runs from")
    .description("define NEW-NAME like NAME and run it from one of NAME's snapshots")
    .action(async (name: string, newName: string, o: { snapshot: string }) => {
      const r = (await call(endpointFromEnv(), "POST", vmPath(name, "/clone"), {
        body: { name: newName, snapshot: o.snapshot },
      })) as VmSummary;
      process.stdout.write(`${r.name}: ${r.state}\n`);
    });
  addImageCommands(vm);
}

/**
 * A VM's port on a virtual switch (`--net switch:NAME[,vlan=N]`): the NIC's
 * backend, connected to the switch service for NAME
 * (switch-service.ts), which it starts when there is none.
 *
 * Frames go out as length-prefixed messages after a hello that names the
 * VLAN. Sending never blocks the VM: while more than PEER_BUFFER_MAX bytes
 * wait in the socket, or while the service is being (re)started, frames are
 * dropped as a congested link would drop them. If the service goes away
 * the port reconnects (starting a new service), so a VM outlives the
 * switch process as a real NIC outlives a switch reboot.
 */
import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { VirtusError } from "../../machine/errors.ts";
import type { NetBackend } from "../../machine/virtio/net.ts";
import { frameMessage, helloMessage, MessageReader } from "../../net/switch.ts";
import { PEER_BUFFER_MAX, switchSocketName } from "./switch-service.ts";

/** How long start() waits for a service to answer (ms). */
const START_TIMEOUT_MS = 10_000;
/** Between connection attempts (ms). */
const RETRY_MS = 50;
const RETRY_MAX_MS = 1000;

/** The service's entry, next to this module (a .ts in the source tree, a .js once compiled or bundled). */
function serviceScript(): string {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  return fileURLToPath(new URL(`./switch-service-main${ext}`, import.meta.url));
}

/** Starts a detached switch service for `name` (if another wins the name, this one exits at once). */
function spawnService(name: string): void {
  const child = spawn(process.execPath, [serviceScript(), name], { detached: true, stdio: "ignore" });
  child.on("error", () => {});
  child.unref();
}

export interface SwitchPortStats {
  sent: number;
  received: number;
  /** Frames dropped on the way out (not connected, socket congested). */
  dropped: number;
  reconnects: number;
}

export class SwitchPort implements NetBackend {
  readonly stats: SwitchPortStats = { sent: 0, received: 0, dropped: 0, reconnects: 0 };
  private readonly name: string;
  private readonly vlan: number;
  private readonly log: (m: string) => void;
  private socket: Socket | undefined;
  private connected = false;
  private corked = false;
  private deliver: ((frame: Uint8Array) => void) | undefined;
  private closed = false;
  private retryMs = RETRY_MS;
  private retry: NodeJS.Timeout | undefined;
  private spawned = false;

  constructor(name: string, vlan: number, log: (m: string) => void = () => {}) {
    this.name = name;
    this.vlan = vlan;
    this.log = log;
  }

  /** Connects (starting the service when there is none); rejects with a VirtusError if none answers in time. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const deadline = setTimeout(() => {
        this.close();
        reject(
          new VirtusError(
            "switch-unavailable",
            `--net switch:${this.name}: no switch service answered within ${START_TIMEOUT_MS / 1000} s`,
          ),
        );
      }, START_TIMEOUT_MS);
      this.attempt(() => {
        clearTimeout(deadline);
        resolve();
      });
    });
  }

  private attempt(onConnected?: () => void): void {
    if (this.closed) return;
    const s = connect({ path: switchSocketName(this.name) });
    this.socket = s;
    let opened = false;
    s.setNoDelay(true);
    s.on("connect", () => {
      opened = true;
      this.connected = true;
      this.spawned = false;
      this.retryMs = RETRY_MS;
      s.write(frameMessage(helloMessage(this.vlan)));
      onConnected?.();
    });
    const reader = new MessageReader((m) => {
      this.stats.received++;
      this.deliver?.(m);
    });
    s.on("data", (b: Buffer) => {
      if (reader.push(new Uint8Array(b.buffer, b.byteOffset, b.length)) !== undefined) s.destroy();
    });
    s.on("error", () => {});
    s.on("close", () => {
      if (this.socket === s) {
        this.socket = undefined;
        this.connected = false;
        this.corked = false;
      }
      if (this.closed) return;
      if (opened) {
        this.stats.reconnects++;
        this.log(`switch ${this.name}: the switch service went away; reconnecting`);
      }
      // Nobody listening: start a service (once per outage), then keep trying with backoff.
      if (!this.spawned) {
        this.spawned = true;
        spawnService(this.name);
      }
      this.retry = setTimeout(() => this.attempt(onConnected), this.retryMs);
      this.retry.unref();
      this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    });
  }

  connect(receive: (frame: Uint8Array) => void): void {
    this.deliver = receive;
  }

  transmit(frame: Uint8Array): void {
    const s = this.socket;
    if (!this.connected || s === undefined || s.writableLength > PEER_BUFFER_MAX) {
      this.stats.dropped++;
      return;
    }
    // A batch of frames from the guest leaves in one write (uncorked in flush()).
    if (!this.corked) {
      s.cork();
      this.corked = true;
    }
    s.write(frameMessage(frame));
    this.stats.sent++;
  }

  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket?.uncork();
  }

  /** Frames may arrive from other VMs at any time: an idle deterministic machine lets real time pass. */
  get hostActive(): boolean {
    return !this.closed;
  }

  close(): void {
    this.closed = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.socket?.destroy();
    this.socket = undefined;
    this.connected = false;
  }
}

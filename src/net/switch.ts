/**
 * A learning Ethernet switch with port-based VLANs (IEEE 802.1D learning
 * and forwarding, 802.1Q VLAN membership), and the framing its ports speak
 * over a byte stream. Platform-neutral: the switch service
 * (src/host/node/switch-service.ts) owns the sockets and calls in here.
 *
 * Every port is an access port of one VLAN: a frame only ever reaches
 * ports of the VLAN it came in on, and the MAC table is kept per VLAN, so
 * two VLANs may even use the same MACs. A frame to a known unicast MAC goes
 * to the port that MAC was last seen on; broadcast, multicast and unknown
 * destinations are flooded to the VLAN. A port that cannot take a frame
 * (its peer is slow or gone) loses that frame; the others never wait.
 *
 * Stream framing (as QEMU's `-netdev stream`/`socket`): each message is a
 * 4-byte big-endian length and that many bytes. The first message on a
 * connection is the hello, `HELLO_MAGIC` then u16 version and u16 VLAN.
 */
import { u16 } from "./wire.ts";

/** The smallest Ethernet frame the switch passes (destination, source, EtherType). */
export const SWITCH_MIN_FRAME = 14;
/** The largest: a frame with a 64 KiB payload (no NIC on a switch sends more than its MTU). */
export const SWITCH_MAX_FRAME = 65550;
/** How long a learned MAC stays in the table without being seen (ms; 802.1D's default ageing time). */
export const MAC_AGEING_MS = 300_000;
/** At most this many learned MACs per switch; beyond it the oldest is forgotten (a flood of fake sources). */
export const MAC_TABLE_MAX = 4096;
export const VLAN_MIN = 1;
export const VLAN_MAX = 4094;

/** "VSW" and a version byte. */
export const HELLO_MAGIC = Uint8Array.of(0x56, 0x53, 0x57, 0x31);
export const HELLO_VERSION = 1;
export const HELLO_LEN = 8;

/** One port as the switch sees it. */
export interface SwitchPortSink {
  /** Sends a frame to the port's peer; false when it had to be dropped (peer congested or gone). */
  send(frame: Uint8Array): boolean;
}

export interface SwitchStats {
  forwarded: number;
  flooded: number;
  /** Frames a congested port could not take. */
  dropped: number;
  /** Frames refused on input (runt, oversized). */
  refused: number;
}

interface Port {
  id: number;
  vlan: number;
  sink: SwitchPortSink;
}

interface MacEntry {
  port: Port;
  seen: number;
}

/** A MAC in a frame as a 48-bit number (exact in a double). */
function macKey(frame: Uint8Array, off: number): number {
  return (
    ((frame[off] * 256 + frame[off + 1]) * 256 + frame[off + 2]) * 16777216 +
    ((frame[off + 3] << 16) | (frame[off + 4] << 8) | frame[off + 5])
  );
}

export class EthernetSwitch {
  readonly stats: SwitchStats = { forwarded: 0, flooded: 0, dropped: 0, refused: 0 };
  private readonly ports = new Map<number, Port>();
  /** Per VLAN: MAC (as a 48-bit number) → where it was seen. */
  private readonly tables = new Map<number, Map<number, MacEntry>>();
  private learned = 0;
  private nextId = 1;
  private readonly now: () => number;

  constructor(now: () => number) {
    this.now = now;
  }

  get portCount(): number {
    return this.ports.size;
  }

  /** Adds a port in `vlan`; returns its id. */
  addPort(vlan: number, sink: SwitchPortSink): number {
    if (!Number.isInteger(vlan) || vlan < VLAN_MIN || vlan > VLAN_MAX)
      throw new RangeError(`bad VLAN ${vlan}`);
    const id = this.nextId++;
    this.ports.set(id, { id, vlan, sink });
    return id;
  }

  /** Removes a port and forgets every MAC learned on it. */
  removePort(id: number): void {
    const port = this.ports.get(id);
    if (port === undefined) return;
    this.ports.delete(id);
    const table = this.tables.get(port.vlan);
    if (table === undefined) return;
    for (const [mac, e] of table)
      if (e.port === port) {
        table.delete(mac);
        this.learned--;
      }
  }

  /** A frame that came in on port `id` (the switch does not keep it past the call). */
  input(id: number, frame: Uint8Array): void {
    const port = this.ports.get(id);
    if (port === undefined) return;
    if (frame.length < SWITCH_MIN_FRAME || frame.length > SWITCH_MAX_FRAME) {
      this.stats.refused++;
      return;
    }
    let table = this.tables.get(port.vlan);
    if (table === undefined) {
      table = new Map();
      this.tables.set(port.vlan, table);
    }
    const now = this.now();
    // Learn the source unless it is a group address (no frame comes *from* a multicast MAC).
    if ((frame[6] & 1) === 0) this.learn(table, macKey(frame, 6), port, now);
    if ((frame[0] & 1) === 0) {
      const e = table.get(macKey(frame, 0));
      if (e !== undefined && now - e.seen <= MAC_AGEING_MS && this.ports.get(e.port.id) === e.port) {
        if (e.port !== port) {
          this.stats.forwarded++;
          if (!e.port.sink.send(frame)) this.stats.dropped++;
        }
        return; // to itself: the peer already has it (802.1D: not sent back out of its own port)
      }
    }
    this.stats.flooded++;
    for (const p of this.ports.values())
      if (p !== port && p.vlan === port.vlan && !p.sink.send(frame)) this.stats.dropped++;
  }

  private learn(table: Map<number, MacEntry>, mac: number, port: Port, now: number): void {
    const e = table.get(mac);
    if (e !== undefined) {
      e.port = port;
      e.seen = now;
      return;
    }
    if (this.learned >= MAC_TABLE_MAX) this.forgetOldest();
    table.set(mac, { port, seen: now });
    this.learned++;
  }

  private forgetOldest(): void {
    let oldest: { table: Map<number, MacEntry>; mac: number; seen: number } | undefined;
    for (const table of this.tables.values())
      for (const [mac, e] of table)
        if (oldest === undefined || e.seen < oldest.seen) oldest = { table, mac, seen: e.seen };
    if (oldest === undefined) return;
    oldest.table.delete(oldest.mac);
    this.learned--;
  }
}

/** The hello a port sends first: which VLAN it joins. */
export function helloMessage(vlan: number): Uint8Array {
  const m = new Uint8Array(HELLO_LEN);
  m.set(HELLO_MAGIC, 0);
  m[4] = HELLO_VERSION >> 8;
  m[5] = HELLO_VERSION & 255;
  m[6] = vlan >> 8;
  m[7] = vlan & 255;
  return m;
}

/** The VLAN of a hello, or a reason it is not one. */
export function parseHello(m: Uint8Array): number | string {
  if (m.length !== HELLO_LEN) return "the hello has the wrong length";
  for (let i = 0; i < 4; i++) if (m[i] !== HELLO_MAGIC[i]) return "not a Virtus switch hello";
  if (u16(m, 4) !== HELLO_VERSION) return `switch protocol version ${u16(m, 4)} is not ${HELLO_VERSION}`;
  const vlan = u16(m, 6);
  if (vlan < VLAN_MIN || vlan > VLAN_MAX) return `VLAN ${vlan} is not in ${VLAN_MIN}..${VLAN_MAX}`;
  return vlan;
}

/** A length-prefixed message, ready to write to the stream. */
export function frameMessage(frame: Uint8Array): Uint8Array {
  const m = new Uint8Array(4 + frame.length);
  const n = frame.length;
  m[0] = n >>> 24;
  m[1] = (n >>> 16) & 255;
  m[2] = (n >>> 8) & 255;
  m[3] = n & 255;
  m.set(frame, 4);
  return m;
}

/**
 * Splits a byte stream into length-prefixed messages. A length of zero or
 * above SWITCH_MAX_FRAME means the peer is broken: `push` returns a reason
 * and the connection should be closed.
 */
export class MessageReader {
  private buf = new Uint8Array(0);
  private readonly onMessage: (m: Uint8Array) => void;

  constructor(onMessage: (m: Uint8Array) => void) {
    this.onMessage = onMessage;
  }

  push(chunk: Uint8Array): string | undefined {
    let data: Uint8Array;
    if (this.buf.length === 0) data = chunk;
    else {
      data = new Uint8Array(this.buf.length + chunk.length);
      data.set(this.buf, 0);
      data.set(chunk, this.buf.length);
    }
    let at = 0;
    while (data.length - at >= 4) {
      const n = ((data[at] << 24) | (data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3]) >>> 0;
      if (n === 0 || n > SWITCH_MAX_FRAME) {
        this.buf = new Uint8Array(0);
        return `message length ${n} is not in 1..${SWITCH_MAX_FRAME}`;
      }
      if (data.length - at - 4 < n) break;
      // A copy: the consumer owns it, and the stream's buffer is reused by the host.
      this.onMessage(data.slice(at + 4, at + 4 + n));
      at += 4 + n;
    }
    this.buf = at === data.length ? new Uint8Array(0) : data.slice(at);
    return undefined;
  }
}

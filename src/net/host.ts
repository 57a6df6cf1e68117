/**
 * What the user-mode network needs from its host (design 2.2): sockets on
 * the host and timers. The core in src/net/ never touches the network or
 * the clock itself; src/host/node/net-host.ts implements these with
 * node:net, node:dgram and setTimeout, tests with fakes, a browser host
 * with whatever it can reach (WebSocket relays, fetch).
 *
 * Addresses are host-side strings ("127.0.0.1"); ports are numbers.
 */

/** Host timers. `now` is monotonic milliseconds; `after` calls `fn` once after about `ms` and returns a cancel function. */
export interface NetTimers {
  now(): number;
  after(ms: number, fn: () => void): () => void;
}

/** Events of a host TCP socket, delivered to the network stack. */
export interface HostTcpEvents {
  /** The connection is open (only for sockets from connectTcp). */
  connected(): void;
  /** Bytes from the host peer, in order. The stack owns the array. */
  data(bytes: Uint8Array): void;
  /** The host peer will send no more (it half-closed; writes may continue). */
  end(): void;
  /** Bytes buffered by write() went out: `buffered` dropped. */
  drain(): void;
  /**
   * The socket is gone: `error` says why when it was not an orderly close
   * (refused, reset, unreachable). Nothing follows this event.
   */
  closed(error?: string): void;
}

/** A host TCP socket the stack proxies a guest connection to. */
export interface HostTcpSocket {
  /** Queues bytes for the host peer (the socket may keep a reference: pass bytes nobody reuses). */
  write(bytes: Uint8Array): void;
  /** Bytes accepted by write() and not yet handed to the host OS: the stack's receive window shrinks by this. */
  readonly buffered: number;
  /** Sends FIN after the queued bytes (half-close: data may still arrive). */
  end(): void;
  /** Abortive close: the host peer sees a reset. No events follow. */
  reset(): void;
  /** Stops `data` events (backpressure toward the host peer). */
  pause(): void;
  resume(): void;
}

/** A listening host socket (port forwarding). */
export interface HostListener {
  /** The port actually bound (useful when 0 was asked for). */
  readonly port: number;
  close(): void;
}

export interface HostUdpEvents {
  /** A datagram from `addr`:`port` to this socket. The stack owns the array. */
  message(bytes: Uint8Array, addr: string, port: number): void;
}

export interface HostUdpSocket {
  send(bytes: Uint8Array, addr: string, port: number): void;
  close(): void;
}

/**
 * What the host's resolver said about a name (HostNet.resolve): addresses
 * (dotted IPv4 for A, IPv6 text for AAAA) or names (PTR); `nodata` when the
 * name exists without records of that type; `servfail` when the resolver
 * failed (timeout, no server).
 */
export type HostDnsAnswer =
  | { kind: "ok"; values: string[] }
  | { kind: "nxdomain" }
  | { kind: "nodata" }
  | { kind: "servfail" };

/** The record types the name server proxies to the host's resolver. */
export type HostDnsType = "A" | "AAAA" | "PTR";

/** Host sockets for user-mode networking. */
export interface HostNet {
  /**
   * Asks the host's resolver (its /etc/hosts and name servers, as its own
   * programs see them) about `name`; `done` is called once, later, never
   * synchronously. For PTR, `name` is the IPv4 address text.
   */
  resolve(name: string, type: HostDnsType, done: (answer: HostDnsAnswer) => void): void;
  /** Opens a TCP connection to `addr`:`port`; events arrive on `events` (connected or closed first). */
  connectTcp(addr: string, port: number, events: HostTcpEvents): HostTcpSocket;
  /**
   * Listens on `addr`:`port`. Each accepted connection is passed to `accept`,
   * paused: it delivers no data until resume(). `accept` returns its events.
   * Rejects when the port cannot be bound (in use, no permission).
   */
  listenTcp(addr: string, port: number, accept: (s: HostTcpSocket) => HostTcpEvents): Promise<HostListener>;
  /** A UDP socket bound to an ephemeral port on `addr`. */
  openUdp(addr: string, events: HostUdpEvents): HostUdpSocket;
  /** A UDP socket bound to `addr`:`port`; rejects when the port cannot be bound. */
  listenUdp(
    addr: string,
    port: number,
    events: HostUdpEvents,
  ): Promise<HostUdpSocket & { readonly port: number }>;
}

/**
 * Host sockets and timers for the user-mode network (src/net/host.ts) on
 * Node: node:net for TCP, node:dgram for UDP, node:dns for the name server
 * (dns.lookup is getaddrinfo, so /etc/hosts counts as for the host's own
 * programs), setTimeout for timers.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { lookup, lookupService } from "node:dns";
import { connect, createServer, type Socket } from "node:net";
import { VirtusError } from "../../machine/errors.ts";
import type {
  HostDnsAnswer,
  HostDnsType,
  HostListener,
  HostNet,
  HostTcpEvents,
  HostTcpSocket,
  HostUdpEvents,
  HostUdpSocket,
  NetTimers,
} from "../../net/host.ts";

export const nodeNetTimers: NetTimers = {
  now: () => performance.now(),
  after(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref(); // a pending retransmission must not keep a finished process alive
    return () => clearTimeout(t);
  },
};

function asBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** Wraps a node:net socket; `events` may be set after construction (accepted sockets). */
function wrapTcp(s: Socket, ev: { current: HostTcpEvents | undefined }): HostTcpSocket {
  let done = false;
  let error: string | undefined;
  s.setNoDelay(true);
  s.on("connect", () => ev.current?.connected());
  s.on("data", (b: Buffer) => ev.current?.data(asBytes(b)));
  s.on("end", () => ev.current?.end());
  s.on("drain", () => ev.current?.drain());
  s.on("error", (e: NodeJS.ErrnoException) => {
    error = e.code ?? e.message;
  });
  s.on("close", () => {
    if (done) return;
    done = true;
    ev.current?.closed(error);
  });
  return {
    write: (bytes) => {
      if (!s.destroyed) s.write(bytes);
    },
    get buffered() {
      return s.writableLength;
    },
    end: () => {
      if (!s.destroyed) s.end();
    },
    reset: () => {
      done = true;
      if (!s.destroyed) s.resetAndDestroy();
    },
    pause: () => {
      s.pause();
    },
    resume: () => {
      s.resume();
    },
  };
}

function listenError(e: NodeJS.ErrnoException, proto: string, addr: string, port: number): VirtusError {
  const why =
    e.code === "EADDRINUSE"
      ? "the port is in use"
      : e.code === "EACCES"
        ? "permission denied"
        : e.code === "EADDRNOTAVAIL"
          ? "no such local address"
          : (e.code ?? e.message);
  return new VirtusError(
    "port-unavailable",
    `--forward ${proto}:${port}: cannot listen on ${addr}:${port}: ${why}`,
  );
}

function wrapUdp(sock: UdpSocket, events: HostUdpEvents): HostUdpSocket {
  sock.on("message", (msg, rinfo) => events.message(asBytes(msg), rinfo.address, rinfo.port));
  // A datagram to a closed port can come back as ECONNREFUSED; UDP is lossy anyway.
  sock.on("error", () => {});
  let closed = false;
  return {
    send: (bytes, addr, port) => {
      if (!closed) sock.send(bytes, port, addr);
    },
    close: () => {
      if (closed) return;
      closed = true;
      sock.close();
    },
  };
}

/** getaddrinfo's failures as DNS outcomes: no such name, a name without addresses, anything else. */
function lookupFailure(e: NodeJS.ErrnoException): HostDnsAnswer {
  if (e.code === "ENOTFOUND") return { kind: "nxdomain" };
  if (e.code === "ENODATA") return { kind: "nodata" };
  return { kind: "servfail" };
}

/** Host sockets on Node. Every socket it opens is closed by the stack's close(). */
export class NodeHostNet implements HostNet {
  resolve(name: string, type: HostDnsType, done: (answer: HostDnsAnswer) => void): void {
    if (type === "PTR") {
      // getnameinfo: /etc/hosts first, as for the host's programs; a numeric answer means no name.
      lookupService(name, 0, (e, host) => {
        if (e) done(e.code === "ENOTFOUND" ? { kind: "nxdomain" } : lookupFailure(e));
        else done(host === name || host === "" ? { kind: "nxdomain" } : { kind: "ok", values: [host] });
      });
      return;
    }
    // Both families at once, so a name with only the other kind of address is "no data", not "no such name".
    lookup(name, { family: 0, all: true }, (e, addrs) => {
      if (e) return done(lookupFailure(e));
      const want = type === "A" ? 4 : 6;
      const values = [...new Set(addrs.filter((a) => a.family === want).map((a) => a.address))];
      done(values.length > 0 ? { kind: "ok", values } : { kind: "nodata" });
    });
  }

  connectTcp(addr: string, port: number, events: HostTcpEvents): HostTcpSocket {
    const s = connect({ host: addr, port, allowHalfOpen: true });
    return wrapTcp(s, { current: events });
  }

  listenTcp(addr: string, port: number, accept: (s: HostTcpSocket) => HostTcpEvents): Promise<HostListener> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => {
      const ev: { current: HostTcpEvents | undefined } = { current: undefined };
      ev.current = accept(wrapTcp(s, ev));
    });
    return new Promise((resolve, reject) => {
      server.once("error", (e: NodeJS.ErrnoException) => reject(listenError(e, "tcp", addr, port)));
      server.listen({ host: addr, port, exclusive: true }, () => {
        server.removeAllListeners("error");
        server.on("error", () => {});
        const a = server.address();
        resolve({
          port: typeof a === "object" && a !== null ? a.port : port,
          close: () => {
            server.close();
          },
        });
      });
    });
  }

  openUdp(addr: string, events: HostUdpEvents): HostUdpSocket {
    const sock = createSocket("udp4");
    sock.bind({ address: addr, port: 0 });
    return wrapUdp(sock, events);
  }

  listenUdp(
    addr: string,
    port: number,
    events: HostUdpEvents,
  ): Promise<HostUdpSocket & { readonly port: number }> {
    const sock = createSocket("udp4");
    return new Promise((resolve, reject) => {
      sock.once("error", (e: NodeJS.ErrnoException) => {
        sock.close();
        reject(listenError(e, "udp", addr, port));
      });
      sock.bind({ address: addr, port, exclusive: true }, () => {
        sock.removeAllListeners("error");
        const w = wrapUdp(sock, events);
        resolve({ ...w, port: sock.address().port });
      });
    });
  }
}

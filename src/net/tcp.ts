/**
 * One TCP endpoint of the user-mode network: the stack's end of a
 * connection with the guest (RFC 9293, formerly RFC 793). The guest's
 * connections to the gateway are terminated here and their bytes relayed
 * to host sockets (passive open); port forwarding opens connections toward
 * the guest (active open).
 *
 * What is implemented: the full state machine with half-close, MSS and
 * window scaling (RFC 7323 2), sequence and acknowledgement checks with
 * RFC 5961 challenge ACKs, retransmission with an RTO from RFC 6298 (Karn's
 * rule, exponential backoff, give-up), go-back-N after a timeout, fast
 * retransmit after three duplicate ACKs, a Reno-style congestion window,
 * zero-window probes, a receive window that shrinks as the host socket
 * backs up (never moving its right edge left, RFC 9293 3.8.6), and ACKs
 * coalesced until the end of a batch of guest frames (flush()).
 *
 * What is not: out-of-order reassembly (segments past rcvNxt are dropped
 * and re-ACKed: the virtual link does not reorder), SACK, timestamps and
 * urgent data (the URG flag is ignored, its bytes delivered in line).
 */
import { ByteQueue } from "./byte-queue.ts";
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type TcpHeader, type TcpSegment } from "./frames.ts";
import type { NetTimers } from "./host.ts";
import { seqAdd, seqDiff, seqLe, seqLt } from "./wire.ts";

export type TcpState =
  | "listen"
  | "syn-sent"
  | "syn-received"
  | "established"
  | "fin-wait-1"
  | "fin-wait-2"
  | "closing"
  | "time-wait"
  | "close-wait"
  | "last-ack"
  | "closed";

/** Why a connection ended. */
export type TcpCloseReason = "closed" | "reset" | "refused" | "timeout" | "aborted";

/** Tuning; the defaults suit a guest on the same host. */
export interface TcpConfig {
  /** MSS we announce and send at most (MTU 1500 - 40). */
  mss: number;
  /** Our receive buffer: the window we advertise when the host socket has nothing queued. */
  rcvBuf: number;
  /** Window-scale shift we offer (RFC 7323); rcvBuf must fit in 65535 << shift. */
  rcvShift: number;
  /** Host bytes queued toward the guest above which the host socket is paused. */
  sndBuf: number;
  initialRto: number;
  minRto: number;
  maxRto: number;
  /**
   * Most bytes in flight toward the guest, whatever its window says: the
   * NIC holds a receive ring plus a bounded backlog (virtio-net: 256 + 1024
   * frames), and frames beyond that are dropped, costing a retransmission.
   */
  maxCwnd: number;
  /** Retransmissions of one segment before the connection is reset. */
  maxRetries: number;
  /** How long TIME-WAIT lasts (a virtual link has no old duplicates to wait out). */
  timeWait: number;
}

export const DEFAULT_TCP_CONFIG: TcpConfig = {
  mss: 1460,
  rcvBuf: 256 * 1024,
  rcvShift: 3,
  sndBuf: 256 * 1024,
  maxCwnd: 512 * 1024,
  initialRto: 1000,
  minRto: 200,
  maxRto: 60_000,
  maxRetries: 12,
  timeWait: 1000,
};

/** What the connection tells the application (the host-socket proxy). */
export interface TcpApp {
  /** The three-way handshake completed. */
  established(): void;
  /** In-order bytes from the guest (a view into a frame nobody reuses). */
  data(bytes: Uint8Array): void;
  /** The guest sent FIN: no more data from it. */
  end(): void;
  /** The connection is gone; nothing follows. */
  closed(reason: TcpCloseReason): void;
  /** Guest bytes the application still holds (the host socket's queue): the receive window shrinks by this. */
  buffered(): number;
  /** The send buffer toward the guest fell below half of sndBuf (resume the host socket). */
  writable(): void;
}

export interface TcpConnOptions {
  /** Our (gateway-side) port and the guest's port; addresses are the stack's business. */
  localPort: number;
  remotePort: number;
  iss: number;
  timers: NetTimers;
  config?: Partial<TcpConfig>;
  /** Emits a segment toward the guest; `fill` writes `dataLen` bytes of data at `at`. */
  output(h: TcpHeader, dataLen: number, fill?: (frame: Uint8Array, at: number) => void): void;
  /** Asks the stack to call flush() at the end of the current batch (a deferred ACK is pending). */
  wantFlush(conn: TcpConn): void;
  app: TcpApp;
}

/** The SYN a passive connection answers. */
export interface TcpSynInfo {
  seq: number;
  window: number;
  mss: number;
  wscale: number;
}

const SYNCHRONIZED = new Set<TcpState>([
  "established",
  "fin-wait-1",
  "fin-wait-2",
  "closing",
  "time-wait",
  "close-wait",
  "last-ack",
]);

export class TcpConn {
  readonly localPort: number;
  readonly remotePort: number;
  state: TcpState;
  readonly cfg: TcpConfig;
  app: TcpApp;
  private readonly timers: NetTimers;
  private readonly out: TcpConnOptions["output"];
  private readonly wantFlush: TcpConnOptions["wantFlush"];

  // Send sequence space (RFC 9293 3.3.1).
  readonly iss: number;
  sndUna: number;
  sndNxt: number;
  /** The highest sequence number sent (sndNxt moves back on a timeout; acks up to sndMax are valid). */
  sndMax: number;
  /** The guest's window in bytes (scaled). */
  sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  /** Shift applied to the guest's window fields (0 unless both sides sent the option). */
  sndShift = 0;
  /** Largest segment we send: the guest's MSS option capped by ours. */
  sndMss: number;
  /** Bytes from sndUna on: sent and unacknowledged, then not yet sent. */
  private readonly sendBuf = new ByteQueue();
  private synAcked = false;
  /** The application called end(): a FIN follows the buffered bytes. */
  private finQueued = false;
  private finAcked = false;
  cwnd: number;
  private ssthresh = 0x7fffffff;
  private dupAcks = 0;

  // Receive sequence space.
  irs = 0;
  rcvNxt = 0;
  /** Right edge of the window last advertised (rcvNxt + window). */
  private rcvAdv = 0;
  rcvShift = 0;
  /** An ACK is owed to the guest; sent at flush() unless a segment carries it first. */
  private ackPending = false;
  /** Data bytes received since the last ACK we sent. */
  private unacked = 0;
  private gotFin = false;

  // Retransmission (RFC 6298).
  rto: number;
  private srtt = -1;
  private rttvar = 0;
  /** Sequence number whose acknowledgement completes the RTT sample being timed, and when it was sent. */
  private rtSeq = 0;
  private rtStart = -1;
  retries = 0;
  /** When the retransmission / persist / TIME-WAIT timer is due (ms), or -1. */
  private deadline = -1;
  private timerAt = -1;
  private cancelTimer: (() => void) | undefined;
  private closeReason: TcpCloseReason = "closed";

  constructor(opts: TcpConnOptions) {
    this.localPort = opts.localPort;
    this.remotePort = opts.remotePort;
    this.cfg = { ...DEFAULT_TCP_CONFIG, ...opts.config };
    this.timers = opts.timers;
    this.out = opts.output;
    this.wantFlush = opts.wantFlush;
    this.app = opts.app;
    this.iss = opts.iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.sndMss = 536; // RFC 9293 3.7.1: the default when the peer sends no MSS option
    this.cwnd = 10 * this.cfg.mss;
    this.rto = this.cfg.initialRto;
    this.state = "listen";
  }

  /** Bytes queued toward the guest and not yet acknowledged by it. */
  get sendBuffered(): number {
    return this.sendBuf.length;
  }

  // ------------------------------------------------------------ opening

  /** Active open (port forwarding): sends SYN. */
  connect(): void {
    this.state = "syn-sent";
    this.sendSyn();
  }

  /** Passive open, once the host side is ready: answers the guest's SYN with SYN-ACK. */
  accept(syn: TcpSynInfo): void {
    this.irs = syn.seq;
    this.rcvNxt = seqAdd(syn.seq, 1);
    this.takeSynOptions(syn.mss, syn.wscale);
    this.sndWnd = syn.window; // never scaled in a SYN (RFC 7323 2.2)
    this.sndWl1 = syn.seq;
    this.state = "syn-received";
    this.sendSyn();
  }

  /** Passive open refused (the host port is closed): RST to the guest's SYN. */
  static refuse(syn: TcpSynInfo): TcpHeader {
    return { srcPort: 0, dstPort: 0, seq: 0, ack: seqAdd(syn.seq, 1), flags: TCP_RST | TCP_ACK, window: 0 };
  }

  private takeSynOptions(mss: number, wscale: number): void {
    this.sndMss = Math.max(64, Math.min(this.cfg.mss, mss > 0 ? mss : 536));
    if (wscale >= 0) {
      this.sndShift = wscale;
      this.rcvShift = this.cfg.rcvShift;
    } else {
      this.sndShift = 0;
      this.rcvShift = 0;
    }
  }

  private sendSyn(): void {
    const passive = this.state === "syn-received";
    this.out(
      {
        srcPort: this.localPort,
        dstPort: this.remotePort,
        seq: this.iss,
        ack: passive ? this.rcvNxt : 0,
        flags: passive ? TCP_SYN | TCP_ACK : TCP_SYN,
        window: Math.min(this.cfg.rcvBuf, 0xffff),
        mss: this.cfg.mss,
        // Passive: offer scaling only if the guest did (RFC 7323 2.2); active: always offer.
        wscale: passive
          ? this.rcvShift > 0 || this.sndShift > 0
            ? this.cfg.rcvShift
            : -1
          : this.cfg.rcvShift,
      },
      0,
    );
    this.rcvAdv = seqAdd(this.rcvNxt, Math.min(this.cfg.rcvBuf, 0xffff));
    this.sndNxt = seqAdd(this.iss, 1);
    if (seqLt(this.sndMax, this.sndNxt)) this.sndMax = this.sndNxt;
    if (this.rtStart < 0 && this.retries === 0) this.startRtt(this.sndNxt);
    this.armRtx();
  }

  // ------------------------------------------------------------ application calls

  /** Queues bytes for the guest. Returns false when the buffer is over sndBuf (pause the source). */
  send(bytes: Uint8Array): boolean {
    if (this.finQueued || this.state === "closed") return false;
    this.sendBuf.push(bytes);
    this.pump();
    return this.sendBuf.length < this.cfg.sndBuf;
  }

  /** No more bytes for the guest: FIN after what is queued (half-close). */
  end(): void {
    if (this.finQueued) return;
    this.finQueued = true;
    if (this.state === "established") this.state = "fin-wait-1";
    else if (this.state === "close-wait") this.state = "last-ack";
    // syn-received: becomes fin-wait-1 when the handshake completes, and the FIN goes out then.
    else if (this.state === "listen" || this.state === "syn-sent") {
      this.destroy("closed");
      return;
    }
    this.pump();
  }

  /** Abortive close: RST to the guest, then closed("aborted"). */
  abort(): void {
    this.fail("aborted");
  }

  private fail(reason: TcpCloseReason): void {
    if (this.state === "closed") return;
    if (this.state !== "listen") this.emit(TCP_RST, this.sndNxt, 0);
    this.destroy(reason);
  }

  /** The application's buffered() went down: advertise the larger window if it matters. */
  windowUpdate(): void {
    if (!SYNCHRONIZED.has(this.state) || this.gotFin) return;
    const before = seqDiff(this.rcvAdv, this.rcvNxt);
    const now = this.rcvWindow();
    // Receiver-side silly-window avoidance (RFC 9293 3.8.6.2.2): only a real improvement is news.
    if (
      now - before >= Math.min(this.cfg.rcvBuf / 2, 2 * this.cfg.mss) ||
      (before < this.cfg.mss && now >= this.cfg.mss)
    )
      this.sendAck();
  }

  /** Sends the ACK deferred during a batch of guest frames. */
  flush(): void {
    if (this.ackPending && this.state !== "closed") this.sendAck();
  }

  // ------------------------------------------------------------ segment arrival (RFC 9293 3.10.7)

  /** A segment from the guest for this connection; `frame` holds its data at seg.data. */
  input(seg: TcpSegment, frame: Uint8Array): void {
    switch (this.state) {
      case "closed":
      case "listen":
        return;
      case "syn-sent":
        this.inputSynSent(seg);
        return;
    }
    const f = seg.flags;
    const segLen = seg.dataLen + (f & TCP_SYN ? 1 : 0) + (f & TCP_FIN ? 1 : 0);

    // A retransmitted SYN while our SYN-ACK is unacknowledged: answer it again.
    if (this.state === "syn-received" && f & TCP_SYN && !(f & TCP_ACK) && seg.seq === this.irs) {
      this.sendSyn();
      return;
    }

    // 1. Sequence number acceptability.
    const wnd = Math.max(seqDiff(this.rcvAdv, this.rcvNxt), 0);
    const off = seqDiff(seg.seq, this.rcvNxt);
    let ok: boolean;
    if (segLen === 0) ok = wnd === 0 ? off === 0 : off >= 0 && off < wnd;
    else ok = wnd > 0 && ((off >= 0 && off < wnd) || (off < 0 && off + segLen > 0));
    // A zero-length probe or pure ACK just below the window still carries a valid ACK (RFC 9293 3.10.7.4).
    if (!ok && !(f & TCP_RST) && segLen === 0 && off === -1) ok = true;
    if (!ok) {
      if (!(f & TCP_RST)) this.sendAck();
      return;
    }

    // 2. RST (RFC 5961 3.2: only an exact match resets; in-window gets a challenge ACK).
    if (f & TCP_RST) {
      if (off === 0) this.destroy(this.state === "syn-received" ? "refused" : "reset");
      else this.sendAck();
      return;
    }

    // 4. SYN in a synchronized state (RFC 5961 4.2): challenge ACK.
    if (f & TCP_SYN) {
      this.sendAck();
      return;
    }

    // 5. ACK.
    if (!(f & TCP_ACK)) return;
    if (this.state === "syn-received") {
      if (!(seqLt(this.sndUna, seg.ack) && seqLe(seg.ack, this.sndMax))) {
        this.emit(TCP_RST, seg.ack, 0);
        return;
      }
      this.state = this.finQueued ? "fin-wait-1" : "established";
      this.sndWnd = seg.window << this.sndShift;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      this.takeAck(seg.ack);
      this.app.established();
      if (this.isClosed()) return;
    } else if (seqLt(this.sndMax, seg.ack)) {
      this.sendAck(); // acknowledges something never sent
      return;
    } else {
      const wnd = seg.window << this.sndShift;
      const inflight = seqDiff(this.sndNxt, this.sndUna);
      if (seqLt(this.sndUna, seg.ack)) {
        this.takeAck(seg.ack);
        this.dupAcks = 0;
      } else if (seg.ack === this.sndUna && segLen === 0 && wnd === this.sndWnd && inflight > 0) {
        if (++this.dupAcks === 3) this.fastRetransmit();
      }
      // The guest answers our zero-window probes: it is alive, so probing goes on (RFC 9293 3.8.6.1).
      if (this.sndWnd === 0) this.retries = 0;
      // Window update (RFC 9293 3.10.7.4, SND.WL1/WL2 rule).
      if (seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, seg.ack))) {
        this.sndWnd = wnd;
        this.sndWl1 = seg.seq;
        this.sndWl2 = seg.ack;
      }
    }
    if (this.finAcked) {
      if (this.state === "fin-wait-1") this.state = "fin-wait-2";
      else if (this.state === "closing") this.enterTimeWait();
      else if (this.state === "last-ack") {
        this.destroy("closed");
        return;
      }
    }

    // 7. Data, in order only.
    let fin = (f & TCP_FIN) !== 0;
    if (
      seg.dataLen > 0 &&
      (this.state === "established" || this.state === "fin-wait-1" || this.state === "fin-wait-2")
    ) {
      const skip = off < 0 ? -off : 0;
      if (off > 0) {
        // A hole before this segment: drop it and repeat our ACK (the guest retransmits).
        this.sendAck();
        return;
      }
      let n = seg.dataLen - skip;
      const room = this.rcvWindowEdge();
      if (n > room) {
        n = Math.max(0, room);
        fin = false; // the FIN lies beyond what we took
      }
      if (n > 0) {
        this.rcvNxt = seqAdd(this.rcvNxt, n);
        this.unacked += n;
        this.app.data(frame.subarray(seg.data + skip, seg.data + skip + n));
        if (this.isClosed()) return;
      }
      if (skip + n < seg.dataLen) fin = false;
      this.deferAck();
      if (this.unacked >= 2 * this.sndMss && !fin) this.sendAck();
    } else if (seg.dataLen > 0) {
      fin = false; // data after the guest's FIN: ignore
    }

    // 8. FIN, once every byte before it has been taken.
    if (fin && seqAdd(seg.seq, seg.dataLen) === this.rcvNxt) {
      if (!this.gotFin) {
        this.gotFin = true;
        this.rcvNxt = seqAdd(this.rcvNxt, 1);
      }
      this.sendAck();
      switch (this.state) {
        case "established":
          this.state = "close-wait";
          this.app.end();
          break;
        case "fin-wait-1":
          if (this.finAcked) this.enterTimeWait();
          else this.state = "closing";
          this.app.end();
          break;
        case "fin-wait-2":
          this.enterTimeWait();
          this.app.end();
          break;
        case "time-wait":
          this.enterTimeWait();
          break;
      }
    } else if (fin) {
      this.sendAck();
    }
    if (!this.isClosed()) this.pump();
  }

  /** A check the compiler cannot narrow away: application callbacks may close the connection. */
  private isClosed(): boolean {
    return this.state === "closed";
  }

  private inputSynSent(seg: TcpSegment): void {
    const f = seg.flags;
    const ackOk = (f & TCP_ACK) !== 0 && seg.ack === seqAdd(this.iss, 1);
    if (f & TCP_ACK && !ackOk) {
      if (!(f & TCP_RST)) this.emit(TCP_RST, seg.ack, 0);
      return;
    }
    if (f & TCP_RST) {
      if (ackOk) this.destroy("refused");
      return;
    }
    if (!(f & TCP_SYN) || !ackOk) return; // simultaneous open is not supported: the guest never opens to us first
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    if (seg.wscale < 0) {
      this.sndShift = 0;
      this.rcvShift = 0;
    } else {
      this.sndShift = seg.wscale;
      this.rcvShift = this.cfg.rcvShift;
    }
    this.sndMss = Math.max(64, Math.min(this.cfg.mss, seg.mss > 0 ? seg.mss : 536));
    this.sndWnd = seg.window; // unscaled in a SYN
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    this.state = "established";
    this.takeAck(seg.ack);
    this.sendAck();
    this.app.established();
    if (!this.isClosed()) this.pump();
  }

  /** A new cumulative ACK: sndUna < ack <= sndMax. */
  private takeAck(ack: number): void {
    let n = seqDiff(ack, this.sndUna);
    if (!this.synAcked) {
      this.synAcked = true;
      n--;
    }
    const data = Math.min(n, this.sendBuf.length);
    const before = this.sendBuf.length;
    this.sendBuf.drop(data);
    n -= data;
    if (n > 0 && this.finQueued) this.finAcked = true;
    this.sndUna = ack;
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
    // RTT sample (Karn: rtStart is cleared when a timed segment is retransmitted).
    if (this.rtStart >= 0 && seqLe(this.rtSeq, ack)) {
      this.rttSample(this.timers.now() - this.rtStart);
      this.rtStart = -1;
    }
    this.retries = 0;
    // Congestion window: slow start below ssthresh (byte counting with L = 2, RFC 3465 2.2), then about one MSS per RTT.
    if (this.cwnd < this.ssthresh) this.cwnd += Math.min(data, 2 * this.sndMss);
    else this.cwnd += Math.max(1, Math.floor((this.sndMss * this.sndMss) / this.cwnd));
    this.cwnd = Math.min(this.cwnd, this.cfg.maxCwnd);
    if (this.sndUna === this.sndMax) this.deadline = -1;
    else this.armRtx(true);
    if (before >= this.cfg.sndBuf / 2 && this.sendBuf.length < this.cfg.sndBuf / 2) this.app.writable();
  }

  private rttSample(r: number): void {
    if (this.srtt < 0) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = Math.min(this.cfg.maxRto, Math.max(this.cfg.minRto, this.srtt + Math.max(1, 4 * this.rttvar)));
  }

  private startRtt(seqEnd: number): void {
    this.rtSeq = seqEnd;
    this.rtStart = this.timers.now();
  }

  // ------------------------------------------------------------ sending

  /** Sends what the windows allow: new data, then the FIN once all data is out. */
  private pump(): void {
    if (!SYNCHRONIZED.has(this.state) || !this.synAcked) return;
    for (;;) {
      const offset = seqDiff(this.sndNxt, this.sndUna);
      const unsent = this.sendBuf.length - offset;
      if (unsent > 0) {
        const room = Math.min(this.sndWnd, this.cwnd) - offset;
        if (room <= 0) {
          // Zero window with nothing in flight: probe when the timer fires.
          if (this.sndWnd === 0 && offset === 0 && this.deadline < 0) this.setDeadline(this.rto);
          return;
        }
        const n = Math.min(unsent, room, this.sndMss);
        this.sendData(this.sndNxt, offset, n, n === unsent);
        continue;
      }
      if (this.finQueued && !this.finAcked && offset === this.sendBuf.length) {
        // The FIN: sequence number sndUna + buffered bytes.
        this.emit(TCP_FIN | TCP_ACK, this.sndNxt, 0);
        this.sndNxt = seqAdd(this.sndNxt, 1);
        if (seqLt(this.sndMax, this.sndNxt)) this.sndMax = this.sndNxt;
        this.armRtx();
      }
      return;
    }
  }

  private sendData(seq: number, offset: number, n: number, push: boolean): void {
    const buf = this.sendBuf;
    this.emit(TCP_ACK | (push ? TCP_PSH : 0), seq, n, (f, at) => buf.copyOut(offset, n, f, at));
    const end = seqAdd(seq, n);
    if (seqLt(this.sndNxt, end)) this.sndNxt = end;
    if (seqLt(this.sndMax, end)) {
      this.sndMax = end;
      if (this.rtStart < 0) this.startRtt(end);
    }
    this.armRtx();
  }

  private fastRetransmit(): void {
    const inflight = seqDiff(this.sndNxt, this.sndUna);
    this.ssthresh = Math.max(Math.floor(inflight / 2), 2 * this.sndMss);
    this.cwnd = this.ssthresh;
    this.rtStart = -1;
    const n = Math.min(this.sndMss, this.sendBuf.length);
    if (n > 0) this.sendData(this.sndUna, 0, n, n === this.sendBuf.length);
    else if (this.finQueued && !this.finAcked) this.emit(TCP_FIN | TCP_ACK, this.sndUna, 0);
  }

  /** Retransmission timeout, zero-window probe, or the end of TIME-WAIT. */
  private timeout(): void {
    if (this.state === "time-wait") {
      this.destroy("closed");
      return;
    }
    if (this.state === "closed" || this.state === "listen") return;
    if (++this.retries > this.cfg.maxRetries) {
      this.fail("timeout");
      return;
    }
    this.rto = Math.min(this.cfg.maxRto, this.rto * 2);
    this.rtStart = -1;
    const inflight = seqDiff(this.sndNxt, this.sndUna);
    if (!this.synAcked) {
      this.sendSyn();
      return;
    }
    if (this.sndWnd === 0 && this.sendBuf.length > 0) {
      // Zero-window probe (RFC 9293 3.8.6.1): one byte past the window. A probe the
      // guest does not take is no sign of congestion, so the congestion window stays.
      this.sendData(inflight === 0 ? this.sndNxt : this.sndUna, 0, 1, false);
      this.setDeadline(this.rto);
      return;
    }
    this.ssthresh = Math.max(Math.floor(inflight / 2), 2 * this.sndMss);
    this.cwnd = this.sndMss;
    this.sndNxt = this.sndUna; // go back N
    if (this.sendBuf.length === 0 && !this.finQueued) return;
    this.pump();
    this.armRtx();
  }

  /** Emits a segment with the current ACK and window. */
  private emit(
    flags: number,
    seq: number,
    dataLen: number,
    fill?: (f: Uint8Array, at: number) => void,
  ): void {
    const synced = this.state !== "syn-sent" && this.state !== "listen";
    let window = 0;
    if (synced) {
      const w = this.advertise();
      window = Math.min(0xffff, w >>> this.rcvShift);
      flags |= TCP_ACK;
    }
    if (flags & TCP_RST && !(flags & TCP_ACK)) window = 0;
    this.out(
      {
        srcPort: this.localPort,
        dstPort: this.remotePort,
        seq,
        ack: flags & TCP_ACK ? this.rcvNxt : 0,
        flags,
        window,
      },
      dataLen,
      fill,
    );
    if (flags & TCP_ACK) {
      this.ackPending = false;
      this.unacked = 0;
    }
  }

  private sendAck(): void {
    this.emit(TCP_ACK, this.sndNxt, 0);
  }

  private deferAck(): void {
    if (!this.ackPending) {
      this.ackPending = true;
      this.wantFlush(this);
    }
  }

  /** The receive window we could offer now (bytes). */
  private rcvWindow(): number {
    const max = Math.min(this.cfg.rcvBuf, 0xffff << this.rcvShift);
    return Math.max(0, max - this.app.buffered());
  }

  /** Bytes we accept past rcvNxt: the larger of the advertised edge and the current window. */
  private rcvWindowEdge(): number {
    return Math.max(seqDiff(this.rcvAdv, this.rcvNxt), this.rcvWindow());
  }

  /** Computes the window to put in a segment and records its right edge (never moved left). */
  private advertise(): number {
    let w = this.rcvWindow();
    // Round down to the scale unit so the advertised edge is exactly what the guest sees.
    w -= w & ((1 << this.rcvShift) - 1);
    const old = seqDiff(this.rcvAdv, this.rcvNxt);
    if (w < old) w = old; // RFC 9293 3.8.6: do not shrink the window
    w = Math.min(w, 0xffff << this.rcvShift);
    this.rcvAdv = seqAdd(this.rcvNxt, w);
    return w;
  }

  // ------------------------------------------------------------ timers and teardown

  private enterTimeWait(): void {
    this.state = "time-wait";
    this.setDeadline(this.cfg.timeWait);
  }

  /** (Re)starts the retransmission timer: `restart` after new data was acknowledged (RFC 6298 5.3). */
  private armRtx(restart = false): void {
    if (restart || this.deadline < 0) this.setDeadline(this.rto);
  }

  private setDeadline(ms: number): void {
    const at = this.timers.now() + ms;
    this.deadline = at;
    // One host timer at a time: an earlier one re-arms itself for the deadline when it fires.
    if (this.cancelTimer === undefined || this.timerAt > at) {
      this.cancelTimer?.();
      this.timerAt = at;
      this.cancelTimer = this.timers.after(ms, () => this.onTimer());
    }
  }

  private onTimer(): void {
    this.cancelTimer = undefined;
    if (this.deadline < 0 || this.state === "closed") return;
    const now = this.timers.now();
    if (now < this.deadline) {
      this.timerAt = this.deadline;
      this.cancelTimer = this.timers.after(this.deadline - now, () => this.onTimer());
      return;
    }
    this.deadline = -1;
    this.timeout();
  }

  /** Ends the connection without sending anything and tells the application once. */
  destroy(reason: TcpCloseReason): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.closeReason = reason;
    this.deadline = -1;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.sendBuf.clear();
    this.ackPending = false;
    this.app.closed(reason);
  }

  /** Why the connection closed (valid once state is "closed"). */
  get reason(): TcpCloseReason {
    return this.closeReason;
  }
}

import assert from "node:assert/strict";
import { test } from "node:test";
import { UART_HOST_QUEUE, Uart16550, type UartState } from "../../../src/machine/devices/uart16550.ts";
import { StateError } from "../../../src/machine/snapshot/state.ts";
import { assertRoundTrip } from "../../support/roundtrip.ts";

const RBR = 0;
const THR = 0;
const DLL = 0;
const IER = 1;
const DLM = 1;
const IIR = 2;
const FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

class Line {
  level = false;
  changes = 0;
  set(l: boolean) {
    this.level = l;
    this.changes++;
  }
}

class Sink {
  bytes: number[] = [];
  write(d: Uint8Array) {
    this.bytes.push(...d);
  }
  get text() {
    return String.fromCharCode(...this.bytes);
  }
}

function setup() {
  const irq = new Line();
  const out = new Sink();
  const u = new Uart16550({ irq, backend: out, base: 0x1000_0000, irqNumber: 10 });
  const res = { hi: 0 };
  const rd = (off: number) => u.read(off, 1, res);
  const wr = (off: number, v: number) => u.write(off, 1, v, 0);
  const input = (s: string) => u.receive(new TextEncoder().encode(s));
  return { u, irq, out, rd, wr, input };
}

test("reset state: THR empty (LSR 0x60), no interrupt (IIR 0x01), an idle connected modem", () => {
  const { rd } = setup();
  assert.equal(rd(LSR), 0x60);
  assert.equal(rd(IIR), 0x01);
  assert.equal(rd(MSR), 0xb0);
  assert.equal(rd(IER), 0);
  assert.equal(rd(RBR), 0, "an empty receiver reads 0");
});

test("Linux 8250 autoconfig: IER read-back, scratch, loopback probe, FIFO detection", () => {
  const { rd, wr, out } = setup();
  // serial8250 autoconfig: IER holds only its 4 bits.
  wr(IER, 0xff);
  assert.equal(rd(IER), 0x0f);
  wr(IER, 0);
  wr(SCR, 0xa5);
  assert.equal(rd(SCR), 0xa5);
  // Loopback test: MCR = LOOP | OUT2 | RTS → MSR & 0xf0 == 0x90 (DCD | CTS).
  wr(MCR, 0x10 | 0x0a);
  assert.equal(rd(MSR) & 0xf0, 0x90);
  wr(MCR, 0x10 | 0x05); // DTR, OUT1 → DSR, RI
  assert.equal(rd(MSR) & 0xf0, 0x60);
  // In loopback the transmitter feeds the receiver, not the line.
  wr(THR, 0x55);
  assert.equal(rd(LSR) & 0x01, 1);
  assert.equal(rd(RBR), 0x55);
  assert.deepEqual(out.bytes, []);
  wr(MCR, 0);
  assert.equal(rd(MSR), 0xb0);
  // FIFO detection: FCR enable → IIR bits 7:6 = 11; disable → 00.
  wr(FCR, 0xc7);
  assert.equal(rd(IIR) & 0xc0, 0xc0);
  wr(FCR, 0x07);
  assert.equal(rd(IIR) & 0xc0, 0xc0);
  wr(FCR, 0);
  assert.equal(rd(IIR) & 0xc0, 0);
});

test("divisor latch: DLAB switches offsets 0 and 1 to DLL/DLM", () => {
  const { rd, wr, out } = setup();
  wr(LCR, 0x83);
  wr(DLL, 0x01);
  wr(DLM, 0x02);
  assert.equal(rd(DLL), 0x01);
  assert.equal(rd(DLM), 0x02);
  assert.deepEqual(out.bytes, [], "a DLL write is not a transmission");
  wr(LCR, 0x03);
  assert.equal(rd(LCR), 0x03);
  assert.equal(rd(IER), 0);
  wr(LCR, 0x80);
  assert.equal(rd(DLL), 0x01, "the divisor survives");
});

test("THR writes go straight to the backend; THR stays empty; the window mirrors every 8 bytes", () => {
  const { u, rd, wr, out } = setup();
  for (const c of "hi!") wr(THR, c.charCodeAt(0));
  u.write(0x08, 4, 0x1234_5678 | 0, 0); // a 4-byte write at the mirror of THR sends the low byte
  assert.equal(out.text, "hi!x");
  assert.equal(rd(LSR) & 0x60, 0x60);
  assert.equal(rd(0x0d), 0x60, "LSR mirrored at 8 + 5");
});

test("FIFO mode: input beyond 16 bytes waits in the host queue and refills the FIFO as the guest reads", () => {
  const { rd, wr, input } = setup();
  wr(FCR, 0x07);
  const text = "The quick brown fox jumps over the lazy dog";
  assert.equal(input(text), text.length);
  let got = "";
  while (rd(LSR) & 0x01) got += String.fromCharCode(rd(RBR));
  assert.equal(got, text);
  assert.equal(rd(LSR) & 0x02, 0, "no overrun");
});

test("16450 mode (FIFO off): one holding byte, still no bytes lost", () => {
  const { u, rd, input } = setup();
  input("abc");
  assert.equal(u.pendingInput, 3);
  let got = "";
  while (rd(LSR) & 0x01) got += String.fromCharCode(rd(RBR));
  assert.equal(got, "abc");
  assert.equal(u.pendingInput, 0);
});

test("the host queue is bounded: receive() takes what fits and reports it", () => {
  const { u, rd, wr } = setup();
  wr(FCR, 0x01);
  const big = new Uint8Array(UART_HOST_QUEUE + 100).map((_, i) => i & 0xff);
  assert.equal(u.receive(big), UART_HOST_QUEUE);
  assert.equal(u.pendingInput, UART_HOST_QUEUE);
  assert.equal(u.receive(big.subarray(UART_HOST_QUEUE)), 16, "the FIFO took 16, so 16 more fit");
  for (let i = 0; i < 10; i++) assert.equal(rd(RBR), i);
});

test("resetting the receive FIFO drops its bytes; the host queue refills it", () => {
  const { rd, wr, input } = setup();
  wr(FCR, 0x01);
  input("0123456789abcdefXYZ");
  wr(FCR, 0x03);
  assert.equal(String.fromCharCode(rd(RBR)), "X");
});

test("received-data interrupt: RDI at the trigger level, character timeout below it", () => {
  const { irq, rd, wr, input } = setup();
  wr(FCR, 0x81); // FIFO on, trigger level 8
  wr(IER, 0x01);
  assert.equal(irq.level, false);
  input("a");
  assert.equal(irq.level, true);
  assert.equal(rd(IIR), 0xcc, "timeout (CTI) below the trigger level");
  input("bcdefgh");
  assert.equal(rd(IIR), 0xc4, "RDI at 8 bytes");
  for (let i = 0; i < 8; i++) rd(RBR);
  assert.equal(irq.level, false);
  assert.equal(rd(IIR), 0xc1);
  // Disabled interrupts keep the line low even with data.
  wr(IER, 0);
  input("z");
  assert.equal(irq.level, false);
  assert.equal(rd(LSR) & 1, 1);
});

test("THR-empty interrupt: raised by IER.ETBEI, cleared by reading IIR, re-armed by a THR write", () => {
  const { irq, rd, wr } = setup();
  wr(IER, 0x02);
  assert.equal(irq.level, true);
  assert.equal(rd(IIR), 0x02);
  assert.equal(irq.level, false, "reading IIR with THRI as the id clears it");
  assert.equal(rd(IIR), 0x01);
  wr(THR, 0x41);
  assert.equal(irq.level, true, "the byte left at once: THR empty again");
  // Linux's THRE test: IER off and on again must re-assert THRI.
  wr(IER, 0);
  assert.equal(irq.level, false);
  wr(IER, 0x02);
  assert.equal(rd(IIR) & 0x0f, 0x02);
  wr(IER, 0);
  wr(IER, 0x02);
  assert.equal(rd(IIR) & 0x0f, 0x02);
});

test("interrupt priority: received data outranks THR empty", () => {
  const { rd, wr, input } = setup();
  wr(IER, 0x03);
  input("x");
  assert.equal(rd(IIR), 0x04);
  rd(RBR);
  assert.equal(rd(IIR), 0x02);
});

test("line status: a loopback overrun sets OE, raises RLSI, and reading LSR clears it", () => {
  const { irq, rd, wr } = setup();
  wr(MCR, 0x10);
  wr(IER, 0x04);
  wr(THR, 1);
  wr(THR, 2); // 16450 mode: the holding register overflows
  assert.equal(irq.level, true);
  assert.equal(rd(IIR), 0x06);
  assert.equal(rd(LSR) & 0x03, 0x03);
  assert.equal(rd(LSR) & 0x02, 0, "OE cleared by the read");
  assert.equal(irq.level, false);
  assert.equal(rd(RBR), 2, "the newest byte overwrote the holding register");
});

test("loopback disconnects host input until it ends", () => {
  const { rd, wr, input } = setup();
  wr(MCR, 0x10);
  input("q");
  assert.equal(rd(LSR) & 1, 0);
  wr(MCR, 0x03);
  assert.equal(rd(LSR) & 1, 1);
  assert.equal(rd(RBR), "q".charCodeAt(0));
});

test("defaults: the QEMU virt address, window size and IRQ", () => {
  const { u } = setup();
  assert.equal(u.base, 0x1000_0000);
  assert.equal(u.size, 0x100);
  assert.equal(u.irqNumber, 10);
});

test("UART state round-trips, with FIFO and host-queue contents, and rejects bad records", () => {
  const a = setup();
  a.wr(LCR, 0x80);
  a.wr(DLL, 3);
  a.wr(LCR, 0x03);
  a.wr(FCR, 0x41);
  a.wr(IER, 0x07);
  a.wr(SCR, 9);
  a.input("x".repeat(40));
  a.rd(RBR);
  const b = setup();
  const s = assertRoundTrip(
    a.u,
    b.u,
    (u) => u.saveState(),
    (u, st) => u.restoreState(st),
  );
  assert.equal(s.rx.length, 16);
  assert.equal(s.hostQueue.length, 23);
  assert.equal(b.irq.level, a.irq.level);
  assert.equal(b.rd(IIR), a.rd(IIR));
  let n = 0;
  while (b.rd(LSR) & 1) n += b.rd(RBR) === 0x78 ? 1 : 0;
  assert.equal(n, 39);

  const bad = (f: (st: UartState) => void) => {
    const st = structuredClone(s);
    f(st);
    assert.throws(() => setup().u.restoreState(st), StateError);
  };
  bad((st) => {
    st.ier = 0x10;
  });
  bad((st) => {
    st.fcr = 0x06;
  });
  bad((st) => {
    st.rx = new Uint8Array(17);
  });
  bad((st) => {
    st.hostQueue = new Uint8Array(UART_HOST_QUEUE + 1);
  });
  bad((st) => {
    st.lsrErrors = 0x20;
  });
  bad((st) => {
    (st as { thrIpending: unknown }).thrIpending = 1;
  });
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { Uart16550 } from "../../../src/machine/devices/uart16550.ts";

const THR = 0;
const IER = 1;
const FCR = 2;
const LSR = 5;

function setup() {
  const u = new Uart16550({ irq: { set() {} }, backend: { write() {} }, base: 0x1000_0000, irqNumber: 10 });
  const res = { hi: 0 };
  return {
    u,
    rd: (off: number) => u.read(off, 1, res),
    wr: (off: number, v: number) => u.write(off, 1, v, 0),
  };
}

test("the UART accepts host input once its driver enables the received-data interrupt", () => {
  const { u, wr } = setup();
  assert.equal(u.acceptsInput, false, "no driver yet: input waits on the host");
  wr(FCR, 0x07);
  assert.equal(u.acceptsInput, false);
  wr(IER, 0x05);
  assert.equal(u.acceptsInput, true);
  wr(IER, 0x00); // Linux's 8250 throttles by turning RX interrupts off
  assert.equal(u.acceptsInput, false);
});

test("a guest that polls LSR (U-Boot, OpenSBI getchar) accepts input; one that waits to transmit does not", () => {
  const { u, rd, wr } = setup();
  // A console write: one LSR read per byte sent, as many as you like.
  for (let i = 0; i < 500; i++) {
    rd(LSR);
    wr(THR, 0x41);
  }
  assert.equal(u.acceptsInput, false);
  for (let i = 0; i < 64; i++) rd(LSR);
  assert.equal(u.acceptsInput, true, "64 LSR reads in a row: polling for input");
  wr(THR, 0x41); // echoing a key keeps it polling
  assert.equal(u.acceptsInput, true);
  wr(FCR, 0x07); // a driver that resets the receive FIFO starts over
  assert.equal(u.acceptsInput, false);
});

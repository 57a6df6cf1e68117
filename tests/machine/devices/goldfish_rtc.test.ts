import assert from "node:assert/strict";
import { test } from "node:test";
import { GoldfishRtc, type RtcState } from "../../../src/machine/devices/goldfish_rtc.ts";
import { StateError } from "../../../src/machine/snapshot/state.ts";
import { assertRoundTrip } from "../../support/roundtrip.ts";

const TIME_LOW = 0x00;
const TIME_HIGH = 0x04;
const ALARM_LOW = 0x08;
const ALARM_HIGH = 0x0c;
const IRQ_ENABLED = 0x10;
const CLEAR_ALARM = 0x14;
const ALARM_STATUS = 0x18;
const CLEAR_INTERRUPT = 0x1c;

class Line {
  level = false;
  set(l: boolean) {
    this.level = l;
  }
}

function setup(ms: number) {
  const clock = { ms, nowMs: () => clock.ms };
  const irq = new Line();
  const rtc = new GoldfishRtc({ clock, irq, base: 0x10_1000, irqNumber: 11 });
  const res = { hi: 0 };
  const rd = (off: number) => rtc.read(off, 4, res) >>> 0;
  const wr = (off: number, v: number) => rtc.write(off, 4, Number(BigInt.asIntN(32, BigInt(v))), 0);
  /** Reads the time the way Linux does: TIME_LOW (latches), then TIME_HIGH. */
  const time = () => {
    const lo = rd(TIME_LOW);
    return (BigInt(rd(TIME_HIGH)) << 32n) | BigInt(lo);
  };
  const setAlarm = (ns: bigint) => {
    wr(ALARM_HIGH, Number(ns >> 32n));
    wr(ALARM_LOW, Number(ns & 0xffff_ffffn));
  };
  return { clock, irq, rtc, rd, wr, time, setAlarm };
}

test("time is host wall time in nanoseconds, exact to the nanosecond above 2^53", () => {
  const { time, clock } = setup(1_700_000_000_123.5);
  assert.equal(time(), 1_700_000_000_123_500_000n);
  clock.ms = 4_102_444_800_000; // 2100-01-01
  assert.equal(time(), 4_102_444_800_000_000_000n);
  clock.ms = 0.25;
  assert.equal(time(), 250_000n);
});

test("reading TIME_LOW latches TIME_HIGH; an 8-byte read returns the whole value", () => {
  const { rtc, rd, clock } = setup(4294.967295); // 4_294_967_295 ns = 2^32 - 1
  assert.equal(rd(TIME_LOW), 0xffff_ffff);
  clock.ms = 5000;
  assert.equal(rd(TIME_HIGH), 0, "still the high word of the earlier read");
  assert.equal(rd(TIME_LOW), 5_000_000_000 - 2 ** 32);
  assert.equal(rd(TIME_HIGH), 1);
  const r = { hi: 0 };
  const lo = rtc.read(TIME_LOW, 8, r) >>> 0;
  assert.equal(r.hi * 2 ** 32 + lo, 5_000_000_000);
});

test("the guest sets the time (high then low, as Linux does) and it runs on with the host clock", () => {
  const { wr, time, clock } = setup(1_700_000_000_000);
  const want = 946_684_800_000_000_000n; // 2000-01-01
  wr(TIME_HIGH, Number(want >> 32n));
  wr(TIME_LOW, Number(want & 0xffff_ffffn));
  assert.equal(time(), want);
  clock.ms += 1500;
  assert.equal(time(), want + 1_500_000_000n);
  // Setting a time in the future of the host works as well (the offset is signed).
  const later = 8_000_000_000_000_000_000n;
  wr(TIME_HIGH, Number(later >> 32n));
  wr(TIME_LOW, Number(later & 0xffff_ffffn));
  assert.equal(time(), later);
});

test("the alarm fires at its time, raises the IRQ when enabled, and CLEAR_INTERRUPT lowers it", () => {
  const { irq, rtc, rd, wr, setAlarm, clock } = setup(1_000_000);
  wr(IRQ_ENABLED, 1);
  setAlarm(1_001_000_000_000n); // 1 s ahead
  assert.equal(rd(ALARM_STATUS), 1);
  assert.equal(rd(ALARM_HIGH), Number(1_001_000_000_000n >> 32n));
  rtc.poll();
  assert.equal(irq.level, false);
  clock.ms += 999;
  rtc.poll();
  assert.equal(irq.level, false);
  clock.ms += 1;
  rtc.poll();
  assert.equal(irq.level, true);
  assert.equal(rd(ALARM_STATUS), 0);
  wr(CLEAR_INTERRUPT, 1);
  assert.equal(irq.level, false);
});

test("an alarm already due fires at once; CLEAR_ALARM disarms; IRQ_ENABLED masks the line", () => {
  const { irq, rtc, rd, wr, setAlarm, clock } = setup(1_000_000);
  setAlarm(5n);
  assert.equal(rd(ALARM_STATUS), 0);
  assert.equal(irq.level, false, "pending but not enabled");
  wr(IRQ_ENABLED, 1);
  assert.equal(rd(IRQ_ENABLED), 1);
  assert.equal(irq.level, true);
  wr(IRQ_ENABLED, 0);
  assert.equal(irq.level, false);
  wr(CLEAR_INTERRUPT, 1);
  wr(IRQ_ENABLED, 1);
  setAlarm(1_002_000_000_000n);
  wr(CLEAR_ALARM, 1);
  assert.equal(rd(ALARM_STATUS), 0);
  clock.ms += 10_000;
  rtc.poll();
  assert.equal(irq.level, false);
});

test("RTC state round-trips and rejects bad records", () => {
  const a = setup(1_700_000_000_000);
  a.wr(TIME_HIGH, 0x1234);
  a.wr(TIME_LOW, 0x5678);
  a.wr(IRQ_ENABLED, 1);
  a.setAlarm(2n ** 62n);
  a.rd(TIME_LOW);
  const b = setup(1_700_000_000_000);
  const s = assertRoundTrip(
    a.rtc,
    b.rtc,
    (r) => r.saveState(),
    (r, st) => r.restoreState(st),
  );
  assert.equal(b.time(), a.time());
  assert.equal(b.rd(ALARM_STATUS), 1);
  const bad = (f: (st: RtcState) => void) => {
    const st = structuredClone(s);
    f(st);
    assert.throws(() => setup(0).rtc.restoreState(st), StateError);
  };
  bad((st) => {
    st.offsetLo = -1;
  });
  bad((st) => {
    st.alarmHi = 2 ** 32;
  });
  bad((st) => {
    (st as { irqEnabled: unknown }).irqEnabled = "yes";
  });
  bad((st) => {
    st.version = 0 as 1;
  });
});

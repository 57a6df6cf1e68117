/**
 * The built-in SBI firmware (src/machine/firmware/sbi.ts): calls driven
 * straight through the hook with registers set by hand, and small S-mode
 * programs that make real ecalls on a running Machine (timer interrupts,
 * IPIs between harts, HSM start/stop/suspend, fault redirection).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseElf } from "../../../src/machine/board/elf.ts";
import { Machine } from "../../../src/machine/board/machine.ts";
import {
  ACCESS_FETCH,
  ACCESS_STORE,
  CAUSE_BREAKPOINT,
  CAUSE_FETCH_ACCESS,
  CAUSE_FETCH_PAGE_FAULT,
  CAUSE_ILLEGAL_INSTRUCTION,
  CAUSE_LOAD_ACCESS,
  CAUSE_LOAD_PAGE_FAULT,
  CAUSE_MACHINE_ECALL,
  CAUSE_MISALIGNED_FETCH,
  CAUSE_MISALIGNED_LOAD,
  CAUSE_MISALIGNED_STORE,
  CAUSE_STORE_ACCESS,
  CAUSE_STORE_PAGE_FAULT,
  CAUSE_SUPERVISOR_ECALL,
  CAUSE_USER_ECALL,
  MIP_MEIP,
  MIP_MSIP,
  MIP_MTIP,
  MIP_SEIP,
  MIP_SSIP,
  MIP_STIP,
  PRV_S,
} from "../../../src/machine/cpu/constants.ts";
import {
  S_MCOUNTEREN,
  S_MEDELEG,
  S_MENVCFG,
  S_MIDELEG,
  S_MIE,
  S_MIP,
  S_SCOUNTEREN,
  S_STIMECMP,
} from "../../../src/machine/cpu/csr-slots.ts";
import type { Hart } from "../../../src/machine/cpu/hart.ts";
import { BuiltinSbi, type SbiState, type SystemResetRequest } from "../../../src/machine/firmware/sbi.ts";
import {
  EXT_BASE,
  EXT_DBCN,
  EXT_HSM,
  EXT_IPI,
  EXT_PMU,
  EXT_RFENCE,
  EXT_SRST,
  EXT_SUSP,
  EXT_TIME,
  HSM_STARTED,
  HSM_STOPPED,
  HSM_SUSPENDED,
  SBI_ERR_ALREADY_AVAILABLE,
  SBI_ERR_FAILED,
  SBI_ERR_INVALID_ADDRESS,
  SBI_ERR_INVALID_PARAM,
  SBI_ERR_NOT_SUPPORTED,
  SBI_IMPL_ID,
  SBI_IMPL_VERSION,
} from "../../../src/machine/firmware/sbi-constants.ts";
import { TLB_LOAD, tlbIndex } from "../../../src/machine/mmu/tlb.ts";
import { buildElf, haveCrossGcc } from "../../support/cross.ts";
import { assertRoundTrip } from "../../support/roundtrip.ts";
import { TEST_JIT_HOT } from "../../support/test-jit.ts";

const RAM = 0x8000_0000;
const RAM_SIZE = 16 << 20;
const DTB = 0x8700_0000;
const KERNEL = 0x8020_0000;

// ------------------------------------------------------------- helpers

function setReg(h: Hart, r: number, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  h.x[2 * r] = Number(u & 0xffff_ffffn) | 0;
  h.x[2 * r + 1] = Number(u >> 32n) | 0;
}

function reg(h: Hart, r: number): bigint {
  return BigInt.asIntN(64, (BigInt(h.x[2 * r + 1]) << 32n) | BigInt(h.x[2 * r] >>> 0));
}

function slot(h: Hart, s: number): bigint {
  return BigInt.asUintN(64, (BigInt(h.c[2 * s + 1]) << 32n) | BigInt(h.c[2 * s] >>> 0));
}

interface Board {
  m: Machine;
  sbi: BuiltinSbi;
  out: number[];
  resets: SystemResetRequest[];
}

/** A machine with the firmware installed and hart 0 booted at KERNEL (others STOPPED). */
function board(harts = 2): Board {
  const m = new Machine({ ramSize: RAM_SIZE, harts, jitHot: TEST_JIT_HOT });
  const out: number[] = [];
  const resets: SystemResetRequest[] = [];
  const sbi = new BuiltinSbi(m, {
    console: { write: (d) => sink(out, d) },
    onReset: (r) => resets.push(r),
  });
  // The kernel image: "j ." over a page, so started harts spin wherever they start in it.
  m.mem.writePhys(KERNEL, new Uint8Array(new Int32Array(1024).fill(0x0000006f).buffer));
  sbi.boot(KERNEL, DTB);
  return { m, sbi, out, resets };
}

/** Calls the hook as hart `h` would with `ecall`: a7 = eid, a6 = fid, a0.. = args. */
function call(
  sbi: BuiltinSbi,
  h: Hart,
  eid: number | bigint,
  fid: number | bigint,
  ...args: (number | bigint)[]
) {
  setReg(h, 17, BigInt(eid));
  setReg(h, 16, BigInt(fid));
  for (const [i, v] of args.entries()) setReg(h, 10 + i, BigInt(v));
  const served = sbi.handle(h);
  return { served, error: Number(reg(h, 10)), value: reg(h, 11) };
}

const text = (bytes: number[]) => String.fromCharCode(...bytes);

/** A console backend that appends the bytes to `out`. */
function sink(out: number[], d: Uint8Array): void {
  for (const b of d) out.push(b);
}

// ------------------------------------------------------ programs in RAM

const cross = haveCrossGcc();
const skip = cross ? false : "riscv64-linux-gnu-gcc is not installed";

const PROLOGUE = `#include "test.h"
#define EID_TIME 0x54494D45
#define EID_IPI 0x735049
#define EID_HSM 0x48534D
#define SBI(eid, fid) li a7, eid; li a6, fid; ecall
.section .text.init
.globl _start
_start:
`;

/** Builds `body` (after PROLOGUE), boots it in S-mode under the firmware, runs until tohost is written. */
function runProgram(body: string, harts = 1, maxInsns = 5_000_000) {
  const elf = parseElf(buildElf(`${PROLOGUE}${body}\nTOHOST_SECTION\n`));
  const m = new Machine({ ramSize: RAM_SIZE, harts, jitHot: TEST_JIT_HOT });
  for (const s of elf.segments) m.mem.writePhys(s.paddr, s.data);
  const out: number[] = [];
  const sbi = new BuiltinSbi(m, { console: { write: (d) => sink(out, d) } });
  sbi.boot(elf.entry, DTB);
  const at = m.mem.ramOffset(elf.symbols.get("tohost")!, 8);
  let result = "budget";
  while (m.retired() < maxInsns) {
    const r = m.run(50_000);
    const v = m.mem.i32[at >>> 2];
    if (v !== 0) {
      result = v === 1 ? "pass" : `fail ${v >>> 1}`;
      break;
    }
    if (r !== "budget") {
      result = r;
      break;
    }
  }
  return { result, m, sbi, out };
}

// ----------------------------------------------------------------- tests

test("boot: the boot hart enters S-mode with OpenSBI's M-mode setup; the others are STOPPED", () => {
  const { m, sbi } = board(3);
  const h = m.harts[0];
  assert.equal(h.priv, PRV_S);
  assert.equal(h.pcLo, KERNEL | 0);
  assert.equal(h.pcHi, 0);
  assert.equal(reg(h, 10), 0n); // a0 = hartid
  assert.equal(reg(h, 11), BigInt(DTB)); // a1 = dtb
  assert.equal(h.waiting, false);
  const delegated = [
    CAUSE_MISALIGNED_FETCH,
    CAUSE_FETCH_ACCESS,
    CAUSE_ILLEGAL_INSTRUCTION,
    CAUSE_BREAKPOINT,
    CAUSE_MISALIGNED_LOAD,
    CAUSE_LOAD_ACCESS,
    CAUSE_MISALIGNED_STORE,
    CAUSE_STORE_ACCESS,
    CAUSE_USER_ECALL,
    CAUSE_FETCH_PAGE_FAULT,
    CAUSE_LOAD_PAGE_FAULT,
    CAUSE_STORE_PAGE_FAULT,
  ].reduce((a, c) => a | (1 << c), 0);
  assert.equal(slot(h, S_MEDELEG), BigInt(delegated));
  assert.equal(Number(slot(h, S_MEDELEG)) & (1 << CAUSE_SUPERVISOR_ECALL), 0);
  assert.equal(Number(slot(h, S_MEDELEG)) & (1 << CAUSE_MACHINE_ECALL), 0);
  assert.equal(slot(h, S_MIDELEG), BigInt(MIP_SSIP | MIP_STIP | MIP_SEIP));
  assert.equal(Number(slot(h, S_MIE)) & (MIP_MSIP | MIP_MTIP | MIP_MEIP), 0, "no M-level interrupt enabled");
  assert.equal(slot(h, S_MCOUNTEREN), 7n);
  assert.equal(slot(h, S_SCOUNTEREN), 7n, "U-mode rdtime works before Linux touches scounteren");
  assert.equal(slot(h, S_MENVCFG) >> 63n, 1n, "menvcfg.STCE");
  assert.equal(slot(h, S_STIMECMP), 2n ** 64n - 1n);
  // PMP lets S-mode reach all of memory, and MMIO.
  assert.ok(h.pmp.check(RAM + RAM_SIZE - 8, 8, ACCESS_STORE, PRV_S));
  assert.ok(h.pmp.check(0x1000_0000, 4, ACCESS_FETCH, PRV_S));
  assert.equal(sbi.hartState(0), HSM_STARTED);
  for (const i of [1, 2]) {
    assert.equal(sbi.hartState(i), HSM_STOPPED);
    assert.equal(m.harts[i].waiting, true);
    assert.equal(slot(m.harts[i], S_MIE), 0n, "a stopped hart can never be woken by an interrupt");
    assert.equal(m.harts[i].sbiHook, sbi.handle);
  }
  // A stopped hart does not run, even when the machine runs for a while.
  m.run(20_000);
  assert.equal(m.harts[1].icount, 0);
  assert.ok(m.harts[0].icount >= 20_000);
});

test("BASE: spec version 2.0, implementation id, probe_extension, machine ids", () => {
  const { m, sbi } = board();
  const h = m.harts[0];
  // a2..a5 must survive a call: fill them with markers.
  const keep = () => {
    for (const r of [12, 13, 14, 15]) setReg(h, r, 0x1111n * BigInt(r));
  };
  keep();
  let r = call(sbi, h, EXT_BASE, 0);
  assert.deepEqual(r, { served: true, error: 0, value: 0x0200_0000n });
  for (const rr of [12, 13, 14, 15]) assert.equal(reg(h, rr), 0x1111n * BigInt(rr));
  assert.equal(reg(h, 17), BigInt(EXT_BASE)); // a7, a6 preserved too
  assert.equal(call(sbi, h, EXT_BASE, 1).value, BigInt(SBI_IMPL_ID));
  assert.equal(call(sbi, h, EXT_BASE, 2).value, BigInt(SBI_IMPL_VERSION));
  for (const eid of [
    EXT_BASE,
    EXT_TIME,
    EXT_IPI,
    EXT_RFENCE,
    EXT_HSM,
    EXT_SRST,
    EXT_DBCN,
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
  ]) {
    r = call(sbi, h, EXT_BASE, 3, eid);
    assert.deepEqual([r.error, r.value], [0, 1n], `probe 0x${eid.toString(16)}`);
  }
  for (const eid of [EXT_PMU, EXT_SUSP, 9, 0x0f, 0x4e41434c /* NACL */, -1, (1n << 32n) | BigInt(EXT_TIME)]) {
    r = call(sbi, h, EXT_BASE, 3, eid);
    assert.deepEqual([r.error, r.value], [0, 0n], `probe ${eid.toString(16)} is not available`);
  }
  for (const fid of [4, 5, 6]) assert.deepEqual(call(sbi, h, EXT_BASE, fid).value, 0n);
  assert.equal(call(sbi, h, EXT_BASE, 7).error, SBI_ERR_NOT_SUPPORTED);
  assert.equal(call(sbi, h, EXT_BASE, -1).error, SBI_ERR_NOT_SUPPORTED);
  assert.equal(call(sbi, h, EXT_BASE, 1n << 32n).error, SBI_ERR_NOT_SUPPORTED, "FID high bits");
  assert.equal(call(sbi, h, EXT_PMU, 0).error, SBI_ERR_NOT_SUPPORTED);
  assert.equal(call(sbi, h, 0x1234567, 0).error, SBI_ERR_NOT_SUPPORTED);
  assert.equal(call(sbi, h, (1n << 40n) | BigInt(EXT_BASE), 0).error, SBI_ERR_NOT_SUPPORTED, "EID high bits");
});

test("DBCN: console_write of a RAM buffer reaches the backend; ranges outside RAM are rejected", () => {
  const { m, sbi, out } = board();
  const h = m.harts[0];
  const msg = new TextEncoder().encode("hello, sbi\n");
  const buf = RAM + 0x10_0000;
  m.mem.writePhys(buf, msg);
  let r = call(sbi, h, EXT_DBCN, 0, msg.length, buf, 0);
  assert.deepEqual(r, { served: true, error: 0, value: BigInt(msg.length) });
  assert.equal(text(out), "hello, sbi\n");
  out.length = 0;
  assert.equal(call(sbi, h, EXT_DBCN, 0, 0, buf, 0).value, 0n);
  const bad: [string, number | bigint, number | bigint, number | bigint][] = [
    ["below RAM", 4, 0x1000, 0],
    ["MMIO (CLINT)", 4, 0x200_0000, 0],
    ["straddles the end of RAM", 16, RAM + RAM_SIZE - 8, 0],
    ["just past RAM", 1, RAM + RAM_SIZE, 0],
    ["base_addr_hi set", 4, buf, 1],
    ["huge length", -1, buf, 0],
    ["length 2^53+1", 2n ** 53n + 1n, buf, 0],
    ["address wraps", 0x100, -0x80, 0],
  ];
  for (const [why, n, lo, hi] of bad) {
    r = call(sbi, h, EXT_DBCN, 0, n, lo, hi);
    assert.equal(r.error, SBI_ERR_INVALID_PARAM, why);
    r = call(sbi, h, EXT_DBCN, 1, n, lo, hi);
    assert.equal(r.error, SBI_ERR_INVALID_PARAM, `read: ${why}`);
  }
  assert.deepEqual(out, []);
  r = call(sbi, h, EXT_DBCN, 2, 0x41 | 0x100);
  assert.deepEqual([r.error, r.value], [0, 0n]);
  assert.equal(text(out), "A");
  assert.equal(call(sbi, h, EXT_DBCN, 3).error, SBI_ERR_NOT_SUPPORTED);
  // console_read: nothing pending reads 0 bytes and writes nothing.
  m.mem.writePhys(buf, new Uint8Array(8).fill(0xee));
  assert.deepEqual(call(sbi, h, EXT_DBCN, 1, 8, buf, 0).value, 0n);
  assert.equal(sbi.pushInput("ok!"), 3);
  assert.equal(call(sbi, h, EXT_DBCN, 1, 2, buf, 0).value, 2n);
  assert.deepEqual([...m.mem.readPhys(buf, 3)], [0x6f, 0x6b, 0xee]);
  assert.equal(call(sbi, h, EXT_DBCN, 1, 8, buf + 4, 0).value, 1n);
  assert.equal(m.mem.readPhys(buf + 4, 1)[0], 0x21);
  assert.equal(sbi.pendingInput, 0);
});

test("legacy console: putchar writes a byte, getchar returns input or -1; a1 is left alone", () => {
  const { m, sbi, out } = board();
  const h = m.harts[0];
  setReg(h, 11, 0x5a5an);
  let r = call(sbi, h, 1, 0, 0x4f);
  call(sbi, h, 1, 0x77, 0x100 | 0x4b); // a6 is ignored by legacy calls; only the low byte counts
  assert.equal(text(out), "OK");
  assert.deepEqual([r.error, r.value], [0, 0x5a5an]);
  r = call(sbi, h, 2, 0);
  assert.equal(r.error, -1, "no input");
  assert.equal(r.value, 0x5a5an);
  sbi.pushInput(new Uint8Array([0x78, 0xff]));
  assert.equal(call(sbi, h, 2, 0).error, 0x78);
  assert.equal(call(sbi, h, 2, 0).error, 0xff);
  assert.equal(call(sbi, h, 2, 0).error, -1);
  // Input beyond the buffer is dropped, not grown without bound.
  const big = new Uint8Array(100_000);
  assert.equal(sbi.pushInput(big), 65_536);
  assert.equal(sbi.pushInput(big), 0);
});

test("TIME: set_timer in the past raises STIP at once; a future deadline clears it", () => {
  const { m, sbi } = board();
  const h = m.harts[0];
  m.run(1000); // let time pass (deterministic clock)
  const now = BigInt(m.clock.now());
  assert.ok(now > 0n);
  for (const eid of [EXT_TIME, 0]) {
    call(sbi, h, eid, 0, now - 1n);
    assert.equal(h.mip() & MIP_STIP, MIP_STIP, `eid ${eid}: past deadline`);
    call(sbi, h, eid, 0, now + 1000n);
    assert.equal(h.mip() & MIP_STIP, 0, `eid ${eid}: future deadline`);
    assert.equal(slot(h, S_STIMECMP), now + 1000n);
  }
  assert.equal(call(sbi, h, EXT_TIME, 1).error, SBI_ERR_NOT_SUPPORTED);
});

describe("S-mode programs making SBI calls", { skip }, () => {
  for (const [name, eid] of [
    ["TIME set_timer", "EID_TIME"],
    ["legacy set_timer", "0"],
  ]) {
    test(`${name}: the deadline fires an S-mode timer interrupt while the hart waits`, () => {
      const { result } = runProgram(`
  la t0, trap
  csrw stvec, t0
  li t0, MIP_STIP
  csrw sie, t0
  rdtime s0
  addi s0, s0, 500
  mv a0, s0
  SBI(${eid}, 0)
  CHECK_IMM(a0, 0, 1)
  csrr t0, sip
  andi t0, t0, MIP_STIP
  CHECK_IMM(t0, 0, 2)
  csrsi sstatus, MSTATUS_SIE
1:wfi
  j 1b
.align 2
trap:
  csrr t0, scause
  li t1, IRQ_BIT | 5
  CHECK_EQ(t0, t1, 3)
  rdtime t2
  bltu t2, s0, early
  li a0, -1
  SBI(${eid}, 0)
  csrr t0, sip
  andi t0, t0, MIP_STIP
  CHECK_IMM(t0, 0, 5)
  PASS
early:
  FAIL(4)
`);
      assert.equal(result, "pass");
    });
  }

  test("HSM + IPI on two harts: hart_start with opaque, send_ipi wakes hart 0, hart_stop, get_status", () => {
    const { result, sbi, m } = runProgram(
      `
  la t0, trap
  csrw stvec, t0
  li a0, 1
  la a1, secondary
  li a2, 0x1234
  SBI(EID_HSM, 0)
  CHECK_IMM(a0, 0, 1)
  li a0, 1
  la a1, secondary
  li a2, 0
  SBI(EID_HSM, 0)
  CHECK_IMM(a0, -6, 2)
  li t0, MIP_SSIP
  csrw sie, t0
  csrsi sstatus, MSTATUS_SIE
1:wfi
  j 1b
.align 2
trap:
  csrr t0, scause
  li t1, IRQ_BIT | 1
  CHECK_EQ(t0, t1, 3)
  csrci sip, MIP_SSIP
  la s1, seen
  ld t1, 0(s1)
  CHECK_IMM(t1, 1, 4)
  ld t1, 8(s1)
  CHECK_IMM(t1, 0x1234, 5)
  ld t1, 16(s1)
  CHECK_IMM(t1, 0, 6)
2:li a0, 1
  SBI(EID_HSM, 2)
  CHECK_IMM(a0, 0, 7)
  li t1, 1
  bne a1, t1, 2b
  PASS

secondary:
  la t0, seen
  sd a0, 0(t0)
  sd a1, 8(t0)
  csrr t1, satp
  sd t1, 16(t0)
  li a0, 1
  li a1, 0
  SBI(EID_IPI, 0)
  bnez a0, 3f
  SBI(EID_HSM, 1)
3:FAIL(8)

.data
seen: .dword -1, -1, -1
`,
      2,
    );
    assert.equal(result, "pass");
    assert.equal(sbi.hartState(1), HSM_STOPPED);
    assert.equal(m.harts[1].waiting, true);
  });

  test("HSM hart_suspend: retentive returns 0 after the wake-up; non-retentive resumes at resume_addr", () => {
    const { result } = runProgram(`
  la t0, trap
  csrw stvec, t0
  li t0, MIP_STIP
  csrw sie, t0
  rdtime s0
  addi s0, s0, 300
  mv a0, s0
  SBI(EID_TIME, 0)
  li a0, 0
  SBI(EID_HSM, 3)
  CHECK_IMM(a0, 0, 1)
  rdtime t0
  bltu t0, s0, early
  rdtime a0
  addi a0, a0, 300
  SBI(EID_TIME, 0)
  li a0, 0x80000000
  la a1, resumed
  li a2, 0x5678
  SBI(EID_HSM, 3)
  FAIL(2)
resumed:
  CHECK_IMM(a0, 0, 3)
  CHECK_IMM(a1, 0x5678, 4)
  CHECK_CSR(satp, 0, 5)
  csrr t0, sstatus
  andi t0, t0, MSTATUS_SIE
  CHECK_IMM(t0, 0, 6)
  csrr t0, sip
  andi t0, t0, MIP_STIP
  CHECK_IMM(t0, MIP_STIP, 7)
  li a0, 1
  SBI(EID_HSM, 3)
  CHECK_IMM(a0, -3, 8)
  PASS
early:
  FAIL(9)
.align 2
trap:
  FAIL(10)
`);
    assert.equal(result, "pass");
  });

  test("a legacy call whose hart-mask pointer faults redirects the fault to S-mode at the ecall", () => {
    const { result } = runProgram(`
  la t0, trap
  csrw stvec, t0
  li a0, 0x1000
  li a7, 4
ecall_site:
  ecall
  FAIL(1)
.align 2
trap:
  CHECK_CSR(scause, 5, 2)
  CHECK_CSR(stval, 0x1000, 3)
  csrr t0, sepc
  CHECK_ADDR(t0, ecall_site, 4)
  PASS
`);
    assert.equal(result, "pass");
  });
});

test("IPI: send_ipi sets SSIP on the named harts; base -1 means all; bad harts are rejected", () => {
  const { m, sbi } = board(3);
  const [h0, h1, h2] = m.harts;
  assert.equal(call(sbi, h0, EXT_HSM, 0, 1, KERNEL, 0).error, 0);
  assert.equal(call(sbi, h0, EXT_HSM, 0, 2, KERNEL, 0).error, 0);
  const ssip = (h: Hart) => (h.c[S_MIP * 2] & MIP_SSIP) !== 0;
  const clear = () => {
    for (const h of m.harts) h.c[S_MIP * 2] &= ~MIP_SSIP;
  };
  assert.equal(call(sbi, h0, EXT_IPI, 0, 0b10, 0).error, 0);
  assert.deepEqual(m.harts.map(ssip), [false, true, false]);
  clear();
  assert.equal(call(sbi, h0, EXT_IPI, 0, 0b1, 2).error, 0, "base 2, bit 0 = hart 2");
  assert.deepEqual(m.harts.map(ssip), [false, false, true]);
  clear();
  assert.equal(call(sbi, h1, EXT_IPI, 0, 0, -1).error, 0, "base -1: all harts, mask ignored");
  assert.deepEqual(m.harts.map(ssip), [true, true, true]);
  clear();
  assert.equal(call(sbi, h0, EXT_IPI, 0, 0, 5).error, 0, "empty mask: nothing to do");
  for (const [mask, base] of [
    [0b1000, 0],
    [0b1, 3],
    [1n << 63n, 0],
    [0b1, 1n << 32n],
    [0b11, 2],
  ] as const) {
    assert.equal(call(sbi, h0, EXT_IPI, 0, mask, base).error, SBI_ERR_INVALID_PARAM, `${mask}/${base}`);
  }
  assert.deepEqual(m.harts.map(ssip), [false, false, false], "an invalid mask delivers nothing");
  assert.equal(call(sbi, h0, EXT_IPI, 1, 1, 0).error, SBI_ERR_NOT_SUPPORTED);
  // The IPI wakes a hart waiting in wfi once it has SSIE enabled (mie).
  h2.waiting = true;
  call(sbi, h0, EXT_IPI, 0, 0b100, 0);
  h2.checkInterrupts();
  assert.equal(h2.waiting, false);
  // A STOPPED hart gets nothing and stays stopped.
  call(sbi, h1, EXT_HSM, 1);
  clear();
  assert.equal(call(sbi, h0, EXT_IPI, 0, 0b10, 0).error, 0);
  assert.equal(ssip(h1), false);
  h1.checkInterrupts();
  assert.equal(h1.waiting, true);
  // Legacy send_ipi and clear_ipi: the mask is read through a pointer (satp = 0 here, so physical).
  const p = RAM + 0x20_0000;
  m.mem.writePhys(p, new Uint8Array([0b101, 0, 0, 0, 0, 0, 0, 0]));
  assert.equal(call(sbi, h0, 4, 0, p).error, 0);
  assert.deepEqual(m.harts.map(ssip), [true, false, true]);
  assert.equal(call(sbi, h0, 3, 0).error, 0);
  assert.deepEqual(m.harts.map(ssip), [false, false, true]);
  m.mem.writePhys(p, new Uint8Array([0b1000, 0, 0, 0, 0, 0, 0, 0]));
  assert.equal(call(sbi, h0, 4, 0, p).error, SBI_ERR_INVALID_PARAM);
});

test("HSM: start/stop/status sequence with every error case", () => {
  const { m, sbi } = board(2);
  const [h0, h1] = m.harts;
  const status = (id: number | bigint) => call(sbi, h0, EXT_HSM, 2, id);
  assert.deepEqual([status(1).error, status(1).value], [0, BigInt(HSM_STOPPED)]);
  assert.deepEqual([status(0).error, status(0).value], [0, BigInt(HSM_STARTED)]);
  for (const bad of [2, -1, 1n << 32n]) assert.equal(status(bad).error, SBI_ERR_INVALID_PARAM);
  const start = (id: number | bigint, addr: number | bigint, opaque: number | bigint = 0) =>
    call(sbi, h0, EXT_HSM, 0, id, addr, opaque).error;
  assert.equal(start(5, KERNEL), SBI_ERR_INVALID_PARAM);
  assert.equal(start((1n << 32n) | 1n, KERNEL), SBI_ERR_INVALID_PARAM);
  assert.equal(start(1, 0x1000), SBI_ERR_INVALID_ADDRESS);
  assert.equal(start(1, RAM + RAM_SIZE), SBI_ERR_INVALID_ADDRESS);
  assert.equal(start(1, KERNEL + 1), SBI_ERR_INVALID_ADDRESS, "misaligned");
  assert.equal(start(1, (1n << 32n) | BigInt(KERNEL)), SBI_ERR_INVALID_ADDRESS);
  assert.equal(h1.waiting, true);
  assert.equal(sbi.hartState(1), HSM_STOPPED);
  const opaque = 0xdead_beef_cafe_f00dn;
  assert.equal(start(1, KERNEL + 0x100, opaque), 0);
  assert.equal(h1.priv, PRV_S);
  assert.equal(h1.pcLo, (KERNEL + 0x100) | 0);
  assert.equal(reg(h1, 10), 1n);
  assert.equal(reg(h1, 11), BigInt.asIntN(64, opaque));
  assert.equal(h1.waiting, false);
  assert.equal(slot(h1, S_MIDELEG), BigInt(MIP_SSIP | MIP_STIP | MIP_SEIP));
  assert.equal(status(1).value, BigInt(HSM_STARTED));
  assert.equal(start(1, KERNEL), SBI_ERR_ALREADY_AVAILABLE);
  assert.equal(start(0, KERNEL), SBI_ERR_ALREADY_AVAILABLE);
  // hart_stop on hart 1: it waits with mie = 0, reported STOPPED, and can be started again.
  assert.equal(call(sbi, h1, EXT_HSM, 1).served, true);
  assert.equal(h1.waiting, true);
  assert.equal(slot(h1, S_MIE), 0n);
  assert.equal(status(1).value, BigInt(HSM_STOPPED));
  const before = h1.icount;
  m.run(10_000);
  assert.equal(h1.icount, before, "a stopped hart executes nothing");
  assert.equal(start(1, KERNEL, 7), 0);
  assert.equal(reg(h1, 11), 7n);
  // Retentive suspend: waits like wfi, SUSPENDED until an interrupt wakes it.
  let r = call(sbi, h0, EXT_HSM, 3, 0, 0, 0);
  assert.equal(r.error, 0);
  assert.equal(h0.waiting, true);
  assert.equal(call(sbi, h1, EXT_HSM, 2, 0).value, BigInt(HSM_SUSPENDED));
  call(sbi, h1, EXT_IPI, 0, 1, 0);
  h0.checkInterrupts();
  assert.equal(h0.waiting, false);
  assert.equal(call(sbi, h1, EXT_HSM, 2, 0).value, BigInt(HSM_STARTED));
  // Suspend types: reserved or platform-specific → INVALID_PARAM; bad resume address → INVALID_ADDRESS.
  for (const type of [1, 0x0fff_ffff, 0x1000_0000, 0x8000_0001, 0x9000_0000, 0xffff_ffff, 1n << 32n]) {
    r = call(sbi, h0, EXT_HSM, 3, type, KERNEL, 0);
    assert.equal(r.error, SBI_ERR_INVALID_PARAM, `type ${type.toString(16)}`);
  }
  assert.equal(call(sbi, h0, EXT_HSM, 3, 0x8000_0000, 0x1000, 0).error, SBI_ERR_INVALID_ADDRESS);
  assert.equal(h0.waiting, false);
  assert.equal(call(sbi, h0, EXT_HSM, 4).error, SBI_ERR_NOT_SUPPORTED);
});

test("SRST: system_reset hands shutdown/reboot to the host and stops the machine; bad arguments are rejected", () => {
  const { m, sbi, resets } = board();
  const h = m.harts[0];
  const reset = (type: number | bigint, reason: number | bigint) =>
    call(sbi, h, EXT_SRST, 0, type, reason).error;
  assert.equal(reset(3, 0), SBI_ERR_INVALID_PARAM);
  assert.equal(reset(0xefff_ffff, 0), SBI_ERR_INVALID_PARAM);
  assert.equal(reset(0xf000_0000, 0), SBI_ERR_NOT_SUPPORTED, "vendor-specific type");
  assert.equal(reset(0, 2), SBI_ERR_INVALID_PARAM);
  assert.equal(reset(0, 0xdfff_ffff), SBI_ERR_INVALID_PARAM);
  assert.equal(reset(1n << 32n, 0), SBI_ERR_INVALID_PARAM);
  assert.equal(reset(0, 1n << 32n), SBI_ERR_INVALID_PARAM);
  assert.equal(call(sbi, h, EXT_SRST, 1, 0, 0).error, SBI_ERR_NOT_SUPPORTED);
  assert.deepEqual(resets, []);
  assert.equal(m.stopRequested, false);
  // "Does not return": if the host resumes the hart anyway, it sees SBI_ERR_FAILED.
  assert.equal(reset(0, 0), SBI_ERR_FAILED);
  assert.equal(m.stopRequested, true);
  assert.equal(m.run(1000), "stopped");
  m.stopRequested = false;
  reset(1, 1);
  reset(2, 0xe000_0001);
  call(sbi, h, 8, 0); // legacy shutdown
  assert.deepEqual(resets, [
    { type: "shutdown", reason: "none", code: 0, hartId: 0 },
    { type: "cold_reboot", reason: "system_failure", code: 1, hartId: 0 },
    { type: "warm_reboot", reason: "other", code: 0xe000_0001, hartId: 0 },
    { type: "shutdown", reason: "none", code: 0, hartId: 0 },
  ]);
});

test("RFENCE: remote sfence.vma flushes the named harts' TLBs, remote fence.i reaches onFenceI", () => {
  const { m, sbi } = board(3);
  const [h0, h1, h2] = m.harts;
  call(sbi, h0, EXT_HSM, 0, 1, KERNEL, 0);
  const va = 0x4000_0000;
  const idx = TLB_LOAD + tlbIndex(va);
  const fill = () => {
    for (const h of m.harts) h.tlb.fill(TLB_LOAD, va, 0, 0x10000);
  };
  const cached = () => m.harts.map((h) => h.tlb.w[(h.tlb.base + idx) << 2] === va);
  const fenceI = [0, 0, 0];
  for (const h of m.harts) h.onFenceI = () => void fenceI[h.id]++;

  fill();
  assert.equal(call(sbi, h0, EXT_RFENCE, 1, 0b10, 0, va, 0x1000).error, 0);
  assert.deepEqual(cached(), [true, false, true]);
  fill();
  assert.equal(call(sbi, h0, EXT_RFENCE, 2, 0b1, 2, 0, 0, 5).error, 0, "with ASID");
  assert.deepEqual(cached(), [true, true, false]);
  fill();
  assert.equal(call(sbi, h1, EXT_RFENCE, 1, 0, -1, 0, -1).error, 0, "all harts, whole address space");
  assert.deepEqual(cached(), [false, false, false]);
  assert.equal(call(sbi, h0, EXT_RFENCE, 0, 0b11, 0).error, 0);
  assert.deepEqual(fenceI, [1, 1, 0]);
  fill();
  assert.equal(call(sbi, h0, EXT_RFENCE, 1, 0b1000, 0, 0, 0).error, SBI_ERR_INVALID_PARAM);
  assert.equal(call(sbi, h0, EXT_RFENCE, 0, 1, 1n << 40n).error, SBI_ERR_INVALID_PARAM);
  assert.deepEqual(cached(), [true, true, true], "an invalid mask flushes nothing");
  for (const fid of [3, 4, 5, 6, 7])
    assert.equal(call(sbi, h0, EXT_RFENCE, fid, 1, 0).error, SBI_ERR_NOT_SUPPORTED);
  // With the H extension the hfence calls (3..6) flush too; 7 stays unknown.
  for (const h of m.harts) h.hExt = true;
  for (const fid of [3, 4, 5, 6]) {
    fill();
    assert.equal(call(sbi, h0, EXT_RFENCE, fid, 0b10, 0, 0, 0).error, 0);
    assert.deepEqual(cached(), [true, false, true], `hfence fid ${fid}`);
  }
  assert.equal(call(sbi, h0, EXT_RFENCE, 7, 1, 0).error, SBI_ERR_NOT_SUPPORTED);
  for (const h of m.harts) h.hExt = false;
  fill();
  // Legacy remote fences take a pointer to the mask; NULL means all harts.
  assert.equal(call(sbi, h2, 6, 0, 0, 0, 0).error, 0);
  assert.deepEqual(cached(), [false, false, false]);
  assert.equal(call(sbi, h2, 5, 0, 0).error, 0);
  assert.deepEqual(fenceI, [2, 2, 1]);
});

test("hostile register values never make the hook throw", () => {
  const { m, sbi, out } = board(2);
  let seed = 0x1234_5678;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed | 0;
  };
  const eids = [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    EXT_BASE,
    EXT_TIME,
    EXT_IPI,
    EXT_RFENCE,
    EXT_HSM,
    EXT_SRST,
    EXT_DBCN,
    EXT_PMU,
  ];
  const special = [0, 1, -1, 0x7fff_ffff, -0x8000_0000, RAM | 0, (RAM + RAM_SIZE - 1) | 0];
  const pick = () => (rnd() & 1 ? special[(rnd() >>> 0) % special.length] : rnd());
  for (let i = 0; i < 20_000; i++) {
    const h = m.harts[i & 1];
    for (let r = 10; r <= 15; r++) {
      h.x[2 * r] = pick();
      h.x[2 * r + 1] = rnd() & 3 ? (rnd() & 1 ? 0 : -1) : pick();
    }
    setReg(h, 17, BigInt(eids[(rnd() >>> 0) % eids.length]));
    setReg(h, 16, BigInt((rnd() >>> 0) % 8));
    const served = sbi.handle(h);
    assert.equal(typeof served, "boolean");
    out.length = 0;
    // Keep both harts usable: restart a hart that stopped or suspended itself.
    for (const x of m.harts) {
      if (sbi.hartState(x.id) !== HSM_STARTED) sbi.prepareHart(x, KERNEL);
    }
  }
  assert.equal(sbi.lastInternalError, undefined);
});

test("firmware state round-trips, and a corrupt record is rejected", () => {
  const a = board(3);
  call(a.sbi, a.m.harts[0], EXT_HSM, 0, 2, KERNEL, 0);
  call(a.sbi, a.m.harts[0], EXT_HSM, 3, 0, 0, 0); // hart 0 suspended
  a.sbi.pushInput("queued");
  const b = board(3);
  const s = assertRoundTrip(
    a.sbi,
    b.sbi,
    (x) => x.saveState(),
    (x, st) => x.restoreState(st),
  );
  assert.deepEqual(s.hsm, [HSM_SUSPENDED, HSM_STOPPED, HSM_STARTED]);
  assert.equal(call(b.sbi, b.m.harts[1], 2, 0).error, "q".charCodeAt(0));
  const bad: ((x: SbiState) => void)[] = [
    (x) => ((x as { version: number }).version = 2),
    (x) => x.hsm.pop(),
    (x) => (x.hsm[0] = 9),
    (x) => (x.hsm[0] = 2),
    (x) => (x.input = new Uint8Array(70_000)),
    (x) => ((x as unknown as { input: number[] }).input = [1, 2]),
  ];
  for (const corrupt of bad) {
    const st = structuredClone(s);
    corrupt(st);
    assert.throws(() => b.sbi.restoreState(st), /sbi state/);
  }
});

/*
 * kvm-probe: the smallest VMM that proves KVM works inside a Virtus guest
 * (`virtus run --cpu h=on` with a kernel built with CONFIG_KVM=y,
 * tests/kvm/build-kernel.sh). It runs as the guest's init (rdinit=/kvm-probe):
 * mounts devtmpfs, opens /dev/kvm, creates a VM with 64 KiB of RAM at
 * 0x80000000, copies `guest_code` there, and runs one vCPU. The nested guest
 * stores a byte to an MMIO address, loads one back (the VMM answers 0x5a),
 * stores that, and asks SBI SRST for a shutdown. Each step is a KVM exit the
 * VMM checks; it prints "KVM-PROBE OK" or "KVM-PROBE FAIL: why" and powers off.
 *
 * Build: riscv64-linux-gnu-gcc -static -O2 -o kvm-probe kvm-probe.c
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

#define GUEST_BASE 0x80000000UL
#define GUEST_SIZE 0x10000UL
#define MMIO_ADDR 0x10000000UL

/* The nested guest: position-independent, runs in VS-mode. */
extern const unsigned char guest_code[], guest_code_end[];
__asm__(".pushsection .rodata\n"
        ".balign 4\n"
        "guest_code:\n"
        "  li t0, 0x10000000\n"
        "  li t1, 0x41\n"
        "  sb t1, 0(t0)\n"          /* exit 1: MMIO write 0x41 */
        "  lbu t2, 1(t0)\n"         /* exit 2: MMIO read, the VMM answers 0x5a */
        "  sb t2, 2(t0)\n"          /* exit 3: MMIO write of what was read */
        "  li a7, 0x53525354\n"     /* SBI SRST: shutdown */
        "  li a6, 0\n"
        "  li a0, 0\n"
        "  li a1, 0\n"
        "  ecall\n"
        "1: j 1b\n"
        "guest_code_end:\n"
        ".popsection\n");

static void finish(int ok, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf(ok ? "KVM-PROBE OK: " : "KVM-PROBE FAIL: ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
  sync();
  reboot(RB_POWER_OFF);
  exit(ok ? 0 : 1);
}

static uint64_t core_reg(unsigned idx) {
  return KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CORE | idx;
}

int main(void) {
  if (getpid() == 1) mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) finish(0, "open /dev/kvm: %s", strerror(errno));
  int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
  if (api != KVM_API_VERSION) finish(0, "KVM API version %d", api);
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) finish(0, "KVM_CREATE_VM: %s", strerror(errno));
  void *mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) finish(0, "mmap: %s", strerror(errno));
  memcpy(mem, guest_code, guest_code_end - guest_code);
  struct kvm_userspace_memory_region region = {
      .slot = 0, .guest_phys_addr = GUEST_BASE, .memory_size = GUEST_SIZE, .userspace_addr = (uintptr_t)mem};
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) finish(0, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) finish(0, "KVM_CREATE_VCPU: %s", strerror(errno));
  int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  struct kvm_run *run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) finish(0, "mmap kvm_run: %s", strerror(errno));
  uint64_t pc = GUEST_BASE;
  struct kvm_one_reg reg = {.id = core_reg(KVM_REG_RISCV_CORE_REG(regs.pc)), .addr = (uintptr_t)&pc};
  if (ioctl(vcpu, KVM_SET_ONE_REG, &reg) < 0) finish(0, "KVM_SET_ONE_REG pc: %s", strerror(errno));

  static const struct { int write; uint64_t addr; uint8_t data; } want[] = {
      {1, MMIO_ADDR, 0x41}, {0, MMIO_ADDR + 1, 0}, {1, MMIO_ADDR + 2, 0x5a}};
  unsigned step = 0;
  for (;;) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) finish(0, "KVM_RUN: %s (after %u MMIO exits)", strerror(errno), step);
    switch (run->exit_reason) {
      case KVM_EXIT_MMIO: {
        if (step >= 3) finish(0, "unexpected MMIO exit at 0x%llx", (unsigned long long)run->mmio.phys_addr);
        if (run->mmio.is_write != want[step].write || run->mmio.phys_addr != want[step].addr || run->mmio.len != 1)
          finish(0, "MMIO exit %u: %s 0x%llx len %u", step, run->mmio.is_write ? "write" : "read",
                 (unsigned long long)run->mmio.phys_addr, run->mmio.len);
        if (run->mmio.is_write && run->mmio.data[0] != want[step].data)
          finish(0, "MMIO write %u: data 0x%x, expected 0x%x", step, run->mmio.data[0], want[step].data);
        if (!run->mmio.is_write) run->mmio.data[0] = 0x5a;
        step++;
        break;
      }
      case KVM_EXIT_SYSTEM_EVENT:
        if (step != 3) finish(0, "shutdown after %u MMIO exits", step);
        finish(1, "nested guest ran in VS-mode: 3 MMIO exits, SBI shutdown (event type %u)", run->system_event.type);
        break;
      case KVM_EXIT_RISCV_SBI:
        finish(0, "SBI call ext 0x%lx fid %lu left to user space", run->riscv_sbi.extension_id, run->riscv_sbi.function_id);
        break;
      default:
        finish(0, "exit reason %u after %u MMIO exits", run->exit_reason, step);
    }
  }
}

/*
 * mini-vmm: boots a Linux Image as a nested guest through /dev/kvm, inside a
 * Virtus guest with `--cpu h=on` (tests/kvm/kvm.test.ts). One vCPU, RAM at
 * 0x80000000, the Image at +2 MiB, an initrd and a device tree (made by the
 * test) near the top; the console is SBI's legacy putchar, which KVM
 * forwards here (KVM_EXIT_RISCV_SBI). Runs as the outer guest's init
 * (rdinit=/mini-vmm): mounts devtmpfs, boots /nested/Image with
 * /nested/initrd and /nested/dtb, copies the nested console to its own,
 * types `uname -m; poweroff -f` at the nested shell's first prompt, and
 * powers off when the nested guest does (SBI SRST -> KVM_EXIT_SYSTEM_EVENT).
 *
 * Build: riscv64-linux-gnu-gcc -static -O2 -o mini-vmm mini-vmm.c
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#define RAM_BASE 0x80000000UL
#define RAM_SIZE (128UL << 20)
#define KERNEL_AT (RAM_BASE + 0x200000UL)
#define INITRD_AT (RAM_BASE + (96UL << 20))
#define DTB_AT (RAM_BASE + (120UL << 20))
#define SBI_EXT_0_1_CONSOLE_PUTCHAR 1
#define SBI_EXT_0_1_CONSOLE_GETCHAR 2

static void die(const char *what) {
  printf("MINI-VMM FAIL: %s: %s\n", what, strerror(errno));
  fflush(stdout);
  reboot(RB_POWER_OFF);
  exit(1);
}

static size_t load(const char *path, uint8_t *ram, uint64_t at, size_t max) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) die(path);
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, ram + (at - RAM_BASE) + n, max - n);
    if (r < 0) die(path);
    if (r == 0) break;
    n += (size_t)r;
    if (n == max) die("file too large");
  }
  close(fd);
  return n;
}

static void set_reg(int vcpu, uint64_t idx, uint64_t value) {
  struct kvm_one_reg reg = {.id = KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CORE | idx, .addr = (uintptr_t)&value};
  if (ioctl(vcpu, KVM_SET_ONE_REG, &reg) < 0) die("KVM_SET_ONE_REG");
}

/* What the nested console receives once the shell's prompt has appeared: /nested/script if present (benchmarks). */
static char SCRIPT[4096] = "uname -m; poweroff -f\n";
static const char PROMPT[] = "guest# ";

int main(void) {
  if (getpid() == 1) mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  setvbuf(stdout, NULL, _IONBF, 0);
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) die("open /dev/kvm");
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) die("KVM_CREATE_VM");
  uint8_t *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (ram == MAP_FAILED) die("mmap RAM");
  load("/nested/Image", ram, KERNEL_AT, INITRD_AT - KERNEL_AT);
  load("/nested/initrd", ram, INITRD_AT, DTB_AT - INITRD_AT);
  load("/nested/dtb", ram, DTB_AT, RAM_BASE + RAM_SIZE - DTB_AT);
  FILE *script = fopen("/nested/script", "r");
  if (script != NULL) {
    SCRIPT[fread(SCRIPT, 1, sizeof SCRIPT - 1, script)] = 0;
    fclose(script);
  }
  size_t script_len = strlen(SCRIPT);
  struct kvm_userspace_memory_region region = {
      .slot = 0, .guest_phys_addr = RAM_BASE, .memory_size = RAM_SIZE, .userspace_addr = (uintptr_t)ram};
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION");
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) die("KVM_CREATE_VCPU");
  int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  struct kvm_run *run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) die("mmap kvm_run");
  set_reg(vcpu, KVM_REG_RISCV_CORE_REG(regs.pc), KERNEL_AT);
  set_reg(vcpu, KVM_REG_RISCV_CORE_REG(regs.a0), 0);
  set_reg(vcpu, KVM_REG_RISCV_CORE_REG(regs.a1), DTB_AT);
  printf("MINI-VMM: starting the nested guest\n");
  size_t matched = 0, typed = 0;
  int prompted = 0;
  for (;;) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) {
      if (errno == EINTR) continue;
      die("KVM_RUN");
    }
    switch (run->exit_reason) {
      case KVM_EXIT_RISCV_SBI:
        if (run->riscv_sbi.extension_id == SBI_EXT_0_1_CONSOLE_PUTCHAR) {
          char c = (char)run->riscv_sbi.args[0];
          putchar(c);
          matched = c == PROMPT[matched] ? matched + 1 : c == PROMPT[0];
          if (matched == sizeof PROMPT - 1) prompted = 1, matched = 0;
          run->riscv_sbi.ret[0] = 0;
        } else if (run->riscv_sbi.extension_id == SBI_EXT_0_1_CONSOLE_GETCHAR) {
          run->riscv_sbi.ret[0] =
              prompted && typed < script_len ? (unsigned long)(unsigned char)SCRIPT[typed++] : (unsigned long)-1;
        } else {
          run->riscv_sbi.ret[0] = (unsigned long)-2; /* SBI_ERR_NOT_SUPPORTED */
        }
        break;
      case KVM_EXIT_MMIO:
        if (!run->mmio.is_write) memset(run->mmio.data, 0, sizeof run->mmio.data);
        break;
      case KVM_EXIT_SYSTEM_EVENT:
        printf("\nMINI-VMM: the nested guest powered off (event %u)\n", run->system_event.type);
        reboot(RB_POWER_OFF);
        return 0;
      default:
        printf("\nMINI-VMM FAIL: exit reason %u\n", run->exit_reason);
        reboot(RB_POWER_OFF);
        return 1;
    }
  }
}

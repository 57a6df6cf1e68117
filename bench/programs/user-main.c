/* Linux user-mode entry (for qemu-riscv64): prints bench()'s checksum. */
#include <stdio.h>
unsigned long bench(void);
int main(void) { printf("%lu\n", bench()); return 0; }

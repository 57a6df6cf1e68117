/* Integer CPU benchmark: CRC-32, a sieve, an insertion-sorted array and a
 * 64-bit hash mix: branches, loads/stores, multiplies and shifts. Returns a
 * checksum that the harness compares with qemu-riscv64 running the same code. */
typedef unsigned long u64;
typedef unsigned int u32;
static unsigned char buf[16384];
static u32 crc_table[256];
static char sieve[65536];
static int arr[512];

static u32 crc32(const unsigned char *p, int n) {
  u32 c = 0xffffffffu;
  for (int i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

unsigned long bench(void) {
  for (u32 i = 0; i < 256; i++) {
    u32 c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
  u64 seed = 88172645463325252ull, sum = 0;
  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < (int)sizeof buf; i++) {
      seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
      buf[i] = (unsigned char)seed;
    }
    sum += crc32(buf, sizeof buf);
    for (int i = 0; i < (int)sizeof sieve; i++) sieve[i] = 1;
    for (int i = 2; i * i < (int)sizeof sieve; i++)
      if (sieve[i]) for (int j = i * i; j < (int)sizeof sieve; j += i) sieve[j] = 0;
    for (int i = 0; i < (int)sizeof sieve; i++) sum += sieve[i];
    for (int i = 0; i < 512; i++) { seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; arr[i] = (int)(seed % 100000); }
    for (int i = 1; i < 512; i++) { int v = arr[i], j = i - 1; while (j >= 0 && arr[j] > v) { arr[j + 1] = arr[j]; j--; } arr[j + 1] = v; }
    sum = sum * 6364136223846793005ull + (u64)arr[round & 511];
  }
  return sum;
}

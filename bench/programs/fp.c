/* Floating-point CPU benchmark: dense double matrix multiply, a float
 * n-body-like update with sqrt and division, FMA-friendly loops. */
#define N 48
static double a[N][N], b[N][N], c[N][N];
static float px[256], py[256], vx[256], vy[256];

unsigned long bench(void) {
  double check = 0;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) { a[i][j] = (i * 7 + j * 3) % 11 * 0.25 - 1.0; b[i][j] = (i + 2 * j) % 13 * 0.125 + 0.5; }
  for (int i = 0; i < 256; i++) { px[i] = i * 0.37f; py[i] = (255 - i) * 0.11f; vx[i] = vy[i] = 0; }
  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++) {
        double s = 0;
        for (int k = 0; k < N; k++) s += a[i][k] * b[k][j];
        c[i][j] = s;
      }
    check += c[round % N][(round * 5) % N];
    for (int i = 0; i < 256; i++) {
      float dx = px[(i + 1) & 255] - px[i], dy = py[(i + 1) & 255] - py[i];
      float d = __builtin_sqrtf(dx * dx + dy * dy + 0.01f);
      vx[i] += dx / (d * d * d); vy[i] += dy / (d * d * d);
    }
    for (int i = 0; i < 256; i++) { px[i] += vx[i] * 0.001f; py[i] += vy[i] * 0.001f; }
    check += px[round & 255];
  }
  return (unsigned long)(long)(check * 1000.0);
}

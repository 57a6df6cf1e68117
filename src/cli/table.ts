/** Left-aligned columns, two spaces apart, like virsh list. */
export function printTable(
  head: string[],
  rows: string[][],
  out = (s: string) => process.stdout.write(s),
): void {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  for (const r of all) out(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")}\n`);
}

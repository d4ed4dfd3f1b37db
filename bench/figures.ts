/** Small helpers the benchmarks print their figures with: medians, quantiles, markdown tables. */

/** The nearest-rank quantile `q` (0..1) of `values`; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The median (nearest rank) of `values`. */
export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** Milliseconds for a table cell, `n/a` when not measured. */
export const ms = (value: number, digits = 0): string =>
  Number.isFinite(value) ? `${value.toFixed(digits)} ms` : 'n/a';

/** A markdown table. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

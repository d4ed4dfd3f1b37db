/** Human formats for the stats figures, shared by the table and the HTML report. */

/** A duration as `850ms`, `42s`, `3m 05s`, `2h 13m` or `3d 4h`; `-` when absent. */
export function formatDuration(value: number | null): string {
  if (value === null) return '-';
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  if (abs < 1000) return `${sign}${Math.round(abs)}ms`;
  const s = Math.round(abs / 1000);
  if (s < 60) return `${sign}${(abs / 1000).toFixed(s < 10 ? 1 : 0)}s`;
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s < 3600) return `${sign}${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${sign}${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${sign}${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** A rate as `66.7 %`; `-` when absent. */
export function formatRate(rate: number | null): string {
  return rate === null ? '-' : `${(rate * 100).toFixed(1)} %`;
}

/** A per-day figure with two decimals; `-` when absent. */
export function formatPerDay(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(2)} / day`;
}

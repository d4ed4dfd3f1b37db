/** Numbers as the verdicts' one-line reasons show them; no Intl, so replay never depends on the ICU data. */

/** A count with a space between thousands: `17 100`. */
export function count(value: number): string {
  const digits = String(Math.round(value));
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** A share as `0.52 %` (two decimals under 10 %, one above). */
export function percent(share: number): string {
  const p = share * 100;
  return `${p.toFixed(p < 10 ? 2 : 1)} %`;
}

/** Events of exposure as `37 of 900 (4.11 %)`. */
export function rate(events: number, exposure: number): string {
  return exposure > 0 ? `${count(events)} of ${count(exposure)} (${percent(events / exposure)})` : 'none yet';
}

/** A statistic with two decimals. */
export function stat(value: number): string {
  return value.toFixed(2);
}

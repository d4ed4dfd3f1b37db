/** Refuses live Stripe keys where only test keys belong. */

const LIVE_KEY = /^(sk|rk)_live_/;

/** Names of the variables in `values` that hold a live Stripe key (names only, never values). */
export function findLiveStripeKeys(values: Record<string, string | undefined>): string[] {
  return Object.entries(values)
    .filter(([, value]) => value !== undefined && LIVE_KEY.test(value.trim()))
    .map(([name]) => name);
}

/** True for keys a test stage may use: Stripe test mode or restricted test keys (stripe-mock accepts these). */
export function isTestKey(key: string): boolean {
  return /^(sk|rk)_test_/.test(key);
}

/** Resolves secret names to values on the worker: values never travel through workflow history. */
import type { StageName } from '../constants.js';
import { TEST_STAGES } from '../constants.js';
import { FailureType } from '../failures.js';
import { findLiveStripeKeys } from '../revenue/live-key-guard.js';
import { failure } from './failure.js';

/** Looks up each named secret in `source`; a missing one is a non-retryable MissingSecret. */
export function resolveSecrets(
  names: string[],
  source: NodeJS.ProcessEnv,
  where: string,
): Record<string, string> {
  const values: Record<string, string> = {};
  const missing = names.filter((name) => !source[name]);
  if (missing.length > 0) {
    throw failure(
      FailureType.MissingSecret,
      `${where} needs secret(s) ${missing.join(', ')}, which are not set where the worker runs: export them in the worker's environment`,
    );
  }
  for (const name of names) values[name] = source[name]!;
  return values;
}

/** Fails a test stage whose env or secrets hold a live Stripe key: test stages use stripe-mock or sk_test_ keys. */
export function guardTestStage(stage: StageName, values: Record<string, string | undefined>): void {
  if (!TEST_STAGES.includes(stage)) return;
  const live = findLiveStripeKeys(values);
  if (live.length > 0) {
    throw failure(
      FailureType.LiveStripeKey,
      `${stage} refused a live Stripe key in ${live.join(', ')}: test stages accept only sk_test_/rk_test_ keys or stripe-mock`,
    );
  }
}

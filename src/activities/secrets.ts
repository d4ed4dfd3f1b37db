/** Resolves secret names to values on the worker: values never travel through workflow history. */
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

/**
 * Fails a command stage whose env or secrets hold a live Stripe key, whatever the stage is called:
 * stages build and test, so they use stripe-mock or sk_test_ keys; live keys belong to environments.
 */
export function guardCommandStage(stage: string, values: Record<string, string | undefined>): void {
  const live = findLiveStripeKeys(values);
  if (live.length > 0) {
    throw failure(
      FailureType.LiveStripeKey,
      `${stage} refused a live Stripe key in ${live.join(', ')}: command stages accept only sk_test_/rk_test_ keys or stripe-mock; live keys belong in an environment's secrets`,
    );
  }
}

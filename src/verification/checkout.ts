/**
 * The checkout stop (critical): no revenue from the canary where the stable release's rate predicts
 * some. It is the sequential test of sequential.ts with one alternative, a canary rate of zero: per
 * interval LR_i(0) = [x = 0] / (1 − p0)^m, m the revenue events of both releases and p0 the
 * canary's share of requests. Its product is 1 / P(no canary revenue so far | the totals) while the
 * canary has none, and 0 for good after its first; a martingale under "no change", so failing when
 * it reaches 1/α has false-alarm rate α however often it is checked.
 *
 * The price of that α: for a healthy canary, P(none in E expected) is about e^(−E) at a small
 * canary share, so a stop is caught after ln(1/α) expected events (4.6 at α = 1 %), fewer at large
 * shares ((1 − p0)^m falls faster there). No rule on these counts can do better: one that fails at
 * 3 expected events would also fail about 5 % of healthy canaries (e^−3).
 */
import { foldCounts, startCounts, type CountsState } from './compare.js';
import { intervalBetween, type CountsAt } from './counts.js';
import { count, percent, stat } from './format.js';
import { CheckName, Outcome, Reason, type CheckVerdict, type CheckoutStopEvidence } from './outcomes.js';
import type { Reading } from './readings.js';
import { nullShare } from './sequential.js';

/** Revenue events per request, both releases; null where either's revenue could not be read. */
const revenuePerRequest: CountsAt = (r) =>
  r.stable?.revenue && r.canary.revenue
    ? {
        canary: { exposure: r.canary.requests, events: r.canary.revenue.revenueEvents },
        stable: { exposure: r.stable.requests, events: r.stable.revenue.revenueEvents },
      }
    : null;

/** The checkout stop carried through a window: its one-alternative test, and the canary events expected so far. */
export interface CheckoutState {
  counts: CountsState;
  expectedCanaryEvents: number;
}

/** The checkout stop before any reading. */
export function startCheckout(): CheckoutState {
  return { counts: startCounts([{ ratio: 0, weight: 1 }]), expectedCanaryEvents: 0 };
}

/** The checkout stop after one more reading. */
export function foldCheckout(state: CheckoutState, reading: Reading): CheckoutState {
  const now = revenuePerRequest(reading);
  const previous = state.counts.previous;
  const interval = now && previous ? intervalBetween(previous, now) : null;
  const p0 = interval ? nullShare(interval) : null;
  const expected = interval && p0 !== null ? p0 * (interval.canary.events + interval.stable.events) : 0;
  return {
    counts: foldCounts(state.counts, reading, revenuePerRequest),
    expectedCanaryEvents: state.expectedCanaryEvents + expected,
  };
}

/** Judges the checkout stop at the latest reading, at this check's α. */
export function judgeCheckoutStop(latest: Reading, alpha: number, state: CheckoutState): CheckVerdict {
  const { comparison } = state.counts;
  const { expectedCanaryEvents } = state;
  const logLr = comparison.logLr[0] ?? 0;
  const evidence: CheckoutStopEvidence = {
    kind: 'checkout-stop',
    canary: comparison.canary,
    stable: comparison.stable,
    expectedCanaryEvents,
    logLikelihoodRatio: Number.isFinite(logLr) ? logLr : null,
    failThreshold: Math.log(1 / alpha),
    alpha,
  };
  const verdict = (outcome: Outcome, reason: Reason, detail: string): CheckVerdict => ({
    check: CheckName.CheckoutStop,
    outcome,
    reason,
    detail,
    evidence,
  });
  const expected = expectedCanaryEvents.toFixed(1);
  if (!revenuePerRequest(latest)) {
    return verdict(
      Outcome.Unavailable,
      Reason.EvidenceUnavailable,
      'revenue: the counters could not be read at the latest reading',
    );
  }
  if (comparison.canary.events > 0) {
    return verdict(
      Outcome.Pass,
      Reason.RevenueSeen,
      `checkout works: the canary recorded ${count(comparison.canary.events)} revenue events`,
    );
  }
  if (logLr >= evidence.failThreshold) {
    const chance = percent(Math.exp(-logLr));
    return verdict(
      Outcome.Fail,
      Reason.CheckoutStop,
      `checkout stopped: no revenue from the canary where the stable's rate predicts ${expected} events (a healthy canary: ${chance} chance; ln LR ${stat(logLr)} ≥ ${stat(evidence.failThreshold)})`,
    );
  }
  const detail =
    comparison.stable.events === 0
      ? 'revenue: no revenue events in either release yet'
      : `revenue: none from the canary yet, ${expected} expected at the stable's rate (ln LR ${stat(logLr)} of ${stat(evidence.failThreshold)})`;
  return verdict(Outcome.Inconclusive, Reason.InsufficientEvidence, detail);
}

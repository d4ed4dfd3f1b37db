/**
 * The critical guards that fail at once, before any statistics: the canary's health, and its 5xx
 * share above the plan's hard ceiling. Neither can pass a release on its own: "within limits" is
 * the absence of a breach, not evidence of health.
 */
import { increase } from './counts.js';
import { count, percent } from './format.js';
import { CheckName, Outcome, Reason, type CheckVerdict } from './outcomes.js';
import type { VerdictPlan } from './plan.js';
import type { Reading } from './readings.js';

/** The canary's health at the latest reading: down fails at once. */
export function judgeHealth(latest: Reading): CheckVerdict {
  const healthy = latest.canary.healthy;
  return {
    check: CheckName.Health,
    outcome: healthy ? Outcome.Pass : Outcome.Fail,
    reason: healthy ? Reason.WithinLimits : Reason.CanaryDown,
    detail: healthy ? 'the canary answers its health check' : 'the canary is down: its health check failed',
    evidence: {
      kind: 'health',
      canaryHealthy: healthy,
      ...(latest.stable ? { stableHealthy: latest.stable.healthy } : {}),
    },
  };
}

/**
 * The canary's 5xx share over its latest requests (whole intervals, newest first, until at least
 * `errorCeilingMinRequests`) against the hard ceiling: above it fails at once. A trailing span, so a
 * release that breaks late is not diluted by its good start. `readings` are the window's latest
 * (window.ts keeps just enough of them, at most MAX_RECENT_READINGS).
 */
export function judgeErrorCeiling(readings: readonly Reading[], plan: VerdictPlan): CheckVerdict {
  let requests = 0;
  let errors = 0;
  for (let i = readings.length - 1; i > 0 && requests < plan.errorCeilingMinRequests; i--) {
    const [before, after] = [readings[i - 1]!.canary, readings[i]!.canary];
    requests += increase(before.requests, after.requests);
    errors += increase(before.errors, after.errors);
  }
  const enough = requests >= plan.errorCeilingMinRequests;
  const breached = enough && errors > plan.errorCeiling * requests;
  const share = requests > 0 ? percent(errors / requests) : '-';
  const detail = !enough
    ? `5xx ceiling ${percent(plan.errorCeiling)}: the canary has served ${count(requests)} of the ${plan.errorCeilingMinRequests} requests it is judged over`
    : `5xx ${share} of the canary's latest ${count(requests)} requests ${breached ? 'is above' : 'is within'} the ceiling of ${percent(plan.errorCeiling)}`;
  return {
    check: CheckName.ErrorCeiling,
    outcome: breached ? Outcome.Fail : Outcome.Pass,
    reason: breached ? Reason.ErrorCeiling : Reason.WithinLimits,
    detail,
    evidence: {
      kind: 'ceiling',
      requests,
      errors,
      ceiling: plan.errorCeiling,
      minRequests: plan.errorCeilingMinRequests,
    },
  };
}

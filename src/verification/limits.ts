/**
 * Plain thresholds for users who want them: Argo Rollouts-style limits over the canary's own numbers,
 * and external signals (a Prometheus query) against a min or max. Outside the stated α; an external
 * signal that cannot be read is `unavailable`, never a fail.
 */
import { histogramIncrease, histogramTotal, increase, quantileMs, sameBuckets } from './counts.js';
import { count, percent } from './format.js';
import { CheckName, Outcome, Reason, type CheckVerdict, type LimitsEvidence } from './outcomes.js';
import type { ExternalLimit, PlainLimits } from './plan.js';
import type { LatencyHistogram, Reading } from './readings.js';

/** Requests per measurement unless the limits say otherwise. */
export const DEFAULT_MEASUREMENT_REQUESTS = 20;

export interface Measurement {
  requests: number;
  errors: number;
  /** Undefined before the first interval; null when the buckets changed within the measurement. */
  latency: LatencyHistogram | null | undefined;
}

function addLatency(sum: Measurement['latency'], more: LatencyHistogram | null): LatencyHistogram | null {
  if (sum === undefined || more === null) return more;
  if (sum === null || !sameBuckets(sum, more)) return null;
  return { boundsMs: more.boundsMs, counts: more.counts.map((c, j) => c + (sum.counts[j] ?? 0)) };
}

/**
 * The limits carried through a window: the measurement still filling (consecutive intervals until
 * it has `minRequests` canary requests), and the tally of closed ones.
 */
export interface LimitsState {
  open: Measurement;
  measurements: number;
  failures: number;
  consecutive: number;
  last?: LimitsEvidence['last'];
}

/** The limits before any interval. */
export function startLimits(): LimitsState {
  return {
    open: { requests: 0, errors: 0, latency: undefined },
    measurements: 0,
    failures: 0,
    consecutive: 0,
  };
}

/**
 * The limits after the interval from `before` to `after`. A measurement fails when its 5xx share is
 * above `maxErrorRate` or its p95 above `maxP95LatencyMs`.
 */
export function foldLimits(
  state: LimitsState,
  before: Reading,
  after: Reading,
  limits: PlainLimits,
): LimitsState {
  const [b, a] = [before.canary, after.canary];
  const latency = sameBuckets(b.latency, a.latency) ? histogramIncrease(b.latency, a.latency) : null;
  const open: Measurement = {
    requests: state.open.requests + increase(b.requests, a.requests),
    errors: state.open.errors + increase(b.errors, a.errors),
    latency: addLatency(state.open.latency, latency),
  };
  if (open.requests < (limits.minRequests ?? DEFAULT_MEASUREMENT_REQUESTS)) return { ...state, open };
  const errorRate = open.errors / open.requests;
  const p95 = open.latency && histogramTotal(open.latency) > 0 ? quantileMs(open.latency, 0.95) : null;
  const breached =
    (limits.maxErrorRate !== undefined && errorRate > limits.maxErrorRate) ||
    (limits.maxP95LatencyMs !== undefined && p95 !== null && p95 > limits.maxP95LatencyMs);
  return {
    open: startLimits().open,
    measurements: state.measurements + 1,
    failures: state.failures + (breached ? 1 : 0),
    consecutive: breached ? state.consecutive + 1 : 0,
    last: { requests: open.requests, errorRate, p95LatencyMs: p95, breached },
  };
}

/**
 * Argo-style limits: the check fails after more than `failureLimit` failed measurements (default 0,
 * or none when only `consecutiveFailureLimit` is set) or `consecutiveFailureLimit` in a row.
 */
export function judgeLimits(state: LimitsState, limits: PlainLimits): CheckVerdict {
  const { failures, consecutive, last } = state;
  const failureLimit = limits.failureLimit ?? (limits.consecutiveFailureLimit === undefined ? 0 : Infinity);
  const overLimit = failures > failureLimit;
  const inARow =
    limits.consecutiveFailureLimit !== undefined && consecutive >= limits.consecutiveFailureLimit;
  const evidence: LimitsEvidence = {
    kind: 'limits',
    measurements: state.measurements,
    failures,
    consecutiveFailures: consecutive,
    failureLimit: Number.isFinite(failureLimit) ? failureLimit : null,
    consecutiveFailureLimit: limits.consecutiveFailureLimit ?? null,
    ...(last ? { last } : {}),
  };
  const latest = last
    ? `latest: 5xx ${percent(last.errorRate)}, p95 ${last.p95LatencyMs === null ? '-' : `${count(last.p95LatencyMs)} ms`} over ${count(last.requests)} requests`
    : 'no measurement yet';
  const reason = overLimit ? Reason.LimitFailures : inARow ? Reason.LimitConsecutive : Reason.WithinLimits;
  return {
    check: CheckName.Limits,
    outcome: overLimit || inARow ? Outcome.Fail : Outcome.Pass,
    reason,
    detail: `limits: ${failures} of ${state.measurements} measurements failed${consecutive > 1 ? ` (${consecutive} in a row)` : ''}; ${latest}`,
    evidence,
  };
}

/** An external signal at the latest reading against its plain threshold. */
export function judgeExternal(latest: Reading, limit: ExternalLimit): CheckVerdict {
  const read = latest.external?.find((e) => e.name === limit.name);
  const bounds = {
    ...(limit.min === undefined ? {} : { min: limit.min }),
    ...(limit.max === undefined ? {} : { max: limit.max }),
  };
  const verdict = (
    outcome: Outcome,
    reason: Reason,
    detail: string,
    seen: { value: number } | { error: string },
  ): CheckVerdict => ({
    check: CheckName.External,
    outcome,
    reason,
    detail,
    evidence: { kind: 'external', name: limit.name, ...bounds, ...seen },
  });
  if (!read || !('value' in read)) {
    const error = read && 'unavailable' in read ? read.unavailable : 'not read';
    return verdict(
      Outcome.Unavailable,
      Reason.EvidenceUnavailable,
      `${limit.name}: evidence unavailable (${error})`,
      { error },
    );
  }
  const low = limit.min !== undefined && read.value < limit.min;
  const high = limit.max !== undefined && read.value > limit.max;
  const detail = low
    ? `${limit.name} ${read.value} is below its minimum ${limit.min}`
    : high
      ? `${limit.name} ${read.value} is above its maximum ${limit.max}`
      : `${limit.name} ${read.value} is within its limits`;
  return verdict(
    low || high ? Outcome.Fail : Outcome.Pass,
    low || high ? Reason.ExternalBreach : Reason.WithinLimits,
    detail,
    {
      value: read.value,
    },
  );
}
